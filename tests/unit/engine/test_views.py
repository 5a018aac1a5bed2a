"""Camera views (views.py, view_gate.py, world_signals.py) and the occluded far limb (signals.py).

Synthetic 3D poses (tests/support/synth.py: exact geometry turned in front of the camera) say what the
mechanisms do; trimmed real traces of the validation corpus (tests/fixtures/traces/validation,
see the README there) say that they do it on footage the project was not tuned on.
"""
import gzip
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from formcheck.backends.replay import load_trace, replay, validate_trace
from formcheck.engine import STANDARD_FILTERS, ExerciseEngine
from formcheck.signals import SIGNALS, VISIBILITY_FLOOR, body_from_frame
from formcheck.skeleton import INDEX
from formcheck.spec import SpecError, load_exercise, parse_spec
from formcheck.types import PoseFrame
from formcheck.view_gate import ViewGate
from formcheck.views import classify, view_angles
from formcheck.world_signals import WORLD_SIGNALS
from tests.support.paths import TRACES
from tests.support.synth import HEIGHT, WIDTH, frames_of, quadruped_3d, ramp_hold, standing_3d, supine_3d

VALIDATION = TRACES / "validation"


def run(spec, frames):
    engine = ExerciseEngine(spec, STANDARD_FILTERS)
    for frame in frames:
        engine.process(frame)
    return engine.finish()


def body(pose):
    return body_from_frame(PoseFrame(0, 0.0, WIDTH, HEIGHT, pose))


# --- the view, from world landmarks --------------------------------------------------------

@pytest.mark.parametrize("yaw, view", [(0, "side"), (20, "side"), (45, "oblique"), (-45, "oblique"), (180, "side")])
def test_lying_body_seen_from_the_side_or_at_45_degrees(yaw, view):
    assert classify(view_angles(supine_3d(30, 30, yaw_deg=yaw))) == view


@pytest.mark.parametrize("yaw, view", [(0, "side"), (45, "oblique"), (-90, "front"), (90, "back")])
def test_standing_body_side_front_back(yaw, view):
    assert classify(view_angles(standing_3d(yaw))) == view


def test_in_an_oblique_view_the_2d_angle_is_wrong_and_the_3d_one_right():
    for true_deg in (30.0, 110.0):
        side, oblique = body(supine_3d(true_deg, 0, yaw_deg=0)), body(supine_3d(true_deg, 0, yaw_deg=45))
        assert SIGNALS["hip_flexion_left_deg"](side) == pytest.approx(true_deg, abs=0.1)
        assert abs(SIGNALS["hip_flexion_left_deg"](oblique) - true_deg) > 5  # 39 and 104
        assert WORLD_SIGNALS["hip_flexion_left_deg"](oblique, None) == pytest.approx(true_deg, abs=0.1)


def test_views_field_is_validated():
    base = {"title": "t", "posture": "supine", "rep": {"signal": "hip_flexion_deg", "rest_deg": 10, "top_deg": 40}}
    assert parse_spec(base, "x").views == ("side",)  # the default follows view = "side"
    assert parse_spec({**base, "views": ["side", "oblique"]}, "x").views == ("side", "oblique")
    with pytest.raises(SpecError, match="views"):
        parse_spec({**base, "views": ["diagonal"]}, "x")
    with pytest.raises(SpecError, match="set-up view"):
        parse_spec({**base, "views": ["oblique"]}, "x")


def _knee_to_chest(views):
    return replace(load_exercise("knee_to_chest"), views=views)


def test_oblique_view_is_refused_with_a_placement_message_when_not_declared():
    flex = ramp_hold(30, 120, 2, hold_s=5.5)
    frames = frames_of([supine_3d(f, 30, yaw_deg=45) for f in flex])
    engine = ExerciseEngine(_knee_to_chest(("side",)), STANDARD_FILTERS)
    messages = {engine.process(f).view_message for f in frames}
    session = engine.finish()
    assert session.complete_reps == [] and session.partial_reps == []
    assert messages == {"Turn side-on to the camera."}


