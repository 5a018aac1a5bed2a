"""Clinician: upload a video -- analyse a recording and store it as a session."""
from __future__ import annotations

import time

import streamlit as st

from ...store import Store
from ...uploads import MAX_UPLOAD_MB, UPLOAD_TYPES, analyze_upload
from ..clinician import session_detail
from ..state import ui
from ..widgets import exercise_picker, patient_picker, polite


def show(store: Store) -> None:
    state = ui()
    st.title("Analyse a recorded video")
    st.caption("The video is analysed on this computer and is not sent anywhere. The original file is not "
               "kept; the annotated copy is kept only if you tick the box.")
    patient = patient_picker(store, key="upload_patient")
    spec = exercise_picker(key="upload_exercise")
    uploaded = st.file_uploader(f"Video file ({', '.join(t.upper() for t in UPLOAD_TYPES)}, up to {MAX_UPLOAD_MB} MB)",
                                type=list(UPLOAD_TYPES), max_upload_size=MAX_UPLOAD_MB, key="upload_file")
    keep = st.checkbox("Keep the annotated video with the session", value=False, key="upload_keep")
    clicked = st.button("Analyse", type="primary", disabled=uploaded is None or patient is None or spec is None)
    # The button is disabled until all three are there: the checks only tell the type checker so.
    if clicked and uploaded is not None and patient is not None and spec is not None:
        bar = st.progress(0.0, text="Starting…")
        with polite("analyse this video"):
            session_id, _ = analyze_upload(store, patient.id, spec, uploaded, uploaded.name, uploaded.size,
                                           keep_video=keep, progress=progress_bar(bar))
            state.uploaded_session_id = session_id
        bar.empty()
    sid = state.uploaded_session_id
    if sid is not None and patient is not None:
        with polite("show the analysed session"):
            row = store.get_session(sid)
            if row.patient_id == patient.id:
                st.success(f"Analysed and saved as session {sid}: {row.reps} reps.")
                session_detail(store, sid, patient, key="upload")


def progress_bar(bar):
    """A progress callback for ``analyze_upload`` that moves ``bar`` a few times a second."""
    last = [0.0]

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25 and done != total:
            return  # a few updates a second are plenty
        last[0] = now
        if total:
            bar.progress(min(done / total, 1.0), text=f"Analysing frame {done} of {total}…")
        else:
            bar.progress(0.0, text=f"Analysing frame {done}…")

    return update
