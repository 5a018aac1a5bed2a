"""A tiny Streamlit app that proves the browser -> WebRTC -> server pipeline works.

Used only by tests/e2e/test_e2e_probe.py. Every video frame reaching the server callback is counted
and its mean grey level recorded; the totals go to the JSON file named by the ``PROBE_OUT``
environment variable (so the test can read them from outside the server), and a downscaled copy
of the latest frame to ``<PROBE_OUT>.frame.png`` (so the test can check it is the clip). The
frame is sent back with the counter drawn on it, and the page shows the count.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import av
import cv2
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

PROBE_OUT = os.environ.get("PROBE_OUT")

# streamlit-webrtc's lifecycle decisions (worker created / context reset / rerun for the SDP
# answer) are DEBUG messages; send them to stderr, which the tests attach to their failures.
_webrtc_log = logging.getLogger("streamlit_webrtc.component")
if not any(getattr(h, "_probe", False) for h in _webrtc_log.handlers):
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    _handler._probe = True
    _webrtc_log.addHandler(_handler)
    _webrtc_log.setLevel(logging.DEBUG)
SNAPSHOT_EVERY = 15  # frames between two saved snapshots (~0.5 s at 30 fps)


class ProbeStats:
    """Frame statistics shared by the WebRTC callback thread and the script thread."""

    def __init__(self, out_path: str | None) -> None:
        self._lock = threading.Lock()
        self._out_path = out_path
        self.frames = 0
        self.brightness_sum = 0.0
        self.last_brightness = None
        self.width = None
        self.height = None
        self.first_frame_at = None
        self.last_frame_at = None

    def add(self, brightness: float, width: int, height: int) -> int:
        with self._lock:
            now = time.time()
            self.frames += 1
            self.brightness_sum += brightness
            self.last_brightness = brightness
            self.width, self.height = width, height
            if self.first_frame_at is None:
                self.first_frame_at = now
            self.last_frame_at = now
            snap = self._snapshot_locked()
            if self._out_path:
                _atomic_write(self._out_path, json.dumps(snap).encode())
            return self.frames

    def snapshot(self) -> dict:
        with self._lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> dict:
        return {
            "frames": self.frames,
            "mean_brightness": self.brightness_sum / self.frames if self.frames else None,
            "last_brightness": self.last_brightness,
            "width": self.width,
            "height": self.height,
            "first_frame_at": self.first_frame_at,
            "last_frame_at": self.last_frame_at,
            "pid": os.getpid(),
        }


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# One stats object per browser session, kept across script reruns.
if "probe_stats" not in st.session_state:
    st.session_state["probe_stats"] = ProbeStats(PROBE_OUT)
stats = st.session_state["probe_stats"]


def video_frame_callback(frame: av.VideoFrame) -> av.VideoFrame:
    img = frame.to_ndarray(format="bgr24")
    brightness = float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean())
    count = stats.add(brightness, img.shape[1], img.shape[0])
    if PROBE_OUT and count % SNAPSHOT_EVERY == 1:
        thumb = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
        ok, png = cv2.imencode(".png", thumb)
        if ok:
            _atomic_write(PROBE_OUT + ".frame.png", png.tobytes())
    out = img.copy()
    label = f"frames: {count}"
    cv2.putText(out, label, (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 5, cv2.LINE_AA)
    cv2.putText(out, label, (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 255, 255), 2, cv2.LINE_AA)
    return av.VideoFrame.from_ndarray(out, format="bgr24")


st.title("formcheck e2e probe")
st.caption("Counts the webcam frames that reach the server. Used by tests/e2e/test_e2e_probe.py only.")

# Work around a race in streamlit-webrtc 0.79's "orphaned context" check (component.py,
# _get_or_create_context): it compares Streamlit's session script_run_count, which is only
# incremented when the event loop *sends* a run's script_finished message, with the count it
# saw in the previous run. When a run starts before the previous run's message was flushed
# (ICE candidates trickling in cause back-to-back reruns while aiortc keeps the event loop
# busy), the count appears to skip one, the check logs "Context for key=probe was not rendered
# for 1 script runs; resetting stale state", stops the just-created worker and no frame ever
# reaches the callback (about 3 START clicks in 100 here). This page is always rendered, so
# the check (meant for multi-page navigation) can be switched off by clearing its stamp.
_previous_ctx = st.session_state.get("probe")
if _previous_ctx is not None and hasattr(_previous_ctx, "_last_rendered_run_count"):
    _previous_ctx._last_rendered_run_count = None

ctx = webrtc_streamer(
    key="probe",
    mode=WebRtcMode.SENDRECV,
    rtc_configuration={"iceServers": []},  # offline: host candidates only, no STUN/TURN
    media_stream_constraints={"video": True, "audio": False},
    video_frame_callback=video_frame_callback,
)


@st.fragment(run_every=0.5)
def show_stats() -> None:
    snap = stats.snapshot()
    st.markdown(f"Frames received: {snap['frames']}")
    if snap["frames"]:
        st.markdown(
            f"Mean brightness: {snap['mean_brightness']:.1f} "
            f"(frame {snap['width']}x{snap['height']})"
        )
    st.markdown(f"Playing: {ctx.state.playing}")


show_stats()
