"""formcheck.ui.webrtc: the newest-frame relay (a slow consumer of a 30 fps camera track sees new
frames, not a backlog), the annotated track (each annotated frame sent as soon as it is drawn) and
the playout-delay extension (the browser shows frames at once instead of buffering them).

Real aiortc tracks and relays on an asyncio loop; the camera is a track that makes a numbered
frame every 1/30 s, the consumer takes 100 ms per frame (a busy pose model).
"""
import asyncio
import struct
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


# -- the annotated track: sent as soon as it is drawn ------------------------------------------------

class Frame:
    """A stand-in av.VideoFrame: a number with the timing attributes the tracks copy."""

    def __init__(self, number: int, pts: int = 0):
        self.number, self.pts, self.time_base = number, pts, None


class OneFrameCamera(MediaStreamTrack):
    """A camera that sends one frame, then nothing more (a stall, or the last frame of a stream)."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.sent = False

    async def recv(self):
        if self.sent:
            await asyncio.sleep(3600)
        self.sent = True
        return Frame(0, pts=1234)


class SlowAnnotator:
    """A stand-in processor: 'annotates' a frame (a new Frame, number + 1000) in 50 ms, off the loop."""

    def __init__(self):
        self.ended = False

    def recv(self, frame):
        time.sleep(0.05)
        return Frame(frame.number + 1000)

    def on_ended(self):
        self.ended = True


async def _first_annotated(track_class) -> object | None:
    """The first frame of ``track_class`` (wrapping a one-frame camera) that is annotated, or None
    when none comes within 1 s."""
    track = track_class(track=LatestFrameRelay().subscribe(OneFrameCamera()), processor=SlowAnnotator())
    try:
        async def annotated():
            while True:
                frame = await track.recv()
                if frame.number >= 1000:
                    return frame
        return await asyncio.wait_for(annotated(), timeout=1.0)
    except TimeoutError:
        return None
    finally:
        track.stop()


def test_an_annotated_frame_leaves_without_waiting_for_the_next_camera_frame():
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    from formcheck.ui.webrtc import ProcessAndSendTrack

    # The library's track sends frame n's result when frame n+1 arrives: after a stall, never.
    assert run_in_own_thread(_first_annotated(AsyncVideoProcessTrack)) is None
    ours = run_in_own_thread(_first_annotated(ProcessAndSendTrack))
    assert ours is not None and ours.number == 1000
    assert ours.pts == 1234  # the camera frame's own timing travels with its picture


def test_the_annotated_track_gets_the_newest_camera_frame_not_a_backlog():
    from formcheck.ui.webrtc import ProcessAndSendTrack

    async def run() -> tuple[int, int]:
        camera = NumberedFrames()
        track = ProcessAndSendTrack(LatestFrameRelay().subscribe(camera), NumberAnnotator())
        last = -1
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            last = (await track.recv()).number
        track.stop()
        return camera.made - 1 - last, track.processor.ended

    lag, ended = run_in_own_thread(run())
    assert lag <= FPS * PROCESS_S + 2  # behind by at most the frames made during one frame's work
    assert ended  # stopping the track tells the processor (streamlit-webrtc's on_ended)


class NumberedFrames(NumberedCamera):
    """NumberedCamera's frames as Frames."""

    async def recv(self):
        return Frame(await super().recv())


class NumberAnnotator(SlowAnnotator):
    """PROCESS_S of work a frame."""

    def recv(self, frame):
        time.sleep(PROCESS_S)
        return Frame(frame.number)


# -- the browser's jitter buffer: the playout-delay extension -----------------------------------------

def test_zero_playout_delay_is_offered_and_written_into_every_video_packet():
    from aiortc import RTCPeerConnection, rtp
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

    assert webrtc_relay.ask_for_zero_playout_delay() is True
    assert webrtc_relay.ask_for_zero_playout_delay() is True  # idempotent: one extension, not two

    async def offer() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("video")
        description = await pc.createOffer()
        await pc.close()
        return description.sdp

    sdp = run_in_own_thread(offer())
    assert sdp.count(webrtc_relay.PLAYOUT_DELAY_URI) == 1

    def packet_extensions(negotiated: list) -> list:
        extensions_map = rtp.HeaderExtensionsMap()
        extensions_map.configure(RTCRtpParameters(headerExtensions=negotiated))
        packet = rtp.RtpPacket(payload_type=96, sequence_number=1, timestamp=90000, ssrc=1)
        packet.extensions.mid = "0"
        data = packet.serialize(extensions_map)
        assert data[0] & 0x10, "the packet has header extensions"
        profile, words = struct.unpack("!HH", data[12:16])  # after the 12-byte header (no CSRC)
        return rtp.unpack_header_extensions(profile, data[16:16 + 4 * words])

    mid = RTCRtpHeaderExtensionParameters(id=9, uri="urn:ietf:params:rtp-hdrext:sdes:mid")
    delay = RTCRtpHeaderExtensionParameters(id=5, uri=webrtc_relay.PLAYOUT_DELAY_URI)  # the browser's id
    # Negotiated: the 3 bytes of min 0 and max 0 (12 bits each), beside aiortc's own extensions.
    assert packet_extensions([mid, delay]) == [(9, b"0"), (5, b"\x00\x00\x00")]
    # Not negotiated (a browser that does not offer it): packets as aiortc writes them.
    assert packet_extensions([mid]) == [(9, b"0")]
