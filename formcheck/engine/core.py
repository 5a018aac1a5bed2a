"""The exercise engine: interprets one ExerciseSpec frame by frame.

pose -> shot check (shots.py: cuts, cards, another person) -> signals (roll-corrected, gated) ->
smoothing -> derived signals -> view check -> rep counters (one per side) -> form rules
(debounced) -> FrameResult.

``ExerciseEngine.finish()`` closes what is open and returns the SessionResult. The engine holds
no model and does no I/O, so tests drive it with recorded or synthetic poses.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from ..measurement import MeasurementEvidence, verdict
from ..reps import RepCounter
from ..shots import PERSON_SWITCH, SHOT_CHANGE, TRANSITION, ShotTracker, ShotUpdate
from ..signals import (OUTLINE_SIGNALS, RELATIVE_TO_START, START_STILL_DEG, Body, RollEstimator, body_from_frame,
                      signal_problem, speed_source, trunk_incline_deg)
from ..smoothing import CausalMedian, Chain, OneEuroFilter, robust_noise_sd
from ..spec import ExerciseSpec, Rule
from ..types import Flag, FrameResult, PoseFrame, Rep, SessionResult
from ..view_gate import ViewGate, trunk_length_px
from ..views import floor_line_visible, world_trunk_incline_deg

DEFAULT_MESSAGES = {
    "partial_rep": "Almost there: go a little further each time, if it is comfortable.",
    "short_hold": "Hold the top position a little longer.",
    "not_visible": "Move so that your whole body is in view.",
    "too_far": "Move closer to the camera.",
    "turn_side_on": "Turn side-on to the camera.",
    "turn_to_face": "Face the camera.",
    "lie_down": "Get into the start position on the mat to begin.",
    "stand_up": "Stand (or sit) upright to begin.",
    "someone_else": "Only you should be in view: the tracking may have jumped to someone else.",
    "view_changing": "The camera picture is changing: counting resumes when it settles.",
}
# Postures whose trunk is roughly level with the floor, and those where it is upright: a
# standing person is not doing a glute bridge, whatever their hip angle says.
LYING_POSTURES = ("supine", "prone", "quadruped", "side_lying")
UPRIGHT_POSTURES = ("standing", "seated")
MAX_LYING_TRUNK_INCLINE_DEG = 50.0
MIN_UPRIGHT_TRUNK_INCLINE_DEG = 45.0
MIN_TRUNK_FRACTION = 0.08  # trunk shorter than this share of the frame's long side: too far away
SPIKY_SIGNALS = OUTLINE_SIGNALS  # outline-based: single-frame jumps when the mask breaks up
NOISE_WINDOW_S = 3.0  # seconds of raw samples for the running noise estimate (90 frames at 30 fps)
# The start posture is the median of its first second of valid samples, usable after 5 frames'
# worth (at 30 fps). Seconds, not frame counts: a live page analysing 15 frames a second must take
# the same start posture, as early, as the recording analysed at 30 (each frame counts for its
# own duration, at most MAX_SAMPLE_S so a pause in the stream does not fill the baseline at once).
BASELINE_S = 1.0
MIN_BASELINE_S = 5 / 30.0
MAX_SAMPLE_S = 0.1
# After a movement the start posture is taken again only once the body has settled: a rep is
# over when its signal re-enters the rest zone, while the trunk is still lowering (the back's
# outline lags the limbs by a few tenths of a second on the shared bird-dog clip).
SETTLE_S = 0.5
MIN_BASELINE_HISTORY_S = 2.0  # seconds of history before a rest-relative signal is trusted
# A rolling rest level may lie at most this share of the rest zone further from the top than the
# level closest to the top it has had: a movement the other way (an arch, for a pelvic tilt) is not
# the rest to measure from, or relaxing out of it would read as a rep. Half the zone keeps
# relaxing out of any arch inside the rest zone; a rest that truly drifts further away is then
# measured from a level a little closer to the top (reps read smaller, never invented).
REST_AWAY_SHARE = 0.5
# When the tracking jumps to another person (see shots.py for how that is told from a camera shot
# change), counting pauses for SWITCH_PAUSE_S so no rep is made of two people's halves.
SWITCH_PAUSE_S = 1.0


@dataclass
class _RuleState:
    rule: Rule
    since_ms: float = math.nan  # condition true since
    open_flag_start_ms: float = math.nan  # debounce passed: a flag is open
    worst: float = math.nan


class ExerciseEngine:
    def __init__(self, spec: ExerciseSpec):
        self.spec = spec
        self.roll = RollEstimator(spec.floor_contacts)
        self.views = ViewGate(spec)  # the camera's view, and what it can measure (view_gate.py)
        self.sides = spec.rep.sides or ("",)
        self.counters = {side: RepCounter(spec.rep, side) for side in self.sides}
        self.rep_signals = {side: spec.rep.signal_for(side) for side in self.sides}
        self._rep_relative_to_start = any(name in RELATIVE_TO_START for name in self.rep_signals.values())
        self.signal_names = spec.signal_names()
        self.filters = {name: (Chain((CausalMedian(), OneEuroFilter())) if name in SPIKY_SIGNALS else OneEuroFilter())
                        for name in self.signal_names}
        self._speed_names = [n for n in spec.all_signal_names() if speed_source(n)]
        # Differences of a smoothed angle still jitter; a second, slower filter steadies the speed.
        self._speed_filters = {n: OneEuroFilter(min_cutoff_hz=0.5, beta=0.0) for n in self._speed_names}
        self._previous: dict[str, tuple[float, float]] = {}
        self.rules = [_RuleState(rule) for rule in spec.rules]
        self._raw_history = {side: deque() for side in self.sides}  # (t_ms, raw value), last NOISE_WINDOW_S
        # (t_s, value) of each side's rep signal, for the per-rep opposite extreme at the end.
        # 16 bytes a frame: a two-hour session at 30 fps holds about 3.5 MB.
        self._rep_history: dict[str, list[tuple[float, float]]] = {side: [] for side in self.sides}
        self._baseline_history = {side: deque() for side in self.sides}
        self._rest_level: dict[str, float] = {}  # the rolling rest level now
        self._rest_closest: dict[str, float] = {}  # the rolling rest level closest to the top so far
        self._start_samples: dict[str, list[float]] = {}
        self._start_seconds: dict[str, float] = {}  # how much time the start samples cover
        self._frame_s = 1 / 30.0  # the current frame's duration (since the previous frame), capped
        self._last_moving_ms = -math.inf  # the last frame on which a rep counter followed a movement
        self._start_rest: dict[str, int] = {}  # the rest period in which the start posture was sampled
        self._rest_periods = 0
        self._start_moved: set[str] = set()  # start postures that ended when the patient began to move
        self._was_at_rest = False
        self.reps: list[Rep] = []
        self.flags: list[Flag] = []
        self.frames = 0
        self.frames_with_pose = 0
        self.frames_in_view = 0
        self.first_ms = math.nan
        self.last_ms = math.nan
        self.view_problems: dict[str, int] = {}
        self.frames_with_rep_signal = 0  # in view, with a valid rep signal
        self.rep_signal_problems: dict[tuple[str, str], int] = {}  # why the rep signal was missing in view
        self.frames_out_of_order = 0
        self.person_switches_s: list[float] = []  # when the tracking jumped to another body (seconds)
        self.shot_changes_s: list[float] = []  # when the camera shot changed (cut, dissolve, card; seconds)
        self.shots = ShotTracker()
        self._paused_until_ms = -math.inf
        self._last_result: FrameResult | None = None

    # --- per frame ---------------------------------------------------------------------------

    def process(self, frame: PoseFrame) -> FrameResult:
        t_ms = frame.t_ms
        if self._last_result is not None and not t_ms > self.last_ms:
            # A late, repeated or out-of-order frame (a webcam hiccup): time must move forward for
            # durations and speeds to mean anything, so it is skipped and the last state repeated.
            self.frames_out_of_order += 1
            return replace(self._last_result, index=frame.index, new_rep=None)
        self.frames += 1
        if math.isfinite(self.last_ms):
            self._frame_s = min((t_ms - self.last_ms) / 1000.0, MAX_SAMPLE_S)
        self.first_ms = t_ms if math.isnan(self.first_ms) else self.first_ms
        self.last_ms = t_ms
        if frame.pose is not None:
            self.frames_with_pose += 1
        shot = self.shots.update(frame)
        new_rep = self._after_discontinuity(shot, t_ms) if shot.event else None
        if not shot.measurable:
            frame = replace(frame, pose=None)  # a card or a transition: no skeleton, no signal
        view = self.views.update(frame, new_shot=shot.event == SHOT_CHANGE)
        if self.views.changed:
            self.roll = RollEstimator(self.spec.floor_contacts)  # a new camera angle: a new floor line
        roll = (self.roll.update(frame, at_start=self._at_start_posture()) if floor_line_visible(view)
                else self.roll.roll_deg)
        body = body_from_frame(frame, roll)
        view_ok, view_message = self._check_view(body, frame)
        if shot.state == TRANSITION:  # (on a card or no pose, the message says what to change)
            view_message = {**DEFAULT_MESSAGES, **self.spec.messages}["view_changing"]
        if t_ms < self._paused_until_ms:
            view_ok, view_message = False, {**DEFAULT_MESSAGES, **self.spec.messages}["someone_else"]

        raw = self.views.compute(self.signal_names, body if view_ok else None, t_ms,
                                 at_rest=not any(c.moving for c in self.counters.values()))
        problem = self._rep_signal_problem(raw, body) if view_ok else None
        smooth = {name: self.filters[name].update(value, t_ms) for name, value in raw.items()}
        smooth.update(self._derived(smooth))
        smooth.update(self._speeds(smooth, t_ms))

        for side, counter in self.counters.items():
            value = self._rep_value(side, smooth, raw, t_ms)
            if math.isfinite(value):
                self._rep_history[side].append((t_ms / 1000.0, value))
            rep = counter.update(t_ms, value, self._noise(side))
            if rep is not None:
                new_rep = self._record_rep(rep)
        if any(c.moving for c in self.counters.values()):
            self._last_moving_ms = t_ms
        setting_up = view_ok and self._waiting_for_start(problem)
        if setting_up or (view_ok and problem is not None):
            # Not in the exercise's start position yet: nothing here is a rep of it, and its form
            # rules do not apply to another position. Or the rep signal cannot be read (e.g. an arm
            # over the lower back): counting pauses, and the patient is told what to change.
            view_ok, view_message = False, problem[1] if problem is not None else self._start_message()
        if view_ok:
            self.frames_in_view += 1
        else:
            self.view_problems[view_message] = self.view_problems.get(view_message, 0) + 1
        active = self._update_rules({} if setting_up else smooth, t_ms)
        phase = self._phase()
        counts = self._counts()
        self._last_result = FrameResult(
            index=frame.index,
            t_ms=t_ms,
            pose=frame.pose,
            view_ok=view_ok,
            view_message=view_message,
            signals=smooth,
            phase=phase,
            reps=counts[""],
            reps_by_side={s: n for s, n in counts.items() if s},
            partial_reps=sum(1 for r in self.reps if not r.complete),
            active_flags=tuple(s.rule.code for s in active),
            cues=tuple(dict.fromkeys(s.rule.message for s in active)),
            new_rep=new_rep,
        )
        return self._last_result

    def finish(self) -> SessionResult:
        """Close open reps and flags and return the session's result."""
        end_ms = self.last_ms if math.isfinite(self.last_ms) else 0.0
        for side, counter in self.counters.items():
            rep = counter.flush(end_ms, self._noise(side))
            if rep is not None:
                self._record_rep(rep)
        for state in self.rules:
            self._close_flag(state, end_ms)
        self.flags.sort(key=lambda f: f.start_s)
        reps = [self._with_flags(r) for r in self._with_opposite_extremes(self.reps)]
        flags = [replace(f, rep_index=_rep_at(reps, f)) for f in self.flags]
        duration_s = (end_ms - self.first_ms) / 1000.0 if math.isfinite(self.first_ms) else 0.0
        return SessionResult(
            exercise=self.spec.name,
            exercise_title=self.spec.title,
            spec_version=self.spec.version,
            duration_s=max(duration_s, 0.0),
            frames=self.frames,
            frames_with_pose=self.frames_with_pose,
            reps=reps,
            flags=flags,
            warnings=self._warnings(),
            kind=self.spec.rep.kind,
            shot_changes_s=list(self.shot_changes_s),
            views=self.views.summary(),
            measurement=verdict(self._measurement_evidence(reps)),
            provenance={
                "exercise_file": self.spec.source_path,
                "exercise_version": self.spec.version,
                "smoothing": "One Euro (min_cutoff 1.0 Hz, beta 0.05)",
                "camera_roll_deg": round(self.roll.roll_deg, 1),
            },
        )

    # --- internals -----------------------------------------------------------------------------

    def _after_discontinuity(self, shot: ShotUpdate, t_ms: float) -> Rep | None:
        """A settled discontinuity (shots.py). Another person: forget the movement under way (its
        first half was someone else's) and pause. A shot change: the movement under way ends as a
        partial rep (it was not seen whole), and the camera roll, rest levels and start posture are
        taken again in the new view. Either way a movement that had already come back to rest is
        kept. Returns the last rep recorded, if any."""
        finished = None
        for side, counter in self.counters.items():
            if shot.event == PERSON_SWITCH:
                rep = counter.abandon(self._noise(side))
            else:
                broken = counter.moving
                rep = counter.flush(shot.event_t_ms, self._noise(side))
                if broken:
                    counter.continue_after_cut()  # its second half, in the new shot, is partial
            if rep is not None:
                finished = self._record_rep(rep)
        if shot.event == PERSON_SWITCH:
            self.person_switches_s.append(shot.event_t_ms / 1000.0)
            self._paused_until_ms = t_ms + 1000.0 * SWITCH_PAUSE_S
        elif shot.event == SHOT_CHANGE:
            self.shot_changes_s.append(shot.event_t_ms / 1000.0)
            self.roll = RollEstimator(self.spec.floor_contacts)
            for history in (*self._baseline_history.values(), *self._raw_history.values()):
                history.clear()
            self._rest_level.clear()
            self._rest_closest.clear()
            self._start_samples.clear()
            self._start_seconds.clear()
            self._start_rest.clear()
        for f in (*self.filters.values(), *self._speed_filters.values()):
            f.reset()
        self._previous.clear()
        return finished

    def _check_view(self, body: Body | None, frame: PoseFrame) -> tuple[bool, str]:
        msg = {**DEFAULT_MESSAGES, **self.spec.messages}
        if body is None:
            return False, msg["not_visible"]
        needed = [body.near(part) for part in self.spec.required_parts]
        if not all(np.all(np.isfinite(p)) for p in needed):
            return False, msg["not_visible"]
        if trunk_length_px(frame, body) < MIN_TRUNK_FRACTION * max(frame.width, frame.height):
            return False, msg["too_far"]
        # The picture foreshortens a lying trunk filmed from the feet or the head: there the world
        # landmarks tell lying from upright.
        incline = trunk_incline_deg(body) if self.views.view in ("side", "front", "back", None) else world_trunk_incline_deg(frame.pose)
        if self.spec.posture in LYING_POSTURES and incline > MAX_LYING_TRUNK_INCLINE_DEG:
            return False, msg["lie_down"]
        if self.spec.posture in UPRIGHT_POSTURES and incline < MIN_UPRIGHT_TRUNK_INCLINE_DEG:
            return False, msg["stand_up"]
        placement = self.views.placement_problem()
        if placement is not None:
            return False, msg[placement]
        return True, ""

    def _derived(self, smooth: dict[str, float]) -> dict[str, float]:
        """Signals relative to the start posture (see signals.RELATIVE_TO_START)."""
        out = {}
        # Only a still rest counts as the start posture: a camera that joins mid-movement, or a body
        # not yet in the start position (reps.py: set-up), must not give the patient's neutral back
        # (_at_start_posture: every counter at rest and settled). When the rep signal is itself
        # measured from the start posture (cat-cow's flexion) its rest zone says nothing about the
        # posture (it holds the cow): there only a movement under way stops it. The samples come
        # from one rest period: the first in which the back was measurable (before the first rep,
        # or between reps when it was not measurable before: a title card, a pause after a cut, a
        # view that joins mid-rep). A period too short for a baseline (a moment between reps) is
        # forgotten at the next one; a complete baseline is kept (a later rest may be another posture).
        if self._rep_relative_to_start:
            at_rest = not any(c.moving for c in self.counters.values())
        else:
            at_rest = self._at_start_posture()
        if at_rest and not self._was_at_rest:
            self._rest_periods += 1
        self._was_at_rest = at_rest
        for name, source in RELATIVE_TO_START.items():
            if source not in smooth:
                continue
            value = smooth[source]
            samples = self._start_samples.setdefault(name, [])
            if not self._baseline_ready(name) and self._start_rest.get(name) != self._rest_periods:
                samples.clear()
                self._start_seconds[name] = 0.0
            if not samples:
                self._start_moved.discard(name)
            elif (self._baseline_ready(name) and math.isfinite(value)
                  and abs(value - np.median(samples)) > START_STILL_DEG.get(source, math.inf)):
                self._start_moved.add(name)  # the start posture is over: moving already
            if (math.isfinite(value) and at_rest and self._start_seconds.get(name, 0.0) < BASELINE_S - 1e-9
                    and name not in self._start_moved):
                if not samples:
                    self._start_rest[name] = self._rest_periods
                if self._start_rest[name] == self._rest_periods:
                    samples.append(value)
                    self._start_seconds[name] = self._start_seconds.get(name, 0.0) + self._frame_s
            baseline = float(np.median(samples)) if self._baseline_ready(name) else math.nan
            out[name] = value - baseline
        return out

    def _baseline_ready(self, name: str) -> bool:
        """Enough of the start posture was seen to measure ``name`` (a RELATIVE_TO_START signal)."""
        return self._start_seconds.get(name, 0.0) >= MIN_BASELINE_S - 1e-9

    def _at_start_posture(self) -> bool:
        """Every rep counter has seen its signal in the rest zone (reps.py: before that it is setting
        up), follows no movement, and the body has settled since the last one.

        The roll and the start-posture baselines are taken only then. A camera that joins
        mid-movement (switched on mid-rep, a live stream connecting late) must not take a rounded
        back for the patient's neutral one, nor a lifted hand for the floor; and nothing is taken
        before the counters have seen the body (the first frame of a session joined mid-reach is
        not the start posture either), nor until the body has settled after a movement.
        """
        return (all(c.phase == "rest" for c in self.counters.values())
                and self.last_ms - self._last_moving_ms >= 1000.0 * SETTLE_S)

    def _speeds(self, smooth: dict[str, float], t_ms: float) -> dict[str, float]:
        """Rates of change (degrees per second) of the signals whose speed a rule watches."""
        out = {}
        for name in self._speed_names:
            source = speed_source(name)
            value = smooth.get(source, math.nan)
            previous = self._previous.get(source)
            speed = math.nan
            if previous is not None and math.isfinite(value) and math.isfinite(previous[1]) and t_ms > previous[0]:
                speed = abs(value - previous[1]) / ((t_ms - previous[0]) / 1000.0)
            self._previous[source] = (t_ms, value)
            out[name] = self._speed_filters[name].update(speed, t_ms)
        return out

    def _rep_value(self, side: str, smooth: dict[str, float], raw: dict[str, float], t_ms: float) -> float:
        name = self.rep_signals[side]
        value = smooth.get(name, math.nan)
        raw_history = self._raw_history[side]
        raw_history.append((t_ms, raw.get(name, math.nan)))
        while t_ms - raw_history[0][0] >= 1000.0 * NOISE_WINDOW_S:
            raw_history.popleft()
        window_s = self.spec.rep.baseline_window_s
        if window_s <= 0:
            return value
        # Relative to the rest level of the last window_s seconds (a rolling low for rising signals):
        # small movements are measured against the patient's own drifting rest position.
        history = self._baseline_history[side]
        if math.isfinite(value):
            history.append((t_ms, value))
        while history and t_ms - history[0][0] > 1000.0 * window_s:
            history.popleft()
        # Until a few seconds of history exist there is no rest level to measure against.
        if not history or not math.isfinite(value) or t_ms - history[0][0] < 1000.0 * MIN_BASELINE_HISTORY_S:
            return math.nan
        if self.counters[side].moving and side in self._rest_level:
            return value - self._rest_level[side]  # a rep returns to the rest it left, however long it is held
        values = [v for _, v in history]
        extreme = min(values) if self.spec.rep.rising else max(values)
        sign = 1.0 if self.spec.rep.rising else -1.0
        closest = self._rest_closest.get(side, extreme)
        closest = max(closest, extreme) if self.spec.rep.rising else min(closest, extreme)
        self._rest_closest[side] = closest
        away = sign * (closest - extreme)  # > 0: this rest level lies further from the top
        if away > REST_AWAY_SHARE * abs(self.spec.rep.rest_deg):
            extreme = closest - sign * REST_AWAY_SHARE * abs(self.spec.rep.rest_deg)
        self._rest_level[side] = extreme
        return value - extreme

    def _rep_signal_problem(self, raw: dict[str, float], body: Body | None) -> tuple[str, str] | None:
        """Why the rep signal is missing on a frame in view, if the signal says (reason, what to
        change); counts the frames with a valid rep signal and the reasons on the others."""
        names = sorted(set(self.rep_signals.values()))
        if any(math.isfinite(raw.get(name, math.nan)) for name in names):
            self.frames_with_rep_signal += 1
            return None
        for name in names:
            problem = signal_problem(name, body)
            if problem is not None:
                self.rep_signal_problems[problem] = self.rep_signal_problems.get(problem, 0) + 1
                return problem
        return None

    def _waiting_for_start(self, problem: tuple[str, str] | None) -> bool:
        """The body has not yet been in the start position, and is seen outside it or the rep signal
        cannot be read. (Once it has been, a rep interrupted later, e.g. by someone else in view,
        simply does not count.)"""
        counters = self.counters.values()
        return not any(c.settled for c in counters) and (
            problem is not None or any(c.waiting_for_start for c in counters))

    def _start_message(self) -> str:
        msg = {**DEFAULT_MESSAGES, **self.spec.messages}
        return msg["stand_up"] if self.spec.posture in UPRIGHT_POSTURES else msg["lie_down"]

    def _measurement_evidence(self, reps: list[Rep]) -> MeasurementEvidence:
        counters = self.counters.values()
        noise = [v for c in counters for v in c.noise_samples]
        movements = [c.largest_movement_deg for c in counters if math.isfinite(c.largest_movement_deg)]
        rep = self.spec.rep
        return MeasurementEvidence(
            frames=self.frames, frames_with_pose=self.frames_with_pose, frames_in_view=self.frames_in_view,
            view_problems=dict(self.view_problems), settled=any(c.settled for c in counters),
            start_message=self._start_message(), signal_frames=self.frames_with_rep_signal,
            signal_problems=dict(self.rep_signal_problems), reps=len(reps),
            complete_reps=sum(r.complete for r in reps),
            discarded_for_noise=sum(c.discarded_for_noise for c in counters),
            largest_movement_deg=max(movements, default=math.nan),
            noise_deg=float(np.median(noise)) if noise else math.nan,
            min_snr=rep.min_snr, complete_rep_deg=abs(rep.top_deg - (0.0 if rep.baseline_window_s > 0 else rep.rest_deg)),
        )

    def _noise(self, side: str) -> float:
        return robust_noise_sd(np.array([v for _, v in self._raw_history[side]], float))

    def _record_rep(self, rep: Rep) -> Rep:
        same_kind = [r for r in self.reps if r.complete == rep.complete]
        rep = replace(rep, index=len(same_kind) + 1)
        self.reps.append(rep)
        msg = {**DEFAULT_MESSAGES, **self.spec.messages}
        if not rep.complete:
            self.flags.append(Flag("partial_rep", "info", rep.start_s, rep.end_s, msg["partial_rep"], rep.peak_deg))
        elif self.spec.rep.target_hold_s > 0 and rep.hold_s < self.spec.rep.target_hold_s:
            self.flags.append(Flag("short_hold", "info", rep.peak_s, rep.end_s, msg["short_hold"], rep.hold_s))
        return self._with_flags(rep)

    def _with_flags(self, rep: Rep) -> Rep:
        codes = [f.code for f in self.flags if f.start_s <= rep.end_s and f.end_s >= rep.start_s]
        codes += [s.rule.code for s in self.rules if math.isfinite(s.open_flag_start_ms)
                  and s.open_flag_start_ms / 1000.0 <= rep.end_s]
        if not rep.complete:
            codes = [c for c in codes if c != "short_hold"]
        elif "partial_rep" in codes:
            codes.remove("partial_rep")
        return replace(rep, flags=tuple(dict.fromkeys(codes)))

    def _with_opposite_extremes(self, reps: list[Rep]) -> list[Rep]:
        out = []
        for rep in reps:
            history = self._rep_history[rep.side]
            later = [r.start_s for r in reps if r.side == rep.side and r.start_s > rep.start_s]
            until = min(later) if later else math.inf
            values = [v for t, v in history if rep.start_s <= t < until]
            low = (min(values) if self.spec.rep.rising else max(values)) if values else None
            out.append(replace(rep, low_deg=low))
        return out

    def _update_rules(self, smooth: dict[str, float], t_ms: float) -> list[_RuleState]:
        phases = {c.phase for c in self.counters.values()}
        active = []
        for state in self.rules:
            rule = state.rule
            applies = (rule.during == "any"
                       or (rule.during == "top" and "top" in phases)
                       or (rule.during == "rep" and phases & {"rising", "top", "lowering"}))
            value = smooth.get(rule.signal, math.nan)
            beyond = applies and math.isfinite(value) and (
                (math.isfinite(rule.above) and value > rule.above)
                or (math.isfinite(rule.below) and value < rule.below))
            if not beyond:
                self._close_flag(state, t_ms)
                state.since_ms = math.nan
                continue
            if math.isnan(state.since_ms):
                state.since_ms, state.worst = t_ms, value
            state.worst = max(state.worst, value) if math.isfinite(rule.above) else min(state.worst, value)
            if t_ms - state.since_ms >= 1000.0 * rule.min_duration_s:
                if math.isnan(state.open_flag_start_ms):
                    state.open_flag_start_ms = state.since_ms
                active.append(state)
        return active

    def _close_flag(self, state: _RuleState, t_ms: float) -> None:
        if math.isfinite(state.open_flag_start_ms):
            rule = state.rule
            self.flags.append(Flag(rule.code, rule.severity, state.open_flag_start_ms / 1000.0,
                                   t_ms / 1000.0, rule.message, state.worst))
        state.open_flag_start_ms = math.nan

    def _phase(self) -> str:
        phases = [c.phase for c in self.counters.values()]
        for phase in ("top", "lowering", "rising", "rest"):
            if phase in phases:
                return phase
        return "setup"

    def _counts(self) -> dict[str, int]:
        counts = {"": 0}
        for side in self.sides:
            if side:
                counts[side] = 0
        for rep in self.reps:
            if rep.complete:
                counts[""] += 1
                if rep.side:
                    counts[rep.side] += 1
        return counts

    def _warnings(self) -> list[str]:
        warnings = []
        if self.frames and self.frames_with_pose == 0:
            warnings.append("No person was found in the video.")
        elif self.frames and self.frames_in_view < 0.5 * self.frames:
            worst = max(self.view_problems, key=self.view_problems.get) if self.view_problems else ""
            warnings.append(f"Counting was paused for {100 - 100 * self.frames_in_view // self.frames}% of the "
                            f"recording because the body was not in position or not in view (most often: "
                            f"\"{worst}\").")
        if self.person_switches_s:
            warnings.append(f"The tracking jumped between people {len(self.person_switches_s)} time(s) "
                            f"(at {_times_s(self.person_switches_s)}): the movement under way was not counted, "
                            f"and counting paused for {SWITCH_PAUSE_S:.0f} s. Record with only the patient in view.")
        if self.shot_changes_s:
            warnings.append(f"The recording changes camera shot at {_times_s(self.shot_changes_s)}: counting "
                            f"restarted in each new view (camera level and rest position measured again); a "
                            f"movement under way at a change is counted as partial.")
        warnings += self.views.warnings()
        if self.frames_out_of_order:
            warnings.append(f"{self.frames_out_of_order} frame(s) arrived late or out of order and were skipped.")
        noisy = [c for c in self.counters.values() if c.discarded_for_noise]
        if noisy:
            noise = max(self._noise(side) for side in self.sides)
            largest = max(c.largest_discarded_rom_deg for c in noisy)
            warnings.append(
                f"This camera view cannot measure the {self.spec.title.lower()} reliably: "
                f"{sum(c.discarded_for_noise for c in noisy)} movement(s) of up to {largest:.1f} degrees "
                f"were within the measurement noise ({noise:.1f} degrees) and were not counted.")
        if "spinal_flexion_deg" in [r.signal for r in self.spec.rules] and not self._baseline_ready("spinal_flexion_deg"):
            warnings.append("Spinal flexion was not measured: the back's outline was not visible "
                            "(no segmentation mask in this source, or the back was out of view).")
        return warnings


def _times_s(times: list[float], most: int = 5) -> str:
    """'7.0 s, 8.0 s' (the first ``most``, then '...')."""
    return ", ".join(f"{t:.1f} s" for t in times[:most]) + ("..." if len(times) > most else "")


def _rep_at(reps: list[Rep], flag: Flag) -> int | None:
    for rep in reps:
        if rep.complete and flag.start_s <= rep.end_s and flag.end_s >= rep.start_s:
            return rep.index
    return None
