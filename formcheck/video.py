"""Frame sources: video files yielding (index, t_ms, BGR frame) with container timestamps.

Timestamps come from the container (CAP_PROP_POS_MSEC), not index / fps, so variable-frame-rate
phone clips keep their real timing. Rotation metadata is applied, so portrait phone clips
come out upright. Frames are streamed one at a time: memory stays flat however long the video.

``ReadAhead`` runs any such stream in a background thread a few items ahead of its consumer:
the analysis uses it to decode, run the pose model and write its outputs at the same time.

``H264Writer`` is the one video writer: the analysis's annotated.mp4 (frames at the file's rate)
and the live session's kept video (each frame at its own millisecond time).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import cv2
import numpy as np

from .limits import MAX_DURATION_S, MAX_FPS, MAX_FRAMES, MAX_VIDEO_SIDE_PX
from .private_files import make_private_dir, make_private_file

if TYPE_CHECKING:  # av is imported where it is used: importing it costs start-up time
    from av.container import OutputContainer
    from av.video.stream import VideoStream

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")
TRUNCATED_FRACTION = 0.9  # container frame counts are estimates for some formats: allow 10%
# Frames are analysed with their longer side at most this many pixels. The pose model sees a
# 256 x 256 crop of the person whatever the frame size, so a 1080p phone clip gives it nothing
# a 960-pixel copy does not, while the segmentation mask, the overlay and the annotated video
# cost four times as much at full size (benchmarks/throughput.py measures the difference).
ANALYSIS_MAX_SIDE_PX = 960
# Videos of at most this many pixels a frame are decoded in one thread (``decoder_threads``): a
# 1080 x 1920 phone frame takes 3 ms so (2.3 ms in FFmpeg's default pool of one thread a core,
# but 3.4-3.8 ms of CPU), a fifth of the pose model's time, which the pool's threads only took
# cores from. A 4K frame takes four times as long, and at 60 fps twice as many are decoded for
# each analysed one: those keep the default pool, or decoding would hold the model up.
ONE_DECODER_THREAD_MAX_PIXELS = 1920 * 1080


class VideoError(ValueError):
    """The file cannot be read as a video; the message says why in plain words."""


class TruncatedVideoError(VideoError):
    """Decoding stopped well before the end the container announced (a cut-off or damaged file)."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int  # as the container claims; may be 0 or wrong for some files


# The first bytes of picture formats FFmpeg would read as a one-frame "video" whatever the file's
# name: a photo renamed .mp4 is refused by what it is, not by its suffix.
_PICTURE_SIGNATURES = (
    (b"\xff\xd8\xff", "a JPEG picture"), (b"\x89PNG\r\n\x1a\n", "a PNG picture"), (b"GIF87a", "a GIF picture"),
    (b"GIF89a", "a GIF picture"), (b"BM", "a BMP picture"), (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
)


def picture_kind(head: bytes) -> str | None:
    """What picture format ``head`` (a file's first bytes) starts, or None for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP picture"
    return next((kind for signature, kind in _PICTURE_SIGNATURES if head.startswith(signature)), None)


def open_video(path: str | Path, threads: int = 0) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video for reading, refusing before any decoding what is not one or is beyond the
    input limits (limits.py): too many pixels, too long, too many frames. ``threads``: the
    decoder's threads, 0 for FFmpeg's default (one a core); the frames are the same."""
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    with open(path, "rb") as f:
        picture = picture_kind(f.read(16))
    if picture:
        raise VideoError(f"{path}: {picture}, not a video; record the exercise as a video")
    cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, threads]) if threads else None
    if cap is None or not cap.isOpened():  # a backend without the setting opens it without
        cap = cv2.VideoCapture(str(path))
    # Phone clips carry their rotation as metadata; this OpenCV build ignores it unless asked,
    # which would show a portrait recording on its side and measure every angle off by 90 degrees.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    if not cap.isOpened():
        raise VideoError(f"{path}: not a video OpenCV can read (unknown format or damaged file)")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    info = VideoInfo(
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=fps if np.isfinite(fps) and 0 < fps <= MAX_FPS else 0.0,  # else unknown: times come from frames
        frame_count=int(count) if np.isfinite(count) and 0 < count < 2**62 else 0,
    )
    problem = video_limit_problem(info)
    if problem:
        cap.release()
        raise VideoError(f"{path}: {problem}")
    return cap, info


