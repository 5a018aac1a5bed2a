"""The exercise engine: interprets one ExerciseSpec frame by frame.

pose -> shot check and view (view.py, over shots.py and view_gate.py) -> signals (roll-corrected,
gated) -> filters (filters.py: injected) -> signals relative to the start posture
(baselines.py) -> speeds -> rep counters (one per side, reps.py; rolling rest levels in
baselines.py) -> form rules (rules.py: debounced into flags) -> FrameResult.

``ExerciseEngine.finish()`` closes what is open and returns the SessionResult. The engine holds
no model and does no I/O, so tests drive it with recorded or synthetic poses. Its filters are
handed to it (``SignalFilters``; none by default): every product path passes
``filters.STANDARD_FILTERS``, and the provenance records what they were.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..measurement import MeasurementEvidence, verdict
from ..reps import RepCounter
from ..shots import PERSON_SWITCH, SHOT_CHANGE, ShotUpdate
from ..signals import RELATIVE_TO_START, Body, signal_problem
from ..spec import ExerciseSpec
from ..types import FrameResult, PoseFrame, Rep, SessionResult
from .baselines import MAX_SAMPLE_S, RestLevels, StartPosture
from .filters import SignalFilters, Speeds
from .rules import FormRules, coverage_warnings, noise_warnings, skipped_frames_warnings
from .view import ViewCheck

# After a movement the start posture is taken again only once the body has settled: a rep is
# over when its signal re-enters the rest zone, while the trunk is still lowering (the back's
# outline lags the limbs by a few tenths of a second on the shared bird-dog clip).
SETTLE_S = 0.5

NO_FILTERS = SignalFilters()  # the default: frozen, so one shared instance is safe


class ExerciseEngine:
    def __init__(self, spec: ExerciseSpec, filters: SignalFilters = NO_FILTERS):
        self.spec = spec
        self.filters = filters
        self.view = ViewCheck(spec)
        self.sides = spec.rep.sides or ("",)
        self.counters = {side: RepCounter(spec.rep, side) for side in self.sides}
        self.rep_signals = {side: spec.rep.signal_for(side) for side in self.sides}
        self.signal_names = spec.signal_names()
        self._smoothing = {name: filters.for_signal(name) for name in self.signal_names}
        self._speeds = Speeds(spec.all_signal_names(), filters.speed_smoothing)
        self.start = StartPosture(any(name in RELATIVE_TO_START for name in self.rep_signals.values()))
        self.rest = RestLevels(spec, self.sides)
        self.rules = FormRules(spec)
        # (t_s, value) of each side's rep signal, for the per-rep opposite extreme at the end.
        # 16 bytes a frame: a two-hour session at 30 fps holds about 3.5 MB.
        self._rep_history: dict[str, list[tuple[float, float]]] = {side: [] for side in self.sides}
        self._frame_s = 1 / 30.0  # the current frame's duration (since the previous frame), capped
        self._last_moving_ms = -math.inf  # the last frame on which a rep counter followed a movement
        self.reps: list[Rep] = []
        self.frames = 0
        self.frames_with_pose = 0
        self.frames_in_view = 0
        self.first_ms = math.nan
        self.last_ms = math.nan
        self.view_problems: dict[str, int] = {}
        self.frames_with_rep_signal = 0  # in view, with a valid rep signal
        self.rep_signal_problems: dict[tuple[str, str], int] = {}  # why the rep signal was missing in view
        self.frames_out_of_order = 0
        self._last_result: FrameResult | None = None

    @property
    def person_switches_s(self) -> list[float]:
        return self.view.person_switches_s

    @property
    def shot_changes_s(self) -> list[float]:
        return self.view.shot_changes_s

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
        shot = self.view.shot(frame)
        new_rep = self._after_discontinuity(shot) if shot.event else None
        frame, body = self.view.body(frame, shot, at_start=self._at_start_posture())
        view_ok, view_message = self.view.check(body, frame, shot)

        moving = any(c.moving for c in self.counters.values())
        raw = self.view.gate.compute(self.signal_names, body if view_ok else None, t_ms, at_rest=not moving)
        problem = self._rep_signal_problem(raw, body) if view_ok else None
        smooth = {name: self._smoothing[name].update(value, t_ms) for name, value in raw.items()}
        smooth.update(self.start.update(smooth, moving=moving, at_start=self._at_start_posture(),
                                        frame_s=self._frame_s))
        smooth.update(self._speeds.update(smooth, t_ms))

        for side, counter in self.counters.items():
            name = self.rep_signals[side]
            value = self.rest.value(side, smooth.get(name, math.nan), raw.get(name, math.nan), t_ms, counter.moving)
            if math.isfinite(value):
                self._rep_history[side].append((t_ms / 1000.0, value))
            rep = counter.update(t_ms, value, self.rest.noise(side))
            if rep is not None:
                new_rep = self._record_rep(rep)
        if any(c.moving for c in self.counters.values()):
            self._last_moving_ms = t_ms
        setting_up = view_ok and self._waiting_for_start(problem)
        if setting_up or (view_ok and problem is not None):
            # Not in the exercise's start position yet: nothing here is a rep of it, and its form
            # rules do not apply to another position. Or the rep signal cannot be read (e.g. an arm
            # over the lower back): counting pauses, and the patient is told what to change.
            view_ok, view_message = False, problem[1] if problem is not None else self.view.start_message()
        if view_ok:
            self.frames_in_view += 1
        else:
            self.view_problems[view_message] = self.view_problems.get(view_message, 0) + 1
        active = self.rules.update({} if setting_up else smooth, {c.phase for c in self.counters.values()}, t_ms)
        counts = self._counts()
        self._last_result = FrameResult(
            index=frame.index,
            t_ms=t_ms,
            pose=frame.pose,
            view_ok=view_ok,
            view_message=view_message,
            signals=smooth,
            phase=self._phase(),
            rep_count=counts[""],
            rep_count_by_side={s: n for s, n in counts.items() if s},
            partial_rep_count=sum(1 for r in self.reps if not r.complete),
            active_flags=tuple(rule.code for rule in active),
            cues=tuple(dict.fromkeys(rule.message for rule in active)),
            new_rep=new_rep,
        )
        return self._last_result

    def finish(self) -> SessionResult:
        """Close open reps and flags and return the session's result."""
        end_ms = self.last_ms if math.isfinite(self.last_ms) else 0.0
        for side, counter in self.counters.items():
            rep = counter.flush(end_ms, self.rest.noise(side))
            if rep is not None:
                self._record_rep(rep)
        self.rules.close_all(end_ms)
        reps = [self.rules.with_flags(r) for r in self._with_opposite_extremes(self.reps)]
        duration_s = (end_ms - self.first_ms) / 1000.0 if math.isfinite(self.first_ms) else 0.0
        return SessionResult(
            exercise=self.spec.name,
            exercise_title=self.spec.title,
            spec_version=self.spec.version,
            duration_s=max(duration_s, 0.0),
            frames=self.frames,
            frames_with_pose=self.frames_with_pose,
            reps=reps,
            flags=self.rules.flags_of(reps),
            warnings=self._warnings(),
            kind=self.spec.rep.kind,
            shot_changes_s=list(self.shot_changes_s),
            views=self.view.gate.summary(),
            measurement=verdict(self._measurement_evidence(reps)),
            provenance={
                "exercise_file": self.spec.source_path,
                "exercise_version": self.spec.version,
                **self.filters.provenance(),
                "camera_roll_deg": round(self.view.roll.roll_deg, 1),
            },
        )

    # --- internals -----------------------------------------------------------------------------

    def _after_discontinuity(self, shot: ShotUpdate) -> Rep | None:
        """A settled discontinuity (shots.py). Another person: forget the movement under way (its
        first half was someone else's); view.py pauses counting. A shot change: the movement under
        way ends as a partial rep (it was not seen whole), and the camera roll (view.py), rest
        levels and start posture are taken again in the new view. Either way a movement that had
        already come back to rest is kept. Returns the last rep recorded, if any."""
        finished = None
        for side, counter in self.counters.items():
            if shot.event == PERSON_SWITCH:
                rep = counter.abandon(self.rest.noise(side))
            else:
                broken = counter.moving
                rep = counter.flush(shot.event_t_ms, self.rest.noise(side))
                if broken:
                    counter.continue_after_cut()  # its second half, in the new shot, is partial
            if rep is not None:
                finished = self._record_rep(rep)
        if shot.event == SHOT_CHANGE:
            self.rest.reset()
            self.start.reset()
        for f in self._smoothing.values():
            f.reset()
        self._speeds.reset()
        return finished

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

    def _measurement_evidence(self, reps: list[Rep]) -> MeasurementEvidence:
        counters = self.counters.values()
        noise = [v for c in counters for v in c.noise_samples]
        movements = [c.largest_movement_deg for c in counters if math.isfinite(c.largest_movement_deg)]
        rep = self.spec.rep
        return MeasurementEvidence(
            frames=self.frames, frames_with_pose=self.frames_with_pose, frames_in_view=self.frames_in_view,
            view_problems=dict(self.view_problems), settled=any(c.settled for c in counters),
            start_message=self.view.start_message(), signal_frames=self.frames_with_rep_signal,
            signal_problems=dict(self.rep_signal_problems), reps=len(reps),
            complete_reps=sum(r.complete for r in reps),
            discarded_for_noise=sum(c.discarded_for_noise for c in counters),
            largest_movement_deg=max(movements, default=math.nan),
            noise_deg=float(np.median(noise)) if noise else math.nan,
            min_snr=rep.min_snr,
            complete_rep_deg=abs(rep.top_deg - (0.0 if rep.baseline_window_s > 0 else rep.rest_deg)),
        )

    def _record_rep(self, rep: Rep) -> Rep:
        same_kind = [r for r in self.reps if r.complete == rep.complete]
        rep = replace(rep, index=len(same_kind) + 1)
        self.reps.append(rep)
        self.rules.flag_rep(rep)
        return self.rules.with_flags(rep)

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
        noisy = any(c.discarded_for_noise for c in self.counters.values())
        noise_deg = max(self.rest.noise(side) for side in self.sides) if noisy else math.nan
        return [*coverage_warnings(self.frames, self.frames_with_pose, self.frames_in_view, self.view_problems),
                *self.view.warnings(),
                *skipped_frames_warnings(self.frames_out_of_order),
                *noise_warnings(list(self.counters.values()), noise_deg, self.spec.title),
                *self.start.warnings([r.signal for r in self.spec.rules])]
