"""End to end on real footage with the bundled MediaPipe model (tests/fixtures/video, see its README).

Expected counts and times come from ../shared/fixtures/README.md, where they were counted by eye.
"""
import json

import pytest

from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from tests.support.paths import VIDEOS

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def bird_dog(tmp_path_factory):
    out = tmp_path_factory.mktemp("bird_dog")
    return analyze(VIDEOS / "bird_dog_360.mp4", load_exercise("bird_dog"), out), out


def test_bird_dog_two_reps_one_per_side(bird_dog):
    session, _ = bird_dog
    reps = session.complete_reps
    # left arm + right leg [0.9, 3.2, 5.9], then right arm + left leg [7.9, 10.3, 13.3]
    assert [r.side for r in reps] == ["left", "right"]
    for rep, (start, _peak, end) in zip(reps, [(0.9, 3.2, 5.9), (7.9, 10.3, 13.3)]):
        assert rep.start_s == pytest.approx(start, abs=0.5)
        assert start < rep.peak_s < end
        assert rep.end_s == pytest.approx(end, abs=1.2)
        assert rep.hold_s >= 1.5 and rep.rom_deg > 50
    assert session.partial_reps == []


def test_bird_dog_correct_reps_raise_no_flag(bird_dog):
    session, _ = bird_dog
    assert session.flags == [] and session.warnings == []


def test_bird_dog_outputs(bird_dog):
    _, out = bird_dog
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reps"] == 2 and summary["frames"] == summary["frames_with_pose"] == 427
    assert (out / "annotated.mp4").stat().st_size > 50_000
    import cv2
    cap = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 427 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 360
    trace = json.loads((out / "trace.json").read_text())
    assert trace["format"] == "formcheck-trace/v1" and "back" in trace["frames"][0]


def test_replaying_our_own_trace_gives_the_same_result(bird_dog, tmp_path):
    session, out = bird_dog
    replayed = analyze(out / "trace.json", load_exercise("bird_dog"), tmp_path)
    assert len(replayed.reps) == len(session.reps)
    for again, original in zip(replayed.reps, session.reps):
        # the trace stores landmarks to 5 decimals and times to 0.1 ms: angles agree to a few
        # hundredths of a degree
        assert (again.side, again.flags) == (original.side, original.flags)
        assert [again.start_s, again.peak_s, again.end_s] == pytest.approx(
            [original.start_s, original.peak_s, original.end_s], abs=1e-3)
        assert again.peak_deg == pytest.approx(original.peak_deg, abs=0.05)
    assert [f.code for f in replayed.flags] == [f.code for f in session.flags]


def test_pelvic_tilt_with_the_arm_over_the_lower_back_is_refused_not_counted(tmp_path):
    # [3.7, 6.0, 8.6] and [10.9, 14.0, 18.3] s (likely). The near arm lies along the lower back, so
    # the back's outline, where the tilt shows, is the arm's and the mat's; the landmarks move a few
    # pixels. This test used to expect 2 tilts from the shoulder-hip-knee angle's 3 degrees, a
    # measure that cannot tell an arch relaxing from a tilt: the honest answer is a refusal.
    session = analyze(VIDEOS / "pelvic_tilt_supine_360.mp4", load_exercise("pelvic_tilt"), tmp_path,
                      AnalyzeOptions(write_video=False))
    assert session.reps == []
    assert session.measurement.status == "not_measurable"
    assert session.measurement.reason.startswith("the arm lies along the lower back")
    assert "hips_lifted" not in [f.code for f in session.flags]


def test_cat_pose_is_flagged_as_spinal_flexion(tmp_path):
    # Cat-cow analysed as a bird dog (which wants a flat back): the cat pose rounds the spine.
    session = analyze(VIDEOS / "cat_cow_360.mp4", load_exercise("bird_dog"), tmp_path,
                      AnalyzeOptions(write_video=False))
    flexion = [f for f in session.flags if f.code == "spinal_flexion"]
    assert flexion and all(f.severity == "danger" for f in flexion)
    # cat peaks at 1.7 and 8.3 s; cow (extension) peaks at 5.3 and 11.8 s must not be called flexion
    for peak in (1.7, 8.3):
        assert any(f.start_s - 0.8 <= peak <= f.end_s + 0.8 for f in flexion)
    for cow in (5.3, 11.8):
        assert not any(f.start_s <= cow <= f.end_s for f in flexion)
    assert session.complete_reps == []


@pytest.mark.parametrize("clip, exercise", [
    ("standing_posture_480.mp4", "glute_bridge"),  # standing and turning: not a floor exercise
    ("cat_cow_seated_360.mp4", "bird_dog"),        # seated on a chair: the wrong position
])
def test_wrong_position_counts_nothing_and_says_so(tmp_path, clip, exercise):
    session = analyze(VIDEOS / clip, load_exercise(exercise), tmp_path, AnalyzeOptions(write_video=False))
    assert session.reps == [] and session.flags == []
    assert any("start position" in w for w in session.warnings)


def test_cat_cow_counts_two_cycles_with_both_directions(tmp_path):
    session = analyze(VIDEOS / "cat_cow_360.mp4", load_exercise("cat_cow"), tmp_path, AnalyzeOptions(write_video=False))
    reps = session.complete_reps
    # cat (flexion) peaks at 1.7 and 8.3 s; the cow (extension) follows each
    assert len(reps) == 2
    for rep, cat_peak in zip(reps, (1.7, 8.3)):
        assert rep.peak_s == pytest.approx(cat_peak, abs=0.8)
        assert rep.peak_deg > 30 and rep.low_deg < -10  # range in both directions from the start posture
    assert session.flags == []  # a slow, moderate cat-cow is within the default limits


def test_childs_pose_is_one_hold(tmp_path):
    spec = load_exercise("childs_pose").with_rep_targets(target_hold_s=8)  # the clip holds about 9-10 s
    session = analyze(VIDEOS / "childs_pose_360.mp4", spec, tmp_path, AnalyzeOptions(write_video=False))
    summary = session.to_dict()
    # kneeling and lowering 0-3.5 s, then one hold to the end (12.7 s)
    assert summary["holds"] == 1 and summary["partial_reps"] == 0
    hold = session.complete_reps[0]
    assert 1.0 <= hold.start_s <= 3.8 and hold.end_s == pytest.approx(12.7, abs=0.2)
    assert hold.hold_s >= 8.0 and hold.peak_deg > 140
