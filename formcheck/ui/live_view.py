"""The live session on screen: the camera beside the counts, the one big message, sound and Finish.

The session itself (frames in, reps and cues out, autosave) is ``formcheck.live.LiveSession``;
what the big box says and what is spoken is ``formcheck.live.coaching``'s; the 3-2-1 before a set is
``formcheck.live.setup_guide``'s. This module only draws them, twice a second.
"""
from __future__ import annotations

import html
import math
import time

import streamlit as st

from ..live import FLAG_SOUND, REP_SOUND, LiveSession, LiveSnapshot, coaching, setup_guide
from ..render import PHASE_WORDS
from ..spec import ExerciseSpec
from .camera import camera_view
from .resources import set_plans
from .state import Finished, ui
from .widgets import box, pain_picker, polite

SETUP_PICTURE_PX = 180  # the camera set-up picture in the panel: as high as the counters it stands in for


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
                          help="Says the count and the advice with this computer's own voice; "
                               "nothing is sent anywhere.")
        sound = c2.toggle("Tones", value=False, key="sound", help="A chime for each rep, a buzz for a form warning.")
    with camera, polite("start the camera view"):
        camera_view(live, ui())
        st.caption("Press **START** and allow the camera. " + setup_guide.setup_tip(live.spec.view))
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
    seen = coaching.camera_seen(snap.frames, snap.last_frame_age_s)
    ready = state.readiness.update(seen and snap.view_ok and snap.phase == "rest", now)
    if ready.stage == setup_guide.GO and not snap.counting:
        live.start_counting()  # the set's count starts now, with the patient in the start position
    # The session counts nothing before the go (wait_for_go): its reps are the set's, from 0 at "Go".
    set_reps = snap.reps
    if set_reps >= plan.reps and state.set_done_at is None:
        state.set_done_at = now
    progress = coaching.set_progress(set_reps, plan.reps, state.set_done_at, now, plan.rest_s)
    set_message = coaching.set_finished_message(progress, plan.more_sets) if progress.finished else ""
    st.markdown(f'<div class="fc-lastrep">{html.escape(plan.label)}: {html.escape(progress.headline)}</div>',
                unsafe_allow_html=True)
    setting_up = ready.stage == setup_guide.POSITION and seen
    if setting_up:  # the counts are 0 until the go; the picture of the camera's view is what helps now
        st.markdown(setup_guide.pictogram_svg(live.spec.posture, live.spec.view, width_px=SETUP_PICTURE_PX),
                    unsafe_allow_html=True)
    else:
        st.markdown(counter_html(snap, live.spec), unsafe_allow_html=True)
    st.markdown(f'<div class="fc-phase">{html.escape(PHASE_WORDS.get(snap.phase, snap.phase))}</div>',
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
    if snap.frames:  # one line, so the Finish area stays on screen
        st.caption(f"{snap.fps:.0f} frames/s analysed ({snap.process_ms:.0f} ms each) · {snap.seconds:.0f} s"
                   + (" · saved as you go" if snap.counting else ""))
    if speak:
        if ready.stage == setup_guide.COUNTDOWN:
            state.announcer.once("countdown", "Three. Two. One. Go!")
        say(snap, progress, now)
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
