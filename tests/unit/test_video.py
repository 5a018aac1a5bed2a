"""Frame sources: container timestamps, rotation metadata, odd sizes and rates."""
import fractions
import struct
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from formcheck.pipeline import AnalyzeOptions, analyze
from formcheck.spec import load_exercise
from formcheck.video import H264Writer, VideoError, VideoInfo, decoder_threads, open_video, read_frames
from tests.support.paths import VIDEOS

BIRD_DOG = VIDEOS / "bird_dog_360.mp4"


def write_clip(path: Path, frames, fps: int = 30, pts_ms=None) -> Path:
    """Encode BGR frames as H.264 mp4 with PyAV; ``pts_ms`` gives each frame's time (variable rate)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        h, w = frames[0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if pts_ms is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def tag_rotation_90(path: Path) -> None:
    """Write a 90-degree display matrix into the mp4's track header, as phones do for portrait clips."""
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    offset = i + (44 if data[i + 4] == 0 else 56)  # the matrix, after version-dependent time fields
    data[offset:offset + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(data)


def test_variable_frame_rate_keeps_container_times(tmp_path):
    times = [0, 33, 66, 150, 183, 400, 433, 466, 700, 733]
    path = write_clip(tmp_path / "vfr.mp4", [np.full((64, 64, 3), 80, np.uint8)] * len(times), pts_ms=times)
    got = [t for _, t, _ in read_frames(path)]
    assert got == pytest.approx(times, abs=1.0)  # not index / fps


def test_portrait_phone_clip_with_rotation_metadata_is_upright(tmp_path):
    # Stored landscape (white left half), tagged "rotate 90": must come out portrait.
    image = np.zeros((180, 320, 3), np.uint8)
    image[:, :160] = 255
    path = write_clip(tmp_path / "rotated.mp4", [image] * 5)
    tag_rotation_90(path)
    _, info = open_video(path)
    frames = [f for _, _, f in read_frames(path)]
    assert (info.width, info.height) == (180, 320)
    assert frames[0].shape[:2] == (320, 180)
    # the white half is now the top (clockwise rotation of the stored picture)
    assert frames[0][:150].mean() > 200 and frames[0][170:].mean() < 50


@pytest.mark.model
def test_rotated_real_clip_gives_the_same_reps(tmp_path):
    # The bird dog clip stored on its side with rotation metadata, as a phone would save it.
    cap = cv2.VideoCapture(str(BIRD_DOG))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.rotate(frame, cv2.ROTATE_90_COUNTERCLOCKWISE))
    path = write_clip(tmp_path / "sideways.mp4", frames)
    tag_rotation_90(path)
    session = analyze(path, load_exercise("bird_dog"), tmp_path / "out", AnalyzeOptions(write_video=False))
    assert [r.side for r in session.complete_reps] == ["left", "right"]


@pytest.mark.model
def test_4k_60fps_clip_is_analysed(tmp_path):
    cap = cv2.VideoCapture(str(BIRD_DOG))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    frames = []
    for _ in range(45):  # 0.75 s at 60 fps, upscaled to 2160 x 3840 (portrait 4K)
        ok, frame = cap.read()
        frames.append(cv2.resize(frame, (2160, 3840)))
    path = write_clip(tmp_path / "4k60.mp4", frames, fps=60)
    session = analyze(path, load_exercise("bird_dog"), tmp_path / "out", AnalyzeOptions(write_video=False))
    # At most 30 analysed frames a second (framerate.py): every second frame, 0, 2, ..., 44.
    assert session.frames == 23 and session.frames_with_pose >= 20
    assert session.duration_s == pytest.approx(44 / 60, abs=0.02)
    assert session.provenance["analysed_fps"] == pytest.approx(30, abs=0.5)
    assert session.provenance["frames_skipped"] == 22 and session.provenance["recorded_fps"] == 60


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mov"
    path.write_text("meeting notes, not a video\n" * 100)
    with pytest.raises(VideoError, match="not a video"):
        open_video(path)


def test_the_annotated_videos_colours_survive_the_encoder(tmp_path):
    # The writer converts BGR to the encoder's I420 itself (OpenCV, BT.601 limited range): a
    # wrong matrix, range or channel order would tint every annotated video.
    image = np.zeros((96, 128, 3), np.uint8)
    colours = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 200, 255), (128, 128, 128), (255, 255, 255)]
    for i, colour in enumerate(colours):
        image[:, i * 16:(i + 1) * 16] = colour
    image[:, 96:] = 0
    writer = H264Writer(tmp_path / "colours.mp4", 30)
    for _ in range(5):
        writer.write(image)
    writer.close()
    frames = [frame for _, _, frame in read_frames(tmp_path / "colours.mp4")]
    assert len(frames) == 5 and frames[0].shape == image.shape
    for i, colour in enumerate([*colours, (0, 0, 0)]):
        block = frames[-1][8:-8, i * 16 + 4:(i + 1) * 16 - 4].reshape(-1, 3).mean(axis=0)
        assert np.abs(block - colour).max() < 8, (colour, block)


def test_one_decoder_thread_gives_the_same_frames():
    one = list(read_frames(BIRD_DOG, threads=1))
    default = list(read_frames(BIRD_DOG))
    assert len(one) == len(default) == 427
    for (i, t, a), (j, u, b) in zip(one[::25], default[::25]):
        assert (i, t) == (j, u) and np.array_equal(a, b)


def test_phone_sized_videos_decode_in_one_thread_larger_ones_in_ffmpegs_pool():
    assert decoder_threads(VideoInfo(1080, 1920, 30.0, 427)) == 1
    assert decoder_threads(VideoInfo(640, 360, 30.0, 427)) == 1
    assert decoder_threads(VideoInfo(3840, 2160, 60.0, 600)) == 0
