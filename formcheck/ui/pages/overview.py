"""Clinician: clinic overview -- every patient (red flags first), and the import of a patient's session file."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import streamlit as st

from ... import bundle, review
from ...clinic import overview
from ...report import escape_markdown
from ...store import Store, StoreError
from ..state import ui
from ..widgets import polite
from .prescription import load_prescription

log = logging.getLogger("formcheck.app")


def show(store: Store) -> None:
    st.title("Clinic overview")
    with polite("show the clinic overview"):
        patients = store.list_patients()
        if not patients:
            st.info("No patients yet. Import a patient's file below, or create a profile on the patient page.")
        else:
            rows = overview.overview_rows(
                patients,
                {p.id: store.list_sessions(p.id) for p in patients},
                {p.id: store.list_symptom_checks(p.id) for p in patients},
                {p.id: load_prescription(store, p.id) for p in patients})
            flagged = sum(bool(r.red_flags) for r in rows)
            if flagged:
                st.warning(f"{flagged} patient(s) reported red-flag symptoms in the last {review.RED_FLAG_DAYS} days: "
                           "they are listed first.", icon=":material/flag:")
            st.dataframe(overview.overview_table(rows), hide_index=True)
    st.subheader("Import a patient's sessions")
    st.caption("A .formcheck file a patient made on their own computer. The patient is recognised by the id in "
               "the file, not by name; sessions already here are not duplicated, and newer copies replace older ones.")
    uploaded = st.file_uploader("Session file (.formcheck)", type=[bundle.SUFFIX.lstrip(".")], key="import_bundle")
    # Imported in the button's callback, before this page is drawn again: the table above shows it.
    st.button("Import", type="primary", disabled=uploaded is None, on_click=import_session_file, args=(store,))
    outcome = ui().import_outcome
    if outcome is not None:
        kind, text = outcome
        (st.success if kind == "success" else st.error)(text)


def import_session_file(store: Store) -> None:
    uploaded = st.session_state.get("import_bundle")
    if uploaded is None:
        return
    try:
        with tempfile.TemporaryDirectory(dir=store.data_dir) as folder:
            path = Path(folder) / "incoming.formcheck"
            path.write_bytes(uploaded.getvalue())
            try:
                ui().import_outcome = ("success", escape_markdown(bundle.import_bundle(store, path).describe()))
            except (bundle.BundleError, StoreError) as exc:
                ui().import_outcome = ("error", escape_markdown(str(exc).replace(str(path), uploaded.name)))
    except Exception:  # logged: never a traceback on screen (as polite())
        log.exception("could not import %s", uploaded.name)
        ui().import_outcome = ("error", "Could not import this file because of an unexpected problem. "
                                        "The details are in the app's log.")
