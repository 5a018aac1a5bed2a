"""Live-session test helpers: a clock the test moves, a real clip as camera frames, a backend
replaying a trace's poses, and the offline result of the same images (live = offline checks)."""
from __future__ import annotations

import cv2

from formcheck.backends import make_backend
from formcheck.pipeline import Pipeline
from tests.support.paths import VIDEOS


class VideoClock:
    """A monotonic clock the test moves: seconds."""

    def __init__(self, start: float = 100.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def clip_frames(name: str):
    """(t_ms, BGR frame) of a fixture clip, with the container's timestamps."""
    cap = cv2.VideoCapture(str(VIDEOS / name))
    assert cap.isOpened(), name
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield float(cap.get(cv2.CAP_PROP_POS_MSEC)), frame
    finally:
        cap.release()


def analyzed(spec, images, step_ms: float):
    """The SessionResult of ``images`` (BGR, one every ``step_ms``) through the offline path."""
    offline = Pipeline(spec, backend=make_backend("mediapipe", segmentation=spec.needs_back_outline),
                       record_trace=False)
    for i, image in enumerate(images):
        offline.process_image(image, i * step_ms)
    offline.backend.close()
    return offline.finish()


class ScriptedBackend:
    """The poses of a landmark trace, one per frame, whatever the frame shows."""

    name = "scripted"
    description = "poses replayed from a trace"

    def __init__(self, poses):
        self.poses = dict(poses)  # t_ms -> Pose

    def detect(self, frame_bgr, t_ms):
        return self.poses.get(t_ms)

    def close(self):
        pass
