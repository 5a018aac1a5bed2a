"""A clinician's prescription: which exercises a patient does, how much, and with which limits;
the recovery phase from the date of surgery; the day's plan; adherence.

A prescription is stored as TOML text (the same text clinicians export and import), so the
round trip app -> database -> file -> database is exact. Everything here is pure: no clock
(dates are passed in), and no database but for ``save_prescription``, the one way a
prescription reaches the store: validated here first, so the store never parses exercise files.

Example file::

    sessions_per_week = 5
    notes = "Gentle range; stop if pain rises above 4/10."

    [[exercise]]
    name = "glute_bridge"
    sets = 2
    reps = 10
    hold_s = 3
    rest_s = 60
    tempo_s = 4              # seconds per rep, as guidance
    target_deg = 170         # the top of the rep (overrides the definition's top_deg)
    acknowledged_phase = false
    [exercise.limits.spinal_flexion]
    above = 15               # tighter than the definition's default in the first weeks
"""
from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .. import limits
from ..days import local_day
from ..limits import Range, range_problem
from ..spec import ExerciseSpec, SpecError, list_exercises, load_exercise
from ..store import SessionRow, Store, StoreError

MAX_PRESCRIPTION_BYTES = 64 * 1024
MAX_EXERCISES = 20

# The rehab guide's recovery phases: (label, first week, week after the last).
PHASES: tuple[tuple[str, float, float], ...] = (
    ("0-2 weeks", 0, 2),
    ("2-6 weeks", 2, 6),
    ("6-12 weeks", 6, 12),
    ("3-6 months", 12, 26),
    ("6+ months", 26, math.inf),
)


# The defaults of a prescription, in one place: the TOML reader, the dataclasses and the
# clinician's editor all start from these.
# A home program is done daily unless the clinician says otherwise.
DEFAULT_SESSIONS_PER_WEEK = 7
DEFAULT_SETS = 1
DEFAULT_REPS = 10  # reps per set; for holds, holds per set
DEFAULT_REST_S = 60.0  # rest between sets (seconds)

# A finished session counts as one set done (today's plan, adherence) when it ended complete,
# or was interrupted with its reps kept, and counted at least one rep or hold.
COUNTED_STATUSES = ("complete", "interrupted")


class PrescriptionError(ValueError):
    """A prescription is malformed; the message names the exercise and field."""


@dataclass(frozen=True)
class PrescribedExercise:
    name: str  # exercise definition's file stem
    sets: int = DEFAULT_SETS
    reps: int = DEFAULT_REPS  # reps per set; for holds, holds per set
    hold_s: float | None = None  # target hold (seconds) per rep or hold; None = the definition's
    rest_s: float = DEFAULT_REST_S  # rest between sets (seconds)
    tempo_s: float | None = None  # seconds per rep, as guidance
    target_deg: float | None = None  # the top of the rep; None = the definition's top_deg
    limits: dict[str, dict] = field(default_factory=dict)  # rule code -> {"above"/"below": degrees, ...}
    acknowledged_phase: bool = False  # the clinician accepted doing it outside its usual weeks

    def spec(self) -> ExerciseSpec:
        """The exercise definition with this prescription's targets and limits applied."""
        spec = load_exercise(self.name)
        targets = {}
        if self.hold_s is not None:
            targets["target_hold_s"] = self.hold_s
        if self.target_deg is not None:
            targets["top_deg"] = self.target_deg
        if targets:
            spec = spec.with_rep_targets(**targets)
        return spec.with_overrides(self.limits) if self.limits else spec


@dataclass(frozen=True)
class Prescription:
    exercises: tuple[PrescribedExercise, ...]
    sessions_per_week: int = DEFAULT_SESSIONS_PER_WEEK
    notes: str = ""


# --- TOML ---------------------------------------------------------------------------------------

def parse_prescription(text: str, where: str = "prescription") -> Prescription:
    """Parse and validate a prescription's TOML text. Raises PrescriptionError."""
    if len(text.encode("utf-8")) > MAX_PRESCRIPTION_BYTES:
        raise PrescriptionError(f"{where}: larger than {MAX_PRESCRIPTION_BYTES // 1024} KiB")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PrescriptionError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(data) - {"sessions_per_week", "notes", "exercise"}
    if unknown:
        raise PrescriptionError(f"{where}: unknown field {sorted(unknown)[0]}")
    items = data.get("exercise", [])
    if not isinstance(items, list) or not items:
        raise PrescriptionError(f"{where}: needs at least one [[exercise]]")
    if len(items) > MAX_EXERCISES:
        raise PrescriptionError(f"{where}: more than {MAX_EXERCISES} exercises")
    exercises = tuple(_parse_item(item, f"{where}: exercise {i + 1}") for i, item in enumerate(items))
    per_week = _int(data.get("sessions_per_week", DEFAULT_SESSIONS_PER_WEEK), f"{where}: sessions_per_week",
                    limits.SESSIONS_PER_WEEK)
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        raise PrescriptionError(f"{where}: notes must be text")
    return Prescription(exercises=exercises, sessions_per_week=per_week, notes=notes)


