"""What every browser session of the server shares, made once (``st.cache_resource``)."""
from __future__ import annotations

import streamlit as st

from .. import review
from ..backends import make_backend
from ..live import LiveRegistry
from ..spec import ExerciseSpec, SpecError, list_exercises, load_exercise
from ..store import Store, open_store
from ..uploads import remove_stale_uploads


@st.cache_resource(show_spinner=False)
def get_store(data_dir: str) -> Store:
    """The database, opened once per data folder; sessions a crash left 'live' become 'interrupted'."""
    store = open_store(data_dir)
    store.mark_interrupted_sessions()
    remove_stale_uploads(store.data_dir)
    return store


@st.cache_resource(show_spinner=False)
def get_registry() -> LiveRegistry:
    """Every live session of this server, so an abandoned one is still finished and saved."""
    registry = LiveRegistry()
    registry.start_sweeper()
    return registry


@st.cache_resource(show_spinner="Loading the pose model…")
def warm_up_pose_model() -> str:
    """Import MediaPipe and load its model once, so the first camera frame is not delayed."""
    backend = make_backend("mediapipe")
    backend.close()
    return backend.description


@st.cache_resource(show_spinner=False)
def get_exercises() -> tuple[dict[str, ExerciseSpec], tuple[str, ...]]:
    """The exercise definitions by name, and the problems of any that could not be read."""
    specs, problems = {}, []
    for name in list_exercises():
        try:
            specs[name] = load_exercise(name)
        except SpecError as exc:
            problems.append(str(exc))
    return specs, tuple(problems)


@st.cache_resource(show_spinner=False)
def set_plans() -> dict:
    """The set plan of each live session (by ``id(session)``), for a tab that takes a session over after a reload."""
    return {}


@st.cache_data(max_entries=16, show_spinner="Re-scoring the recorded movement…")
def angle_series(data_dir: str, session_id: int, exercise: str, updated: str) -> review.AngleSeries | None:
    """The per-frame angles of a stored session (``updated`` keys the cache to the saved version)."""
    trace = get_store(data_dir).get_trace(session_id)
    if trace is None:
        return None
    return review.rescore(trace, load_exercise(exercise))
