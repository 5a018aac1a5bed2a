"""Getting into position before a set (formcheck.live.setup_guide)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from formcheck.live.setup_guide import COUNTDOWN, COUNTDOWN_S, GO, POSITION, READY_HOLD_S, Readiness, pictogram_svg
from formcheck.spec import list_exercises, load_exercise


def run(readiness: Readiness, positions: list[tuple[float, bool]]):
    return [readiness.update(ok, t) for t, ok in positions]


def test_the_count_starts_after_a_moment_in_position_and_a_3_2_1():
    ticks = [(t / 2, True) for t in range(0, 14)]  # polls every 0.5 s, in position throughout
    states = run(Readiness(), ticks)
    stages = [(t, s.stage, s.seconds_left) for (t, _), s in zip(ticks, states)]
    assert stages[0][1] == POSITION and stages[1][1] == POSITION  # still settling (< READY_HOLD_S)
    countdown = [(t, n) for t, stage, n in stages if stage == COUNTDOWN]
    assert countdown[0][0] == READY_HOLD_S and [n for _, n in countdown] == [3, 3, 2, 2, 1, 1]
    first_go = next(t for t, stage, _ in stages if stage == GO)
    assert first_go == READY_HOLD_S + COUNTDOWN_S


def test_leaving_the_start_position_during_the_countdown_starts_over_and_a_started_set_stays_started():
    readiness = Readiness()
    run(readiness, [(0.0, True), (1.0, True), (2.0, True)])  # countdown under way
    assert readiness.update(False, 2.5).stage == POSITION
    assert readiness.update(True, 3.0).stage == POSITION  # a fresh moment of stillness is needed
    assert readiness.update(True, 4.0).stage == COUNTDOWN
    assert readiness.update(True, 7.0).stage == GO
    assert readiness.update(False, 9.0).stage == GO  # moving during the set is the exercise


@pytest.mark.parametrize("name", list_exercises())
def test_every_exercise_has_a_picture_of_its_camera_set_up(name):
    spec = load_exercise(name)
    svg = pictogram_svg(spec.posture, spec.view)
    root = ET.fromstring(svg)  # well-formed, self-contained: nothing to download
    assert root.tag.endswith("svg") and "href" not in svg
    assert ("side-on" if spec.view == "side" else "facing you") in root.get("aria-label")
