"""The exercise engine on synthetic streams (exact geometry) and on the shared landmark traces."""
import math
from dataclasses import replace

import numpy as np
import pytest

from formcheck.backends.replay import load_trace, replay
from formcheck.engine import STANDARD_FILTERS, ExerciseEngine
from formcheck.shots import PERSON_SETTLE_S
from formcheck.spec import load_exercise
from tests.support.paths import TRACES
from tests.support.synth import (
    bird_dog_joined_mid_reach,
    bridge_after_lying_down_with_straight_legs,
    bridge_angles,
    frames_from_angles,
    standing_side,
)


def run(spec_name, frames):
    engine = ExerciseEngine(load_exercise(spec_name), STANDARD_FILTERS)
    results = [engine.process(f) for f in frames]
    return results, engine.finish()


def test_three_clean_bridges_with_noise_count_three_and_raise_no_flag():
    angles = bridge_angles(3, noise_deg=1.0)
    results, session = run("glute_bridge", frames_from_angles(angles))
    assert len(session.complete_reps) == 3 and not session.partial_reps
    assert session.flags == []
    for rep in session.complete_reps:
        assert rep.start_s < rep.peak_s < rep.end_s
        assert rep.peak_deg == pytest.approx(180, abs=3)
        assert rep.hold_s >= 1.0
    # counts never go down and reach 3
    counts = [r.rep_count for r in results]
    assert counts == sorted(counts) and counts[-1] == 3


def test_tilted_camera_is_corrected():
    # The same bridges filmed with a camera rolled 12 degrees measure the same.
    angles = bridge_angles(2)
    _, level = run("glute_bridge", frames_from_angles(angles))
    _, tilted = run("glute_bridge", frames_from_angles(angles, roll_deg=12))
    assert len(tilted.complete_reps) == 2
    for a, b in zip(level.complete_reps, tilted.complete_reps):
        assert a.peak_deg == pytest.approx(b.peak_deg, abs=1.0)
    assert tilted.provenance["camera_roll_deg"] == pytest.approx(12, abs=1.0)


def test_hyperextension_at_the_top_is_flagged_once():
    angles = bridge_angles(1, top_deg=205, hold_s=2.0)
    _, session = run("glute_bridge", frames_from_angles(angles))
    codes = [f.code for f in session.flags]
    assert codes == ["lumbar_hyperextension"]
    flag = session.flags[0]
    assert flag.severity == "warning" and flag.rep_index == 1 and flag.peak_value > 195
    assert "lumbar_hyperextension" in session.complete_reps[0].flags


def test_brief_spike_is_debounced():
    angles = bridge_angles(1, hold_s=2.0)
    top = np.flatnonzero(angles == angles.max())
    angles[top[10]:top[10] + 4] = 205  # 4 frames (0.13 s) beyond the limit: a landmark jump
    _, session = run("glute_bridge", frames_from_angles(angles))
    assert session.flags == []


def test_partial_and_short_hold_are_reported():
    partial = bridge_angles(1, top_deg=160)
    _, session = run("glute_bridge", frames_from_angles(partial))
    assert not session.complete_reps and len(session.partial_reps) == 1
    assert [f.code for f in session.flags] == ["partial_rep"]
    quick = bridge_angles(1, hold_s=0.0)
    _, session = run("glute_bridge", frames_from_angles(quick))
    assert [f.code for f in session.flags] == ["short_hold"]


