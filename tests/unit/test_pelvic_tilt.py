"""The supine posterior pelvic tilt, measured in the back's outline (lumbar.py), and the honest
refusal when a recording cannot measure it; plus "setting up" on the wrong exercise.

Real traces (tests/fixtures/traces and validation/traces, see the README): ``pelvic_tilt_lena`` (a close home recording
of 4 rocking tilts, truth in ../shared/fixtures/validation/labels.toml), ``pelvic_tilt_supine_360``
(the shared supine clip: the near arm lies along the lower back) and ``childs_pose_360``.
"""
import gzip
import json

import numpy as np
import pytest

from formcheck.backends.replay import replay, validate_trace
from formcheck.engine import STANDARD_FILTERS, ExerciseEngine
from formcheck.lumbar import arm_over_lower_back, lumbar_gap_deg
from formcheck.measurement import NOT_MEASURABLE
from formcheck.signals import ARM_OVER_LOWER_BACK, NOT_ON_THE_BACK, body_from_frame, lumbar_gap_problem
from formcheck.spec import load_exercise
from tests.support.paths import TRACES
from tests.support.synth import frames_of, supine_tilt_pose, tilt_gaps

# labels.toml: pelvic_tilt_lena rep_times [start, peak, end] (s)
LENA_TILTS = [(0.0, 1.1, 2.1), (2.4, 3.3, 4.2), (4.7, 5.5, 6.3), (6.9, 7.6, 8.7)]


def trace_frames(name):
    with gzip.open(TRACES / name, "rt", encoding="utf-8") as fh:
        return list(replay(validate_trace(json.load(fh), name)))


def run(spec_name, frames):
    engine = ExerciseEngine(load_exercise(spec_name), STANDARD_FILTERS)
    results = [engine.process(f) for f in frames]
    return results, engine.finish()


# --- the measure itself ---------------------------------------------------------------------

def test_lumbar_gap_is_the_arc_bend_of_the_lower_back_above_the_mat_line():
    # A straight outline on the mat: no gap. A lumbar bump of height h over a 144 px chord:
    # 4 atan(2 h / 144), h the mean height of the lumbar stations.
    u = np.linspace(0.1, 0.9, 9)
    x = 380 - 180 * u
    flat = np.stack([x, np.full(9, 275.0)], axis=1)
    inside = np.array([290.0, 250.0])  # a point in the trunk, above the outline
    assert lumbar_gap_deg(flat, inside) == pytest.approx(0.0, abs=1e-9)
    bump = np.where((u > 0.1) & (u < 0.6), np.sin(np.pi * (u - 0.1) / 0.5), 0.0)
    lifted = flat - np.stack([np.zeros(9), 8.0 * bump], axis=1)
    height = 8.0 * bump[(u > 0.15) & (u < 0.55)].mean()
    assert lumbar_gap_deg(lifted, inside) == pytest.approx(np.degrees(4 * np.arctan(2 * height / 144)))
    # Independent of the camera's distance (scale) and of which way the person lies (mirror).
    assert lumbar_gap_deg(lifted * 2, inside * 2) == pytest.approx(lumbar_gap_deg(lifted, inside))
    mirror = np.array([-1.0, 1.0])
    assert lumbar_gap_deg(lifted * mirror, inside * mirror) == pytest.approx(lumbar_gap_deg(lifted, inside))


def test_an_arm_along_the_lower_back_hides_it_an_arm_on_the_chest_or_by_the_head_does_not():
    u = np.linspace(0.1, 0.9, 9)
    outline = np.stack([380 - 180 * u, np.full(9, 275.0)], axis=1)
    hip, shoulder = np.array([380.0, 250.0]), np.array([200.0, 250.0])
    along_the_side = np.array([shoulder, [280.0, 262.0], [350.0, 264.0]])
    on_the_chest = np.array([shoulder, [270.0, 215.0], [310.0, 205.0]])
    by_the_head = np.array([shoulder, [140.0, 240.0], [90.0, 235.0]])
    hidden = np.array([shoulder, [np.nan, np.nan], [np.nan, np.nan]])
    assert arm_over_lower_back(outline, hip, shoulder, along_the_side)
    assert not arm_over_lower_back(outline, hip, shoulder, on_the_chest)
    assert not arm_over_lower_back(outline, hip, shoulder, by_the_head)
    assert not arm_over_lower_back(outline, hip, shoulder, hidden)


def test_the_outline_is_read_only_lying_on_the_back_with_the_hips_down():
    def problem(pose):
        return lumbar_gap_problem(body_from_frame(frames_of([pose])[0]))
    assert problem(supine_tilt_pose(8.0)) is None
    assert problem(supine_tilt_pose(8.0, arms="side")) == ARM_OVER_LOWER_BACK
    assert problem(supine_tilt_pose(8.0, lift=0.5))[0].startswith("the hips were lifted")
    # On all fours the knees are below the hips: not lying on the back (cat-cow analysed as a tilt).
    quadruped = supine_tilt_pose(8.0)
    image = quadruped.image.copy()
    image[[25, 26], 1] = image[[23, 24], 1] + 0.2
    assert problem(type(quadruped)(image=image, back_contour=quadruped.back_contour)) == NOT_ON_THE_BACK


# --- synthetic streams ----------------------------------------------------------------------

def test_three_posterior_tilts_count_three():
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in tilt_gaps(3)]))
    assert len(session.complete_reps) == 3 and not session.partial_reps
    assert session.measurement.measured
    # tilt_gaps: 3 s rest, then 1 s flattening, 3 s hold, 1 s back, 3 s rest per tilt
    for rep, start in zip(session.complete_reps, (3.0, 11.0, 19.0)):
        assert rep.start_s == pytest.approx(start, abs=0.5)
        assert rep.end_s == pytest.approx(start + 5.0, abs=0.5)
        assert rep.peak_deg < -4.0  # the gap closed: a flatter lower back


