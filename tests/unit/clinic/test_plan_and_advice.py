"""The set plan from today's step (formcheck.clinic.plan), the pain advice
(formcheck.clinic.advice) and the camera set-up words (setup_guide.setup_tip), without Streamlit."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from formcheck.clinic import advice, plan
from formcheck.clinic.prescription import PrescribedExercise, Prescription, todays_plan
from formcheck.live import coaching
from formcheck.live.setup_guide import SETUP_TIPS, setup_tip
from formcheck.store import SessionRow

RX = Prescription(exercises=(PrescribedExercise("bird_dog", sets=2, reps=8, rest_s=60.0),
                             PrescribedExercise("cat_cow", sets=1, reps=5)))


def session(started: datetime, exercise: str = "bird_dog", status: str = "complete", reps: int = 3,
            minutes: float = 2.0) -> SessionRow:
    ended = started + timedelta(minutes=minutes)
    return SessionRow(id=1, patient_id=1, exercise=exercise, exercise_title=exercise, spec_version="1",
                      source="live", status=status, started_at=started, updated_at=ended, ended_at=ended,
                      duration_s=minutes * 60, frames=100, frames_with_pose=100, reps=reps, partial_reps=0,
                      pain_before=None, pain_after=None, notes="", summary_json=None, video_path=None)


def test_the_set_plan_follows_todays_step():
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert plan.set_plan(todays_plan([], RX, now)) == coaching.SetPlan(reps=8, rest_s=60.0, more_sets=True,
                                                                       label="Set 1 of 2")
    first = session(now - timedelta(minutes=2, seconds=20))  # ended 20 s ago
    assert plan.set_plan(todays_plan([first], RX, now)) == coaching.SetPlan(reps=8, rest_s=60.0, more_sets=False,
                                                                            label="Set 2 of 2")


def test_pain_advice_thresholds():
    assert not advice.high_pain_before(None) and not advice.high_pain_before(advice.HIGH_PAIN_BEFORE - 1)
    assert advice.high_pain_before(advice.HIGH_PAIN_BEFORE) and advice.high_pain_before(10)
    assert advice.pain_rose(3, 3 + advice.PAIN_RISE) and not advice.pain_rose(3, 3 + advice.PAIN_RISE - 1)
    assert not advice.pain_rose(None, 9) and not advice.pain_rose(2, None)
    assert not advice.pain_rose(6, 2)  # less pain is not a rise


def test_setup_tip_by_view():
    assert "side-on" in setup_tip("side") and "facing" in setup_tip("front")
    assert setup_tip("any") == setup_tip("overhead") == SETUP_TIPS["any"]


def test_the_camera_is_seen_while_frames_keep_coming():
    assert not coaching.camera_seen(0, None)
    assert coaching.camera_seen(10, None) and coaching.camera_seen(10, coaching.CAMERA_LOST_AFTER_S)
    assert not coaching.camera_seen(10, coaching.CAMERA_LOST_AFTER_S + 0.1)
    lost = coaching.main_message(frames=10, last_frame_age_s=coaching.CAMERA_LOST_AFTER_S + 0.1, cue="",
                                 cue_severity="", view_ok=True, view_message="")
    assert lost.kind == "waiting" and "No picture" in lost.text