def _parse_item(item: object, where: str) -> PrescribedExercise:
    if not isinstance(item, dict):
        raise PrescriptionError(f"{where}: must be a table")
    allowed = {"name", "sets", "reps", "hold_s", "rest_s", "tempo_s", "target_deg", "limits", "acknowledged_phase"}
    unknown = set(item) - allowed
    if unknown:
        raise PrescriptionError(f"{where}: unknown field {sorted(unknown)[0]}; expected one of {sorted(allowed)}")
    name = item.get("name")
    if name not in list_exercises():
        raise PrescriptionError(f"{where}: unknown exercise {name!r}; expected one of {', '.join(list_exercises())}")
    rule_limits = item.get("limits", {})
    if not isinstance(rule_limits, dict) or not all(isinstance(v, dict) for v in rule_limits.values()):
        raise PrescriptionError(f"{where} ({name}): limits must be tables like [exercise.limits.spinal_flexion]")
    acknowledged = item.get("acknowledged_phase", False)
    if not isinstance(acknowledged, bool):
        raise PrescriptionError(f"{where} ({name}): acknowledged_phase must be true or false")
    prescribed = PrescribedExercise(
        name=name,
        sets=_int(item.get("sets", DEFAULT_SETS), f"{where} ({name}): sets", limits.SETS),
        reps=_int(item.get("reps", DEFAULT_REPS), f"{where} ({name}): reps", limits.REPS),
        hold_s=_opt_number(item.get("hold_s"), f"{where} ({name}): hold_s", limits.HOLD_S),
        rest_s=_number(item.get("rest_s", DEFAULT_REST_S), f"{where} ({name}): rest_s", limits.REST_S),
        tempo_s=_opt_number(item.get("tempo_s"), f"{where} ({name}): tempo_s", limits.TEMPO_S),
        target_deg=_opt_number(item.get("target_deg"), f"{where} ({name}): target_deg", limits.ANGLE_DEG),
        limits={str(code): dict(values) for code, values in rule_limits.items()},
        acknowledged_phase=acknowledged,
    )
    try:
        prescribed.spec()  # limits name real rules, targets sit on the right side: check now, not mid-session
    except SpecError as exc:
        raise PrescriptionError(f"{where}: {exc}") from None
    return prescribed


def _int(value: object, where: str, allowed: Range) -> int:
    problem = range_problem(value, allowed, whole=True)
    if problem:
        raise PrescriptionError(f"{where} {problem}")
    assert isinstance(value, int), "range_problem(whole=True) passes whole numbers only"
    return value


def _number(value: object, where: str, allowed: Range) -> float:
    problem = range_problem(value, allowed)
    if problem:
        raise PrescriptionError(f"{where} {problem}")
    assert isinstance(value, (int, float)), "range_problem passes numbers only"
    return float(value)


def _opt_number(value: object, where: str, allowed: Range) -> float | None:
    return None if value is None else _number(value, where, allowed)


def to_toml(prescription: Prescription) -> str:
    """The prescription as TOML text that parse_prescription reads back to an equal Prescription."""
    lines = [f"sessions_per_week = {prescription.sessions_per_week}", f"notes = {_toml_str(prescription.notes)}"]
    for item in prescription.exercises:
        lines += ["", "[[exercise]]", f"name = {_toml_str(item.name)}", f"sets = {item.sets}", f"reps = {item.reps}",
                  f"rest_s = {item.rest_s!r}"]
        for key in ("hold_s", "tempo_s", "target_deg"):
            value = getattr(item, key)
            if value is not None:
                lines.append(f"{key} = {value!r}")
        lines.append(f"acknowledged_phase = {'true' if item.acknowledged_phase else 'false'}")
        for code, values in item.limits.items():
            lines.append(f"[exercise.limits.{code}]")
            for key, value in values.items():
                lines.append(f"{key} = {_toml_str(value) if isinstance(value, str) else repr(float(value))}")
    return "\n".join(lines) + "\n"


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


# --- phases --------------------------------------------------------------------------------------

def weeks_since(surgery: date, on: date) -> float:
    return (on - surgery).days / 7.0


def recovery_phase(surgery: date | None, on: date) -> str | None:
    """The guide's phase label for a day, or None when the surgery date is unknown."""
    if surgery is None:
        return None
    weeks = weeks_since(surgery, on)
    if weeks < 0:
        return "before surgery"
    for label, first, after_last in PHASES:
        if first <= weeks < after_last:
            return label
    return PHASES[-1][0]


