"""The repetition state machine for one signal (one side).

A repetition goes rest zone -> (rising) -> top zone -> (lowering) -> rest zone. Hysteresis comes
from the two thresholds: the signal must leave the rest zone to start a rep and come back into
it to end one, so jitter around either threshold cannot count twice (the "double pulse at the
top" of a held rep stays one rep).

Set-up: nothing counts until the signal has been in the rest zone for SETTLE_SAMPLES samples in a
row, or ``min_rest_s`` if that is shorter (the body settled in the exercise's start position; the
engine makes the signal missing while the posture or the view is wrong). A movement already under
way when the body is first seen, or seen only from a position that is not the start position (a
child's pose analysed as a glute bridge), is setting up, not a rep of this exercise:
``waiting_for_start`` is True meanwhile, so the patient can be told to
get into the start position. The counter sets up again after losing sight of the body (a missing
signal) for longer than MAX_GAP_MS, at rest or mid-rep. One exception: after a camera shot change
broke a rep that was seen starting from rest (``continue_after_cut``), the movement under way in the
new shot is that rep's second half and is followed, as a partial rep.

What counts:
- complete rep: seen leaving the rest zone, reaching the top zone, and returning;
- partial rep: an excursion of at least ``min_rom_deg``, started from the rest zone, that never
  reached the top, or that was cut off by the end of the recording;
- for a hold (``kind = "hold"``): one hold when the position was reached from rest and left again,
  however long it lasted (the engine flags one shorter than ``target_hold_s`` as a short hold, as
  for a rep: the patient did the stretch, not long enough); a hold the recording's end cuts off
  counts when it had already lasted ``target_hold_s``, else it is partial;
- nothing: excursions shorter than ``min_duration_s``, smaller than ``min_rom_deg`` or, when
  ``min_snr`` is set, not clearly above the signal's noise.

Times are milliseconds in, seconds out; values are degrees, handled internally in the rising
direction (a falling signal is negated) so one machine serves both.
"""
from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass

from .spec import RepSpec
from .types import Rep

MAX_GAP_MS = 1500.0  # a rep survives a landmark dropout this long; longer, and it is abandoned
# Consecutive samples in the rest zone that make the body "in the start position": more than a
# one- or two-frame landmark glitch, and no more, because real recordings start as little as
# 0.1 s before the first rep (the shared glute bridge traces). An exercise whose rest is shorter
# (``min_rest_s``: walking's ankles pass each other in a moment) settles after that long.
SETTLE_SAMPLES = 3


@dataclass
class _Excursion:
    start_ms: float
    start_value: float
    peak_ms: float
    peak_value: float
    top_ms_total: float = 0.0
    reached_top: bool = False
    seen_start: bool = True  # False: the second half of a rep broken by a camera shot change
    cut_off: bool = False  # the recording ended before the movement did
    back_at_rest_ms: float = math.nan  # when the signal re-entered the rest zone (pending end)
    back_at_rest_value: float = math.nan


