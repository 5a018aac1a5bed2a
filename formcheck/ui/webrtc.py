"""The streamlit-webrtc glue of the live page: the camera's frames to a ``LiveSession`` and back.

* ``webrtc_callback(session)``: the ``video_frame_callback`` (av.VideoFrame in, annotated out),
  with the frame's own presentation time as the session clock;
* ``LatestFrameRelay`` and ``install()``: live camera frames without a backlog.

streamlit-webrtc passes the camera track (and the annotated track back to the browser) through
one aiortc ``MediaRelay`` per server, subscribed *buffered*: every frame waits in an unbounded
queue until its consumer takes it. When the machine is busy (the pose model, a second tab, other
programs) the consumer is slower than the camera's 30 frames a second, the queue grows, and the
picture and the cues fall seconds behind the patient (measured: 7-17 s under heavy load). An
unbuffered subscription hands each consumer the newest frame and drops the ones it had no time
for, which is what a live view wants. ``install()`` puts such a relay where streamlit-webrtc
looks for its global one, before the first stream creates the default.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiortc.contrib.media import MediaRelay, MediaStreamTrack

if TYPE_CHECKING:
    import av

    from ..live import LiveSession

log = logging.getLogger(__name__)

# Where streamlit-webrtc 0.79 keeps its relay (streamlit_webrtc/relay.py). Checked at install().
_RELAY_ATTRIBUTE = "streamlit-webrtc-global-relay"


class LatestFrameRelay(MediaRelay):
    """A MediaRelay whose consumers always get the newest frame, never a queue of old ones."""

    def subscribe(self, track: MediaStreamTrack, buffered: bool = False) -> MediaStreamTrack:
        return super().subscribe(track, buffered=False)


def install() -> bool:
    """Make streamlit-webrtc use a LatestFrameRelay; True when it is (or already was) in place.

    Call from the Streamlit script before ``webrtc_streamer``. Outside a Streamlit server (tests
    with AppTest) or with a streamlit-webrtc that keeps its relay elsewhere it does nothing and
    returns False: the camera still works, with the library's buffering.
    """
    try:
        from streamlit.runtime.runtime import Runtime
        from streamlit_webrtc import relay as webrtc_relay
        from streamlit_webrtc.eventloop import get_global_event_loop, loop_context

        if getattr(webrtc_relay, "_SERVER_GLOBAL_RELAY_ATTR_NAME_", None) != _RELAY_ATTRIBUTE:
            log.warning("streamlit-webrtc keeps its relay elsewhere: live frames stay buffered")
            return False
        if not Runtime.exists():
            return False
        runtime = Runtime.instance()
        current = getattr(runtime, _RELAY_ATTRIBUTE, None)
        if isinstance(current, LatestFrameRelay):
            return True
        if current is not None:
            return False  # streams already use the library's relay; replacing it would cut them
        with loop_context(get_global_event_loop()):  # aiortc objects belong to the server's loop
            setattr(runtime, _RELAY_ATTRIBUTE, LatestFrameRelay())
        return True
    except Exception:  # an optimisation must never stop the live page
        log.exception("could not install the latest-frame relay; live frames stay buffered")
        return False


def webrtc_callback(session: LiveSession) -> Callable:
    """The ``video_frame_callback`` for streamlit-webrtc: av.VideoFrame in and out.

    Runs on streamlit-webrtc's worker thread. The frame's own presentation time is the session
    clock (``frame.time``, seconds, None when the stream has none).
    """
    import av

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        image = frame.to_ndarray(format="bgr24")
        t_ms = frame.time * 1000.0 if frame.time is not None else None
        return av.VideoFrame.from_ndarray(session.on_frame(image, t_ms), format="bgr24")

    return callback