def test_oblique_view_is_measured_in_3d_when_declared_and_says_what_it_did_not_check():
    flex = ramp_hold(30, 120, 2, hold_s=5.5)
    session = run(_knee_to_chest(("side", "oblique")), frames_of([supine_3d(f, 30, yaw_deg=45) for f in flex]))
    assert session.to_dict()["reps_by_side"] == {"left": 2}
    for rep in session.complete_reps:
        assert rep.peak_deg == pytest.approx(120, abs=1.5)  # the 2D angle would read about 113
    views = session.to_dict()["views"]
    assert views["seconds"] == {"oblique": pytest.approx(len(flex) / 30, abs=0.1)}
    assert views["measured_3d_s"] == pytest.approx(views["seconds"]["oblique"], abs=0.1)
    assert set(views["not_checked"]) == {"head_lift", "hips_rolling_up"}  # measured against the floor: not here
    assert any("Not checked" in w and "hips rolling up" in w.lower() for w in session.warnings)


# --- the far limb hidden behind the near one --------------------------------------------------

def test_far_leg_hidden_at_rest_behind_the_near_one_is_at_rest():
    """Knee-to-chest of the far (right) leg, filmed from the side: at rest it lies right behind the
    near leg and the model says it cannot see it; it is visible while drawn in."""
    hidden = ("right_knee", "right_ankle", "right_heel", "right_foot_index")
    flex = ramp_hold(30, 120, 2, hold_s=5.5)
    poses = [supine_3d(30, f, hidden=hidden if f < 40 else ()) for f in flex]
    b = body(poses[0])
    assert math.isfinite(SIGNALS["hip_flexion_right_deg"](b))  # restored: it coincides with the near knee
    session = run(load_exercise("knee_to_chest"), frames_of(poses))
    assert session.to_dict()["reps_by_side"] == {"right": 2} and session.partial_reps == []


def test_a_hidden_far_leg_elsewhere_stays_missing():
    pose = supine_3d(30, 90, hidden=("right_knee",))  # hidden, but not behind the near knee
    assert math.isnan(SIGNALS["hip_flexion_right_deg"](body(pose)))


# --- bird dog: the arm beside the leg ---------------------------------------------------------

@pytest.mark.parametrize("arm_deg, flagged", [(0.0, False), (25.0, True), (-25.0, False)])
def test_bird_dog_arm_above_shoulder(arm_deg, flagged):
    up = ramp_hold(0.0, 1.0, 2, hold_s=2.5)
    poses = [quadruped_3d("left", -90 + u * (arm_deg + 90), -90 + u * 90) for u in up]
    session = run(load_exercise("bird_dog"), frames_of(poses))
    assert len(session.complete_reps) == 2  # level leg, arm within 25 of level: the reach is complete
    codes = {f.code for f in session.flags}
    assert ("arm_above_shoulder" in codes) == flagged
    assert "leg_above_hip" not in codes
    if flagged:
        peak = max(f.peak_value for f in session.flags if f.code == "arm_above_shoulder")
        assert peak == pytest.approx(25, abs=2)


def test_bird_dog_arm_signal_is_the_upper_arm_against_shoulder_level():
    for arm in (0.0, 25.0, -25.0):
        assert SIGNALS["arm_above_shoulder_deg"](body(quadruped_3d("left", arm, -90))) == pytest.approx(arm, abs=0.1)


def test_bird_dog_arm_is_not_checked_in_an_oblique_view():
    up = ramp_hold(0.0, 1.0, 2, hold_s=2.5)
    poses = [quadruped_3d("left", -90 + u * 115, -90 + u * 90, yaw_deg=45) for u in up]
    session = run(load_exercise("bird_dog"), frames_of(poses))
    assert len(session.complete_reps) == 2  # counted from the 3D reach
    assert "arm_above_shoulder" not in {f.code for f in session.flags}
    assert "arm_above_shoulder" in session.to_dict()["views"]["not_checked"]


