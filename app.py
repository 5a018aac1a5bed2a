"""formcheck's Streamlit app: layout and widgets only.

    streamlit run app.py

Four pages, picked in the sidebar:

* Patient: today's session -- profile, safety check, pain, exercise, then the live webcam with
  a big rep counter and form cues; "Finish session" saves it.
* Clinician: review -- a patient's sessions, one session's reps, angle chart, video and exports.
* Clinician: upload a video -- analyse a recording and store it as a session.
* Clinician: progress -- reps, range of motion and form flags over the weeks since surgery.

The logic lives in the library: ``formcheck.live`` (the live session, run from the webcam
thread), ``formcheck.review`` (tables and charts), ``formcheck.uploads`` (analysing a file) and
``formcheck.store`` (the SQLite database in ``$FORMCHECK_DATA_DIR``). Per-browser state is one
``UiState`` object in ``st.session_state``. Everything runs on this computer.
"""
from __future__ import annotations

import html
import logging
import math
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from formcheck import bundle, prescription_ui, review
from formcheck.clinic import overview
from formcheck.clinic import safety as safety_gate
from formcheck.clinic.red_flags import RED_FLAGS, STOP_MESSAGE
from formcheck.backends import BackendError, make_backend
from formcheck.backends.replay import TraceError
from formcheck.live import FLAG_SOUND, REP_SOUND, LiveRegistry, LiveSession, LiveSnapshot, coaching, setup_guide
from formcheck.report import escape_markdown, reps_csv, safe_filename, session_report_html, summary_json
from formcheck.spec import ExerciseSpec, SpecError, list_exercises, load_exercise
from formcheck.store import PatientRow, Store, StoreError, default_data_dir, open_store
from formcheck.types import SessionResult
from formcheck.ui import webrtc as webrtc_relay
from formcheck.ui.webrtc import webrtc_callback
from formcheck.uploads import MAX_UPLOAD_MB, UPLOAD_TYPES, UploadError, analyze_upload, remove_stale_uploads
from formcheck.video import VideoError

log = logging.getLogger("formcheck.app")

LIVE_KEY = "formcheck-live"  # the camera component's key
PAGES = {
    "patient": "Patient: today's session",
    "send": "Patient: send sessions to my clinic",
    "overview": "Clinician: clinic overview",
    "review": "Clinician: review",
    "upload": "Clinician: upload a video",
    "progress": "Clinician: progress",
    "prescription": "Clinician: prescription",
}

CLEARANCE_NOTE = (
    "**For patients cleared by their surgeon for these exercises.** These gentle floor exercises "
    "are typically started about 8-12 weeks after lumbar (back) surgery. This app counts your "
    "repetitions and reminds you about your form; it does not replace your physiotherapist. "
    "Follow their advice, and stop if an exercise hurts more than usual."
)

SETUP_TIPS = {
    "side": "Put the laptop on the floor or a low table about 2 metres away, **side-on** to you, so "
            "your whole body, head to feet, is in the picture.",
    "front": "Put the laptop about 2 metres away, **facing** you, so your whole body is in the picture.",
    "any": "Put the laptop about 2 metres away so your whole body is in the picture.",
}


CSS = """
<style>
.fc-counters { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.fc-counter { background: #f0f2f6; border-radius: 12px; padding: 0.4rem 1rem; min-width: 6.5rem; text-align: center; }
.fc-label { font-size: 1.2rem; font-weight: 600; color: #333; }
.fc-count { font-size: 3.8rem; font-weight: 800; line-height: 1.05; color: #111; }
.fc-phase { font-size: 1.5rem; font-weight: 600; margin: 0.3rem 0 0.1rem; }
.fc-box { border-radius: 12px; padding: 0.7rem 1rem; font-size: 1.9rem; font-weight: 750; line-height: 1.2; margin: 0.3rem 0; }
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
</style>
"""


# -- resources shared by every browser session ---------------------------------------------------


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


@st.cache_data(max_entries=16, show_spinner="Re-scoring the recorded movement…")
def angle_series(data_dir: str, session_id: int, exercise: str, updated: str) -> review.AngleSeries | None:
    """The per-frame angles of a stored session (``updated`` keys the cache to the saved version)."""
    trace = get_store(data_dir).get_trace(session_id)
    if trace is None:
        return None
    return review.rescore(trace, load_exercise(exercise))


# -- per-browser state ---------------------------------------------------------------------------


@dataclass
class Finished:
    session_id: int | None
    result: SessionResult
    pain_before: int | None
    pain_after: int | None
    interrupted: bool = False


@dataclass
class SymptomCheck:
    """A red-flag check answered in this tab that the database has not taken yet."""

    symptoms: tuple[str, ...]  # the codes answered "yes" (none: all "no")
    checked_at: datetime  # when it was answered (UTC), kept for a later retry
    error: str = ""  # why it could not be saved


