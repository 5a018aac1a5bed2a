"""The live page's camera: the streamlit-webrtc component, set up for this app, and its workaround.

The frames go to ``formcheck.live`` through ``webrtc_callback`` (newest frame only, see
``formcheck.ui.webrtc``); whether the picture is still coming is ``formcheck.live.coaching.camera_seen``.
"""
from __future__ import annotations

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from ..live import LiveSession
from . import webrtc as webrtc_relay
from .state import UiState
from .webrtc import webrtc_callback

LIVE_KEY = "formcheck-live"  # the camera component's key


def camera_view(live: LiveSession, state: UiState) -> None:
    """The camera component, sending each frame to ``live`` (local only: nothing leaves this computer)."""
    keep_camera_context(state)
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


def keep_camera_context(state: UiState) -> None:
    """Work around a race in streamlit-webrtc 0.79 that stops a running camera stream.

    Its "orphaned context" check compares Streamlit's script-run count, which lags behind when
    the event loop (shared with aiortc) is busy; back-to-back reruns then look like a skipped
    run and the library stops the stream (about 3 START clicks in 100 here; see
    tests/e2e/e2e_probe_app.py). The check exists for pages that stop drawing the component; when
    this tab drew the camera view in the run just before, the context is not orphaned, so its
    stamp is cleared. This writes a private attribute of the library, checked to exist first.
    """
    context = st.session_state.get(LIVE_KEY)
    if state.live_drawn_in_run == state.runs - 1 and context is not None \
            and hasattr(context, "_last_rendered_run_count"):
        context._last_rendered_run_count = None
    state.live_drawn_in_run = state.runs
