"""Replay backend: landmark traces instead of video.

Reads the shared fixtures' format ``mediapipe-pose-33/v1`` and the project's own
``formcheck-trace/v1`` (the same fields plus each frame's back contour ``back``, so spinal
flexion can be re-scored without video). A trace replays through the same engine as a video,
so a clinician can re-score a session with adjusted thresholds and tests run without the model.

Format (JSON): ``{"format", "model", "label", "fps", "width", "height", "frames": [{"i", "t",
"image": [[x, y, z, visibility] x 33], "world": [[x, y, z] x 33], "back": [[x, y] x K]}]}``;
``t`` in seconds, ``image`` and ``back`` in normalized image coordinates, ``world`` in metres.
A frame with no pose has no ``image``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from ..types import N_LANDMARKS, Pose, PoseFrame

READ_FORMATS = ("mediapipe-pose-33/v1", "formcheck-trace/v1")
WRITE_FORMAT = "formcheck-trace/v1"
MAX_TRACE_BYTES = 512 * 1024 * 1024


class TraceError(ValueError):
    """The trace file is malformed; the message says where."""


def load_trace(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such file")
    if path.stat().st_size > MAX_TRACE_BYTES:
        raise TraceError(f"{path}: too large for a landmark trace")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: not a JSON landmark trace ({exc})") from None
    return validate_trace(data, str(path))


def validate_trace(data: object, where: str = "trace") -> dict:
    if not isinstance(data, dict) or data.get("format") not in READ_FORMATS:
        fmt = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise TraceError(f"{where}: unsupported trace format {fmt!r}; expected one of {', '.join(READ_FORMATS)}")
    for key in ("width", "height"):
        if not isinstance(data.get(key), (int, float)) or data[key] <= 0:
            raise TraceError(f"{where}: field {key!r} must be a positive number")
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        raise TraceError(f"{where}: 'frames' must be a non-empty list")
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
        except (KeyError, TypeError, ValueError) as exc:
            raise TraceError(f"trace frame {n}: malformed ({exc})") from None
        if not np.isfinite(t_s) or t_s < last_t:
            raise TraceError(f"trace frame {n}: time {t_s} is not after the previous frame's")
        last_t = t_s
        yield PoseFrame(index=index, t_ms=1000.0 * t_s, width=width, height=height, pose=pose)


def _pose(frame: dict) -> Pose | None:
    if "image" not in frame:
        return None
    image = np.asarray(frame["image"], float)
    if image.shape != (N_LANDMARKS, 4):
        raise ValueError(f"'image' must be 33 x [x, y, z, visibility], got shape {image.shape}")
    world = np.asarray(frame["world"], float) if frame.get("world") is not None else None
    if world is not None and world.shape != (N_LANDMARKS, 3):
        raise ValueError(f"'world' must be 33 x [x, y, z], got shape {world.shape}")
    back = np.asarray(frame["back"], float) if frame.get("back") is not None else None
    return Pose(image=image, world=world, back_contour=back)


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