def video_limit_problem(info: VideoInfo) -> str | None:
    """Why a video with these properties is refused before decoding, or None."""
    if info.width <= 0 or info.height <= 0:
        return "the video has no picture (zero size)"
    if max(info.width, info.height) > MAX_VIDEO_SIDE_PX:
        return (f"the picture is {info.width} x {info.height} pixels; formcheck reads videos up to "
                f"{MAX_VIDEO_SIDE_PX} pixels on the longer side (4K): record at a lower resolution")
    if info.frame_count > MAX_FRAMES:
        return f"the video has {info.frame_count} frames; formcheck reads at most {MAX_FRAMES}: trim it to the exercise"
    if info.fps > 0 and info.frame_count / info.fps > MAX_DURATION_S:
        return (f"the video lasts {info.frame_count / info.fps / 60:.0f} minutes; formcheck reads at most "
                f"{MAX_DURATION_S // 60} minutes: trim it to the exercise")
    return None


def read_frames(path: str | Path, threads: int = 0) -> Generator[tuple[int, float, np.ndarray], None, None]:
    """Yield (frame index, t_ms, BGR frame). Raises VideoError if not a single frame decodes.
    ``threads``: the decoder's (see open_video)."""
    cap, info = open_video(path, threads)
    fallback_dt_ms = 1000.0 / info.fps if info.fps > 0 else 1000.0 / 30.0
    index = 0
    last_t = -1.0
    try:
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            t_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            if not np.isfinite(t_ms) or t_ms <= last_t:
                # Some containers report no or repeated times: fall back to the nominal rate.
                t_ms = last_t + fallback_dt_ms if last_t >= 0 else 0.0
            last_t = t_ms
            if index >= MAX_FRAMES or t_ms > 1000.0 * MAX_DURATION_S:  # the container did not say how long
                raise VideoError(f"{path}: the video is longer than formcheck reads ({MAX_DURATION_S // 60} "
                                 f"minutes or {MAX_FRAMES} frames): trim it to the exercise")
            yield index, t_ms, frame
            index += 1
    finally:
        cap.release()
    if index == 0:
        raise VideoError(f"{path}: no frame could be decoded (the video is empty, truncated or damaged)")
    if index == 1:
        raise VideoError(f"{path}: a single picture, not a video; record the exercise as a video")
    if info.frame_count > 0 and index < TRUNCATED_FRACTION * info.frame_count:
        raise TruncatedVideoError(f"{path}: the video is truncated or damaged: only {index} of its "
                                  f"{info.frame_count} frames could be decoded")


def decoder_threads(info: VideoInfo) -> int:
    """The decoder threads for a video (open_video's ``threads``): 1 up to
    ONE_DECODER_THREAD_MAX_PIXELS a frame, else 0 (FFmpeg's default)."""
    return 1 if info.width * info.height <= ONE_DECODER_THREAD_MAX_PIXELS else 0


def fit_within(frame_bgr: np.ndarray, max_side_px: int) -> np.ndarray:
    """The frame scaled down (area averaging) so its longer side is at most max_side_px pixels.

    Smaller frames, and max_side_px <= 0 (keep the recorded size), come back unchanged.
    """
    height, width = frame_bgr.shape[:2]
    size = fitted_size(width, height, max_side_px)
    if size == (width, height):
        return frame_bgr
    return cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)


