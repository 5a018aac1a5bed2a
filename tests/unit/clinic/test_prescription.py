"""Prescriptions: TOML round trip through the database, validation, phases, the day's plan, adherence."""
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from formcheck.clinic.prescription import (
    DEFAULT_REPS,
    DEFAULT_REST_S,
    DEFAULT_SESSIONS_PER_WEEK,
    DEFAULT_SETS,
    PrescribedExercise,
    Prescription,
    PrescriptionError,
    adherence,
    adherence_by_week,
    parse_prescription,
    phase_caution,
    plan_step,
    recovery_phase,
    save_prescription,
    session_days,
    to_toml,
    todays_plan,
)
from formcheck.store import StoreError, open_store
from formcheck.types import Rep, SessionResult

EXAMPLE = Prescription(
    exercises=(
        PrescribedExercise("glute_bridge", sets=2, reps=8, hold_s=3.0, rest_s=45.0, tempo_s=4.0, target_deg=172.0,
                           limits={"spinal_flexion": {"above": 12.0}}),
        PrescribedExercise("childs_pose", sets=1, reps=2, hold_s=25.0, acknowledged_phase=True),
    ),
    sessions_per_week=5,
    notes='Gentle range; "stop" if pain > 4/10.\nCall the clinic with questions.',
)


def test_round_trip_app_database_file_database(tmp_path):
    store = open_store(tmp_path / "data")
    patient = store.add_patient("A. Patient", surgery_date="2026-09-01")
    save_prescription(store, patient, to_toml(EXAMPLE))            # app -> database
    exported = store.get_prescription(patient)                    # database -> file
    (tmp_path / "rx.toml").write_text(exported)
    other = store.add_patient("B. Patient")
    save_prescription(store, other, (tmp_path / "rx.toml").read_text())  # file -> database
    assert parse_prescription(store.get_prescription(other)) == EXAMPLE


def test_prescription_changes_the_engine_spec():
    spec = EXAMPLE.exercises[0].spec()
    assert spec.rep.target_hold_s == 3.0 and spec.rep.top_deg == 172.0
    assert {r.code: r.above for r in spec.rules}["spinal_flexion"] == 12.0


@pytest.mark.parametrize("text, message", [
    ('[[exercise]]\nname = "moonwalk"\n', "unknown exercise 'moonwalk'"),
    ('[[exercise]]\nname = "glute_bridge"\nsets = 0\n', "sets must be a whole number"),
    ('[[exercise]]\nname = "glute_bridge"\nreps = "ten"\n', "reps must be a whole number"),
    ('[[exercise]]\nname = "glute_bridge"\n[exercise.limits.nonsense]\nabove = 1\n', "no rule named"),
    ('[[exercise]]\nname = "glute_bridge"\ntarget_deg = 120\n', "side of the rest zone"),
    ('[[exercise]]\nname = "glute_bridge"\nshell = "rm -rf /"\n', "unknown field shell"),
    ("sessions_per_week = 3\n", "at least one"),
    ("this is = not toml [", "not valid TOML"),
])
def test_bad_prescriptions_are_refused_with_a_reason(text, message):
    with pytest.raises(PrescriptionError, match=message):
        parse_prescription(text)


def test_store_refuses_a_bad_prescription_and_keeps_the_old_one(tmp_path):
    store = open_store(tmp_path)
    patient = store.add_patient("C")
    save_prescription(store, patient, to_toml(EXAMPLE))
    with pytest.raises(StoreError, match="not saved"):
        save_prescription(store, patient, '[[exercise]]\nname = "moonwalk"\n')
    assert parse_prescription(store.get_prescription(patient)) == EXAMPLE


@pytest.mark.parametrize("days_after, phase", [
    (3, "0-2 weeks"), (20, "2-6 weeks"), (60, "6-12 weeks"), (120, "3-6 months"), (400, "6+ months"),
])
def test_recovery_phase_follows_the_guide(days_after, phase):
    surgery = date(2026, 1, 1)
    assert recovery_phase(surgery, date.fromordinal(surgery.toordinal() + days_after)) == phase
    assert recovery_phase(None, surgery) is None


def test_phase_caution_until_acknowledged():
    surgery, today = date(2026, 11, 1), date(2026, 11, 20)  # under 3 weeks after surgery
    bridge = PrescribedExercise("glute_bridge")
    assert "usually done from week 8" in phase_caution(bridge, surgery, today)
    assert phase_caution(PrescribedExercise("glute_bridge", acknowledged_phase=True), surgery, today) is None
    assert phase_caution(PrescribedExercise("walking"), surgery, today) is None  # walking starts day one


def test_plan_steps_through_sets_and_rest_to_done():
    rx = EXAMPLE
    step = plan_step(rx, {})
    assert (step.exercise.name, step.set_number, step.exercise_number) == ("glute_bridge", 1, 1)
    step = plan_step(rx, {"glute_bridge": 1}, seconds_since_last_set=10)
    assert step.set_number == 2 and step.rest_remaining_s == pytest.approx(35)
    assert "rest 35 s" in step.describe()
    step = plan_step(rx, {"glute_bridge": 2})
    assert step.exercise.name == "childs_pose" and "holds" in step.describe()
    assert plan_step(rx, {"glute_bridge": 2, "childs_pose": 1}).done_for_today


