"""Prescriptions: TOML round trip through the database, validation, phases, the day's plan, adherence."""
from datetime import date

import pytest

from formcheck.clinic.prescription import (PrescribedExercise, Prescription, PrescriptionError, adherence_by_week,
                                    parse_prescription, phase_caution, plan_step, recovery_phase, save_prescription, to_toml)
from formcheck.store import StoreError, open_store

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
