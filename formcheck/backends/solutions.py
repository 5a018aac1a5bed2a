"""Default backend: MediaPipe's bundled BlazePose full model (``mediapipe.solutions.pose``).

mediapipe 0.10.21 ships the weights of ``model_complexity=1`` inside its wheel; 0 and 2 would
be downloaded at first use, which an air-gapped machine cannot do, so they are not offered.
"""
from __future__ import annotations

import contextlib
import os
import sys

import cv2
import numpy as np

from ..silhouette import back_contour
from ..types import Pose
from . import BackendError


class SolutionsBackend:
    name = "mediapipe"

    def __init__(self, static_images: bool = False, segmentation: bool = True):
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:  # pragma: no cover - broken install
            raise BackendError(f"mediapipe is not installed correctly: {exc}") from None
        self.segmentation = segmentation
        self._first_frame = True
        # Landmark smoothing off: the engine smooths its angles itself, with known lag, so the
        # same trace gives the same result whether it came from video or from a replay.
        with quiet_native_stderr():
            self._pose = mp_pose.Pose(
                static_image_mode=static_images,
                model_complexity=1,
                smooth_landmarks=False,
                enable_segmentation=segmentation,
                smooth_segmentation=True,
            )
        self.description = (f"mediapipe 0.10.21 solutions.pose model_complexity=1 "
                            f"{'static' if static_images else 'video'} mode, smooth_landmarks=False")

    def detect(self, frame_bgr: np.ndarray, t_ms: float) -> Pose | None:
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        if self._first_frame:  # the graph logs its start-up chatter on the first frame
            self._first_frame = False
            with quiet_native_stderr():
                result = self._pose.process(rgb)
        else:
            result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return None
        image = np.array([[p.x, p.y, p.z, p.visibility] for p in result.pose_landmarks.landmark], float)
        world = None
        if result.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], float)
        contour = None
        if self.segmentation and result.segmentation_mask is not None:
            contour = contour_from_mask(result.segmentation_mask, image)
        return Pose(image=image, world=world, back_contour=contour)

    def close(self) -> None:
        self._pose.close()


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
    """Back contour (normalized points) from a mask and the landmarks of the same frame."""
    h, w = mask.shape[:2]
    scale = np.array([w, h], float)
    vis = image[:, 3]
    side = "left" if vis[[11, 23]].sum() >= vis[[12, 24]].sum() else "right"
    shoulder_i, hip_i = (11, 23) if side == "left" else (12, 24)
    if min(vis[shoulder_i], vis[hip_i]) < 0.5:
        return None
    knees = image[[25, 26], :2].mean(axis=0) * scale
    return back_contour(mask, image[hip_i, :2] * scale, image[shoulder_i, :2] * scale, knees)
