"""Every exercise definition on synthetic streams with exact geometry: its reps or holds, and its flags.

Real-footage checks for the exercises that have clips are in test_real_footage.py.
"""
import numpy as np
import pytest

from formcheck.engine import STANDARD_FILTERS, ExerciseEngine
from formcheck.spec import list_exercises, load_exercise
from tests.support.synth import frames_of, ramp_hold, side_lying, standing_side, supine_two_legs, walking


def run(name, frames, spec=None):
    engine = ExerciseEngine(spec or load_exercise(name), STANDARD_FILTERS)
    for frame in frames:
        engine.process(frame)
    return engine.finish()


def test_every_issue_exercise_is_defined():
    for name in ("cat_cow", "knee_to_chest", "childs_pose", "figure_four", "side_lying_leg_lift", "wall_squat",
                 "walking", "glute_bridge", "bird_dog", "pelvic_tilt"):
        assert name in list_exercises()


def test_knee_to_chest_counts_per_side_and_double_leg_counts_both():
    left = ramp_hold(50, 125, 2, hold_s=5.5)
    still = np.full(len(left), 50.0)
    poses = [supine_two_legs(a, b) for a, b in zip(left, still)]              # two left reps
    poses += [supine_two_legs(b, a) for a, b in zip(left[:len(left) // 2], still)]  # one right rep
    both = ramp_hold(50, 125, 1, hold_s=5.5)
    poses += [supine_two_legs(a, a) for a in both]                             # one double-leg rep
    session = run("knee_to_chest", frames_of(poses))
    by_side = session.to_dict()["reps_by_side"]
    assert by_side == {"left": 3, "right": 2}
    assert session.flags == []


def test_knee_to_chest_flags_head_lift_and_hips_rolling_up():
    flex = ramp_hold(50, 125, 1, hold_s=5.5)
    head = ramp_hold(0, 40, 1, hold_s=5.5)
    hips = ramp_hold(0, 20, 1, hold_s=5.5)
    session = run("knee_to_chest", frames_of([supine_two_legs(f, 50, head_lift_deg=h, hip_lift_deg=p)
                                              for f, h, p in zip(flex, head, hips)]))
    codes = {f.code for f in session.flags}
    assert codes == {"head_lift", "hips_rolling_up"}
    assert {f.severity for f in session.flags if f.code == "hips_rolling_up"} == {"danger"}


def test_figure_four_is_a_hold_with_time_and_depth():
    flex = ramp_hold(40, 110, 2, hold_s=22.0)
    session = run("figure_four", frames_of([supine_two_legs(f, f) for f in flex]))
    summary = session.to_dict()
    assert summary["kind"] == "hold" and summary["holds"] == 2
    assert summary["total_hold_s"] == pytest.approx(2 * 22.0 + 2 * 0.4, abs=1.0)
    assert summary["deepest_deg"] == pytest.approx(110, abs=1.5)
    # a prescription of 30 s makes the same two holds short: done twice, each flagged, not "partial"
    # (a partial would tell the patient to go further, when they should stay longer)
    short = run("figure_four", frames_of([supine_two_legs(f, f) for f in flex]),
                spec=load_exercise("figure_four").with_rep_targets(target_hold_s=30))
    assert short.to_dict()["holds"] == 2 and not short.partial_reps
    assert [f.code for f in short.flags] == ["short_hold", "short_hold"]


def test_a_hold_cut_off_by_the_end_of_the_recording_counts_only_once_it_reached_its_target():
    rising = ramp_hold(40, 110, 1, hold_s=30.0)
    ends_at_s = {25.0: (1, 0), 10.0: (0, 1)}  # seconds of recording -> (holds, partial)
    for end_s, (holds, partial) in ends_at_s.items():
        frames = frames_of([supine_two_legs(f, f) for f in rising])
        cut = [f for f in frames if f.t_ms <= 1000.0 * end_s]
        session = run("figure_four", cut)
        assert (session.to_dict()["holds"], len(session.partial_reps)) == (holds, partial), end_s


def test_wall_squat_reps_and_its_three_flags():
    knee = ramp_hold(5, 80, 2, hold_s=5.5)
    session = run("wall_squat", frames_of([standing_side(k) for k in knee]))
    assert len(session.complete_reps) == 2 and session.flags == []
    # Knee 150 with the shins leaning 40: thighs 20 degrees past level (too deep). (Was knee 110 with
    # the shins at 40, which leaves the thighs 20 degrees above level: not too deep.)
    deep = ramp_hold(5, 150, 1, hold_s=5.5)
    shin = ramp_hold(10, 40, 1, hold_s=5.5)
    lean = ramp_hold(5, 35, 1, hold_s=5.5)
    session = run("wall_squat", frames_of([standing_side(k, s, t) for k, s, t in zip(deep, shin, lean)]))
    assert {f.code for f in session.flags} == {"too_deep", "knees_past_toes", "trunk_forward"}
    # Parallel thighs with the shins leaning 30 degrees bend the knee 120: not too deep.
    knee = ramp_hold(5, 120, 1, hold_s=5.5)
    shin = ramp_hold(5, 30, 1, hold_s=5.5)
    session = run("wall_squat", frames_of([standing_side(k, s) for k, s in zip(knee, shin)]))
    assert "too_deep" not in {f.code for f in session.flags}


def test_side_lying_leg_lift_per_side():
    lift = ramp_hold(3, 35, 3, hold_s=2.5)
    poses = [side_lying(a, top="right") for a in lift] + [side_lying(a, top="left") for a in lift]
    session = run("side_lying_leg_lift", frames_of(poses))
    assert session.to_dict()["reps_by_side"] == {"right": 3, "left": 3}


def test_walking_counts_steps_and_cadence():
    poses = [walking(i / 30.0, cadence_spm=100) for i in range(int(6 * 30))]
    summary = run("walking", frames_of(poses)).to_dict()
    assert summary["kind"] == "steps"
    assert summary["steps"] == pytest.approx(10, abs=1)  # 6 s at 100 steps/min
    assert summary["cadence_steps_per_min"] == pytest.approx(100, rel=0.1)


def test_standing_still_is_not_walking():
    summary = run("walking", frames_of([walking(0.0)] * 150)).to_dict()
    assert summary["steps"] == 0