# --- real traces ------------------------------------------------------------------------------

def _trace(name):
    path = VALIDATION / f"{name}_30fps.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return validate_trace(json.load(fh), str(path))


# (trace, exercise, labelled views: (from_s, to_s, view), truth reps)
REAL = [
    ("knee_to_chest_fitbod", "knee_to_chest", [(0.0, 8.1, "oblique"), (8.4, 16.7, "side")], 2),
    ("figure_four_fitbod", "figure_four", [(0.0, 11.0, "oblique"), (11.4, 22.7, "side")], 2),
    ("side_leg_raise_fitbod", "side_lying_leg_lift", [(0.0, 7.4, "oblique"), (7.7, 15.4, "front")], 6),
    ("wall_squat_ball_fitbod", "wall_squat", [(0.0, 14.4, "oblique"), (14.7, 29.3, "front")], 6),
    ("bird_dog_fitbod", "bird_dog", [(0.0, 11.0, "oblique"), (11.4, 22.7, "side")], 8),
]


@pytest.mark.parametrize("name, exercise, segments, reps", REAL, ids=[r[0] for r in REAL])
def test_real_views_match_the_labels(name, exercise, segments, reps):
    gate = ViewGate(load_exercise(exercise))
    seen = {i: [] for i in range(len(segments))}
    for frame in replay(_trace(name)):
        view = gate.update(frame)
        for i, (start, end, _) in enumerate(segments):
            # the view is the median of the last 2 s: judged from 2 s into each camera angle
            if start + 2.0 <= frame.t_ms / 1000.0 <= end:
                seen[i].append(view)
    for i, (_, _, label) in enumerate(segments):
        share = seen[i].count(label) / len(seen[i])
        assert share >= 0.9, (label, share, {v: seen[i].count(v) for v in set(seen[i])})


@pytest.mark.slow
@pytest.mark.parametrize("name, exercise, segments, reps", REAL, ids=[r[0] for r in REAL])
def test_real_two_angle_recordings_counted_without_false_alarms(name, exercise, segments, reps):
    spec = load_exercise(exercise)  # holds of about 5 s against the default 20 s count, as short holds
    engine = ExerciseEngine(spec, STANDARD_FILTERS)
    problems = {}
    for frame in replay(_trace(name)):
        result = engine.process(frame)
        problems[result.view_message] = problems.get(result.view_message, 0) + 1
    session = engine.finish()
    assert len(session.complete_reps) == reps
    assert [f.code for f in session.flags if f.severity in ("warning", "danger")] == []  # all correct form
    # A foreshortened trunk is not a far one (figure_four_fitbod was paused 54% of the time for it);
    # a frame or two of a cross-dissolve may still read so.
    assert problems.get("Move closer to the camera.", 0) <= 0.01 * sum(problems.values())


def _side_view_pairs(path_or_data, exercise, names):
    data = path_or_data if isinstance(path_or_data, dict) else load_trace(path_or_data)
    gate = ViewGate(load_exercise(exercise))
    pairs = {n: [] for n in names}
    for frame in replay(data):
        if gate.update(frame) != "side" or frame.pose is None or frame.pose.world is None:
            continue
        b = body_from_frame(frame)
        up = gate.floor.update(b, at_rest=True)
        for n in names:
            flat, deep = SIGNALS[n](b), WORLD_SIGNALS[n](b, up)
            if math.isfinite(flat) and math.isfinite(deep):
                pairs[n].append((flat, deep))
    return pairs


# A third of the narrowest rest-to-top band of a rep counted in 3D (25 degrees: knee-to-chest,
# wall squat): a bias or mean error below it cannot turn a rep into none or two.
MAX_BIAS_DEG = MAX_MEAN_ERROR_DEG = 8.0


def _agree(pairs, name):
    flat, deep = np.array(pairs).T
    assert len(flat) > 200, name
    assert abs(np.mean(deep - flat)) <= MAX_BIAS_DEG, name
    assert np.mean(np.abs(deep - flat)) <= MAX_MEAN_ERROR_DEG, name
    assert np.corrcoef(flat, deep)[0, 1] >= 0.95, name


