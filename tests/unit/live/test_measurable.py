"""The live page says before the set when the camera view cannot measure the back (measurable.py)."""
from __future__ import annotations

import numpy as np
import pytest

from formcheck.live import LiveSession
from formcheck.live.measurable import DECIDE_AFTER_S, MESSAGES, OutlineWatch, outline_problem, outline_signals
from formcheck.spec import load_exercise
from formcheck.store import open_store
from tests.support.live_clips import ScriptedBackend
from tests.support.synth import bridge_angles, supine_pose, with_flat_back


def test_the_decision_waits_for_the_body_in_view_then_names_what_is_missing():
    assert outline_problem(DECIDE_AFTER_S - 0.1, 0.0, measured=False) == ""  # too early to tell
    assert outline_problem(DECIDE_AFTER_S, 0.0, measured=False) == "no_outline"
    assert outline_problem(3.0, 1.0, measured=False) == "no_outline"  # seen a third of the time
    assert outline_problem(3.0, 2.5, measured=False) == "no_start"  # seen, but no still start yet
    assert outline_problem(3.0, 0.0, measured=True) == ""


def test_only_exercises_with_a_back_outline_check_are_watched():
    assert outline_signals(load_exercise("glute_bridge")) == ["spinal_flexion_deg"]
    assert outline_signals(load_exercise("pelvic_tilt")) == []
    assert OutlineWatch.for_spec(load_exercise("pelvic_tilt")).message == ""


def live_bridge(tmp_path, poses):
    store = open_store(tmp_path / "data")
    patient = store.add_patient("Test Patient", "2026-09-01")
    times = [1000.0 * i / 30.0 for i in range(len(poses))]
    live = LiveSession(load_exercise("glute_bridge"), ScriptedBackend(zip(times, poses)), store, patient)
    frame = np.zeros((360, 640, 3), np.uint8)
    messages = []
    for t in times:
        live.on_frame(frame, t)
        messages.append(live.snapshot().not_measured)
    live.stop(pain_after=0)
    return live, messages


@pytest.mark.parametrize("outline", [False, True])
def test_a_live_bridge_without_the_backs_outline_is_told_before_the_first_rep(tmp_path, outline):
    angles = bridge_angles(1, rest_s=3.0)  # 3 s at the start position, then one bridge
    poses = [with_flat_back(supine_pose(a)) if outline else supine_pose(a) for a in angles]
    live, messages = live_bridge(tmp_path, poses)
    first_rep_frame = int(np.argmax(angles > 150))  # the hips leave the rest zone
    if outline:
        assert not any(messages)
        assert not any("Spinal flexion was not measured" in w for w in live.result.warnings)
    else:
        shown = [i for i, m in enumerate(messages) if m]
        assert shown and shown[0] < first_rep_frame  # before the set's first movement
        assert messages[-1] == MESSAGES["no_outline"]
        assert any("Spinal flexion was not measured" in w for w in live.result.warnings)
