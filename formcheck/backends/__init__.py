"""Pose backends: turn a video frame into a Pose, behind one small interface.

Only the modules in this package import mediapipe. ``make_backend(name)`` is the registry;
the replay source (``backends/replay.py``: recorded landmark traces) needs no backend at all.
Each backend's ``description`` names its model, the installed mediapipe's version and its
settings, built from the values it runs with, and is what the summary's provenance records.

``infer(backend, frame, t_ms)`` splits ``detect`` in two for the offline analysis: the model
now, the rest (its output turned into a Pose, the back's outline from the mask) when
``.pose()`` is called, in another thread, while the model runs on the next frame. The model
is the one stage that cannot run ahead (each frame starts from the previous frame's landmarks),
so it is the stage that must do nothing else. Same inputs, same Pose.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Protocol

import numpy as np

from ..types import Pose


class BackendError(RuntimeError):
    """The pose model cannot be used (bad model file, missing package); the message says why."""


class PoseBackend(Protocol):
    name: str
    description: str  # model and settings, for the report's provenance

    def detect(self, frame_bgr: np.ndarray, t_ms: float) -> Pose | None:
        """Pose of the most prominent person in a BGR frame at time t_ms (increasing), or None."""

    def close(self) -> None:
        ...


class PendingPose(Protocol):
    def pose(self) -> Pose | None:
        """The Pose (or None) that ``detect`` would have returned for the same frame."""


@dataclass(frozen=True)
class ReadyPose:
    """A pose already made: ``infer`` with a backend that only offers ``detect``."""

    value: Pose | None

    def pose(self) -> Pose | None:
        return self.value


def infer(backend: PoseBackend, frame_bgr: np.ndarray, t_ms: float) -> PendingPose:
    """Run the backend's model on a frame; ``.pose()`` of the answer finishes what ``detect``
    would have done (see the module docstring). A backend that can split the two has an
    ``infer(frame_bgr, t_ms)`` method; any other does all of it in ``detect``, here."""
    staged = getattr(backend, "infer", None)
    if staged is not None:
        return staged(frame_bgr, t_ms)
    return ReadyPose(backend.detect(frame_bgr, t_ms))


BACKENDS = ("mediapipe", "tasks")


def mediapipe_version() -> str:
    """The installed mediapipe's version (as its package records it), for the descriptions."""
    try:
        return metadata.version("mediapipe")
    except metadata.PackageNotFoundError:  # pragma: no cover - broken install
        return "(version unknown)"


def make_backend(name: str = "mediapipe", *, model_path: str | None = None, static_images: bool = False,
                 segmentation: bool = True) -> PoseBackend:
    """Create a backend by name: "mediapipe" (bundled model, default) or "tasks" (needs model_path)."""
    if name == "mediapipe":
        from .solutions import SolutionsBackend
        return SolutionsBackend(static_images=static_images, segmentation=segmentation)
    if name == "tasks":
        from .tasks import TasksBackend
        return TasksBackend(model_path, segmentation=segmentation)
    raise BackendError(f"Unknown pose backend {name!r}, expected one of {', '.join(BACKENDS)}")
