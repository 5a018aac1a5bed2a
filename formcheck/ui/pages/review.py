"""Clinician: review -- a patient's sessions, one session's reps, angle chart, video and exports."""
from __future__ import annotations

import streamlit as st

from ... import review
from ...report import escape_markdown
from ...store import Store
from ..clinician import clinician_patient, session_detail


def show(store: Store) -> None:
    patient = clinician_patient(store, "Review sessions", "review_patient")
    if patient is None:
        return
    sessions = store.list_sessions(patient.id)
    if not sessions:
        st.info(f"{escape_markdown(patient.name)} has no sessions yet.")
        return
    st.dataframe(review.dash_missing(review.sessions_table(sessions)), hide_index=True)
    by_id = {s.id: s for s in sessions}
    session_id = st.selectbox("Open a session", list(by_id), format_func=lambda i: review.session_label(by_id[i]),
                              key="review_session")
    session_detail(store, session_id, patient, key="review")