def test_no_counting_while_the_body_is_out_of_view():
    angles = bridge_angles(2)
    angles[: len(angles) // 2] = np.nan  # nobody there for the first rep
    results, session = run("glute_bridge", frames_from_angles(angles))
    assert len(session.complete_reps) == 1
    assert not results[0].view_ok and "view" in results[0].view_message


def test_low_visibility_counts_as_missing_not_zero():
    frames = frames_from_angles(bridge_angles(1), visibility=0.2)
    results, session = run("glute_bridge", frames)
    assert session.reps == [] and all(math.isnan(r.signals["hip_extension_deg"]) for r in results)
    assert any("paused" in w for w in session.warnings)


def test_a_lying_exercise_is_not_counted_standing_up():
    # The same geometry rotated 90 degrees: a person upright in the frame, not lying on the mat.
    results, session = run("glute_bridge", frames_from_angles(bridge_angles(1), roll_deg=89))
    assert session.reps == []
    assert session.provenance["camera_roll_deg"] == 0  # 89 degrees is not a camera roll
    assert {r.view_message for r in results} == {"Get into the start position on the mat to begin."}


def test_shared_trace_glute_bridge_one_rep():
    _, session = run("glute_bridge", replay(load_trace(TRACES / "glute_bridge_side_1rep.json")))
    assert len(session.complete_reps) == 1
    rep = session.complete_reps[0]
    # README: [0.1, 1.6, 3.1] s, top held 1.1-2.2 s, about 136 -> 180 degrees
    assert rep.start_s == pytest.approx(0.1, abs=0.3)
    assert rep.peak_s == pytest.approx(1.6, abs=0.6)
    assert rep.end_s == pytest.approx(3.1, abs=0.5)
    assert rep.rom_deg > 35 and rep.hold_s >= 1.0
    assert session.flags == []  # a correct rep raises no flag


def test_shared_trace_partial_bridge_has_no_complete_rep():
    # Starts 60% up, top, floor, top again, ends half-way down: no floor -> top -> floor rep. The
    # first movement was already under way when the recording began: setting up, not a rep (it
    # was reported as a partial rep before the start position was required); the second started
    # on the floor and was cut off by the end: one partial rep.
    _, session = run("glute_bridge", replay(load_trace(TRACES / "glute_bridge_synthetic_partial.json")))
    assert session.complete_reps == []
    assert len(session.partial_reps) == 1
    assert session.partial_reps[0].start_s == pytest.approx(3.4, abs=0.5)


def test_shared_trace_bird_dog_two_reps_with_sides():
    _, session = run("bird_dog", replay(load_trace(TRACES / "bird_dog_synthetic_2ext.json")))
    reps = session.complete_reps
    # README: right arm + left leg [0.6, 3.0, 5.0], left arm + right leg [7.2, 9.7, 12.0]
    assert [r.side for r in reps] == ["right", "left"]
    for rep, (start, peak, end) in zip(reps, [(0.6, 3.0, 5.0), (7.2, 9.7, 12.0)]):
        assert rep.start_s == pytest.approx(start, abs=0.5)
        assert rep.peak_s == pytest.approx(peak, abs=0.8)
        assert rep.end_s == pytest.approx(end, abs=0.8)
    assert session.flags == []


def test_late_and_repeated_frames_are_skipped_not_counted():
    frames = frames_from_angles(bridge_angles(2))
    shuffled = []
    for i, frame in enumerate(frames):
        shuffled.append(frame)
        if i % 10 == 5:
            shuffled.append(frames[i - 3])  # a late frame from 0.1 s ago
            shuffled.append(frame)          # and a duplicate
    engine = ExerciseEngine(load_exercise("glute_bridge"), STANDARD_FILTERS)
    for frame in shuffled:
        engine.process(frame)
    session = engine.finish()
    assert len(session.complete_reps) == 2 and session.frames == len(frames)
    assert any("out of order" in w for w in session.warnings)


def _someone_else(frame):
    """The same frame with the tracking on another person: standing beside the mat, another build.

    (Until the shot-change check, this was the same skeleton lying at rest, scaled to 0.6 and moved
    right. In landmarks that is exactly a camera zooming out - the same body, the same posture, a new
    framing - so it now counts as a shot change: see shots.py and tests/unit/engine/test_shots.py.)"""
    return replace(frame, pose=standing_side(knee_flexion_deg=5.0, trunk_lean_deg=8.0))


def test_tracking_jumping_to_another_person_pauses_counting_and_drops_the_mixed_rep():
    angles = bridge_angles(3)  # reps rise at 1.5-2.5, 6.5-7.5 and 11.5-12.5 s
    frames = frames_from_angles(angles)
    jump_at, back_at = int(7.0 * 30), int(8.0 * 30)  # from mid-way up the second rep to its hold
    mixed = frames[:jump_at] + [_someone_else(f) for f in frames[jump_at:back_at]] + frames[back_at:]
    results, session = run("glute_bridge", mixed)

    engine_unaware = [r for r in run("glute_bridge", frames)[1].complete_reps]
    assert len(engine_unaware) == 3
    # The first and third bridges count; the second, half of which was someone else's, does not.
    assert [math.floor(r.start_s) for r in session.complete_reps] == [1, 11]
    assert not [r for r in session.reps if r.start_s < 8.0 < r.end_s]  # nothing spans the two people
    # A jump to another person is an event once the new body has held for PERSON_SETTLE_S (0.5 s:
    # a glitch of a few frames is none); until then the frames are not measured, then counting
    # pauses for 1 s.
    settle = int(PERSON_SETTLE_S * 30) + 1
    assert all(not r.view_ok for r in results[jump_at:jump_at + settle])
    assert all(not r.view_ok and "someone else" in r.view_message for r in results[jump_at + settle:jump_at + 40])
    assert results[back_at + 60].view_ok
    assert any("jumped between people 2 time(s) (at 7.0 s, 8.0 s)" in w for w in session.warnings)
    assert session.shot_changes_s == []


def test_ordinary_movement_is_not_taken_for_a_jump_between_people():
    for name, frames in (("glute_bridge", frames_from_angles(bridge_angles(3, noise_deg=2.0))),
                         ("bird_dog", list(replay(load_trace(TRACES / "bird_dog_synthetic_2ext.json")))),
                         ("glute_bridge", list(replay(load_trace(TRACES / "glute_bridge_side_1rep.json"))))):
        engine = ExerciseEngine(load_exercise(name), STANDARD_FILTERS)
        for frame in frames:
            engine.process(frame)
        assert engine.person_switches_s == [] and engine.shot_changes_s == [], name


def test_a_session_joined_mid_reach_takes_the_floor_from_the_start_posture_not_the_lifted_hand():
    # The camera starts during a bird-dog hold: the near hand is up, so the wrist-knee line is
    # not the floor (it reads about 15 degrees). Taking it as the camera's roll would tilt every
    # later angle: the right reach, read from the near thigh alone, would peak near 70 or 100.
    frames = bird_dog_joined_mid_reach()
    _, session = run("bird_dog", frames)
    assert abs(session.provenance["camera_roll_deg"]) < 1.0
    # The hold the camera joined is setting up (reps.py: not seen starting from rest), not a partial rep.
    assert [(r.side, r.complete) for r in session.reps] == [("right", True), ("left", True)]
    assert [r.peak_deg for r in session.reps] == pytest.approx([85.0, 85.0], abs=2.0)


def test_the_camera_roll_is_the_same_at_15_and_30_frames_a_second_when_joined_mid_reach():
    # The live page analyses fewer frames than the camera gives: the roll (and so every angle) must
    # not depend on which frames arrive.
    _, every = run("bird_dog", bird_dog_joined_mid_reach())
    _, half = run("bird_dog", bird_dog_joined_mid_reach()[::2])
    assert half.provenance["camera_roll_deg"] == pytest.approx(every.provenance["camera_roll_deg"], abs=0.5)
    assert [(r.side, r.complete, round(r.peak_deg)) for r in half.reps] == [
        (r.side, r.complete, round(r.peak_deg)) for r in every.reps]


def test_spinal_flexion_is_measured_when_the_session_starts_with_a_movement_before_the_start_posture():
    # Lying down with straight legs and then bending the knees is setting up (reps.py: the body is
    # not yet in the start position); the rest that follows is the start posture, so the back is measured.
    results, session = run("glute_bridge", bridge_after_lying_down_with_straight_legs(reps=2))
    assert [r.complete for r in session.reps] == [True, True]
    assert not any("Spinal flexion was not measured" in w for w in session.warnings)
    measured = [r.signals["spinal_flexion_deg"] for r in results if math.isfinite(r.signals["spinal_flexion_deg"])]
    assert measured and max(abs(v) for v in measured) < 1.0  # a flat back stays flat
    assert "spinal_flexion" not in {f.code for f in session.flags}


def test_filters_are_handed_in_and_the_provenance_says_which():
    # No filters by default: the engine passes each signal through as measured (here exact
    # geometry plus noise), so a smoothed run differs from it and the provenance tells them apart.
    angles = bridge_angles(1, noise_deg=2.0)
    spec = load_exercise("glute_bridge")
    bare, smoothed = ExerciseEngine(spec), ExerciseEngine(spec, STANDARD_FILTERS)
    frames = frames_from_angles(angles)
    raw = [bare.process(f).signals["hip_extension_deg"] for f in frames]
    smooth = [smoothed.process(f).signals["hip_extension_deg"] for f in frames]
    assert np.nanstd(np.diff(raw)) > 1.5 * np.nanstd(np.diff(smooth))
    assert bare.finish().provenance["smoothing"] == "none"
    provenance = smoothed.finish().provenance
    assert provenance["smoothing"].startswith("One Euro (min_cutoff 1.0 Hz, beta 0.05")
    assert provenance["outline_median"] == "causal median over 167 ms"  # five frames at 30 fps
    assert provenance["speed_smoothing"].startswith("One Euro (min_cutoff 0.5 Hz, beta 0.0")