@dataclass
class UiState:
    """Everything the app remembers for one browser tab (widgets keep their own values)."""

    red_flags: dict = field(default_factory=dict)  # patient id -> symptoms answered "yes" in this tab
    cleared: set = field(default_factory=set)  # patients whose all-"no" answers are taken (this tab or stored today)
    reporting_new: set = field(default_factory=set)  # patients who asked to report a new symptom today
    released: set = field(default_factory=set)  # patients whose stop the clinician cleared in this tab
    incomplete_check: set = field(default_factory=set)  # patients who pressed Continue with questions unanswered
    unsaved_checks: dict = field(default_factory=dict)  # patient id -> [SymptomCheck] the database refused
    # Held while a safety check is taken in or saved: two presses can run their callbacks at once.
    checks_lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    live: LiveSession | None = None  # the session in progress
    finished: Finished | None = None  # the session just finished, for its summary
    heard_reps: int = 0  # reps and flag starts already announced by a sound
    heard_flags: int = 0
    set_plan: coaching.SetPlan = field(default_factory=coaching.SetPlan)  # the set under way
    set_done_at: float | None = None  # when the page first saw the set's target reached (monotonic s)
    announcer: coaching.Announcer = field(default_factory=coaching.Announcer)  # the spoken lines
    spoken: tuple[int, str] = (0, "")  # the last spoken line: (id, text)
    readiness: setup_guide.Readiness = field(default_factory=setup_guide.Readiness)  # the set's start (3-2-1)
    reps_at_go: int | None = None  # reps the engine had when the set's count started
    uploaded_session_id: int | None = None  # the upload page's last analysed session
    bundle_ready: Path | None = None  # the session file the patient made last, to download
    import_outcome: tuple[str, str] | None = None  # ("success" | "error", message) of the last import
    notice: str = ""  # a reminder shown next to the Finish button
    runs: int = 0  # full script runs of this tab
    live_drawn_in_run: int = -10  # the last run that drew the camera view


def ui() -> UiState:
    if "formcheck" not in st.session_state:
        st.session_state["formcheck"] = UiState()
    return st.session_state["formcheck"]


@contextmanager
def polite(action: str):
    """Show a plain message instead of a traceback when ``action`` fails."""
    try:
        yield
    except (StoreError, UploadError, SpecError, VideoError, TraceError, BackendError) as exc:
        st.error(f"Could not {action}. {escape_markdown(exc)}")  # errors quote names and files
    except Exception:  # noqa: BLE001 - the last line of defence: never a traceback on screen
        log.exception("could not %s", action)
        st.error(f"Could not {action} because of an unexpected problem. The details are in the app's log.")


# -- shared widgets ------------------------------------------------------------------------------


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


# -- page: patient -------------------------------------------------------------------------------


def patient_page(store: Store) -> None:
    state = ui()
    if state.live is None:  # the live view needs the height: its exercise's name is its title
        st.title("Today's exercise session")

    if state.live is not None and state.live.finished:  # finished while the page was away (no camera for a while)
        live = state.live
        state.finished = Finished(live.session_id, live.result, live.pain_before, None, interrupted=True)
        state.live = None
    if state.live is not None:
        live_view(state.live)
        return
    if state.finished is not None:
        finished_view(state)
        return

    st.info(CLEARANCE_NOTE)
    st.header("1. Who is exercising?")
    patient = patient_picker(store, key="patient")
    if patient is None:
        return

    if resume_offer(store, state, patient.id):
        return

    st.header("2. Safety check")
    if not red_flag_check(store, state, patient.id):
        return

    st.header("3. Your pain right now")
    pain_before = pain_picker("How strong is your back or leg pain right now? (0-10)", key="pain_before")
    if pain_before is None:
        st.caption("Choose a number to continue.")
        return
    if pain_before >= 7:
        st.warning("Your pain is high today. Check with your physiotherapist before exercising, "
                   "and stop if it gets worse.")

    st.header("4. Your exercise")
    prescription = prescription_ui.load_prescription(store, patient.id)
    set_plan = coaching.SetPlan()
    if prescription is not None:
        step = prescription_ui.todays_step(store, patient, prescription)
        prescription_ui.plan_banner(step, prescription)
        if step.done_for_today:
            return
        spec = step.exercise.spec()  # with the clinician's targets and limits
        set_plan = coaching.SetPlan(reps=step.exercise.reps, rest_s=step.exercise.rest_s,
                                    more_sets=step.set_number < step.exercise.sets,
                                    label=f"Set {step.set_number} of {step.exercise.sets}")
        st.subheader(spec.title)
    else:
        spec = exercise_picker(key="exercise")
    if spec is None:
        return
    if prescription is None:
        unit = "holds" if spec.rep.kind == "hold" else "repetitions"
        reps = st.number_input(f"How many {unit} in this set?", min_value=1, max_value=50,
                               value=coaching.DEFAULT_SET_REPS, key="set_reps")
        set_plan = coaching.SetPlan(reps=int(reps))
    st.markdown(spec.description)
    picture, tip = st.columns([1, 2])
    picture.markdown(setup_guide.pictogram_svg(spec.posture, spec.view), unsafe_allow_html=True)  # st.html drops SVG
    tip.markdown("**Camera set-up:** " + SETUP_TIPS.get(spec.view, SETUP_TIPS["any"]))
    keep_video = st.checkbox("Save a video of this session for my physiotherapist (it stays on this computer)",
                             value=False, key="keep_video")
    st.button("Start session", type="primary", on_click=start_live,
              args=(store, spec, patient.id, pain_before, keep_video, set_plan))


