"""Form rules and flags: each spec rule debounced into flags, the info flags of reps (partial,
short hold), the flags attached to each rep, and the session's warnings about what was counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..reps import RepCounter
from ..spec import ExerciseSpec, Rule
from ..types import Flag, Rep
from .messages import messages_for

# What each of a rule's `during` values needs of the rep counters' phases.
REP_PHASES = frozenset({"rising", "top", "lowering"})


@dataclass
class _RuleState:
    rule: Rule
    since_ms: float = math.nan  # condition true since
    open_flag_start_ms: float = math.nan  # debounce passed: a flag is open
    worst: float = math.nan


class FormRules:
    """The spec's rules, debounced (``rule.min_duration_s``), and the flags they and the reps raise."""

    def __init__(self, spec: ExerciseSpec):
        self.spec = spec
        self.messages = messages_for(spec)
        self.states = [_RuleState(rule) for rule in spec.rules]
        self.flags: list[Flag] = []

    def update(self, smooth: dict[str, float], phases: set[str], t_ms: float) -> list[Rule]:
        """The rules whose condition has held long enough, now (a flag is open for each)."""
        active = []
        for state in self.states:
            rule = state.rule
            applies = (rule.during == "any"
                       or (rule.during == "top" and "top" in phases)
                       or (rule.during == "rep" and bool(phases & REP_PHASES)))
            value = smooth.get(rule.signal, math.nan)
            beyond = applies and math.isfinite(value) and (
                (math.isfinite(rule.above) and value > rule.above)
                or (math.isfinite(rule.below) and value < rule.below))
            if not beyond:
                self._close(state, t_ms)
                state.since_ms = math.nan
                continue
            if math.isnan(state.since_ms):
                state.since_ms, state.worst = t_ms, value
            state.worst = max(state.worst, value) if math.isfinite(rule.above) else min(state.worst, value)
            if t_ms - state.since_ms >= 1000.0 * rule.min_duration_s:
                if math.isnan(state.open_flag_start_ms):
                    state.open_flag_start_ms = state.since_ms
                active.append(rule)
        return active

    def close_all(self, t_ms: float) -> None:
        """The end: every open flag ends at t_ms; the flags in time order."""
        for state in self.states:
            self._close(state, t_ms)
        self.flags.sort(key=lambda f: f.start_s)

    def flag_rep(self, rep: Rep) -> None:
        """A partial rep, or a complete one held too briefly: an info flag."""
        if not rep.complete:
            self.flags.append(Flag("partial_rep", "info", rep.start_s, rep.end_s, self.messages["partial_rep"],
                                   rep.peak_deg))
        elif self.spec.rep.target_hold_s > 0 and rep.hold_s < self.spec.rep.target_hold_s:
            self.flags.append(Flag("short_hold", "info", rep.peak_s, rep.end_s, self.messages["short_hold"],
                                   rep.hold_s))

    def with_flags(self, rep: Rep) -> Rep:
        """The rep with the codes of the flags during it (closed, and still open)."""
        codes = [f.code for f in self.flags if f.start_s <= rep.end_s and f.end_s >= rep.start_s]
        codes += [s.rule.code for s in self.states if math.isfinite(s.open_flag_start_ms)
                  and s.open_flag_start_ms / 1000.0 <= rep.end_s]
        if not rep.complete:
            codes = [c for c in codes if c != "short_hold"]
        elif "partial_rep" in codes:
            codes.remove("partial_rep")
        return replace(rep, flags=tuple(dict.fromkeys(codes)))

    def flags_of(self, reps: list[Rep]) -> list[Flag]:
        """The flags, each with the index of the complete rep it falls in (if any)."""
        return [replace(f, rep_index=_rep_at(reps, f)) for f in self.flags]

    def _close(self, state: _RuleState, t_ms: float) -> None:
        if math.isfinite(state.open_flag_start_ms):
            rule = state.rule
            self.flags.append(Flag(rule.code, rule.severity, state.open_flag_start_ms / 1000.0,
                                   t_ms / 1000.0, rule.message, state.worst))
        state.open_flag_start_ms = math.nan


def _rep_at(reps: list[Rep], flag: Flag) -> int | None:
    for rep in reps:
        if rep.complete and flag.start_s <= rep.end_s and flag.end_s >= rep.start_s:
            return rep.index
    return None


# --- the session's warnings about what was counted ----------------------------------------------

def coverage_warnings(frames: int, frames_with_pose: int, frames_in_view: int,
                      view_problems: dict[str, int]) -> list[str]:
    """Nobody found, or counting paused for most of the recording (and the usual reason)."""
    if frames and frames_with_pose == 0:
        return ["No person was found in the video."]
    if frames and frames_in_view < 0.5 * frames:
        worst = max(view_problems, key=view_problems.__getitem__) if view_problems else ""
        return [f"Counting was paused for {100 - 100 * frames_in_view // frames}% of the "
                f"recording because the body was not in position or not in view (most often: "
                f"\"{worst}\")."]
    return []


def skipped_frames_warnings(frames_out_of_order: int) -> list[str]:
    if frames_out_of_order:
        return [f"{frames_out_of_order} frame(s) arrived late or out of order and were skipped."]
    return []


def noise_warnings(counters: list[RepCounter], noise_deg: float, exercise_title: str) -> list[str]:
    """Movements the counters dropped as within the measurement noise (``noise_deg``, the largest
    of the sides')."""
    noisy = [c for c in counters if c.discarded_for_noise]
    if not noisy:
        return []
    largest = max(c.largest_discarded_rom_deg for c in noisy)
    return [f"This camera view cannot measure the {exercise_title.lower()} reliably: "
            f"{sum(c.discarded_for_noise for c in noisy)} movement(s) of up to {largest:.1f} degrees "
            f"were within the measurement noise ({noise_deg:.1f} degrees) and were not counted."]
