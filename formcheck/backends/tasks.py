"""Optional backend: MediaPipe Tasks ``PoseLandmarker`` with a user-supplied ``.task`` model file.

The lite, full and heavy models are downloaded once by the user (or their IT department) and
given by path; nothing is fetched here. A missing or wrong file is a clear BackendError.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..types import Pose
from . import BackendError, mediapipe_version
from .solutions import contour_from_mask


class TasksBackend:
    name = "tasks"

    def __init__(self, model_path: str | None, segmentation: bool = True):
        if not model_path:
            raise BackendError("The 'tasks' backend needs a model file: pass --model PATH/pose_landmarker_full.task")
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"Pose model file not found: {path}")
        data = path.read_bytes()
        # A .task file is a zip bundle; anything else (an HTML error page saved by a browser,
        # a truncated download) would crash deep inside MediaPipe, so check first.
        if not data.startswith(b"PK"):
            raise BackendError(f"{path} is not a MediaPipe .task model bundle")
        try:
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode
        except ImportError as exc:  # pragma: no cover
            raise BackendError(f"mediapipe tasks API unavailable: {exc}") from None
        options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=data),
            running_mode=RunningMode.VIDEO,
            num_poses=1,
            output_segmentation_masks=segmentation,
        )
        try:
            self._landmarker = PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"{path} could not be loaded as a pose landmarker model: {exc}") from None
        self.segmentation = segmentation
        self.description = f"mediapipe {mediapipe_version()} tasks PoseLandmarker {path.name}"
        self._last_ms = -1

    def detect(self, frame_bgr: np.ndarray, t_ms: float) -> Pose | None:
        import cv2
        import mediapipe as mp

        # The Tasks API insists on strictly increasing integer timestamps.
        ts = max(int(t_ms), self._last_ms + 1)
        self._last_ms = ts
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        result = self._landmarker.detect_for_video(image, ts)
        if not result.pose_landmarks:
            return None
        lms = result.pose_landmarks[0]
        image_arr = np.array([[p.x, p.y, p.z, p.visibility if p.visibility is not None else 0.0] for p in lms], float)
        world = None
        if result.pose_world_landmarks:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[0]], float)
        contour = None
        if self.segmentation and result.segmentation_masks:
            contour = contour_from_mask(result.segmentation_masks[0].numpy_view(), image_arr)
        return Pose(image=image_arr, world=world, back_contour=contour)

    def close(self) -> None:
        self._landmarker.close()