def start_live(store: Store, spec: ExerciseSpec, patient_id: int, pain_before: int, keep_video: bool,
               set_plan: coaching.SetPlan | None = None) -> None:
    """"Start session" callback: the live view replaces the checks on this run."""
    with polite("start the session"):
        warm_up_pose_model()
        live = LiveSession(spec, partial(make_backend, "mediapipe", segmentation=spec.needs_back_outline), store, patient_id,
                           pain_before=pain_before, keep_video=keep_video)
        get_registry().add(live)
        set_plans()[id(live)] = set_plan or coaching.SetPlan()
        state = ui()
        state.live, state.heard_reps, state.heard_flags, state.notice = live, 0, 0, ""
        state.set_plan, state.set_done_at = set_plan or coaching.SetPlan(), None
        state.announcer, state.spoken = coaching.Announcer(), (0, "")
        state.readiness, state.reps_at_go = setup_guide.Readiness(), None


@st.cache_resource(show_spinner=False)
def set_plans() -> dict:
    """The set plan of each live session (by ``id(session)``), for a tab that takes a session over after a reload."""
    return {}


def resume_offer(store: Store, state: UiState, patient_id: int) -> bool:
    """A set left running by a reload: say what was saved and offer to continue it or finish it.

    True when the offer is on screen (the rest of the page waits for the patient's choice).
    """
    sessions = get_registry().unfinished(store, patient_id)
    if not sessions:
        return False
    live = sessions[0]
    live.touch()  # keeps it from being closed as abandoned while the patient decides
    snap = live.snapshot()
    st.warning(f"**Your {live.spec.title.lower()} set was still going when the page was reloaded.** "
               f"It is saved so far: {snap.reps} {'rep' if snap.reps == 1 else 'reps'} in {_duration(snap.seconds)}. "
               "Continue it, or finish it now.", icon=":material/restore:")
    c1, c2 = st.columns(2)
    c1.button("Continue this set", type="primary", on_click=continue_live, args=(live,))
    with c2:
        pain_picker("To finish it: your pain now (0-10)", key="resume_pain_after")
        st.button("Finish this set", on_click=finish_live, args=(live, "resume_pain_after", "Finish this set"))
    if state.notice:
        st.warning(state.notice)
    return True


def continue_live(live: LiveSession) -> None:
    """"Continue this set": this tab takes the running session over (the camera starts again with START)."""
    state = ui()
    state.live, state.notice = live, ""
    state.set_plan, state.set_done_at = set_plans().get(id(live), coaching.SetPlan()), None
    snap = live.snapshot()
    state.heard_reps, state.heard_flags = snap.reps, snap.flag_events
    state.announcer = coaching.Announcer(heard_reps=snap.reps, heard_cues=snap.flag_events)
    state.spoken = (0, "")
    state.readiness, state.reps_at_go = setup_guide.Readiness(), 0  # the set was under way: it goes on


def red_flag_check(store: Store, state: UiState, patient_id: int) -> bool:
    """The symptoms that mean "do not exercise, contact your doctor". True when the patient may go on.

    The answers are sent together with "Continue" and recorded (``store.record_symptom_check``),
    "no" answers too, so the clinician sees every check and which symptoms were reported. The
    rules of the day are ``formcheck.clinic.safety``'s: a "yes" stops this patient for the rest of
    the day (a reload does not undo it; a clinician can release it); all "no" holds for the day,
    so the questions are asked once a day, and the patient can report something new at any time.
    A stop that could not be saved still stops the patient in this tab.
    """
    gate = todays_gate(store, patient_id)
    pending_stop = any(check.symptoms for check in state.unsaved_checks.get(patient_id, []))
    if gate is not None and gate.state == safety_gate.STOPPED:
        stop_view(store, state, patient_id, gate.check.symptoms, gate.check.checked_at)
        return False
    if pending_stop or (gate is None and patient_id in state.red_flags):
        stop_view(store, state, patient_id, state.red_flags[patient_id], None)
        return False
    state.red_flags.pop(patient_id, None)  # released by the clinician since
    unsaved_clear = any(not check.symptoms for check in state.unsaved_checks.get(patient_id, []))
    if not unsaved_clear and gate is not None and gate.state != safety_gate.CLEARED:
        state.cleared.discard(patient_id)  # a new day, or cleared by a check that was released
    if patient_id not in state.reporting_new:
        if gate is not None and gate.state == safety_gate.CLEARED:
            state.cleared.add(patient_id)
            st.success(f"Safety check done today at {safety_gate.local_time(gate.check.checked_at)}: "
                       "no warning signs. If something has changed since, tell us.")
            st.button("I have a new symptom to report", key=f"rf-new-p{patient_id}", on_click=report_new_symptom,
                      args=(patient_id,))
            return True
        if patient_id in state.cleared:  # all "no" in this tab, not saved (the notice says so)
            unsaved_check_notice(store, state, patient_id)
            return True
    keys = [symptom_key(flag.code, patient_id) for flag in RED_FLAGS]
    with st.form(f"red-flags-p{patient_id}", border=False):
        st.markdown("Since your last session, have you had any of the following?")
        for flag, key in zip(RED_FLAGS, keys):
            st.radio(flag.question, ("No", "Yes"), index=None, horizontal=True, key=key)
        st.form_submit_button("Continue", type="primary", key=f"rf-continue-p{patient_id}",
                              on_click=submit_red_flag_check, args=(store, patient_id))
    unsaved_check_notice(store, state, patient_id)
    if patient_id in state.incomplete_check:
        st.warning("Please answer every question, then press Continue.")
    else:
        st.caption("Answer every question, then press Continue.")
    return False


