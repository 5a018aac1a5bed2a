"""Baselines: what the engine measures from rather than from zero.

- ``StartPosture``: the signals relative to the patient's own start posture (declared in
  signals.RELATIVE_SIGNALS: spinal flexion, trunk rotation), computed here, and the session's
  warning when one a rule watches was never measured.
- ``RestLevels``: for an exercise with ``rep.baseline_window_s`` (small movements such as a pelvic
  tilt), the rep signal relative to the patient's own rolling rest level; and each side's raw
  rep-signal history, from which the measurement noise is estimated.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..signals import RELATIVE_SIGNALS
from ..smoothing import robust_noise_sd
from ..spec import ExerciseSpec

NOISE_WINDOW_S = 3.0  # seconds of raw samples for the running noise estimate (90 frames at 30 fps)
# The start posture is the median of its first second of valid samples, usable after 5 frames'
# worth (at 30 fps). Seconds, not frame counts: a live page analysing 15 frames a second must take
# the same start posture, as early, as the recording analysed at 30 (each frame counts for its
# own duration, at most MAX_SAMPLE_S so a pause in the stream does not fill the baseline at once).
BASELINE_S = 1.0
MIN_BASELINE_S = 5 / 30.0
MAX_SAMPLE_S = 0.1
MIN_BASELINE_HISTORY_S = 2.0  # seconds of history before a rest-relative signal is trusted
# A rolling rest level may lie at most this share of the rest zone further from the top than the
# level closest to the top it has had: a movement the other way (an arch, for a pelvic tilt) is not
# the rest to measure from, or relaxing out of it would read as a rep. Half the zone keeps
# relaxing out of any arch inside the rest zone; a rest that truly drifts further away is then
# measured from a level a little closer to the top (reps read smaller, never invented).
REST_AWAY_SHARE = 0.5


class StartPosture:
    """The signals of signals.RELATIVE_SIGNALS: each the change of its source from the start posture."""

    def __init__(self, rep_relative_to_start: bool):
        # When the rep signal is itself measured from the start posture (cat-cow's flexion), its
        # rest zone says nothing about the posture (it holds the cow): only a movement under way
        # stops the sampling.
        self.rep_relative_to_start = rep_relative_to_start
        self._samples: dict[str, list[float]] = {}
        self._seconds: dict[str, float] = {}  # how much time the start samples cover
        self._rest: dict[str, int] = {}  # the rest period in which the start posture was sampled
        self._rest_periods = 0
        self._moved: set[str] = set()  # start postures that ended when the patient began to move
        self._was_at_rest = False

    def update(self, smooth: dict[str, float], moving: bool, at_start: bool, frame_s: float) -> dict[str, float]:
        """The relative signals of this frame from its smoothed signals. ``moving``: a rep counter
        follows a movement; ``at_start``: the engine's start posture (every counter at rest and
        settled); ``frame_s``: this frame's duration (capped at MAX_SAMPLE_S by the engine).

        Only a still rest counts as the start posture: a camera that joins mid-movement, or a body
        not yet in the start position (reps.py: set-up), must not give the patient's neutral back.
        The samples come from one rest period: the first in which the back was measurable (before
        the first rep, or between reps when it was not measurable before: a title card, a pause
        after a cut, a view that joins mid-rep). A period too short for a baseline (a moment
        between reps) is forgotten at the next one; a complete baseline is kept (a later rest may
        be another posture).
        """
        out = {}
        at_rest = not moving if self.rep_relative_to_start else at_start
        if at_rest and not self._was_at_rest:
            self._rest_periods += 1
        self._was_at_rest = at_rest
        for name, declared in RELATIVE_SIGNALS.items():
            source = declared.source
            if source not in smooth:
                continue
            value = smooth[source]
            samples = self._samples.setdefault(name, [])
            if not self.ready(name) and self._rest.get(name) != self._rest_periods:
                samples.clear()
                self._seconds[name] = 0.0
            if not samples:
                self._moved.discard(name)
            elif (self.ready(name) and math.isfinite(value)
                  and abs(value - np.median(samples)) > declared.still_deg):
                self._moved.add(name)  # the start posture is over: moving already
            if (math.isfinite(value) and at_rest and self._seconds.get(name, 0.0) < BASELINE_S - 1e-9
                    and name not in self._moved):
                if not samples:
                    self._rest[name] = self._rest_periods
                if self._rest[name] == self._rest_periods:
                    samples.append(value)
                    self._seconds[name] = self._seconds.get(name, 0.0) + frame_s
            baseline = float(np.median(samples)) if self.ready(name) else math.nan
            out[name] = value - baseline
        return out

    def ready(self, name: str) -> bool:
        """Enough of the start posture was seen to measure ``name`` (a RELATIVE_SIGNALS signal)."""
        return self._seconds.get(name, 0.0) >= MIN_BASELINE_S - 1e-9

    def reset(self) -> None:
        """A new camera shot: the start posture is taken again in the new view."""
        self._samples.clear()
        self._seconds.clear()
        self._rest.clear()

    def warnings(self, watched: list[str]) -> list[str]:
        """For each relative signal a rule watches that was never measured, the declared warning."""
        return [declared.not_measured for name, declared in RELATIVE_SIGNALS.items()
                if declared.not_measured and name in watched and not self.ready(name)]


class RestLevels:
    """Per side: the raw rep signal's recent history (the noise estimate) and, with
    ``rep.baseline_window_s`` > 0, the rep signal relative to the rolling rest level."""

    def __init__(self, spec: ExerciseSpec, sides: tuple[str, ...]):
        self.rep = spec.rep
        self._raw_history: dict[str, deque] = {side: deque() for side in sides}  # (t_ms, raw), last NOISE_WINDOW_S
        self._history: dict[str, deque] = {side: deque() for side in sides}  # (t_ms, smoothed), last window
        self._level: dict[str, float] = {}  # the rolling rest level now
        self._closest: dict[str, float] = {}  # the rolling rest level closest to the top so far

    def value(self, side: str, value: float, raw: float, t_ms: float, moving: bool) -> float:
        """The rep signal to count with: ``value`` (smoothed), relative to the rest level when the
        exercise has a rolling one. ``raw`` feeds the noise estimate; ``moving``: the side's counter
        follows a movement."""
        raw_history = self._raw_history[side]
        raw_history.append((t_ms, raw))
        while t_ms - raw_history[0][0] >= 1000.0 * NOISE_WINDOW_S:
            raw_history.popleft()
        window_s = self.rep.baseline_window_s
        if window_s <= 0:
            return value
        # Relative to the rest level of the last window_s seconds (a rolling low for rising signals):
        # small movements are measured against the patient's own drifting rest position.
        history = self._history[side]
        if math.isfinite(value):
            history.append((t_ms, value))
        while history and t_ms - history[0][0] > 1000.0 * window_s:
            history.popleft()
        # Until a few seconds of history exist there is no rest level to measure against.
        if not history or not math.isfinite(value) or t_ms - history[0][0] < 1000.0 * MIN_BASELINE_HISTORY_S:
            return math.nan
        if moving and side in self._level:
            return value - self._level[side]  # a rep returns to the rest it left, however long it is held
        values = [v for _, v in history]
        extreme = min(values) if self.rep.rising else max(values)
        sign = 1.0 if self.rep.rising else -1.0
        closest = self._closest.get(side, extreme)
        closest = max(closest, extreme) if self.rep.rising else min(closest, extreme)
        self._closest[side] = closest
        away = sign * (closest - extreme)  # > 0: this rest level lies further from the top
        if away > REST_AWAY_SHARE * abs(self.rep.rest_deg):
            extreme = closest - sign * REST_AWAY_SHARE * abs(self.rep.rest_deg)
        self._level[side] = extreme
        return value - extreme

    def noise(self, side: str) -> float:
        """Robust SD of the side's raw rep signal over the last NOISE_WINDOW_S (degrees)."""
        return robust_noise_sd(np.array([v for _, v in self._raw_history[side]], float))

    def reset(self) -> None:
        """A new camera shot: the rest levels and the noise are measured again in the new view."""
        for history in (*self._history.values(), *self._raw_history.values()):
            history.clear()
        self._level.clear()
        self._closest.clear()