def test_adherence_counts_days_per_week():
    days = [date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 10)]
    weeks = adherence_by_week(days, EXAMPLE, first=date(2026, 11, 2), last=date(2026, 11, 15))
    assert [(w.week_start, w.sessions_done, w.sessions_prescribed) for w in weeks] == [
        (date(2026, 11, 2), 2, 5), (date(2026, 11, 9), 1, 5)]
    assert weeks[0].fraction == pytest.approx(0.4)


def test_one_set_of_defaults_for_the_file_the_dataclasses_and_the_editor():
    bare = parse_prescription('[[exercise]]\nname = "glute_bridge"\n')
    item = bare.exercises[0]
    assert bare.sessions_per_week == DEFAULT_SESSIONS_PER_WEEK == Prescription(()).sessions_per_week == 7
    assert (item.sets, item.reps, item.rest_s) == (DEFAULT_SETS, DEFAULT_REPS, DEFAULT_REST_S)
    assert item == PrescribedExercise("glute_bridge")


# -- "today" is the patient's local calendar day, not UTC's --------------------------------------------

@pytest.fixture
def local_zone(monkeypatch):
    """Run the test in a given local time zone (a POSIX TZ string), restored afterwards."""
    def use(tz: str) -> None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()
    yield use
    monkeypatch.undo()
    time.tzset()


def _set_at(store, patient: int, started: datetime, exercise: str = "glute_bridge") -> None:
    """A finished set with one counted rep, started at ``started``."""
    sid = store.start_session(patient, exercise, exercise, "1", "live", started_at=started)
    rep = Rep(1, "", 0.0, 1.0, 2.0, 170.0, 40.0, 0.0, True)
    store.finish_session(sid, SessionResult(exercise, exercise, "1", 30.0, 900, 900, reps=[rep]))


@pytest.mark.parametrize("zone, utc_offset_h", [("XST+5", -5), ("YST-9", 9)])  # POSIX: "+5" is UTC-5
def test_an_evening_set_counts_on_the_patients_local_day(tmp_path, local_zone, zone, utc_offset_h):
    local_zone(zone)
    local = timezone(timedelta(hours=utc_offset_h))
    # Sunday 29 November 2026, 23:30 local: in UTC that is Monday 04:30 (UTC-5), or Sunday 14:30 (UTC+9).
    sunday_evening = datetime(2026, 11, 29, 23, 30, tzinfo=local)
    # Monday 30 November, 08:30 local: in UTC Monday 13:30 (UTC-5), or Sunday 23:30 (UTC+9).
    monday_morning = datetime(2026, 11, 30, 8, 30, tzinfo=local)
    assert {sunday_evening.astimezone(UTC).date(), monday_morning.astimezone(UTC).date()} != {
        date(2026, 11, 29), date(2026, 11, 30)}  # UTC's days would be wrong for one of them
    store = open_store(tmp_path / "data")
    patient = store.add_patient("Evening Eve")
    _set_at(store, patient, sunday_evening)
    _set_at(store, patient, monday_morning)
    sessions = store.list_sessions(patient)  # stored in UTC, read back as UTC
    assert sorted(session_days(sessions)) == [date(2026, 11, 29), date(2026, 11, 30)]

    weeks = adherence(sessions, EXAMPLE, now=datetime(2026, 12, 1, 12, 0, tzinfo=local))
    # Sunday's set is in the week of Monday 23 November; Monday's in the week of 30 November.
    assert [(w.week_start, w.sessions_done) for w in weeks] == [(date(2026, 11, 23), 1), (date(2026, 11, 30), 1)]

    # Sunday 23:45 local: Sunday's evening set is today's first set, Monday's is not today's.
    step = todays_plan(sessions, EXAMPLE, now=datetime(2026, 11, 29, 23, 45, tzinfo=local))
    assert (step.exercise.name, step.set_number) == ("glute_bridge", 2)
    step = todays_plan(sessions, EXAMPLE, now=datetime(2026, 11, 30, 9, 0, tzinfo=local))
    assert (step.exercise.name, step.set_number) == ("glute_bridge", 2)
    step = todays_plan(sessions, EXAMPLE, now=datetime(2026, 12, 1, 9, 0, tzinfo=local))
    assert (step.exercise.name, step.set_number) == ("glute_bridge", 1)


def test_only_finished_sets_with_a_counted_rep_count(tmp_path):
    store = open_store(tmp_path / "data")
    patient = store.add_patient("Ana")
    started = datetime(2026, 11, 30, 9, 0).astimezone()
    _set_at(store, patient, started)
    empty = store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live", started_at=started)
    store.finish_session(empty, SessionResult("glute_bridge", "Glute bridge", "1", 30.0, 900, 900))  # no rep
    store.start_session(patient, "glute_bridge", "Glute bridge", "1", "live", started_at=started)  # still live
    sessions = store.list_sessions(patient)
    assert session_days(sessions) == [date(2026, 11, 30)]
    assert adherence([], EXAMPLE, now=started) == []