def symptom_key(code: str, patient_id: int) -> str:
    """The widget key of one safety-check question for one patient."""
    return f"rf_{code}-p{patient_id}"


def todays_gate(store: Store, patient_id: int) -> safety_gate.Gate | None:
    """Today's gate from the stored checks; None (and a message) when the database cannot be read."""
    now = datetime.now(timezone.utc)
    try:
        checks = store.list_symptom_checks(patient_id, since=now - timedelta(days=1))
    except StoreError as exc:
        st.warning(f"Today's earlier safety checks could not be read ({exc}), so the questions are asked here.")
        return None
    return safety_gate.todays_gate(checks, now)


def stop_view(store: Store, state: UiState, patient_id: int, symptoms, checked_at: datetime | None) -> None:
    """The stop message: what was answered "yes", that it holds today, and who can release it."""
    st.error(STOP_MESSAGE)
    when = f"Reported at {safety_gate.local_time(checked_at)}. " if checked_at is not None else ""
    st.markdown("You answered **yes** to:\n" + "\n".join(
        f"- {flag.question.rstrip('?')}" for flag in RED_FLAGS if flag.code in symptoms))
    if not unsaved_check_notice(store, state, patient_id):
        st.caption("Your answers are kept on this computer for your physiotherapist to see when they review "
                   "your sessions. They are not sent to anyone, so please contact your doctor yourself.")
    st.caption(f"{when}This stop holds for the rest of today. If you pressed Yes by mistake, ask your "
               "physiotherapist: they can clear it on their review page.")


def report_new_symptom(patient_id: int) -> None:
    """"I have a new symptom to report": the questions again, and no exercise until they are answered."""
    state = ui()
    state.reporting_new.add(patient_id)
    state.cleared.discard(patient_id)
    for flag in RED_FLAGS:
        st.session_state.pop(symptom_key(flag.code, patient_id), None)


def submit_red_flag_check(store: Store, patient_id: int) -> None:
    """"Continue" callback: record the check; any "yes" stops the session first, even if saving fails.

    One set of answers is one check, however often Continue is pressed: a press after the patient
    was stopped or cleared (the form is gone, but a second quick press can still arrive from the
    page drawn before) records nothing. Two quick presses can run this callback at the same
    time: Streamlit (``runner.fastReruns``) starts the second press's run on a new thread while
    the first one is still saving, so the check and the save happen under the tab's lock.
    """
    state = ui()
    answers = [(flag.code, st.session_state.get(symptom_key(flag.code, patient_id))) for flag in RED_FLAGS]
    symptoms = tuple(code for code, answer in answers if answer == "Yes")
    with state.checks_lock:
        if patient_id in state.red_flags or patient_id in state.cleared:
            return  # taken already: a repeated press
        state.incomplete_check.discard(patient_id)
        if not symptoms and any(answer is None for _, answer in answers):
            state.incomplete_check.add(patient_id)
            return  # a "yes" stops at once; "no" needs every question answered
        state.reporting_new.discard(patient_id)
        if symptoms:
            state.red_flags[patient_id] = symptoms
        else:
            state.cleared.add(patient_id)
        state.unsaved_checks.setdefault(patient_id, []).append(SymptomCheck(symptoms, datetime.now(timezone.utc)))
        save_symptom_checks(store, patient_id)


def save_symptom_checks(store: Store, patient_id: int) -> None:
    """Record the patient's checks not saved yet, oldest first; keep the rest with the reason.

    Also the "Try saving again" callback. Under the tab's lock, so a check is saved once even
    when two presses run this at the same time.
    """
    state = ui()
    with state.checks_lock:
        pending = state.unsaved_checks.get(patient_id, [])
        while pending:
            check = pending[0]
            try:
                store.record_symptom_check(patient_id, check.symptoms, checked_at=check.checked_at)
            except StoreError as exc:
                check.error = str(exc)
                return
            except Exception:  # noqa: BLE001 - never a traceback here: the patient must still see the stop message
                log.exception("could not record the red-flag check")
                check.error = "An unexpected problem occurred; the details are in the app's log."
                return
            pending.pop(0)


def unsaved_check_notice(store: Store, state: UiState, patient_id: int) -> bool:
    """Say that the patient's answers could not be saved, with a retry button. True when it says so."""
    pending = state.unsaved_checks.get(patient_id)
    if not pending:
        return False
    stopped = any(check.symptoms for check in pending)
    st.warning("**Your answers could not be saved**, so your physiotherapist will not see them in this app. "
               + ("Please tell your doctor and your physiotherapist about your symptoms yourself. " if stopped else "")
               + pending[0].error)
    st.button("Try saving again", key=f"rf-retry-p{patient_id}", on_click=save_symptom_checks,
              args=(store, patient_id))
    return True


