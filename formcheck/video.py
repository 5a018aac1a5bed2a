"""Frame sources: video files yielding (index, t_ms, BGR frame) with container timestamps.

Timestamps come from the container (CAP_PROP_POS_MSEC), not index / fps, so variable-frame-rate
phone clips keep their real timing. OpenCV applies rotation metadata, so portrait phone clips
come out upright. Frames are streamed one at a time: memory stays flat however long the video.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")
TRUNCATED_FRACTION = 0.9  # container frame counts are estimates for some formats: allow 10%


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


def open_video(path: str | Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"{path}: not a video OpenCV can read (unknown format or damaged file)")
    info = VideoInfo(
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
        frame_count=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
    )
    if info.width <= 0 or info.height <= 0:
        cap.release()
        raise VideoError(f"{path}: the video has no picture (zero size)")
    return cap, info


def read_frames(path: str | Path) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield (frame index, t_ms, BGR frame). Raises VideoError if not a single frame decodes."""
    cap, info = open_video(path)
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
            yield index, t_ms, frame
            index += 1
    finally:
        cap.release()
    if index == 0:
        raise VideoError(f"{path}: no frame could be decoded (the video is empty, truncated or damaged)")
    if info.frame_count > 0 and index < TRUNCATED_FRACTION * info.frame_count:
        raise TruncatedVideoError(f"{path}: the video is truncated or damaged: only {index} of its "
                                  f"{info.frame_count} frames could be decoded")
