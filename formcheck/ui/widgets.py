"""Small widgets every page uses: pickers, the pain picker, the big message box, ``polite``."""
from __future__ import annotations

import html
import logging
from contextlib import contextmanager
from datetime import date

import streamlit as st

from .. import review
from ..backends import BackendError
from ..backends.replay import TraceError
from ..report import escape_markdown
from ..spec import ExerciseSpec, SpecError
from ..store import PatientRow, Store, StoreError
from ..uploads import UploadError
from ..video import VideoError
from .resources import get_exercises

log = logging.getLogger("formcheck.app")

CSS = """
<style>
.fc-counters { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.fc-counter { background: #f0f2f6; border-radius: 12px; padding: 0.4rem 1rem; min-width: 6.5rem; text-align: center; }
.fc-label { font-size: 1.2rem; font-weight: 600; color: #333; }
.fc-count { font-size: 3.8rem; font-weight: 800; line-height: 1.05; color: #111; }
.fc-phase { font-size: 1.5rem; font-weight: 600; margin: 0.3rem 0 0.1rem; }
.fc-box { border-radius: 12px; padding: 0.7rem 1rem; font-size: 1.9rem; font-weight: 750; line-height: 1.2;
          margin: 0.3rem 0; }
/* Less empty space above the page, so the live view (camera, counts, Finish) fits a 768-pixel-high laptop screen. */
.stMainBlockContainer { padding-top: 2.5rem; }
.fc-danger { background: #b00020; color: #fff; }
.fc-warning { background: #ffb300; color: #000; }
.fc-info { background: #0b57a4; color: #fff; }
.fc-good { background: #1b7f3b; color: #fff; }
.fc-done { background: #0b57a4; color: #fff; border: 4px solid #1b7f3b; }
.fc-countdown { background: #1b7f3b; color: #fff; font-size: 3rem; text-align: center; }
.fc-setup { background: #ffe066; color: #000; border: 3px solid #b38600; }
.fc-waiting { background: #e6e6e6; color: #222; font-size: 1.5rem; }
.fc-lastrep { font-size: 1.25rem; margin: 0.3rem 0; }
.st-key-fc-sound { display: none; }
/* The live panel never pushes pain-after and Finish below a laptop screen's edge: whatever does not
   fit (a warning on top of a long message) scrolls inside the panel. */
.st-key-fc-panel { max-height: max(18rem, calc(100vh - 19rem)); overflow-y: auto; overflow-x: hidden; }
/* 0-10 on one row beside the video (eleven buttons wrapped onto two rows in half a laptop screen). */
.st-key-pain_after button, .st-key-resume_pain_after button { padding-left: 0.7rem; padding-right: 0.7rem;
                                                              min-width: 0; }
</style>
"""


@contextmanager
def polite(action: str):
    """Show a plain message instead of a traceback when ``action`` fails."""
    try:
        yield
    except (StoreError, UploadError, SpecError, VideoError, TraceError, BackendError) as exc:
        st.error(f"Could not {action}. {escape_markdown(exc)}")  # errors quote names and files
    except Exception:  # the last line of defence (logged): never a traceback on screen
        log.exception("could not %s", action)
        st.error(f"Could not {action} because of an unexpected problem. The details are in the app's log.")


def patient_picker(store: Store, key: str, allow_new: bool = True) -> PatientRow | None:
    """Pick a patient profile (and, with ``allow_new``, create one). Returns the chosen patient."""
    patients = {p.id: p for p in store.list_patients()}
    if patients:
        if st.session_state.get(key) not in patients:
            st.session_state.pop(key, None)
        chosen = st.selectbox("Patient", list(patients), format_func=lambda i: review.patient_label(patients[i]),
                              key=key)
    else:
        chosen = None
        st.info("There is no patient profile yet." + (" Create one below." if allow_new else ""))
    if allow_new:
        with st.expander("New patient profile", expanded=not patients):
            with st.form(f"{key}-form", clear_on_submit=True):
                st.text_input("Name or label", help="A name, or a label such as initials, if you prefer.",
                              key=f"{key}-name")
                st.date_input("Date of surgery (optional)", value=None, max_value=date.today(), format="YYYY-MM-DD",
                              key=f"{key}-surgery")
                st.form_submit_button("Create profile", on_click=create_patient, args=(store, key))
    return patients.get(chosen) if chosen is not None else None


def create_patient(store: Store, key: str) -> None:
    """Form callback: add the patient and select them in the picker ``key``."""
    with polite("create the profile"):
        st.session_state[key] = store.add_patient(st.session_state[f"{key}-name"], st.session_state[f"{key}-surgery"])


def exercise_picker(key: str) -> ExerciseSpec | None:
    specs, problems = get_exercises()
    for problem in problems:
        st.warning(f"An exercise definition could not be read and is not offered: {escape_markdown(problem)}")
    if not specs:
        st.error("No exercise definitions were found.")
        return None
    # No default: a bridge done under "Bird dog" gets bird-dog cues. The patient (or the
    # prescription, which skips this picker) says which exercise it is.
    name = st.selectbox("Exercise", list(specs), format_func=lambda n: specs[n].title, key=key, index=None,
                        placeholder="Choose the exercise you are doing")
    if name not in specs:
        st.caption("Choose an exercise to continue.")
        return None
    return specs[name]


def pain_picker(label: str, key: str) -> int | None:
    return st.segmented_control(label, list(range(11)), key=key,
                                help="0 = no pain at all, 10 = the worst pain you can imagine.")


def box(text: str, kind: str) -> str:
    # kind may come from a rule's severity, i.e. from a file: escaped like the text.
    return f'<div class="fc-box fc-{html.escape(kind, quote=True)}">{html.escape(text)}</div>'


def pain_text(value: int | None) -> str:
    return review.NONE_SHOWN if value is None else str(value)


def duration_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
