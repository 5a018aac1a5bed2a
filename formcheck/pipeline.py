"""The one path from frames to results, shared by the CLI, batch analysis and the app.

``Pipeline`` turns frames (live or from a file) or recorded poses into FrameResults and, at the
end, a SessionResult. ``analyze`` runs it over a video file or a landmark trace and writes the
outputs (annotated.mp4, frames.csv, reps.csv, trace.json, then summary.json) through
``outputs.OutputFolder``: all at once or not at all.
"""
from __future__ import annotations

import contextlib
import csv
import json
import math
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from . import report
from .backends import PendingPose, PoseBackend, infer, make_backend
from .backends.replay import TraceRecorder, is_trace_name, load_trace, replay
from .engine import STANDARD_FILTERS, ExerciseEngine
from .framerate import DEFAULT_MAX_FPS, FrameRateLimit, limited
from .outputs import OutputFolder
from .render import draw
from .spec import ExerciseSpec
from .types import FrameResult, PoseFrame, SessionResult
from .video import (
    ANALYSIS_MAX_SIDE_PX,
    H264Writer,
    ReadAhead,
    TruncatedVideoError,
    decoder_threads,
    fit_within,
    fitted_size,
    open_video,
    read_frames,
)

Progress = Callable[[int, int], None]  # (frames done, frames expected or 0 when unknown)
FRAMES_AHEAD = 3  # frames each overlapped stage may run ahead of the next (memory: a few frames)
# The annotated video is encoded in the writing thread, one encoder thread: decoding and the pose
# model (two threads of its own) already keep two cores busy, and libx264's default pool (1.5
# threads a core) only fought them for the cores, costing more CPU in all for the same video
# (benchmarks/throughput.py on the 1080 x 1920 bird dog clip, 2 cores: README "Benchmarks").
ENCODER_THREADS = 1


class Pipeline:
    """Frames or poses in, FrameResults out; ``finish()`` gives the SessionResult.

    The poses go into a trace as they pass: kept in memory (``trace_json()``, the live page), or
    with ``spool_trace_in`` spooled to a file in that folder (``analyze``: hours of video fit).
    Camera frames are analysed at most ``max_side_px`` pixels on their longer side (see
    video.ANALYSIS_MAX_SIDE_PX); 0 keeps the recorded size.
    """

    def __init__(self, spec: ExerciseSpec, backend: PoseBackend | None = None, record_trace: bool = True,
                 label: str = "", spool_trace_in: Path | None = None, max_side_px: int = ANALYSIS_MAX_SIDE_PX):
        self.spec = spec
        self.backend = backend
        self.engine = ExerciseEngine(spec, STANDARD_FILTERS)
        self.max_side_px = max_side_px
        # What made the poses, as the backend describes itself (model, version, settings).
        self.model = backend.description if backend is not None else "replayed trace"
        recorder = TraceRecorder(model=self.model, label=label or spec.title)
        self.recorder: TraceRecorder | TraceFile | None = None
        if record_trace:
            self.recorder = TraceFile(recorder, spool_trace_in) if spool_trace_in is not None else recorder
        self._index = 0

    def detect(self, frame_bgr: np.ndarray, index: int, t_ms: float) -> PoseFrame:
        """Run the pose model on one BGR frame taken at t_ms (milliseconds, increasing)."""
        return self.infer(frame_bgr, index, t_ms).pose_frame()

    def infer(self, frame_bgr: np.ndarray, index: int, t_ms: float) -> PendingPoseFrame:
        """detect() in two steps: the pose model now, the PoseFrame at ``.pose_frame()``, which
        another thread may call while the model goes on (see backends.infer)."""
        if self.backend is None:
            raise RuntimeError("This pipeline has no pose backend; use process_pose_frame")
        analysed = fit_within(frame_bgr, self.max_side_px)
        height, width = analysed.shape[:2]
        return PendingPoseFrame(index, t_ms, width, height, infer(self.backend, analysed, t_ms))

    def process_image(self, frame_bgr: np.ndarray, t_ms: float) -> FrameResult:
        """detect() then process_pose_frame(): one live camera frame."""
        return self.process_pose_frame(self.detect(frame_bgr, self._index, t_ms))

    def process_pose_frame(self, frame: PoseFrame) -> FrameResult:
        self._index = frame.index + 1
        if self.recorder is not None:
            self.recorder.add(frame)
        return self.engine.process(frame)

    def finish(self) -> SessionResult:
        result = self.engine.finish()
        result.provenance["model"] = self.model
        return result

    def trace_json(self) -> str | None:
        """The in-memory trace as JSON (None without one; a spooled trace is written by analyze)."""
        return self.recorder.to_json() if isinstance(self.recorder, TraceRecorder) else None


@dataclass(frozen=True)
class PendingPoseFrame:
    """A frame the pose model has seen; ``pose_frame()`` finishes it into a PoseFrame."""

    index: int
    t_ms: float
    width: int  # pixels
    height: int  # pixels
    pending: PendingPose

    def pose_frame(self) -> PoseFrame:
        return PoseFrame(self.index, self.t_ms, self.width, self.height, self.pending.pose())


