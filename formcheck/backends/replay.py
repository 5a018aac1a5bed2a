"""Replay backend: landmark traces instead of video.

Reads the shared fixtures' format ``mediapipe-pose-33/v1`` and the project's own
``formcheck-trace/v1`` (the same fields plus each frame's back contour ``back``, so spinal
flexion can be re-scored without video). A trace replays through the same engine as a video,
so a clinician can re-score a session with adjusted thresholds and tests run without the model.

Format (JSON): ``{"format", "model", "label", "fps", "width", "height", "frames": [{"i", "t",
"image": [[x, y, z, visibility] x 33], "world": [[x, y, z] x 33], "back": [[x, y] x K]}]}``;
``t`` in seconds, ``image`` and ``back`` in normalized image coordinates, ``world`` in metres.
A frame with no pose has no ``image``.

A trace may be gzipped (``.json.gz``, what the validation corpus ships): it is read directly,
and the decompressed stream is held to the same size limit as a plain file, so a small file
that inflates to gigabytes (a gzip bomb) is refused before it fills the memory.
"""
from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..limits import MAX_DURATION_S, MAX_FPS, MAX_FRAMES, MAX_TRACE_BYTES, MAX_VIDEO_SIDE_PX, Range, range_problem
from ..types import N_LANDMARKS, Pose, PoseFrame

READ_FORMATS = ("mediapipe-pose-33/v1", "formcheck-trace/v1")
WRITE_FORMAT = "formcheck-trace/v1"
TRACE_SUFFIXES = (".json", ".json.gz")
_CHUNK = 1 << 20


class TraceError(ValueError):
    """The trace file is malformed; the message says where."""


def is_trace_name(path: str | Path) -> bool:
    """True for a landmark trace's file name: ``.json`` or gzipped ``.json.gz``."""
    return Path(path).name.lower().endswith(TRACE_SUFFIXES)


