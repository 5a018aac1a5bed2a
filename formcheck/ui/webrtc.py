"""The streamlit-webrtc glue of the live page: the camera's frames to a ``LiveSession`` and back.

* ``webrtc_callback(session)``: the ``video_frame_callback`` (av.VideoFrame in, annotated out),
  with the frame's own presentation time as the session clock;
* ``LatestFrameRelay`` and ``install()``: live camera frames without a backlog;
* ``ProcessAndSendTrack`` (also put in place by ``install()``): each annotated frame goes back to
  the browser as soon as it is drawn, not when the camera's next frame arrives;
* ``ask_for_zero_playout_delay()`` (also by ``install()``): the browser shows each annotated frame
  as soon as it is decoded instead of holding it in its jitter buffer.

streamlit-webrtc passes the camera track (and the annotated track back to the browser) through
one aiortc ``MediaRelay`` per server, subscribed *buffered*: every frame waits in an unbounded
queue until its consumer takes it. When the machine is busy (the pose model, a second tab, other
programs) the consumer is slower than the camera's 30 frames a second, the queue grows, and the
picture and the cues fall seconds behind the patient (measured: 7-17 s under heavy load). An
unbuffered subscription hands each consumer the newest frame and drops the ones it had no time
for, which is what a live view wants. ``install()`` puts such a relay where streamlit-webrtc
looks for its global one, before the first stream creates the default.

The annotated track. streamlit-webrtc's ``AsyncVideoProcessTrack`` hands each camera frame to a
worker thread and, in the same step, returns whatever that thread finished *before*: the result
of frame n leaves only when frame n+1 (or later) comes in, one camera frame interval (33 ms at
30 fps) after it was ready, on average half of that. ``ProcessAndSendTrack`` awaits the frame's own
processing (in a thread, so the server's event loop stays free) and returns it at once; frames
that arrive meanwhile are dropped by the relay above, so it never falls behind either.

The browser's jitter buffer. A WebRTC receiver holds each video frame back long enough to play
the stream smoothly despite the network's jitter; frames analysed on a busy 2-core machine leave
at uneven intervals, so Chromium held each annotated frame about 100 ms (its own statistics,
``jitterBufferDelay``, in ``benchmarks/live_page.py``), half the time from camera to screen. For
a coach's picture promptness matters more than smoothness: WebRTC's playout-delay RTP header
extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay) lets the sender ask for a
delay between 0 and 0 ms, which Chromium answers by rendering each frame as soon as it is decoded
(what cloud gaming uses). aiortc 1.16 does not implement the extension: ``ask_for_zero_playout_delay``
adds it to aiortc's video header extensions (so it is negotiated when the browser offers it, as
Chromium does; a browser that does not offer it plays the stream as before) and to every video
packet aiortc sends.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aiortc.contrib.media import MediaRelay, MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

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


class ProcessAndSendTrack(MediaStreamTrack):
    """The annotated video: each camera frame processed (in a worker thread) and sent at once.

    Takes the place of streamlit-webrtc's ``AsyncVideoProcessTrack`` (same constructor): ``track``
    is the camera (a newest-frame relay subscription), ``processor`` streamlit-webrtc's processor,
    whose ``recv(frame)`` runs the page's ``video_frame_callback``.
    """

    kind = "video"

    def __init__(self, track: MediaStreamTrack, processor: Any, stop_timeout: float | None = None):
        super().__init__()
        self.track = track
        self.processor = processor
        # One thread: frames are processed one at a time, in order (the session is not re-entrant).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="formcheck-live-frame")
        track.on("ended", self.stop)

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.track.recv()
        annotated = await asyncio.get_running_loop().run_in_executor(self._worker, self.processor.recv, frame)
        annotated.pts, annotated.time_base = frame.pts, frame.time_base
        return annotated

    def stop(self) -> None:
        if self.readyState == "ended":
            return
        super().stop()
        self.track.stop()
        self._worker.shutdown(wait=False)
        if hasattr(self.processor, "on_ended"):
            self.processor.on_ended()


PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
# min and max playout delay, 12 bits each in units of 10 ms: 0 and 0, "render at once".
ZERO_PLAYOUT_DELAY = b"\x00\x00\x00"
_PATCH_LOCK = threading.Lock()  # each Streamlit session's script thread calls install()


def ask_for_zero_playout_delay() -> bool:
    """Make aiortc negotiate the playout-delay extension for video and send 0-0 ms in every video
    packet; True when it is (or already was) in place. Idempotent and safe from several sessions'
    script threads at once; leaves aiortc alone (False) when its internals are not the ones this
    was written against (aiortc 1.16)."""
    with _PATCH_LOCK:
        return _add_zero_playout_delay()


def _add_zero_playout_delay() -> bool:
    from aiortc import codecs, rtp
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters

    video = codecs.HEADER_EXTENSIONS.get("video")
    extensions_map = rtp.HeaderExtensionsMap
    if getattr(extensions_map, "_formcheck_playout_delay", False):
        return True
    if video is None or not all(hasattr(extensions_map, name) for name in ("configure", "set")) \
            or not hasattr(rtp, "pack_header_extensions") or not hasattr(rtp, "unpack_header_extensions"):
        log.warning("aiortc's header extensions are not where expected: the browser keeps its jitter buffer")
        return False
    original_configure, original_set = extensions_map.configure, extensions_map.set

    def configure(self: Any, parameters: Any) -> None:
        original_configure(self, parameters)
        self._formcheck_playout_delay_id = next(
            (ext.id for ext in parameters.headerExtensions if ext.uri == PLAYOUT_DELAY_URI), None)

    def pack(self: Any, values: Any) -> tuple[int, bytes]:
        profile, packed = original_set(self, values)
        extension_id = getattr(self, "_formcheck_playout_delay_id", None)
        if not extension_id:
            return profile, packed
        extensions = rtp.unpack_header_extensions(profile, packed) if packed else []
        return rtp.pack_header_extensions([*extensions, (extension_id, ZERO_PLAYOUT_DELAY)])

    taken = {ext.id for extensions in codecs.HEADER_EXTENSIONS.values() for ext in extensions}
    free_id = min(set(range(1, 15)) - taken)  # ids of aiortc's own offers; an answer takes the browser's
    video.append(RTCRtpHeaderExtensionParameters(id=free_id, uri=PLAYOUT_DELAY_URI))
    for name, value in (("configure", configure), ("set", pack), ("_formcheck_playout_delay", True)):
        setattr(extensions_map, name, value)
    return True


def install() -> bool:
    """Make streamlit-webrtc use a LatestFrameRelay and a ProcessAndSendTrack; True when they are
    (or already were) in place.

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
        if current is not None and not isinstance(current, LatestFrameRelay):
            return False  # streams already use the library's relay; replacing it would cut them
        if current is None:
            with loop_context(get_global_event_loop()):  # aiortc objects belong to the server's loop
                setattr(runtime, _RELAY_ATTRIBUTE, LatestFrameRelay())
        # Only over a newest-frame relay: over a buffered one it would work through the backlog.
        with _PATCH_LOCK:
            _use_process_and_send_track()
        ask_for_zero_playout_delay()
        return True
    except Exception:  # an optimisation must never stop the live page
        log.exception("could not install the latest-frame relay; live frames stay buffered")
        return False


def _use_process_and_send_track() -> None:
    """streamlit-webrtc 0.79 builds its processing track from ``webrtc.AsyncVideoProcessTrack``
    (``_wrap_with_processor``); that name is pointed at ProcessAndSendTrack, once, and only when it
    still names the library's own class (another version keeps its own behaviour)."""
    from streamlit_webrtc import process as webrtc_process
    from streamlit_webrtc import webrtc as webrtc_module

    current = getattr(webrtc_module, "AsyncVideoProcessTrack", None)
    if current is ProcessAndSendTrack:
        return
    if current is not getattr(webrtc_process, "AsyncVideoProcessTrack", object()) \
            or not hasattr(webrtc_module, "_wrap_with_processor"):
        log.warning("streamlit-webrtc builds its video track elsewhere: annotated frames wait for the next one")
        return
    setattr(webrtc_module, "AsyncVideoProcessTrack", ProcessAndSendTrack)  # noqa: B010 - a library's name


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
