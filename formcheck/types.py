"""The data that flows between pipeline stages.

frames -> Pose (backends) -> signals (dict of floats) -> FrameResult (engine) -> SessionResult

Conventions, written down once:
- time is in milliseconds (``t_ms``) inside the pipeline and in seconds (``*_s``) in reports;
- ``Pose.image`` holds the 33 BlazePose landmarks as (x, y, z, visibility): x, y in normalized
  image coordinates (0-1, x right, y down), z MediaPipe's relative depth, visibility 0-1;
- ``Pose.world`` holds the same landmarks in metres, origin between the hips (MediaPipe's
  world landmarks), or is None when the source has none;
- angles are in degrees; a missing measurement is ``nan``, never 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .measurement import MEASURED, Measurement

N_LANDMARKS = 33


@dataclass(frozen=True)
class Pose:
    """One detected person in one frame."""

    image: np.ndarray  # (33, 4) float: x, y (normalized), z, visibility
    world: np.ndarray | None = None  # (33, 3) float, metres
    # Back contour from the person segmentation mask: (K, 2) normalized image points along the
    # dorsal edge of the trunk from hip to shoulder, or None (no mask, or trunk not visible).
    back_contour: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.image.shape != (N_LANDMARKS, 4):
            raise ValueError(f"Pose.image must be (33, 4), got {self.image.shape}")
        if self.world is not None and self.world.shape != (N_LANDMARKS, 3):
            raise ValueError(f"Pose.world must be (33, 3), got {self.world.shape}")
        if self.back_contour is not None and (self.back_contour.ndim != 2 or self.back_contour.shape[1] != 2):
            raise ValueError(f"Pose.back_contour must be (K, 2), got {self.back_contour.shape}")


@dataclass(frozen=True)
class PoseFrame:
    """What a pose source yields per frame: the time, the frame size and the pose (None: nobody found)."""

    index: int
    t_ms: float
    width: int  # pixels
    height: int  # pixels
    pose: Pose | None


@dataclass(frozen=True)
class Flag:
    """A form problem that lasted at least its rule's debounce time."""

    code: str  # e.g. "spinal_flexion"
    severity: str  # "info" | "warning" | "danger"
    start_s: float
    end_s: float
    message: str  # what the patient reads
    peak_value: float = float("nan")  # the worst value of the rule's signal during the flag
    rep_index: int | None = None  # 1-based rep the flag fell in, if any

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "message": self.message,
            "peak_value": _round_or_none(self.peak_value),
            "rep_index": self.rep_index,
        }


@dataclass(frozen=True)
class Rep:
    """One repetition (or one hold, for hold exercises)."""

    index: int  # 1-based among complete reps; partial reps are numbered on their own
    side: str  # "left" | "right" | "" (exercises without sides)
    start_s: float
    peak_s: float
    end_s: float
    peak_deg: float  # the rep signal at its peak (degrees)
    rom_deg: float  # range of motion: peak minus the lower of the start and end values (degrees)
    hold_s: float  # time spent within the top zone (seconds)
    complete: bool  # reached the target and came back; False: a partial rep
    flags: tuple[str, ...] = ()  # codes of the flags raised during this rep
    # The signal's opposite extreme from this rep's start until the next rep starts (degrees): for
    # cat-cow, the extension (cow) that follows the flexion (cat); None until the session ends.
    low_deg: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "side": self.side,
            "start_s": round(self.start_s, 3),
            "peak_s": round(self.peak_s, 3),
            "end_s": round(self.end_s, 3),
            "duration_s": round(self.duration_s, 3),
            "peak_deg": _round_or_none(self.peak_deg),
            "rom_deg": _round_or_none(self.rom_deg),
            "hold_s": round(self.hold_s, 3),
            "low_deg": _round_or_none(self.low_deg),
            "complete": self.complete,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class FrameResult:
    """Everything the engine knows after one frame; what the overlay, the live UI and frames.csv show."""

    index: int
    t_ms: float
    pose: Pose | None
    view_ok: bool  # the body is in view as the exercise needs it
    view_message: str  # what to change when view_ok is False ("Move back so your whole body is in view")
    signals: dict[str, float]  # smoothed signals (degrees unless the name says otherwise)
    phase: str  # rep state machine phase: "setup" | "rest" | "rising" | "top" | "lowering"
    rep_count: int  # complete reps so far (SessionResult.reps is the list of the reps themselves)
    rep_count_by_side: dict[str, int]  # complete reps so far per side, for a two-sided exercise
    partial_rep_count: int  # partial reps so far
    active_flags: tuple[str, ...]  # codes of the rules firing now (after debounce)
    cues: tuple[str, ...]  # patient messages of the active flags
    new_rep: Rep | None = None  # set on the frame a rep was completed or abandoned


@dataclass
class SessionResult:
    """The outcome of one analysed recording or live session."""

    exercise: str
    exercise_title: str
    spec_version: str
    duration_s: float
    frames: int
    frames_with_pose: int
    reps: list[Rep] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)  # model, filters, spec file, versions
    kind: str = "reps"  # "reps" | "hold" | "steps" (see spec.RepSpec.kind)
    shot_changes_s: list[float] = field(default_factory=list)  # camera shot changes (cuts, dissolves, cards)
    # The camera's views (view_gate.ViewGate.summary): seconds per view, the views the exercise can
    # be measured in, seconds measured from 3D landmarks, and the rules not checked in some view.
    views: dict = field(default_factory=dict)
    # Could this recording measure the exercise at all (measurement.py)? A 0 means "no rep" only when measured.
    measurement: Measurement = field(default_factory=lambda: Measurement(MEASURED))

    @property
    def complete_reps(self) -> list[Rep]:
        return [r for r in self.reps if r.complete]

    @property
    def partial_reps(self) -> list[Rep]:
        return [r for r in self.reps if not r.complete]

    def to_dict(self) -> dict:
        by_side: dict[str, int] = {}
        for rep in self.complete_reps:
            if rep.side:
                by_side[rep.side] = by_side.get(rep.side, 0) + 1
        complete = self.complete_reps
        extra: dict = {}
        if self.kind == "hold":
            extra["holds"] = len(complete)
            extra["total_hold_s"] = round(sum(r.hold_s for r in self.reps), 3)
            extra["deepest_deg"] = _round_or_none(max((r.peak_deg for r in self.reps), default=float("nan")))
        if self.kind == "steps":
            walking_s = (complete[-1].end_s - complete[0].start_s) if complete else 0.0
            extra["steps"] = len(complete)
            extra["walking_time_s"] = round(walking_s, 3)
            extra["cadence_steps_per_min"] = round(60.0 * len(complete) / walking_s, 1) if walking_s > 0 else None
        return {
            "exercise": self.exercise,
            "exercise_title": self.exercise_title,
            "spec_version": self.spec_version,
            "kind": self.kind,
            **extra,
            "reps": len(self.complete_reps),
            "reps_by_side": by_side,
            "partial_reps": len(self.partial_reps),
            "duration_s": round(self.duration_s, 3),
            "frames": self.frames,
            "frames_with_pose": self.frames_with_pose,
            "rep_details": [r.to_dict() for r in self.complete_reps],
            "partial_rep_details": [r.to_dict() for r in self.partial_reps],
            "flags": [f.to_dict() for f in self.flags],
            "warnings": list(self.warnings),
            "shot_changes_s": [round(t, 3) for t in self.shot_changes_s],
            "views": self.views,
            "measurement": self.measurement.to_dict(),
            "provenance": self.provenance,
        }


def _round_or_none(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)
