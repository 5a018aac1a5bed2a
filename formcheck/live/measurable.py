"""Can this camera view measure the exercise's back checks? The patient is told before the set.

Spinal flexion comes from the back's outline in the segmentation mask (silhouette.py), measured
from the patient's own start posture. When the outline is not seen (the back faces away or is
hidden, the picture is too dark or too small) or the start posture was never held still, the check
silently reads "not measured", and only the clinician learns it afterwards. ``OutlineWatch``
follows a live session's frames and says, within a few seconds of the body coming into view, that
the check cannot run and what to change. The decision is ``outline_problem``, a plain function;
the patient's words are in ``MESSAGES``, nowhere else.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..signals import RELATIVE_TO_START
from ..spec import ExerciseSpec
from ..types import FrameResult

OUTLINE_SOURCE = "back_bend_deg"
# Seconds of the body in view before deciding: a second and a half of start posture is enough
# for the baseline (BASELINE_S, engine/baselines.py) plus settling (SETTLE_S, engine/core.py), so
# by then a measurable view has measured.
DECIDE_AFTER_S = 2.0
# Share of in-view time the outline must be seen: the mask breaks up on single frames (clothing,
# the mat's edge), and the engine's median outvotes those; below half, the check is mostly blind.
MIN_OUTLINE_SHARE = 0.5
MAX_FRAME_S = 0.2  # a pause in the stream counts for at most this long

MESSAGES = {
    "no_outline": ("Your back cannot be checked from this camera view: its outline is not visible. "
                   "Place the camera side-on at the height of the mat, with your whole back in view, "
                   "in good light and against a plain background."),
    "no_start": ("Your back cannot be checked yet: hold the start position still for a moment "
                 "before the first repetition."),
}


def outline_signals(spec: ExerciseSpec) -> list[str]:
    """The exercise's rep and rule signals measured from the back's outline."""
    names = spec.all_signal_names()
    return [n for n in names if n == OUTLINE_SOURCE or RELATIVE_TO_START.get(n) == OUTLINE_SOURCE]


def outline_problem(in_view_s: float, outline_s: float, measured: bool) -> str:
    """Which MESSAGES key applies ("" when none): ``in_view_s`` seconds of the body in view so far,
    ``outline_s`` of them with the back's outline seen, ``measured`` once the check has a value."""
    if measured or in_view_s < DECIDE_AFTER_S:
        return ""
    if outline_s < MIN_OUTLINE_SHARE * in_view_s:
        return "no_outline"
    return "no_start"


@dataclass
class OutlineWatch:
    """Follows a session's FrameResults; ``message`` is what the patient should be told, or ""."""

    signals: tuple[str, ...]  # the outline-based signals to watch (empty: nothing to check)
    in_view_s: float = 0.0
    outline_s: float = 0.0
    measured: bool = False
    _last_ms: float = math.nan

    @classmethod
    def for_spec(cls, spec: ExerciseSpec) -> OutlineWatch:
        return cls(tuple(outline_signals(spec)))

    def update(self, result: FrameResult) -> None:
        if not self.signals or self.measured:
            return
        frame_s = (min((result.t_ms - self._last_ms) / 1000.0, MAX_FRAME_S)
                   if math.isfinite(self._last_ms) else 0.0)
        self._last_ms = result.t_ms
        if not result.view_ok:
            return
        self.in_view_s += frame_s
        if math.isfinite(result.signals.get(OUTLINE_SOURCE, math.nan)):
            self.outline_s += frame_s
        self.measured = all(math.isfinite(result.signals.get(name, math.nan)) for name in self.signals)

    @property
    def message(self) -> str:
        key = outline_problem(self.in_view_s, self.outline_s, self.measured) if self.signals else ""
        return MESSAGES[key] if key else ""