@dataclass(frozen=True)
class AnalyzeOptions:
    backend: str = "mediapipe"
    model_path: str | None = None
    write_video: bool = True
    write_trace: bool = True
    # Decode, run the pose model and write the outputs in three threads at once, a few frames
    # apart (see video.ReadAhead); False: one frame at a time. The results are the same.
    overlap: bool = True
    # Longer side of the analysed (and annotated) frames in pixels; 0 keeps the recorded size.
    max_side_px: int = ANALYSIS_MAX_SIDE_PX
    # At most this many frames a second are analysed (see framerate.py); 0: every frame.
    max_fps: float = DEFAULT_MAX_FPS


T_co = TypeVar("T_co", covariant=True)


class ClosableIterator(Protocol[T_co]):
    """An iterator to close() when done (a generator, or video.ReadAhead stopping its thread)."""

    def __iter__(self) -> Iterator[T_co]: ...
    def __next__(self) -> T_co: ...
    def close(self) -> None: ...


def replay_series(trace: dict, spec: ExerciseSpec, names: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Replay a landmark trace (a validated trace document) through the pipeline, as ``analyze``
    does: each frame's time (seconds) and the named signals per frame (degrees; NaN where not
    measured). For the clinician's chart of a stored session."""
    pipeline = Pipeline(spec, backend=None, record_trace=False)
    times: list[float] = []
    values: dict[str, list[float]] = {name: [] for name in names}
    for pose_frame in replay(trace):
        result = pipeline.process_pose_frame(pose_frame)
        times.append(result.t_ms / 1000.0)
        for name in names:
            values[name].append(result.signals.get(name, math.nan))
    return np.array(times, float), {name: np.array(v, float) for name, v in values.items()}


def is_trace(path: str | Path) -> bool:
    """A landmark trace (``.json`` or gzipped ``.json.gz``) rather than a video."""
    return is_trace_name(path)


def analyze(input_path: str | Path, spec: ExerciseSpec, out_dir: str | Path,
            options: AnalyzeOptions = AnalyzeOptions(), progress: Progress | None = None) -> SessionResult:
    """Analyse a video file or a landmark trace and write the outputs into out_dir.

    The outputs appear all at once, summary.json last, or not at all (outputs.OutputFolder):
    a failed run leaves an earlier run's outputs as they were, and no partial file.
    """
    out = Path(out_dir)
    with OutputFolder(out, input_path) as outputs:
        return _analyze(input_path, spec, outputs, options, progress)


def _analyze(input_path: str | Path, spec: ExerciseSpec, outputs: OutputFolder, options: AnalyzeOptions,
             progress: Progress | None) -> SessionResult:
    out = outputs.folder
    rate = FrameRateLimit(options.max_fps)
    if is_trace(input_path):
        data = load_trace(input_path)
        pipeline = Pipeline(spec, backend=None, record_trace=options.write_trace, spool_trace_in=out)
        frames: ClosableIterator[tuple[PoseFrame, np.ndarray | None]] = (
            (pf, None) for pf in limited(replay(data), rate, lambda pf: pf.t_ms))
        total, fps = len(data["frames"]), float(data.get("fps") or 30.0)
    else:
        capture, info = open_video(input_path)  # fail early and clearly on a bad file
        capture.release()
        backend = make_backend(options.backend, model_path=options.model_path, segmentation=spec.needs_back_outline)
        pipeline = Pipeline(spec, backend=backend, record_trace=options.write_trace, spool_trace_in=out,
                            max_side_px=options.max_side_px)
        frames = _detect_frames(input_path, pipeline, rate, overlap=options.overlap, threads=decoder_threads(info))
        total, fps = info.frame_count, info.fps or 30.0

    writer = None
    truncated: TruncatedVideoError | None = None
    try:
        if options.write_video and not is_trace(input_path):
            # Skipped frames are not drawn: the annotated video runs at the analysed rate.
            video_fps = min(fps, options.max_fps) if options.max_fps > 0 else fps
            writer = H264Writer(outputs.stage("annotated.mp4"), video_fps, threads=ENCODER_THREADS)
        with open(outputs.stage("frames.csv"), "w", newline="", encoding="utf-8") as frames_file:
            frames_csv = FramesCsv(frames_file)
            for n, (pose_frame, image) in enumerate(frames, start=1):
                frame_result = pipeline.process_pose_frame(pose_frame)
                frames_csv.write(frame_result)
                if writer is not None and image is not None:
                    writer.write(draw(image, frame_result, spec))
                if progress is not None:  # skipped frames count as done
                    progress(min(max(n, pose_frame.index + 1), total) if total else n, total)
    except TruncatedVideoError as exc:
        truncated = exc  # keep what was decoded: write it out, then report the damage
    finally:
        frames.close()  # stops the decoding and pose threads before the model is closed
        if writer is not None:
            writer.close()
        if pipeline.backend is not None:
            pipeline.backend.close()
    result = pipeline.finish()
    result.provenance["input"] = Path(input_path).name
    result.provenance["recorded_fps"] = round(fps, 2)
    result.provenance.update(rate.provenance())
    if not is_trace(input_path):
        width, height = fitted_size(info.width, info.height, options.max_side_px)
        result.provenance["analysed_size"] = f"{width}x{height} px (recorded {info.width}x{info.height})"
    if truncated is not None:
        result.warnings.append(str(truncated))
    outputs.write_text("reps.csv", report.reps_csv(result))
    if isinstance(pipeline.recorder, TraceFile):
        pipeline.recorder.write(outputs.stage("trace.json"))
    outputs.commit(lambda sizes: report.summary_json(result, outputs=sizes) + "\n")
    if truncated is not None:
        raise TruncatedVideoError(f"{truncated}; the results for the readable part are in {out}")
    return result