def trace_stem(path: str | Path) -> str:
    """The file name without ``.json`` or ``.json.gz``: ``a.json.gz`` -> ``a``."""
    name = Path(path).name
    for suffix in sorted(TRACE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def load_trace(path: str | Path, max_bytes: int = MAX_TRACE_BYTES) -> dict:
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such file")
    if path.stat().st_size > max_bytes:
        raise TraceError(f"{path}: too large for a landmark trace")
    raw = _read_gzip(path, max_bytes) if path.name.lower().endswith(".gz") else path.read_bytes()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: not a JSON landmark trace ({exc})") from None
    except RecursionError:  # JSON nested thousands deep: no trace nests more than five
        raise TraceError(f"{path}: not a landmark trace (its JSON is nested too deeply)") from None
    return validate_trace(data, str(path))


def _read_gzip(path: Path, max_bytes: int) -> bytearray:
    """The decompressed bytes, read a chunk at a time and refused once past max_bytes."""
    data = bytearray()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                if len(data) + len(chunk) > max_bytes:
                    raise TraceError(f"{path}: decompresses to more than {max_bytes / (1024 * 1024):g} MB, "
                                     "too large for a landmark trace (a damaged or malicious file?)")
                data += chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise TraceError(f"{path}: not a readable gzip file ({exc or 'it ends too early'})") from None
    return data


_PICTURE_PX = Range(1, MAX_VIDEO_SIDE_PX, "pixels")
_FPS = Range(0.001, MAX_FPS, "frames per second")


def validate_trace(data: object, where: str = "trace") -> dict:
    """The trace's header and size checked against the input limits (limits.py) before any
    frame is replayed; each frame's own fields are checked as it is replayed."""
    if not isinstance(data, dict) or data.get("format") not in READ_FORMATS:
        fmt = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise TraceError(f"{where}: unsupported trace format {fmt!r}; expected one of {', '.join(READ_FORMATS)}")
    for key in ("width", "height"):
        problem = range_problem(data.get(key), _PICTURE_PX)
        if problem:
            raise TraceError(f"{where}: field {key!r} {problem}")
    if data.get("fps") is not None:
        problem = range_problem(data["fps"], _FPS)
        if problem:
            raise TraceError(f"{where}: field 'fps' {problem}")
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        raise TraceError(f"{where}: 'frames' must be a non-empty list")
    if len(frames) > MAX_FRAMES:
        raise TraceError(f"{where}: {len(frames)} frames; formcheck reads at most {MAX_FRAMES} "
                         f"({MAX_DURATION_S // 60} minutes at 60 fps)")
    last = frames[-1].get("t") if isinstance(frames[-1], dict) else None
    if isinstance(last, (int, float)) and not isinstance(last, bool) and last > MAX_DURATION_S:
        raise TraceError(f"{where}: the trace lasts {last / 60:.0f} minutes; formcheck reads at most "
                         f"{MAX_DURATION_S // 60} minutes")
    return data


def replay(data: dict) -> Iterator[PoseFrame]:
    """Yield the trace's frames as PoseFrames (times in ms)."""
    width, height = int(data["width"]), int(data["height"])
    last_t = -1.0
    for n, frame in enumerate(data["frames"]):
        try:
            t_s = float(frame["t"])
            index = int(frame.get("i", n))
            pose = _pose(frame)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise TraceError(f"trace frame {n}: malformed ({exc})") from None
        if not np.isfinite(t_s) or t_s < last_t:
            raise TraceError(f"trace frame {n}: time {t_s} is not after the previous frame's")
        last_t = t_s
        yield PoseFrame(index=index, t_ms=1000.0 * t_s, width=width, height=height, pose=pose)


def _pose(frame: dict) -> Pose | None:
    if "image" not in frame:
        return None
    image = _finite(frame["image"], "image")
    if image.shape != (N_LANDMARKS, 4):
        raise ValueError(f"'image' must be 33 x [x, y, z, visibility], got shape {image.shape}")
    world = _finite(frame["world"], "world") if frame.get("world") is not None else None
    if world is not None and world.shape != (N_LANDMARKS, 3):
        raise ValueError(f"'world' must be 33 x [x, y, z], got shape {world.shape}")
    back = _finite(frame["back"], "back") if frame.get("back") is not None else None
    if back is not None and back.size == 0:
        back = back.reshape(0, 2)  # an outline with no points, as the recorder writes one
    if back is not None and (back.ndim != 2 or back.shape[1] != 2):
        raise ValueError(f"'back' must be K x [x, y], got shape {back.shape}")
    return Pose(image=image, world=world, back_contour=back)


def _finite(values: object, key: str) -> np.ndarray:
    array = np.asarray(values, float)
    if not np.isfinite(array).all():
        raise ValueError(f"'{key}' holds a value that is not a finite number")
    return array


class TraceRecorder:
    """Collects PoseFrames into a ``formcheck-trace/v1`` document (compact: 5 decimals).

    Frames are kept as small float32 arrays (about 1 KB a frame, 20 MB for a 20-minute live
    session at 15 fps) and turned into JSON only when asked; Python lists of floats would take
    ten times that.
    """

    def __init__(self, model: str, label: str = "", fps: float = 30.0):
        self.header = {"format": WRITE_FORMAT, "model": model, "label": label, "fps": fps}
        self._frames: list[tuple[int, float, np.ndarray | None, np.ndarray | None, np.ndarray | None]] = []
        self.width = self.height = 0

    def add(self, frame: PoseFrame) -> None:
        self.width, self.height = frame.width, frame.height
        self._frames.append(self._packed(frame))

    @classmethod
    def entry_of(cls, frame: PoseFrame) -> dict:
        """One frame as the JSON document holds it: what ``add`` then ``frames`` would give."""
        return cls._entry(*cls._packed(frame))

    @staticmethod
    def _packed(frame: PoseFrame) -> tuple:
        pose = frame.pose
        if pose is None:
            return frame.index, frame.t_ms, None, None, None
        return (
            frame.index, frame.t_ms, pose.image.astype(np.float32),
            None if pose.world is None else pose.world.astype(np.float32),
            None if pose.back_contour is None else pose.back_contour.astype(np.float32),
        )

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def frames_with_pose(self) -> int:
        return sum(1 for f in self._frames if f[2] is not None)

    @property
    def frames(self) -> list[dict]:
        """The frames as the JSON document holds them."""
        return [self._entry(*f) for f in self._frames]

    @staticmethod
    def _entry(index: int, t_ms: float, image, world, back) -> dict:
        entry: dict = {"i": index, "t": round(t_ms / 1000.0, 4)}
        if image is not None:
            entry["image"] = np.round(image.astype(float), 5).tolist()
            if world is not None:
                entry["world"] = np.round(world.astype(float), 5).tolist()
            if back is not None:
                entry["back"] = np.round(back.astype(float), 5).tolist()
        return entry

    def to_dict(self) -> dict:
        return {**self.header, "width": self.width, "height": self.height, "frames": self.frames}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))