def live_view(live: LiveSession) -> None:
    """The camera beside everything the patient needs: counts, the message, sound, pain after and Finish.

    All of it fits beside the video on a 1366 x 768 laptop screen, so nothing is below the fold.
    """
    st.subheader(live.spec.title)
    left, right = st.columns(2, gap="medium")
    with left:
        camera = st.container()  # drawn first, above the switches
        c1, c2 = st.columns(2)
        speak = c1.toggle("Speak aloud", value=True, key="speak",
                          help="Says the count and the advice with this computer's own voice; nothing is sent anywhere.")
        sound = c2.toggle("Tones", value=False, key="sound", help="A chime for each rep, a buzz for a form warning.")
    with camera, polite("start the camera view"):
        keep_camera_context(ui())
        webrtc_relay.install()  # newest frame only: the picture and cues never fall behind
        webrtc_streamer(
            key=LIVE_KEY,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration={"iceServers": []},  # local only: no STUN/TURN server, video stays here
            media_stream_constraints={"video": True, "audio": False},
            video_frame_callback=webrtc_callback(live),
            async_processing=True,
            video_html_attrs={"style": {"width": "100%", "maxHeight": "440px", "objectFit": "contain"},
                              "controls": False, "autoPlay": True, "muted": True},
        )
        st.caption("Press **START** and allow the camera. " + SETUP_TIPS.get(live.spec.view, SETUP_TIPS["any"]))
    with right:
        # The fragment gets a container of its own: it redraws twice a second with more or fewer
        # elements, and must never take the Finish area below it along (seen with two tabs live).
        with st.container(key="fc-panel"):
            live_panel(live, sound, speak)
        with st.container(border=True, key="fc-finish"):
            pain_picker("When you have finished: your pain now (0-10)", key="pain_after")
            notice = ui().notice
            if notice:
                st.warning(notice)
            st.button("Finish session", type="primary", on_click=finish_live, args=(live,))


def keep_camera_context(state: UiState) -> None:
    """Work around a race in streamlit-webrtc 0.79 that stops a running camera stream.

    Its "orphaned context" check compares Streamlit's script-run count, which lags behind when
    the event loop (shared with aiortc) is busy; back-to-back reruns then look like a skipped
    run and the library stops the stream (about 3 START clicks in 100 here; see
    tests/e2e_probe_app.py). The check exists for pages that stop drawing the component; when
    this tab drew the camera view in the run just before, the context is not orphaned, so its
    stamp is cleared. This writes a private attribute of the library, checked to exist first.
    """
    context = st.session_state.get(LIVE_KEY)
    if state.live_drawn_in_run == state.runs - 1 and hasattr(context, "_last_rendered_run_count"):
        context._last_rendered_run_count = None
    state.live_drawn_in_run = state.runs


def finish_live(live: LiveSession, pain_key: str = "pain_after", button: str = "Finish session") -> None:
    """"Finish session" (or, after a reload, "Finish this set") callback: save the session with the
    pain after from the picker ``pain_key``; the summary replaces the live view."""
    state = ui()
    pain_after = st.session_state.get(pain_key)
    if pain_after is None:
        state.notice = f"Please choose your pain level now (0-10), then press {button}."
        return
    with polite("save your session"):
        result = live.stop(pain_after=pain_after)
        state.finished = Finished(live.session_id, result, live.pain_before, pain_after)
        state.set_plan = set_plans().get(id(live), state.set_plan)
        state.live, state.notice = None, ""


@st.fragment(run_every=0.5)
def live_panel(live: LiveSession, sound: bool, speak: bool = False) -> None:
    """Counts, phase, guidance, the current cue and the set's end, refreshed twice a second."""
    state = ui()
    live.touch()
    snap = live.snapshot()
    now = time.monotonic()
    plan = state.set_plan
    seen = snap.frames > 0 and (snap.last_frame_age_s or 0) <= 3
    if state.reps_at_go is None and snap.reps > 0:
        state.readiness.start_now(now)  # a rep before the 3-2-1 ended: it is stored, so it counts
        state.reps_at_go = 0
    ready = state.readiness.update(seen and snap.view_ok and snap.phase == "rest", now)
    if ready.stage == setup_guide.GO and state.reps_at_go is None:
        state.reps_at_go = snap.reps  # the set's count starts now
    set_reps = snap.reps - state.reps_at_go if state.reps_at_go is not None else 0
    if set_reps >= plan.reps and state.set_done_at is None:
        state.set_done_at = now
    progress = coaching.set_progress(set_reps, plan.reps, state.set_done_at, now, plan.rest_s)
    set_message = coaching.set_finished_message(progress, plan.more_sets) if progress.finished else ""
    st.markdown(f'<div class="fc-lastrep">{html.escape(plan.label)}: {html.escape(progress.headline)}</div>',
                unsafe_allow_html=True)
    st.markdown(counter_html(snap, live.spec), unsafe_allow_html=True)
    st.markdown(f'<div class="fc-phase">{html.escape(coaching.PHASE_WORDS.get(snap.phase, snap.phase))}</div>',
                unsafe_allow_html=True)
    last = snap.last_rep
    message = coaching.main_message(
        frames=snap.frames, last_frame_age_s=snap.last_frame_age_s, cue=snap.cue, cue_severity=snap.cue_severity,
        view_ok=snap.view_ok, view_message=snap.view_message, set_message=set_message,
        last_try_advice=last.feedback if last is not None and not last.complete else "",
        last_try_age_s=snap.seconds - last.end_s if last is not None and math.isfinite(last.end_s) else None,
        in_position=ready.stage != setup_guide.POSITION or not seen, countdown_s=ready.seconds_left)
    st.markdown(box(message.text, message.kind), unsafe_allow_html=True)
    if snap.not_measured:
        st.warning(snap.not_measured)
    if ready.stage == setup_guide.POSITION and seen:
        st.markdown(setup_guide.pictogram_svg(live.spec.posture, live.spec.view, width_px=220), unsafe_allow_html=True)
    if last is not None:
        what = "Last rep" if last.complete else "Last try (not counted)"
        side = f" ({last.side})" if last.side else ""
        size = f"range {last.rom_deg:.0f}°, " if math.isfinite(last.rom_deg) else ""
        st.markdown(f'<div class="fc-lastrep">{html.escape(f"{what}{side}: {size}held {last.hold_s:.1f} s.")}</div>',
                    unsafe_allow_html=True)
    if snap.problem:
        st.error(snap.problem)
    if snap.video_note:
        st.info(snap.video_note)
    if snap.frames:
        st.caption(f"Camera: {snap.fps:.0f} frames per second analysed · {snap.process_ms:.0f} ms per frame · "
                   f"{snap.seconds:.0f} s · saved automatically")
    if speak:
        if ready.stage == setup_guide.COUNTDOWN:
            state.announcer.once("countdown", "Three. Two. One. Go!")
        say(replace(snap, reps=set_reps), progress, now)  # counts spoken are the set's own
    if sound:
        play_sounds(snap)