def fitted_size(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """(width, height) in pixels of a width x height frame after ``fit_within``."""
    longer = max(width, height)
    if max_side_px <= 0 or longer <= max_side_px:
        return width, height
    scale = max_side_px / longer
    return max(1, round(width * scale)), max(1, round(height * scale))


class H264Writer:
    """H.264 mp4 (PyAV's bundled libx264, yuv420p), so browsers can play it.

    Two clocks. With ``fps`` the frames are numbered at that rate (``write(frame)``): a file's
    frames, evenly spaced. Without it each frame is placed at its own time (``write(frame, t_ms)``,
    milliseconds, a variable frame rate): a live session's frames, so the video's clock matches
    the reps' times even when frames were dropped. The file is opened by the first frame, whose
    size (less an odd last row or column: the encoder wants even sizes) is the video's; a later
    frame of another size is scaled to it. ``private``: the folder and the file are made owner
    only, whatever the umask (the patient's video). ``threads``: the encoder's threads, 0 for
    libx264's own choice (1.5 a core, encoding in the background); 1 encodes in the caller's
    thread. What was written stays playable after ``close()``, also when a later write failed.
    """

    QUALITY = {"preset": "veryfast", "crf": "28"}  # small files; the overlay stays legible

    def __init__(self, path: Path, fps: float | None = None, *, private: bool = False, threads: int = 0):
        self.path = Path(path)
        self.fps = fps
        self.private = private
        self.threads = threads
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._last_pts = -1

    @property
    def timestamped(self) -> bool:
        return self.fps is None

    def write(self, frame_bgr: np.ndarray, t_ms: float | None = None) -> None:
        import av

        if self.timestamped and t_ms is None:
            raise ValueError("this video places each frame at its own time: write(frame, t_ms)")
        if self._container is None:
            self._open(frame_bgr.shape[1], frame_bgr.shape[0])
        container, stream = self._opened()
        # OpenCV's BGR -> I420 (BT.601, limited range, as the encoder expects) costs a quarter of
        # PyAV's swscale conversion from bgr24 (0.6 against 2.2-2.8 ms for a 540 x 960 frame: the
        # writer's largest cost after the encoding itself). Pixels differ by a level of rounding,
        # more at sharp colour edges (how the colour is subsampled): the video, not the analysis.
        yuv = np.asarray(cv2.cvtColor(self._fitted(frame_bgr), cv2.COLOR_BGR2YUV_I420), np.uint8)  # (no copy)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        if self.timestamped and t_ms is not None:  # (timestamped without t_ms was refused above)
            pts = max(int(round(t_ms)), self._last_pts + 1)  # strictly increasing, whatever the jitter
            self._last_pts = pts
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
        for packet in stream.encode(frame):
            container.mux(packet)

    def _opened(self) -> tuple[OutputContainer, VideoStream]:
        assert self._container is not None and self._stream is not None, "the first write() opens the file"
        return self._container, self._stream

    def _open(self, width: int, height: int) -> None:
        import av

        if self.private:
            make_private_dir(self.path.parent)
            make_private_file(self.path)
        # The format is named: the path may be a temporary name (outputs.OutputFolder's staging).
        self._container = container = av.open(str(self.path), mode="w", format="mp4")
        self._stream = stream = container.add_stream("libx264", rate=int(round(self.fps or 30)) or 30)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        if self.timestamped:
            # The encoder must count in milliseconds too: with its default 1/30 s (from rate=30)
            # PyAV rescales each frame's millisecond pts to 1/30 s, two frames less than 33 ms
            # apart (a camera faster than 30 fps, or jitter) get the same pts, and libx264
            # rejects the second with EINVAL (av.error.ArgumentError 22).
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        stream.options = {**self.QUALITY, "threads": str(self.threads)}

    def _fitted(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The frame at the video's size: an odd last row or column cut off, another size scaled."""
        height, width = frame_bgr.shape[:2]
        _, stream = self._opened()
        target_w, target_h = stream.width, stream.height
        if (height - height % 2, width - width % 2) == (target_h, target_w):
            return np.ascontiguousarray(frame_bgr[:target_h, :target_w])
        return cv2.resize(frame_bgr, (target_w, target_h))

    def close(self) -> None:
        """Flush the encoder and write the trailer; nothing happens when no frame was written."""
        if self._container is None:
            return
        container, self._container = self._container, None
        stream = self._stream
        try:
            assert stream is not None, "opened with its container"
            for packet in stream.encode():
                container.mux(packet)
        finally:
            container.close()  # the trailer: what was written stays playable


T = TypeVar("T")
_END = object()  # the producer's last queue entry: (_END, exception or None)


class ReadAhead(Generic[T]):
    """Iterate ``items`` in a background thread, at most ``depth`` items ahead of the consumer.

    The bounded queue keeps memory flat (``depth`` frames in flight, however long the video).
    Overlap only pays where the work releases the GIL: OpenCV decoding, MediaPipe inference
    and PyAV encoding all do. Items arrive in order; an exception raised by ``items`` is
    re-raised in the consumer, after the items produced before it. The thread starts with the
    first ``next()``. ``close()`` (also on leaving a ``with`` block) stops it and closes ``items``
    in it, so a generator's ``finally`` runs where the generator ran; call it before freeing
    anything ``items`` uses.
    """

    def __init__(self, items: Iterable[T], depth: int = 4, name: str = "read-ahead"):
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def _produce(self) -> None:
        error: BaseException | None = None
        try:
            iterator = iter(self._items)
            try:
                for item in iterator:
                    if self._stop.is_set():
                        break
                    self._queue.put((item, None))
            finally:
                _close(iterator)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            error = exc
        if not self._stop.is_set():
            self._queue.put((_END, error))

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        if self._thread.ident is None:
            self._thread.start()
        item, error = self._queue.get()
        if item is _END:
            self._finished = True
            self._thread.join()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the producer (it finishes the item in hand) and wait for its thread to end."""
        self._finished = True
        self._stop.set()
        if self._thread.ident is None:  # never started: nothing ran ahead
            _close(self._items)
            return
        while self._thread.is_alive():
            self._drain()  # unblock a producer waiting for room in the queue
            self._thread.join(timeout=0.05)
        self._drain()

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _close(items: object) -> None:
    """Close a generator (or anything with close()), so that its ``finally`` blocks run now."""
    close = getattr(items, "close", None)
    if close is not None:
        close()
