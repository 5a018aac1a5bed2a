"""Patient: send sessions to my clinic -- one .formcheck file with the sessions, to send as the clinic asks."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from ... import bundle
from ...report import safe_filename
from ...store import Store
from ..state import ui
from ..widgets import patient_picker, polite


def show(store: Store) -> None:
    st.title("Send your sessions to your clinic")
    st.markdown("Your sessions stay on this computer until you choose to send them. Here you make **one file** "
                "with your sessions (repetitions, form notes, pain ratings, safety checks and the movement "
                "recording your physiotherapist needs to re-check them) and send it to your clinic the way "
                "they asked (e-mail, USB stick or their upload page). Videos go in only if you tick the box.")
    patient = patient_picker(store, key="send_patient", allow_new=False)
    if patient is None:
        return
    everything = st.radio("Which sessions?", ("New since my last file", "All my sessions"), horizontal=True,
                          key="send_which") == "All my sessions"
    with_video = st.checkbox("Include the videos I chose to keep (the file gets much larger)", value=False,
                             key="send_video")
    if patient.last_export_at is not None:
        st.caption(f"Your last file was made on {patient.last_export_at.astimezone():%d %B %Y at %H:%M}.")
    if st.button("Make the file", type="primary"):
        with polite("make the file for your clinic"):
            name = f"formcheck-{safe_filename(patient.name)[:40]}-{date.today().isoformat()}{bundle.SUFFIX}"
            made = bundle.export_bundle(store, patient.id, store.data_dir / "exports" / name,
                                        since=bundle.EVERYTHING if everything else None,
                                        include_video=with_video)
            ui().bundle_ready = made.path
            if made.sessions == 0 and made.symptom_checks == 0:
                st.info("There is nothing new since your last file: no new session or safety check.")
    made_path = ui().bundle_ready
    if made_path is not None and Path(made_path).is_file():
        st.download_button(f"Download {Path(made_path).name}", data=Path(made_path).read_bytes(),
                           file_name=Path(made_path).name, mime="application/zip", type="primary")