def say(snap: LiveSnapshot, progress: coaching.SetProgress, now: float) -> None:
    """Speak the new count, cue or the set's end (once each; see coaching.Announcer and speech_html)."""
    state = ui()
    line = state.announcer.update(reps=snap.reps, cue_events=snap.flag_events, cue=snap.cue,
                                  set_finished=progress.finished,
                                  set_end_line="Set finished. Well done. Stop and rest now.", now_s=now)
    if line:
        state.spoken = (state.spoken[0] + 1, line)
    if state.spoken[0]:
        st.html(coaching.speech_html(*state.spoken), unsafe_allow_javascript=True)


def counter_html(snap: LiveSnapshot, spec: ExerciseSpec) -> str:
    counters = [(side.capitalize(), snap.reps_by_side.get(side, 0), f"fc-{side}") for side in spec.rep.sides]
    counters.append(("Total reps" if spec.rep.sides else "Reps", snap.reps, "fc-total"))
    cells = "".join(
        f'<div class="fc-counter"><div class="fc-label">{label}</div><div class="fc-count {css}">{n}</div></div>'
        for label, n, css in counters
    )
    return f'<div class="fc-counters">{cells}</div>'


def play_sounds(snap: LiveSnapshot) -> None:
    """A chime for each new rep, a buzz when a form cue starts (autoplayed, hidden player)."""
    state = ui()
    sound = None
    if snap.flag_events > state.heard_flags:
        sound = FLAG_SOUND
    elif snap.reps > state.heard_reps:
        sound = REP_SOUND
    state.heard_flags, state.heard_reps = snap.flag_events, snap.reps
    if sound is not None:
        with st.container(key="fc-sound"):
            st.audio(sound, format="audio/wav", autoplay=True)


def finished_view(state: UiState) -> None:
    done = state.finished
    result = done.result
    if done.session_id is None:
        st.warning("The camera never started, so there was nothing to save.")
    elif done.interrupted:
        st.warning("Your session was saved, but marked as interrupted: no picture came from the camera "
                   "for a while.")
    elif result.complete_reps:
        st.success("Well done! Your session is saved.")
    else:
        st.success("Your session is saved.")
    if not result.measurement.measured:
        st.error(escape_markdown(result.measurement.sentence(result.exercise_title)), icon=":material/videocam_off:")
    by_side = result.to_dict()["reps_by_side"]
    metrics = [("Repetitions", len(result.complete_reps))]
    if by_side:
        metrics.append(("By side", ", ".join(f"{s} {n}" for s, n in sorted(by_side.items()))))
    metrics += [("Time", _duration(result.duration_s)),
                ("Pain before → after", f"{_pain(done.pain_before)} → {_pain(done.pain_after)}")]
    for column, (label, value) in zip(st.columns(len(metrics)), metrics):
        column.metric(label, value)
    notes = review.patient_summary(result)
    if notes:
        st.markdown("**For next time:**\n" + "\n".join(f"- {n}" for n in notes))
    elif result.complete_reps:
        st.markdown("No form problems were noticed. Keep it up!")
    if done.pain_before is not None and done.pain_after is not None and done.pain_after - done.pain_before >= 2:
        st.warning("Your pain went up during the session. Rest, and if it has not settled within a few "
                   "hours, tell your physiotherapist before your next session.")
    st.button("Start the next set" if state.set_plan.more_sets else "Start another session", on_click=start_over)


def start_over() -> None:
    ui().finished = None
    for key in ("pain_before", "pain_after"):
        st.session_state.pop(key, None)


def _pain(value: int | None) -> str:
    return review.NONE_SHOWN if value is None else str(value)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


# -- page: send sessions to the clinic (patient) and the clinic overview with import (clinician) --------


def send_page(store: Store) -> None:
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


def overview_page(store: Store) -> None:
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
                {p.id: prescription_ui.load_prescription(store, p.id) for p in patients})
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
    if ui().import_outcome is not None:
        kind, text = ui().import_outcome
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
    except Exception:  # noqa: BLE001 - never a traceback on screen (as polite())
        log.exception("could not import %s", uploaded.name)
        ui().import_outcome = ("error", "Could not import this file because of an unexpected problem. "
                                        "The details are in the app's log.")



# -- page: review --------------------------------------------------------------------------------