@pytest.mark.slow
def test_holds_longer_than_the_rest_window_are_one_tilt_each():
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in tilt_gaps(3, hold_s=12.0)]))
    assert len(session.complete_reps) == 3 and not session.partial_reps


@pytest.mark.slow
def test_arches_are_not_tilts_and_tilts_after_them_still_count():
    arches = tilt_gaps(3, tilt_px=14.0)  # the lower back lifted further off the mat, and back
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in arches]))
    assert session.reps == [] and session.measurement.measured
    long_arches = tilt_gaps(2, tilt_px=14.0, hold_s=10.0, rest_s=10.0)
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in long_arches]))
    assert session.reps == []
    mixed = np.concatenate([tilt_gaps(2, tilt_px=14.0), tilt_gaps(2)])
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in mixed]))
    assert len(session.complete_reps) == 2 and not session.partial_reps


@pytest.mark.slow
def test_a_slowly_drifting_rest_position_does_not_count():
    gaps = tilt_gaps(3) + np.linspace(0.0, 2.0, len(tilt_gaps(3)))
    _, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g) for g in gaps]))
    assert len(session.complete_reps) == 3 and not session.partial_reps


def test_a_bridge_is_not_a_tilt():
    lift = np.concatenate([np.zeros(90), np.linspace(0, 0.5, 30), np.full(90, 0.5), np.linspace(0.5, 0, 30),
                           np.zeros(90)])
    results, session = run("pelvic_tilt", frames_of([supine_tilt_pose(8.0, lift=up) for up in lift]))
    assert session.reps == []
    assert any(not r.view_ok and "hips on the mat" in r.view_message for r in results)


@pytest.mark.slow
def test_an_arm_along_the_lower_back_is_an_honest_refusal_not_a_zero():
    results, session = run("pelvic_tilt", frames_of([supine_tilt_pose(g, arms="side") for g in tilt_gaps(3)]))
    assert session.reps == []
    m = session.measurement
    assert m.status == NOT_MEASURABLE and m.reason == ARM_OVER_LOWER_BACK[0] and "arms" in m.advice
    assert session.to_dict()["measurement"]["status"] == "not_measurable"
    # The patient is told what to change while recording.
    assert results[-1].view_message == ARM_OVER_LOWER_BACK[1]


def test_tilts_lost_in_a_noisy_outline_are_refused_with_the_signal_to_noise():
    rng = np.random.default_rng(1)
    poses = [supine_tilt_pose(g, outline_noise_px=2.0, rng=rng) for g in tilt_gaps(3)]
    _, session = run("pelvic_tilt", frames_of(poses))
    assert session.complete_reps == []
    m = session.measurement
    assert m.status == NOT_MEASURABLE and "noise" in m.reason
    assert m.signal_to_noise is not None and m.signal_to_noise < load_exercise("pelvic_tilt").rep.min_snr


# --- real traces ------------------------------------------------------------------------------

def test_real_close_home_recording_counts_tilts_where_they_were_done():
    # 4 rocking tilts (likely). The first starts at 0.0 s, before 2 s of rest history exist, so it
    # cannot be seen whole; the third and fourth are one excursion here, because the back comes
    # back only part of the way between them (2.4 degrees short of its rest level, against a
    # 2-degree rest zone). Each counted tilt lies on labelled tilts; nothing is counted elsewhere.
    _, session = run("pelvic_tilt", trace_frames("../validation/traces/pelvic_tilt_lena.json.gz"))
    assert session.measurement.measured and session.measurement.signal_to_noise > 8
    reps = session.complete_reps
    assert 2 <= len(reps) <= 4 and not session.partial_reps
    for rep in reps:
        assert any(start - 0.5 <= rep.peak_s <= end + 0.5 for start, _, end in LENA_TILTS)
        assert rep.rom_deg > 4.0
    assert reps[0].start_s == pytest.approx(2.4, abs=0.5) and reps[0].peak_s == pytest.approx(3.3, abs=0.6)
    assert not [f for f in session.flags if f.severity in ("warning", "danger")]  # correct form


def test_real_supine_clip_with_the_arm_over_the_lower_back_is_refused_with_its_reason():
    # The shared supine clip (2 tilts, likely): the near arm lies along the lower back, the outline
    # there is the arm's and the mat's, and the landmarks move a few pixels. Not a quiet 0.
    _, session = run("pelvic_tilt", trace_frames("pelvic_tilt_supine_360.json.gz"))
    assert session.reps == []
    m = session.measurement
    assert m.status == NOT_MEASURABLE and m.reason == ARM_OVER_LOWER_BACK[0]
    assert "This recording cannot measure the pelvic tilt: the arm lies along the lower back" in m.sentence(
        session.exercise_title)


@pytest.mark.parametrize("exercise", ["glute_bridge", "pelvic_tilt"])
def test_real_childs_pose_analysed_as_a_supine_exercise_is_setting_up_not_a_partial_rep(exercise):
    results, session = run(exercise, trace_frames("childs_pose_360.json.gz"))
    assert session.reps == [] and session.flags == []
    m = session.measurement
    assert m.status == NOT_MEASURABLE
    assert m.reason in ("the body was never in the exercise's start position", NOT_ON_THE_BACK[0])
    later = results[len(results) // 2:]
    assert all(r.phase == "setup" and not r.view_ok for r in later)
    assert all(("start position" in r.view_message or "Lie on your back" in r.view_message) for r in later)