def test_real_3d_joint_angles_agree_with_2d_on_side_views():
    """Before trusting a 3D angle in an oblique view: on the side views of real footage, where the
    2D angle is the anatomical one, the 3D one agrees (world_signals.py quotes these numbers)."""
    names = ["hip_flexion_deg", "hip_flexion_left_deg", "hip_flexion_right_deg", "hip_flexion_deeper_deg",
             "knee_flexion_deg"]
    pooled = {n: [] for n in names}
    sources = [(_trace("knee_to_chest_fitbod"), "knee_to_chest"), (_trace("figure_four_fitbod"), "figure_four"),
               (_trace("bird_dog_fitbod"), "bird_dog"), (TRACES / "glute_bridge_side_1rep.json", "glute_bridge"),
               (TRACES / "glute_bridge_synthetic_partial.json", "glute_bridge"),
               (TRACES / "bird_dog_synthetic_2ext.json", "bird_dog")]
    for data, exercise in sources:
        for n, pairs in _side_view_pairs(data, exercise, names).items():
            pooled[n] += pairs
    for n, pairs in pooled.items():
        _agree(pairs, n)


def test_real_3d_bird_dog_reach_agrees_with_2d_on_side_views():
    pooled = []
    for data in (_trace("bird_dog_fitbod"), TRACES / "bird_dog_synthetic_2ext.json"):
        reaches = ["bird_dog_reach_left_deg", "bird_dog_reach_right_deg"]
        for pairs in _side_view_pairs(data, "bird_dog", reaches).values():
            pooled += pairs
    _agree(pooled, "bird_dog_reach")


def test_real_hip_abduction_3d_agrees_with_2d_from_the_front():
    gate = ViewGate(load_exercise("side_lying_leg_lift"))
    pairs = []
    for frame in replay(_trace("side_leg_raise_fitbod")):
        if gate.update(frame) == "front" and frame.pose is not None:
            b = body_from_frame(frame)
            flat, deep = SIGNALS["hip_abduction_left_deg"](b), WORLD_SIGNALS["hip_abduction_left_deg"](b, None)
            if math.isfinite(flat) and math.isfinite(deep):
                pairs.append((flat, deep))
    assert max(p[0] for p in pairs) > 60  # the lifts are in it
    _agree(pairs, "hip_abduction_left_deg")


def test_real_far_knee_hidden_behind_the_near_one_is_in_the_near_pose():
    """On real side views the model often gives the far knee a visibility below the floor while it
    lies right behind the near one (legs side by side in bridges, a child's pose, a bird dog at
    rest). Kept, it reads the near leg's hip flexion: the same pose, as the mechanism assumes."""
    hidden = restored = 0
    differences = []
    for name in ("glute_bridge_synthetic_partial.json", "glute_bridge_sic_card_cut.json",
                 "glute_bridge_darebee_fast.json", "childs_pose_mosmi_end_card.json", "bird_dog_synthetic_2ext.json"):
        for frame in replay(load_trace(TRACES / name)):
            if frame.pose is None:
                continue
            b = body_from_frame(frame)
            far = "right" if b.near_side == "left" else "left"
            near_deg, far_deg = SIGNALS[f"hip_flexion_{b.near_side}_deg"](b), SIGNALS[f"hip_flexion_{far}_deg"](b)
            if frame.pose.image[INDEX[f"{far}_knee"], 3] < VISIBILITY_FLOOR and math.isfinite(near_deg):
                hidden += 1
                if math.isfinite(far_deg):
                    restored += 1
                    differences.append(abs(far_deg - near_deg))
    assert hidden > 200 and restored >= 0.9 * hidden  # measured: 293 of 306
    assert np.percentile(differences, 90) <= 5.0  # measured: median 1-2.5, 90th percentile 2.3-3.9
