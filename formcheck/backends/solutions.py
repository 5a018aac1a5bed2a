"""Default backend: MediaPipe's bundled BlazePose full model (``mediapipe.solutions.pose``).

mediapipe 0.10.21 ships the weights of ``model_complexity=1`` inside its wheel; 0 and 2 would
be downloaded at first use, which an air-gapped machine cannot do, so they are not offered.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import cv2
import numpy as np

from ..silhouette import back_contour, trunk_ends_px, ventral_normal
from ..types import Pose
from . import BackendError, mediapipe_version

# The bundled weights (see above). Landmark smoothing off: the engine smooths its angles itself,
# with known lag, so the same trace gives the same result whether it came from video or from a replay.
MODEL_COMPLEXITY = 1
SMOOTH_LANDMARKS = False


class SolutionsBackend:
    name = "mediapipe"

    def __init__(self, static_images: bool = False, segmentation: bool = True):
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:  # pragma: no cover - broken install
            raise BackendError(f"mediapipe is not installed correctly: {exc}") from None
        self.segmentation = segmentation
        self.static_images = static_images
        self._mp_pose = mp_pose
        self._pose: Any = None  # a mediapipe Pose graph (mediapipe ships no types); None once closed
        self._frame_size: tuple[int, int] | None = None
        self._open_graph()  # here, not at the first frame: a broken install fails at once
        self.description = (f"mediapipe {mediapipe_version()} solutions.pose model_complexity={MODEL_COMPLEXITY} "
                            f"{'static' if static_images else 'video'} mode, smooth_landmarks={SMOOTH_LANDMARKS}")

    def _open_graph(self) -> None:
        # Opening logs the graph's start-up chatter, and so does its first frame.
        with quiet_native_stderr():
            self._pose = self._mp_pose.Pose(
                static_image_mode=self.static_images,
                model_complexity=MODEL_COMPLEXITY,
                smooth_landmarks=SMOOTH_LANDMARKS,
                enable_segmentation=self.segmentation,
                smooth_segmentation=True,
            )

    def detect(self, frame_bgr: np.ndarray, t_ms: float) -> Pose | None:
        return self.infer(frame_bgr, t_ms).pose()

    def infer(self, frame_bgr: np.ndarray, t_ms: float) -> SolutionsResult:
        """The model alone on one BGR frame; ``.pose()`` of the answer does the rest (see
        backends.infer), in any thread: it reads only the answer, never the graph."""
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        size = (rgb.shape[0], rgb.shape[1])
        if size != self._frame_size:
            if self._frame_size is not None:
                # A webcam can change resolution mid-stream (WebRTC adapts it to the load); the
                # graph's mask smoothing would then fail on every frame: a new graph, new size.
                self.close()
                self._open_graph()
            self._frame_size = size
            with quiet_native_stderr():
                result = self._pose.process(rgb)
        else:
            result = self._pose.process(rgb)
        return SolutionsResult(result, self.segmentation)

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None


class SolutionsResult:
    """One frame's answer from the graph, made into a Pose on demand (``pose()``).

    The answer's landmarks are Python objects and its mask a read-only view of an output packet,
    which MediaPipe never reuses and the view keeps alive: both stay valid while the graph goes
    on to the next frames.
    """

    def __init__(self, result: Any, segmentation: bool):
        self._result = result
        self._segmentation = segmentation

    def pose(self) -> Pose | None:
        result = self._result
        if result.pose_landmarks is None:
            return None
        image = np.array([[p.x, p.y, p.z, p.visibility] for p in result.pose_landmarks.landmark], float)
        world = None
        if result.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], float)
        contour = None
        if self._segmentation and result.segmentation_mask is not None:
            contour = contour_from_mask(result.segmentation_mask, image)
        return Pose(image=image, world=world, back_contour=contour)


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence MediaPipe's C++ start-up log lines, which would bury the messages users should read.

    They are written by native code straight to file descriptor 2, so redirect the descriptor.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def contour_from_mask(mask: np.ndarray, image: np.ndarray) -> np.ndarray | None:
    """Back contour (normalized points) from a mask and the landmarks of the same frame; None
    when the trunk is not visible or the landmarks cannot tell the back from the belly."""
    h, w = mask.shape[:2]
    ends = trunk_ends_px(image, w, h)
    if ends is None:
        return None
    hip, shoulder = ends
    ventral = ventral_normal(image, w, h, hip, shoulder)
    if ventral is None:
        return None
    return back_contour(mask, hip, shoulder, ventral)