def clinician_patient(store: Store, title: str, key: str) -> PatientRow | None:
    """A clinician page's title and patient picker; the patient's red-flag reports come first."""
    st.title(title)
    patient = patient_picker(store, key=key, allow_new=False)
    if patient is not None:
        red_flag_reports(store, patient)
    return patient


def review_page(store: Store) -> None:
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


def red_flag_reports(store: Store, patient: PatientRow) -> None:
    """The patient's red-flag safety checks: a warning listing the recent "yes" reports, the counts, all checks."""
    with polite("show the red-flag safety checks"):
        checks = store.list_symptom_checks(patient.id)
        summary = review.red_flag_summary(checks)
        alert = review.red_flag_alert(summary)
        if alert:
            st.warning(alert, icon=":material/flag:")
        st.caption(review.red_flag_caption(summary))
        release_panel(store, patient, checks)
        if checks:
            with st.expander(f"All red-flag safety checks ({len(checks)})"):
                st.dataframe(review.symptom_checks_table(checks), hide_index=True)


def release_panel(store: Store, patient: PatientRow, checks) -> None:
    """A stop that holds today, with the clinician's way to clear it (after speaking with the patient)."""
    state = ui()
    if patient.id in state.released:
        st.success(f"Today's stop is cleared: {patient.name} is asked the safety questions again before exercising.")
    gate = safety_gate.todays_gate(checks, datetime.now(timezone.utc))
    if gate.state != safety_gate.STOPPED:
        return
    st.warning(f"**{patient.name} was stopped today** ({review.red_flag_stop_line(gate.check)}). The patient's page "
               "will not offer exercise again today unless you clear the stop.", icon=":material/block:")
    ok = st.checkbox("I have spoken with the patient and they may exercise today", key=f"rf-release-ok-p{patient.id}")
    st.button("Clear today's stop", key=f"rf-release-p{patient.id}", disabled=not ok, on_click=release_stop,
              args=(store, gate.check.id, patient.id))


def release_stop(store: Store, check_id: int, patient_id: int) -> None:
    with polite("clear the stop"):
        store.release_symptom_stop(check_id)
        ui().released.add(patient_id)


def session_detail(store: Store, session_id: int, patient: PatientRow | None, key: str) -> None:
    """One session: numbers, reps, chart, video, exports."""
    row = store.get_session(session_id)
    result = store.get_result(session_id)
    st.subheader(f"{row.exercise_title}, {review.session_label(row).split(' · ')[0]}")
    by_side = result.to_dict()["reps_by_side"]
    cols = st.columns(5)
    cols[0].metric("Reps", len(result.complete_reps),
                   help=", ".join(f"{s} {n}" for s, n in sorted(by_side.items())) or None)
    cols[1].metric("Partial reps", len(result.partial_reps))
    cols[2].metric("Form flags", review.form_flag_count(row.summary_json))
    cols[3].metric("Pain before → after", f"{_pain(row.pain_before)} → {_pain(row.pain_after)}")
    cols[4].metric("Duration", _duration(row.duration_s))
    st.caption(f"Status: {review.STATUS_WORDS.get(row.status, row.status)} · source: {row.source}"
               + (f" · reps by side: {', '.join(f'{s} {n}' for s, n in sorted(by_side.items()))}" if by_side else ""))
    if not result.measurement.measured:
        st.error(escape_markdown(result.measurement.sentence(result.exercise_title)), icon=":material/videocam_off:")
    for warning in result.warnings:
        st.warning(warning)

    st.markdown("#### Repetitions")
    if result.reps:
        st.dataframe(review.dash_missing(review.reps_table(result.reps)), hide_index=True)
    else:
        st.caption("No repetitions were detected.")
    if result.flags:
        st.markdown("#### Flags")
        st.dataframe(review.dash_missing(review.flags_table(result.flags)), hide_index=True)

    marks = review.moments(result.reps, result.flags)
    moment = None
    if marks:
        moment = st.selectbox("Go to a rep or flag", marks, format_func=lambda m: m.label, key=f"{key}-moment-{session_id}",
                              index=None, placeholder="Choose a rep or flag to see it in the chart and video")
    with polite("draw the angle chart"):
        angle_chart(store, row, result, moment)
    video = Path(row.video_path) if row.video_path else None
    if video is not None:
        if video.is_file():
            st.markdown("#### Video")
            st.video(str(video), start_time=review.video_start(moment.t_s) if moment else 0)
        else:
            st.caption(f"The kept video {escape_markdown(video)} is no longer on this computer.")

    st.markdown("#### Export")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Reps (CSV)", reps_csv(result), file_name=review.export_name(patient, row, "csv"),
                       mime="text/csv", on_click="ignore", key=f"{key}-csv-{session_id}")
    c2.download_button("Summary (JSON)", summary_json(result), file_name=review.export_name(patient, row, "json"),
                       mime="application/json", on_click="ignore", key=f"{key}-json-{session_id}")
    checks = store.list_symptom_checks(patient.id) if patient is not None else []
    report = session_report_html(result, patient.name if patient else None, review.report_meta(row, patient, checks))
    c3.download_button("Printable report (HTML)", report, file_name=review.export_name(patient, row, "html"),
                       mime="text/html", on_click="ignore", key=f"{key}-html-{session_id}")