def _detect_frames(path: str | Path, pipeline: Pipeline, rate: FrameRateLimit, overlap: bool = False,
                   threads: int = 0) -> ClosableIterator[tuple[PoseFrame, np.ndarray]]:
    """(PoseFrame, analysed BGR image) for each frame of a video that ``rate`` keeps, in order;
    close() when done.

    overlap: decoding and the pose model each run in a thread of their own, a few frames ahead
    of the caller, who meanwhile finishes the model's answers into PoseFrames (Pipeline.infer)
    and writes the outputs of the frames before. The frames, their order and the model's inputs
    are the same, so are the results. threads: the decoder's (video.open_video).
    """
    inferred = _infer(path, pipeline, rate, overlap, threads)
    ahead = ReadAhead(inferred, FRAMES_AHEAD, "formcheck-pose") if overlap else inferred
    return _finished(ahead)


def _finished(inferred: ClosableIterator[tuple[PendingPoseFrame, np.ndarray]],
              ) -> Generator[tuple[PoseFrame, np.ndarray], None, None]:
    with contextlib.closing(inferred):  # closing this generator stops the threads behind it
        for pending, image in inferred:
            yield pending.pose_frame(), image


def _infer(path: str | Path, pipeline: Pipeline, rate: FrameRateLimit, overlap: bool,
           threads: int) -> Generator[tuple[PendingPoseFrame, np.ndarray], None, None]:
    decoded = read_frames(path, threads)
    # Skipping and scaling down belong to the decoding thread: the pose thread is the one
    # everything waits for. Frames are skipped by their container timestamps (VFR-safe).
    scaled = ((index, t_ms, fit_within(image, pipeline.max_side_px))
              for index, t_ms, image in limited(decoded, rate, lambda item: item[1]))
    ahead = ReadAhead(scaled, FRAMES_AHEAD, "formcheck-decode") if overlap else scaled
    with contextlib.closing(decoded), contextlib.closing(ahead):  # the thread stops first
        for index, t_ms, image in ahead:
            yield pipeline.infer(image, index, t_ms), image


class FramesCsv:
    """Per-frame signals, one row a frame (frames.csv)."""

    def __init__(self, file):
        self.columns = None
        self.writer = csv.writer(file)

    def write(self, result: FrameResult) -> None:
        if self.columns is None:
            self.columns = sorted(result.signals)
            self.writer.writerow(["frame", "t_s", "pose", "view_ok", "phase", "reps", "partial_reps",
                                  *self.columns, "flags"])
        values = [("" if not math.isfinite(v) else f"{v:.2f}") for v in (result.signals.get(c, math.nan)
                                                                          for c in self.columns)]
        self.writer.writerow([result.index, f"{result.t_ms / 1000.0:.3f}", int(result.pose is not None),
                              int(result.view_ok), result.phase, result.rep_count, result.partial_rep_count, *values,
                              ";".join(result.active_flags)])


class TraceFile:
    """trace.json written as the frames arrive, not kept in memory: hours of video fit.

    ``recorder`` (empty) gives the header; each frame is formatted as the recorder would and
    waits in an anonymous temporary file in ``folder`` until ``write`` puts header and frames
    together. The file is what ``TraceRecorder.to_json()`` would give, byte for byte.
    """

    def __init__(self, recorder: TraceRecorder, folder: Path):
        self.recorder = recorder
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder, prefix=".trace-")
        self._frames = 0

    def add(self, frame: PoseFrame) -> None:
        self.recorder.width, self.recorder.height = frame.width, frame.height
        entry = TraceRecorder.entry_of(frame)
        self._spool.write(("," if self._frames else "") + json.dumps(entry, separators=(",", ":")))
        self._frames += 1

    def write(self, path: Path) -> None:
        head = json.dumps(self.recorder.to_dict(), separators=(",", ":"))
        if not head.endswith(',"frames":[]}'):
            raise ValueError("TraceFile needs an empty recorder whose document ends with its frames")
        with open(path, "w", encoding="utf-8") as f, self._spool:
            f.write(head[: -len("]}")])
            self._spool.seek(0)
            shutil.copyfileobj(self._spool, f)
            f.write("]}")
