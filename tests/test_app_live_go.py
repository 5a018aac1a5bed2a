"""The live page holds the count until its 3-2-1 ends (issue 12), through Streamlit's AppTest.

The page makes its ``LiveSession`` with ``wait_for_go=True``: frames before the go only check the
view and the start position; when the page's ``Readiness`` reaches GO the page calls
``start_counting()`` and the set's reps, trace and autosaves start there, from 0. The go is
reached here by giving the tab's ``Readiness`` a go time in the past (a real go needs a body
still in the start position for READY_HOLD_S + COUNTDOWN_S, which blank frames do not show).
The frames are blank (no body), so the pose model runs and no rep is counted.
"""
from __future__ import annotations

import numpy as np
import pytest

from formcheck.store import open_store
from tests.unit.ui import test_app
from tests.unit.ui.test_app import run_app, start_live_session, texts

pytestmark = [pytest.mark.app, pytest.mark.model]
data_dir = test_app.data_dir  # the fixture: each test gets its own data folder


def blank_frames(live, first: int, count: int) -> None:
    for i in range(first, first + count):
        live.on_frame(np.zeros((360, 640, 3), np.uint8), 33.0 * i)


def finish(at, pain_after: int) -> None:
    at.segmented_control(key="pain_after").set_value(pain_after)
    [button] = [b for b in at.button if b.label == "Finish session"]
    button.click().run()
    assert not at.exception
    assert "Your session is saved." in texts(at.success)


def test_the_page_starts_the_count_at_the_go_and_the_set_is_stored_from_there(data_dir):
    at = run_app()
    live = start_live_session(at)
    blank_frames(live, 0, 5)
    at.run()
    assert not live.counting  # nobody in position: no go, nothing counted
    assert "Move so that your whole body is in view." in texts(at.markdown)

    at.session_state["formcheck"].readiness.go_at = 0.0  # the 3-2-1 has ended
    at.run()
    assert live.counting and live.snapshot().reps == 0  # the set's count starts at 0
    assert 'class="fc-count fc-total">0<' in texts(at.markdown)
    at.run()  # idempotent: a later poll changes nothing
    assert live.counting

    blank_frames(live, 5, 4)
    finish(at, pain_after=2)
    row = open_store(data_dir).get_session(live.session_id)
    # The set's engine starts with the countdown's poses (the 5 frames, all within PREWARM_S), then its own 4.
    assert (row.status, row.frames, row.reps, row.pain_before, row.pain_after) == ("complete", 9, 0, 3, 2)
    assert open_store(data_dir).get_trace(live.session_id) is not None

