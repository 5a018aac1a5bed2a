"""formcheck.ui.webrtc (the newest-frame relay): a slow consumer of a 30 fps camera track sees new
frames, not a backlog.

Real aiortc tracks and relays on an asyncio loop; the camera is a track that makes a numbered
frame every 1/30 s, the consumer takes 100 ms per frame (a busy pose model).
"""
import asyncio
import time

from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from formcheck.ui import webrtc as webrtc_relay
from formcheck.ui.webrtc import LatestFrameRelay
from tests.support.async_support import run_in_own_thread

FPS = 30.0
PROCESS_S = 0.1


class NumberedCamera(MediaStreamTrack):
    """A stand-in camera: frame n is the number n, made at n / FPS seconds."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.made = 0
        self._start = None

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.made / FPS - time.monotonic()))
        self.made += 1
        return self.made - 1


async def _lag_after(relay, seconds: float) -> tuple[int, int]:
    camera = NumberedCamera()
    consumer = relay.subscribe(camera)
    seen = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = await consumer.recv()
        await asyncio.sleep(PROCESS_S)  # the slow work on each frame
    consumer.stop()
    return camera.made - 1 - seen, seen


def test_a_slow_consumer_gets_the_newest_frame_not_a_backlog():
    lag_default, _ = run_in_own_thread(_lag_after(MediaRelay(), 3.0))
    lag_latest, seen = run_in_own_thread(_lag_after(LatestFrameRelay(), 3.0))
    # Buffered: 30 frames a second in, 10 out: about 20 frames (0.7 s) more behind every second.
    assert lag_default > 40
    # Newest only: behind by at most the frames made during one frame's processing.
    assert lag_latest <= FPS * PROCESS_S + 2 and seen > 60


def test_install_outside_a_streamlit_server_does_nothing():
    assert webrtc_relay.install() is False
