"""Patient: today's session -- profile, safety check, pain, exercise, then the live webcam with
a big rep counter and form cues; "Finish session" saves it."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import streamlit as st

from ... import review
from ...backends import make_backend
from ...clinic import advice, plan
from ...clinic.prescription import DEFAULT_REPS, todays_plan
from ...live import LiveSession, coaching, setup_guide
from ...report import escape_markdown
from ...spec import ExerciseSpec
from ...store import Store
from ..live_view import finish_live, live_view
from ..resources import get_exercises, get_registry, set_plans, warm_up_pose_model
from ..safety_check import red_flag_check
from ..state import Finished, UiState, ui
from ..widgets import duration_text, exercise_picker, pain_picker, pain_text, patient_picker, polite
from . import prescription as prescription_page

# The patient's choices that "Start session" reads at the click (see start_live).
PAIN_BEFORE_KEY, EXERCISE_KEY, SET_REPS_KEY, KEEP_VIDEO_KEY = "pain_before", "exercise", "set_reps", "keep_video"


def show(store: Store) -> None:
    state = ui()
    if state.live is None:  # the live view needs the height: its exercise's name is its title
        st.title("Today's exercise session")

    if state.live is not None and state.live.finished:  # finished while the page was away (no camera for a while)
        live = state.live
        assert live.result is not None, "a finished session keeps its result"
        state.finished = Finished(live.session_id, live.result, live.pain_before, None, interrupted=True)
        state.live = None
    if state.live is not None:
        live_view(state.live)
        return
    if state.finished is not None:
        finished_view(state)
        return

    st.info(advice.CLEARANCE_NOTE)
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
    pain_before = pain_picker("How strong is your back or leg pain right now? (0-10)", key=PAIN_BEFORE_KEY)
    if pain_before is None:
        st.caption("Choose a number to continue.")
        return
    if advice.high_pain_before(pain_before):
        st.warning(advice.HIGH_PAIN_ADVICE)

    st.header("4. Your exercise")
    prescription = prescription_page.load_prescription(store, patient.id)
    spec: ExerciseSpec | None  # the picker's choice may be None
    planned: tuple[ExerciseSpec, coaching.SetPlan] | None = None  # the prescription's, else the patient's picks
    if prescription is not None:
        step = todays_plan(store.list_sessions(patient.id), prescription, datetime.now(UTC))  # local day
        prescription_page.plan_banner(step, prescription)
        if step.done_for_today:
            return
        assert step.exercise is not None, "a plan step not done for today names its exercise"
        spec = step.exercise.spec()  # with the clinician's targets and limits
        planned = (spec, plan.set_plan(step))
        st.subheader(spec.title)
    else:
        spec = exercise_picker(key=EXERCISE_KEY)
    if spec is None:
        return
    if prescription is None:
        unit = "holds" if spec.rep.kind == "hold" else "repetitions"
        st.number_input(f"How many {unit} in this set?", min_value=1, max_value=50, value=DEFAULT_REPS,
                        key=SET_REPS_KEY)  # read by start_live at the click
    st.markdown(spec.description)
    picture, tip = st.columns([1, 2])
    picture.markdown(setup_guide.pictogram_svg(spec.posture, spec.view), unsafe_allow_html=True)  # st.html drops SVG
    tip.markdown("**Camera set-up:** " + setup_guide.setup_tip(spec.view))
    st.checkbox("Save a video of this session for my physiotherapist (it stays on this computer)",
                value=False, key=KEEP_VIDEO_KEY)
    st.button("Start session", type="primary", on_click=start_live, args=(store, patient.id, planned))


def start_live(store: Store, patient_id: int,
               planned: tuple[ExerciseSpec, coaching.SetPlan] | None = None) -> None:
    """"Start session" callback: the live view replaces the checks on this run.

    ``planned``: the prescription's exercise and set for today; without one, the patient's picks.
    The patient's choices are read here, as the click sent them, never passed from the run that
    drew the button: those arguments are that run's values, so "save a video" ticked (or the reps
    changed) just before the click, on a laptop too busy to have redrawn the page, was lost.
    """
    choices = st.session_state
    pain_before = choices.get(PAIN_BEFORE_KEY)
    if planned is not None:
        spec: ExerciseSpec | None
        spec, set_plan = planned
    else:
        spec = get_exercises()[0].get(choices.get(EXERCISE_KEY) or "")
        set_plan = coaching.SetPlan(reps=int(choices.get(SET_REPS_KEY, DEFAULT_REPS)))
    if spec is None or pain_before is None:
        return  # cleared just before the click: this run asks for it again
    keep_video = bool(choices.get(KEEP_VIDEO_KEY, False))
    with polite("start the session"):
        warm_up_pose_model()
        backend = partial(make_backend, "mediapipe", segmentation=spec.needs_back_outline)
        # Nothing is counted before the page's 3-2-1 ends (live_view.live_panel starts the count).
        live = LiveSession(spec, backend, store, patient_id,
                           pain_before=pain_before, keep_video=keep_video, wait_for_go=True)
        get_registry().add(live)
        set_plans()[id(live)] = set_plan
        state = ui()
        state.live, state.heard_reps, state.heard_flags, state.notice = live, 0, 0, ""
        state.set_plan, state.set_done_at = set_plan, None
        state.announcer, state.spoken = coaching.Announcer(), (0, "")
        state.readiness = setup_guide.Readiness()


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
               f"It is saved so far: {snap.reps} {'rep' if snap.reps == 1 else 'reps'} "
               f"in {duration_text(snap.seconds)}. "
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
    # A set that reached its go goes on counting; one that had not gets its 3-2-1 again.
    state.readiness = setup_guide.Readiness()


def finished_view(state: UiState) -> None:
    done = state.finished
    assert done is not None, "show() draws this page only for a finished set"
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
        st.error(escape_markdown(result.measurement.sentence(result.exercise_title)),
                 icon=":material/videocam_off:")
    by_side = result.to_dict()["reps_by_side"]
    metrics: list[tuple[str, int | str]] = [("Repetitions", len(result.complete_reps))]
    if by_side:
        metrics.append(("By side", ", ".join(f"{s} {n}" for s, n in sorted(by_side.items()))))
    metrics += [("Time", duration_text(result.duration_s)),
                ("Pain before → after", f"{pain_text(done.pain_before)} → {pain_text(done.pain_after)}")]
    for column, (label, value) in zip(st.columns(len(metrics)), metrics):
        column.metric(label, value)
    notes = review.patient_summary(result)
    if notes:
        st.markdown("**For next time:**\n" + "\n".join(f"- {n}" for n in notes))
    elif result.complete_reps:
        st.markdown("No form problems were noticed. Keep it up!")
    if advice.pain_rose(done.pain_before, done.pain_after):
        st.warning(advice.PAIN_ROSE_ADVICE)
    st.button("Start the next set" if state.set_plan.more_sets else "Start another session", on_click=start_over)


def start_over() -> None:
    ui().finished = None
    for key in (PAIN_BEFORE_KEY, "pain_after"):
        st.session_state.pop(key, None)
