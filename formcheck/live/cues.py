"""What the patient is told during a live set about form and about the rep just finished.

* ``CueHolder``: which form cue is up: the most severe rule firing now (``limits.most_severe_first``),
  or the last one for ``CUE_HOLD_S`` after it stopped, so a short fault can still be read from
  two metres; it also counts how often a cue started (the page beeps each time);
* ``with_cue_first``: the frame's result with the held cue first, which is the one the overlay draws;
* ``rep_feedback``: the advice after a rep that was partial or held too briefly, in the
  exercise's own words or the engine's defaults (``engine.DEFAULT_MESSAGES``).

Pure and single-threaded: ``LiveSession`` calls them under its lock. Times in seconds.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace

from ..engine import DEFAULT_MESSAGES
from ..limits import most_severe_first
from ..spec import Rule
from ..types import FrameResult, Rep

CUE_HOLD_S = 2.5  # a cue stays up at least this long, so it can be read from two metres


class CueHolder:
    """Which form cue the patient sees: the most severe rule firing now, or the last one for
    ``hold_s`` seconds after it stopped, so a short fault can still be read from two metres.

    Not thread-safe on its own (LiveSession calls it under its lock). Times in seconds.
    """

    def __init__(self, rules: Iterable[Rule], hold_s: float = CUE_HOLD_S):
        self.rules = {rule.code: rule for rule in rules}
        self.hold_s = hold_s
        self.started = 0  # how many times a rule started firing (a sound each time)
        self._active: frozenset[str] = frozenset()
        self._cue, self._severity, self._until = "", "", -math.inf

    def update(self, active_flags: Iterable[str], now: float) -> tuple[str, str]:
        """Take the rules firing on this frame; return (cue, severity) to show, ("", "") for none."""
        active = frozenset(active_flags)
        if active - self._active:
            self.started += 1
        self._active = active
        firing = sorted((self.rules[code] for code in active if code in self.rules),
                        key=lambda rule: (most_severe_first(rule.severity), rule.code))
        if firing:
            self._cue, self._severity, self._until = firing[0].message, firing[0].severity, now + self.hold_s
        return self.current(now)

    def current(self, now: float) -> tuple[str, str]:
        if self._active or now < self._until:
            return self._cue, self._severity
        return "", ""


def with_cue_first(result: FrameResult, cue: str) -> FrameResult:
    """``result`` with ``cue`` as its first cue (the one drawn), unchanged when there is none."""
    if cue and (not result.cues or result.cues[0] != cue):
        return replace(result, cues=(cue, *(c for c in result.cues if c != cue)))
    return result


def rep_feedback(rep: Rep, messages: Mapping[str, str]) -> str:
    """The advice after ``rep`` ("" for a good one), in the exercise's ``messages`` or the defaults."""
    if not rep.complete:
        return messages.get("partial_rep", DEFAULT_MESSAGES["partial_rep"])
    if "short_hold" in rep.flags:
        return messages.get("short_hold", DEFAULT_MESSAGES["short_hold"])
    return ""
