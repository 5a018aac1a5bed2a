"""Per-browser-tab state: one ``UiState`` in ``st.session_state`` (widgets keep their own values)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ..clinic.safety import TabChecks
from ..live import LiveSession, coaching, setup_guide
from ..types import SessionResult

STATE_KEY = "formcheck"  # the UiState's key in st.session_state


@dataclass
class Finished:
    session_id: int | None
    result: SessionResult
    pain_before: int | None
    pain_after: int | None
    interrupted: bool = False


@dataclass
class UiState:
    """Everything the app remembers for one browser tab (widgets keep their own values)."""

    checks: TabChecks = field(default_factory=TabChecks)  # the red-flag checks answered in this tab
    released: set = field(default_factory=set)  # patients whose stop the clinician cleared in this tab
    live: LiveSession | None = None  # the session in progress
    finished: Finished | None = None  # the session just finished, for its summary
    heard_reps: int = 0  # reps and flag starts already announced by a sound
    heard_flags: int = 0
    set_plan: coaching.SetPlan = field(default_factory=coaching.SetPlan)  # the set under way
    set_done_at: float | None = None  # when the page first saw the set's target reached (monotonic s)
    announcer: coaching.Announcer = field(default_factory=coaching.Announcer)  # the spoken lines
    spoken: tuple[int, str] = (0, "")  # the last spoken line: (id, text)
    readiness: setup_guide.Readiness = field(default_factory=setup_guide.Readiness)  # the set's start (3-2-1)
    uploaded_session_id: int | None = None  # the upload page's last analysed session
    bundle_ready: Path | None = None  # the session file the patient made last, to download
    import_outcome: tuple[str, str] | None = None  # ("success" | "error", message) of the last import
    notice: str = ""  # a reminder shown next to the Finish button
    runs: int = 0  # full script runs of this tab
    live_drawn_in_run: int = -10  # the last run that drew the camera view


def ui() -> UiState:
    """This tab's state (made on its first run)."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = UiState()
    return st.session_state[STATE_KEY]
