"""At most so many analysed frames a second: 60 fps phone clips cost what 30 fps ones do.

Counting reps and timing holds needs far less than 30 frames a second (the fastest home-program
movement, a quick bridge, takes about a second each way, and the engine's filters and debounces
are in seconds, not frames), so frames closer in time than ``1 / max_fps`` to the last analysed
one are skipped: a 60 fps recording is analysed at 30 fps, a 30 fps one completely. The decision
uses each frame's timestamp (container timestamps for video, ``t`` for a trace), never its index,
so variable-frame-rate phone clips are thinned by time. MediaPipe's video mode tracks the person
from one analysed frame to the next; a skipped frame is simply a longer step for it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

# Camera frame rates are 24-30 fps for most webcams and laptops; phones record 30 or 60.
DEFAULT_MAX_FPS = 30.0
# A frame is analysed when at least (1 - JITTER_FRACTION) / max_fps after the last analysed one.
# Container timestamps are whole milliseconds and jitter by a millisecond or two (a 30 fps clip
# steps 33, 34, 33 ms, some under 1/30 s = 33.3 ms), so a small margin keeps every frame of a 30 fps
# clip; 10% (3.3 ms at 30 fps) is well above that jitter and well below the 50% early the
# in-between frame of a 60 fps clip comes. So: up to 33 fps every frame, 60 fps -> 30, 50 -> 25,
# 120 -> 30; a frame that comes later than due (dropped frames, VFR) is simply analysed.
JITTER_FRACTION = 0.1

T = TypeVar("T")


@dataclass
class FrameRateLimit:
    """Decides, frame by frame in time order, which frames to analyse; counts what it kept.

    A frame is kept when it comes at least ``(1 - JITTER_FRACTION) / max_fps`` seconds after
    the last kept one; ``max_fps <= 0`` keeps every frame.
    """

    max_fps: float = DEFAULT_MAX_FPS
    kept: int = 0
    seen: int = 0
    first_kept_ms: float = math.nan
    last_kept_ms: float = math.nan

    def keep(self, t_ms: float) -> bool:
        self.seen += 1
        if self.max_fps > 0 and self.kept:
            min_step_ms = (1.0 - JITTER_FRACTION) * 1000.0 / self.max_fps
            if t_ms - self.last_kept_ms < min_step_ms:
                return False
        if self.kept == 0:
            self.first_kept_ms = t_ms
        self.last_kept_ms = t_ms
        self.kept += 1
        return True

    @property
    def analysed_fps(self) -> float | None:
        """The mean rate of the analysed frames (None with fewer than two)."""
        span_s = (self.last_kept_ms - self.first_kept_ms) / 1000.0
        return (self.kept - 1) / span_s if self.kept > 1 and span_s > 0 else None

    def provenance(self) -> dict:
        """What the summary's provenance records about the frame rate."""
        fps = self.analysed_fps
        return {"max_fps": self.max_fps if self.max_fps > 0 else "every frame",
                "analysed_fps": None if fps is None else round(fps, 1),
                "frames_skipped": self.seen - self.kept}


def limited(items: Iterable[T], limit: FrameRateLimit, t_ms: Callable[[T], float]) -> Iterator[T]:
    """The items whose time ``t_ms(item)`` the limit keeps, in order."""
    return (item for item in items if limit.keep(t_ms(item)))