def angle_chart(store: Store, row, result: SessionResult, moment: review.Moment | None) -> None:
    st.markdown("#### Movement over time")
    try:
        spec = load_exercise(row.exercise)
    except SpecError:
        st.info(f"The exercise definition “{escape_markdown(row.exercise)}” is no longer installed, so the chart cannot be drawn.")
        return
    series = angle_series(str(store.data_dir), row.id, row.exercise, row.updated_at.isoformat())
    if series is None:
        st.info("This session has no stored movement trace (it was interrupted before it was finished), "
                "so the chart is not available. Its reps and flags above were saved.")
        return
    fig = review.angle_figure(series, spec, result.reps, result.flags, marker_s=moment.t_s if moment else None)
    st.plotly_chart(fig, config={"displaylogo": False})
    st.caption("Green band: target zone. Blue: counted reps; grey: partial reps. Red / orange: form flags "
               "(danger / warning). Bottom: the form-check angles with their limits.")


# -- page: upload --------------------------------------------------------------------------------


def upload_page(store: Store) -> None:
    state = ui()
    st.title("Analyse a recorded video")
    st.caption("The video is analysed on this computer and is not sent anywhere. The original file is not "
               "kept; the annotated copy is kept only if you tick the box.")
    patient = patient_picker(store, key="upload_patient")
    spec = exercise_picker(key="upload_exercise")
    uploaded = st.file_uploader(f"Video file ({', '.join(t.upper() for t in UPLOAD_TYPES)}, up to {MAX_UPLOAD_MB} MB)",
                                type=list(UPLOAD_TYPES), max_upload_size=MAX_UPLOAD_MB, key="upload_file")
    keep = st.checkbox("Keep the annotated video with the session", value=False, key="upload_keep")
    if st.button("Analyse", type="primary", disabled=uploaded is None or patient is None or spec is None):
        bar = st.progress(0.0, text="Starting…")
        with polite("analyse this video"):
            session_id, _ = analyze_upload(store, patient.id, spec, uploaded, uploaded.name, uploaded.size,
                                           keep_video=keep, progress=_progress_bar(bar))
            state.uploaded_session_id = session_id
        bar.empty()
    sid = state.uploaded_session_id
    if sid is not None and patient is not None:
        with polite("show the analysed session"):
            row = store.get_session(sid)
            if row.patient_id == patient.id:
                st.success(f"Analysed and saved as session {sid}: {row.reps} reps.")
                session_detail(store, sid, patient, key="upload")


def _progress_bar(bar):
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


# -- page: progress ------------------------------------------------------------------------------


def progress_page(store: Store) -> None:
    patient = clinician_patient(store, "Progress", "progress_patient")
    if patient is None:
        return
    table = review.progress_table(store.progress(patient.id), store.list_sessions(patient.id))
    if table.empty:
        st.info(f"{escape_markdown(patient.name)} has no sessions yet.")
    else:
        # One exercise per chart: a bridge's range and a bird dog's are different angles.
        exercises = table["Exercise"].value_counts().index.tolist()  # the most practised first
        chosen = st.selectbox("Exercise", exercises, key="progress_exercise")
        table = table[table["Exercise"] == chosen]
        st.plotly_chart(review.progress_figure(table), config={"displaylogo": False})
        if patient.surgery_date is None:
            st.caption("Add the date of surgery below to see weeks since surgery on the chart.")
        st.dataframe(review.dash_missing(table), hide_index=True)
    with st.expander("Patient profile"):
        with st.form(f"profile-form-{patient.id}"):
            st.text_input("Name or label", value=patient.name, key=f"profile-name-{patient.id}")
            st.date_input("Date of surgery", value=patient.surgery_date, max_value=date.today(), format="YYYY-MM-DD",
                          key=f"profile-surgery-{patient.id}")
            st.form_submit_button("Save profile", on_click=save_profile, args=(store, patient.id))


def prescription_page(store: Store) -> None:
    st.title("Prescription")
    st.caption("Which exercises this patient does, how much, and with which limits. The patient's page "
               "follows it: next exercise, set and rep, rest between sets, done for today.")
    patient = patient_picker(store, key="rx-patient", allow_new=False)
    if patient is not None:
        prescription_ui.prescription_page(store, patient)


def save_profile(store: Store, patient_id: int) -> None:
    with polite("save the profile"):
        store.update_patient(patient_id, name=st.session_state[f"profile-name-{patient_id}"],
                             surgery_date=st.session_state[f"profile-surgery-{patient_id}"])


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="formcheck", layout="wide")
    st.markdown(CSS, unsafe_allow_html=True)
    try:
        store = get_store(str(default_data_dir().resolve()))
    except StoreError as exc:
        st.error(f"The data folder cannot be used: {exc}")
        st.stop()
    get_registry().sweep()
    ui().runs += 1
    page = st.sidebar.radio("Go to", list(PAGES), format_func=PAGES.get, key="page")
    st.sidebar.caption(f"Everything stays on this computer. Data folder: `{store.data_dir}`")
    pages = {"patient": patient_page, "send": send_page, "overview": overview_page, "review": review_page,
             "upload": upload_page, "progress": progress_page, "prescription": prescription_page}
    with polite("show this page"):
        pages[page](store)


# Streamlit runs this file as "__main__". Guarded, so that importing it under another name does
# nothing: a process pool started with "spawn" re-imports the parent's main module (as
# "__mp_main__"), and after an AppTest run in the same process that module is this file.
if __name__ == "__main__":
    main()