class RepCounter:
    def __init__(self, rep: RepSpec, side: str = ""):
        self.spec = rep
        self.side = side
        self._sign = 1.0 if rep.rising else -1.0
        self._rest = self._sign * rep.rest_deg
        self._top = self._sign * rep.top_deg
        self.phase = "setup"  # until the signal has settled in the rest zone
        self._recent: deque[tuple[float, float]] = deque()  # (t_ms, value) in the rest zone, last 2 s
        self._current: _Excursion | None = None
        self._last_t_ms = math.nan
        self._last_valid_ms = math.nan
        self._settling_samples = 0  # in set-up: consecutive samples in the rest zone
        self._settling_since_ms = math.nan  # ... since
        self.waiting_for_start = False  # in set-up, and the body is seen outside the start position
        self.settled = False  # the body was in the start position at least once
        self._continuing = False  # a shot change broke a rep: follow its second half (partial)
        self._previous_v = math.nan  # the previous sample (rising direction), NaN if it had none
        self.discarded_for_noise = 0
        self.largest_discarded_rom_deg = 0.0
        self.largest_movement_deg = math.nan  # the largest excursion that ended, counted or not
        self.noise_samples = array("d")  # the noise estimate given with each valid sample (8 bytes each)

    @property
    def moving(self) -> bool:
        """True while an excursion from the rest zone is being followed."""
        return self._current is not None

    def update(self, t_ms: float, value_deg: float, noise_sd_deg: float = math.nan) -> Rep | None:
        """Feed one sample; returns a Rep (complete or partial) on the frame it ends, else None."""
        dt_ms = t_ms - self._last_t_ms if math.isfinite(self._last_t_ms) else 0.0
        self._last_t_ms = t_ms
        self._previous_v, previous_v = self._sign * value_deg, self._previous_v
        if not math.isfinite(value_deg):
            self._settling_samples = 0
            if self._current is not None and t_ms - self._last_valid_ms > MAX_GAP_MS:
                self._current = None  # lost sight of the body mid-rep: do not guess
                self.phase = "setup"
            return None
        if self.phase == "rest" and t_ms - self._last_valid_ms > MAX_GAP_MS:
            # Back after losing sight of the body: what it does now did not start in view.
            self.phase, self._settling_samples = "setup", 0
            self._recent.clear()
        self._last_valid_ms = t_ms
        if math.isfinite(noise_sd_deg):
            self.noise_samples.append(noise_sd_deg)
        v = self._sign * value_deg

        if self.phase == "setup" and self._continuing:
            if self._current is not None or v > self._rest:
                return self._follow_continuation(t_ms, v, dt_ms, noise_sd_deg, previous_v)
            self._continuing = False  # the broken rep was over by the time the new shot settled
        if self.phase == "setup":
            self.waiting_for_start = v > self._rest
            if self.waiting_for_start:
                self._settling_samples = 0
                self._recent.clear()
                return None
            if self._settling_samples == 0:
                self._settling_since_ms = t_ms
            self._settling_samples += 1
            self._remember_rest(t_ms, v)
            if (self._settling_samples >= SETTLE_SAMPLES
                    or t_ms - self._settling_since_ms >= 1000.0 * self.spec.min_rest_s):
                self.phase, self.settled = "rest", True
            return None

        if self.phase == "rest":
            if v <= self._rest:
                self._remember_rest(t_ms, v)
                return None
            start_ms, start_v = self._onset()
            self._current = _Excursion(start_ms, start_v, t_ms, v)
            self.phase = "rising"
        assert self._current is not None
        exc = self._current
        if v <= self._rest:
            # Back in the rest zone: the rep ends here, once the signal has stayed there for
            # min_rest_s (a brief dip mid-hold, e.g. a landmark lost for a moment, is not an end).
            if math.isnan(exc.back_at_rest_ms):
                exc.back_at_rest_ms, exc.back_at_rest_value = t_ms, v
            if t_ms - exc.back_at_rest_ms >= 1000.0 * self.spec.min_rest_s:
                return self._finish(exc.back_at_rest_ms, exc.back_at_rest_value, noise_sd_deg, t_ms, v)
            return None
        exc.back_at_rest_ms = math.nan
        self._track(exc, t_ms, v, dt_ms, previous_v)
        if v >= self._top:
            self.phase = "top"
        elif self._current.reached_top:
            self.phase = "lowering"
        return None

    def continue_after_cut(self) -> None:
        """A camera shot change has just ended (``flush``) a rep that was under way: what the new
        shot shows of it before the body is back at rest is that rep's second half, a partial rep."""
        self._continuing = True

    def _follow_continuation(self, t_ms: float, v: float, dt_ms: float, noise_sd_deg: float,
                             previous_v: float) -> Rep | None:
        if self._current is None:
            self._current = _Excursion(t_ms, v, t_ms, v, seen_start=False)
        if v > self._rest:
            self._current.back_at_rest_ms = math.nan
            self._track(self._current, t_ms, v, dt_ms, previous_v)
            return None
        exc = self._current
        if math.isnan(exc.back_at_rest_ms):
            exc.back_at_rest_ms, exc.back_at_rest_value = t_ms, v
        if t_ms - exc.back_at_rest_ms < 1000.0 * self.spec.min_rest_s:
            return None
        self._continuing = False
        self.settled = True
        return self._finish(exc.back_at_rest_ms, exc.back_at_rest_value, noise_sd_deg, t_ms, v)

    def abandon(self, noise_sd_deg: float = math.nan) -> Rep | None:
        """The body being followed is gone (the tracking jumped to someone else): a movement that
        had already come back to rest is finished as it was; one still under way is dropped."""
        exc = self._current
        self._current = None
        self._recent.clear()
        self.phase = "setup"
        self._settling_samples = 0
        self._continuing = False
        if exc is not None and math.isfinite(exc.back_at_rest_ms):
            return self._make_rep(exc, exc.back_at_rest_ms, exc.back_at_rest_value, noise_sd_deg)
        return None

    def flush(self, t_ms: float, noise_sd_deg: float = math.nan) -> Rep | None:
        """End of recording: an excursion still under way becomes a partial rep."""
        exc = self._current
        finished = self.abandon(noise_sd_deg)
        if exc is None or finished is not None or math.isfinite(exc.back_at_rest_ms):
            return finished
        exc.cut_off = True
        return self._make_rep(exc, t_ms, exc.start_value, noise_sd_deg)

    # --- internals -----------------------------------------------------------------------

    def _remember_rest(self, t_ms: float, v: float) -> None:
        self._recent.append((t_ms, v))
        while self._recent and t_ms - self._recent[0][0] > 2000.0:
            self._recent.popleft()

    def _onset(self) -> tuple[float, float]:
        """Start of the movement: the last moment at the lowest rest level before the rise."""
        if not self._recent:
            return self._last_t_ms, self._rest
        low = min(v for _, v in self._recent)
        tolerance = 0.15 * max(self._top - self._rest, 1.0)
        for t, v in reversed(self._recent):
            if v <= low + tolerance:
                return t, low
        return self._recent[-1][0], low

    def _track(self, exc: _Excursion, t_ms: float, v: float, dt_ms: float, previous_v: float) -> None:
        if v > exc.peak_value:
            exc.peak_ms, exc.peak_value = t_ms, v
        if v >= self._top:
            exc.reached_top = True
        exc.top_ms_total += dt_ms * _share_at_or_above(previous_v, v, self._top)

    def _finish(self, end_ms: float, end_v: float, noise_sd_deg: float, now_ms: float | None = None,
                now_v: float | None = None) -> Rep | None:
        exc = self._current
        self._current = None
        self.phase = "rest"
        self._recent.clear()
        self._remember_rest(end_ms, end_v)
        if now_ms is not None and now_v is not None and now_ms != end_ms:  # (the callers pass both or neither)
            self._remember_rest(now_ms, now_v)
        assert exc is not None
        return self._make_rep(exc, end_ms, end_v, noise_sd_deg)

    def _make_rep(self, exc: _Excursion, end_ms: float, end_value: float, noise_sd_deg: float) -> Rep | None:
        duration_ms = end_ms - exc.start_ms
        rom = exc.peak_value - min(exc.start_value, end_value)
        if duration_ms < 1000.0 * self.spec.min_duration_s:
            return None
        self.largest_movement_deg = (rom if math.isnan(self.largest_movement_deg)
                                     else max(self.largest_movement_deg, rom))
        if rom < self.spec.min_rom_deg:
            return None
        if self.spec.min_snr > 0 and math.isfinite(noise_sd_deg) and rom < self.spec.min_snr * noise_sd_deg:
            self.discarded_for_noise += 1
            self.largest_discarded_rom_deg = max(self.largest_discarded_rom_deg, rom)
            return None
        return Rep(
            index=0,  # numbered by the engine, which sees every side
            side=self.side,
            start_s=exc.start_ms / 1000.0,
            peak_s=exc.peak_ms / 1000.0,
            end_s=end_ms / 1000.0,
            peak_deg=self._sign * exc.peak_value,
            rom_deg=rom,
            hold_s=exc.top_ms_total / 1000.0,
            complete=self._is_complete(exc),
        )

    def _is_complete(self, exc: _Excursion) -> bool:
        if not (exc.reached_top and exc.seen_start):
            return False
        if self.spec.kind == "hold" and exc.cut_off:
            # A hold still going when the recording ends was held for as long as we saw it.
            return exc.top_ms_total >= 1000.0 * self.spec.target_hold_s
        return not exc.cut_off


def _share_at_or_above(previous: float, value: float, top: float) -> float:
    """The share of the time between two samples spent at or above ``top``, the signal taken as
    linear in between: the hold is then the same at 15 analysed frames a second as at 30 (counting
    whole intervals would add or drop up to one frame interval at each crossing of the top).
    Without a previous sample the whole interval counts when ``value`` is at the top."""
    if not math.isfinite(previous) or (previous >= top) == (value >= top):
        return 1.0 if value >= top else 0.0
    above, below = (value, previous) if value >= top else (previous, value)
    return (above - top) / (above - below)