def phase_caution(item: PrescribedExercise, surgery: date | None, on: date) -> str | None:
    """A caution when an exercise is prescribed outside its usual weeks and not yet acknowledged."""
    if surgery is None or item.acknowledged_phase:
        return None
    spec = load_exercise(item.name)
    if spec.usual_weeks is None:
        return None
    weeks = weeks_since(surgery, on)
    first, last = spec.usual_weeks
    if first <= weeks <= last:
        return None
    when = "earlier" if weeks < first else "later"
    return (f"{spec.title} is usually done from week {first:g} to week {last:g} after surgery; "
            f"this patient is at week {weeks:.0f}, {when} than usual. Check with the surgeon before prescribing it.")


# --- today's plan --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanStep:
    """Where the patient is in today's program."""

    done_for_today: bool
    exercise: PrescribedExercise | None = None
    exercise_number: int = 0  # 1-based among the prescribed exercises
    set_number: int = 0  # 1-based
    reps_done_in_set: int = 0
    rest_remaining_s: float = 0.0  # > 0: resting between sets

    def describe(self) -> str:
        if self.done_for_today:
            return "Done for today. Well done!"
        assert self.exercise is not None
        spec = load_exercise(self.exercise.name)
        unit = "holds" if spec.rep.kind == "hold" else "reps"
        text = (f"{spec.title}: set {self.set_number} of {self.exercise.sets}, "
                f"{self.reps_done_in_set} of {self.exercise.reps} {unit}")
        if self.rest_remaining_s > 0:
            text += f" - rest {self.rest_remaining_s:.0f} s before the next set"
        return text


def plan_step(prescription: Prescription, completed_sets: dict[str, int], reps_in_current_set: int = 0,
              seconds_since_last_set: float | None = None) -> PlanStep:
    """The next thing to do, given how many sets of each exercise are done today.

    ``reps_in_current_set``: complete reps so far in the set under way; ``seconds_since_last_set``:
    time since the last set ended (for the rest timer), None if no set has ended today.
    """
    for number, item in enumerate(prescription.exercises, start=1):
        done = completed_sets.get(item.name, 0)
        if done < item.sets:
            rest = 0.0
            if done > 0 and reps_in_current_set == 0 and seconds_since_last_set is not None:
                rest = max(0.0, item.rest_s - seconds_since_last_set)
            return PlanStep(False, item, number, done + 1, reps_in_current_set, rest)
    return PlanStep(True)


def todays_plan(sessions: Iterable[SessionRow], prescription: Prescription, now: datetime) -> PlanStep:
    """Where the patient is on ``now``'s local day: each counted session of an exercise that day is
    one set done; the rest timer runs from the end of the day's last set."""
    today = local_day(now)
    todays = [s for s in sessions if counted(s) and local_day(s.started_at) == today]
    completed: dict[str, int] = {}
    for session in todays:
        completed[session.exercise] = completed.get(session.exercise, 0) + 1
    ended = [s.ended_at or s.updated_at for s in todays]
    since_last = (now - max(ended)).total_seconds() if ended else None
    return plan_step(prescription, completed, seconds_since_last_set=since_last)


# --- adherence ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeekAdherence:
    week_start: date  # Monday
    sessions_done: int  # days with at least one completed session
    sessions_prescribed: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.sessions_done / self.sessions_prescribed) if self.sessions_prescribed else 0.0


def adherence_by_week(session_days: list[date], prescription: Prescription, first: date,
                      last: date) -> list[WeekAdherence]:
    """Sessions done against prescribed, per calendar week from ``first`` to ``last``.

    A day counts once however many exercises were done that day (a session = one day's program).
    """
    days = set(session_days)
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        week_days = {monday + timedelta(days=i) for i in range(7)}
        weeks.append(WeekAdherence(monday, len(days & week_days), prescription.sessions_per_week))
        monday += timedelta(days=7)
    return weeks


def counted(session: SessionRow) -> bool:
    """Whether a stored session counts as a set done (see COUNTED_STATUSES)."""
    return session.status in COUNTED_STATUSES and session.reps > 0


def session_days(sessions: Iterable[SessionRow]) -> list[date]:
    """The patient's local calendar day of each counted session: an evening set is on that
    evening's day, whatever UTC's date is then."""
    return [local_day(s.started_at) for s in sessions if counted(s)]


def adherence(sessions: Iterable[SessionRow], prescription: Prescription, now: datetime) -> list[WeekAdherence]:
    """Sessions done against prescribed, per week from the first counted session to ``now``'s
    local day; no weeks when nothing was done yet."""
    days = session_days(sessions)
    if not days:
        return []
    return adherence_by_week(days, prescription, first=min(days), last=local_day(now))


# --- saving ----------------------------------------------------------------------------------------

def save_prescription(store: Store, patient_id: int, toml_text: str) -> None:
    """Validate a prescription's TOML and store it for the patient; a bad one is a StoreError
    naming the exercise and field, and nothing is saved."""
    try:
        parse_prescription(toml_text)
    except PrescriptionError as exc:
        raise StoreError(f"The prescription was not saved: {exc}") from exc
    store.set_prescription_text(patient_id, toml_text)
