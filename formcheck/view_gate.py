"""The engine's view handling: classify the camera's view, refuse a view the exercise cannot be
measured in, and measure each signal the honest way for the view it is in (views.py).

Per frame, for each signal the exercise needs:
- its own version where that measures it true (``views.views_measuring``: a 2D angle in the
  picture's plane);
- else its 3D version from world landmarks (``world_signals.WORLD_SIGNALS``), a joint angle that
  does not depend on the camera's position;
- else NaN: not measured in this view. A rule on such a signal does not fire, and the summary says
  it was not checked (a confident wrong number is worse than none).
"""
from __future__ import annotations

import math

import numpy as np

from .signals import RELATIVE_TO_START, SIGNALS, VISIBILITY_FLOOR, Body, speed_source
from .skeleton import INDEX
from .spec import ExerciseSpec
from .types import PoseFrame
from .views import PLACEMENT_MESSAGES, ViewTracker, placement_2d, views_measuring
from .world_signals import NEEDS_FLOOR, WORLD_SIGNALS, FloorPlane

# Segments whose picture length over their world length gives the pixels per metre: the least
# foreshortened of them gives the best estimate (foreshortening only ever shortens).
_LIMB_SEGMENTS = (("shoulder", "hip"), ("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"))
_SCALE_SEGMENTS = tuple((f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in _LIMB_SEGMENTS) + (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"))
MIN_SEGMENT_M = 0.08  # shorter world segments (metres) give no usable scale


def trunk_length_px(frame: PoseFrame, body: Body) -> float:
    """The trunk's length in pixels as it would look from the side: the picture's near-side trunk,
    or, when world landmarks exist, the world trunk length times the picture's scale (pixels per
    metre from the least foreshortened segment). A supine body filmed from the feet has a short
    trunk in the picture but is not far away."""
    trunk_2d = float(np.linalg.norm(body.near("shoulder") - body.near("hip")))
    pose = frame.pose
    if pose is None or pose.world is None:
        return trunk_2d
    px = pose.image[:, :2] * np.array([frame.width, frame.height], float)
    w = pose.world
    scales = []
    for a, b in _SCALE_SEGMENTS:
        ia, ib = INDEX[a], INDEX[b]
        metres = float(np.linalg.norm(w[ia] - w[ib]))
        if min(pose.image[ia, 3], pose.image[ib, 3]) >= VISIBILITY_FLOOR and metres >= MIN_SEGMENT_M:
            scales.append(float(np.linalg.norm(px[ia] - px[ib])) / metres)
    side = body.near_side
    trunk_m = float(np.linalg.norm(w[INDEX[f"{side}_shoulder"]] - w[INDEX[f"{side}_hip"]]))
    if not scales or not math.isfinite(trunk_m):
        return trunk_2d
    estimate = max(scales) * trunk_m
    return max(trunk_2d, estimate) if math.isfinite(trunk_2d) else estimate


class ViewGate:
    """One per engine: follows the view and measures signals accordingly."""

    def __init__(self, spec: ExerciseSpec):
        self.spec = spec
        self.tracker = ViewTracker()
        self.view: str | None = None
        self.changed = False  # the view changed class on the last frame (a new camera angle)
        # Per rule signal: seconds in which it could not be measured in a view the exercise accepts.
        self.unmeasured_s: dict[str, float] = {}
        self.measured_3d_s = 0.0
        self._last_ms = math.nan
        self._frame: PoseFrame | None = None
        self.floor = FloorPlane(spec.floor_contacts)  # "up" for 3D angles against the floor

    def update(self, frame: PoseFrame, new_shot: bool = False) -> str | None:
        """Follow the view; ``new_shot``: the camera shot changed (shots.py), so the view and the
        floor are measured again from this frame on."""
        if new_shot:
            self.tracker.reset()
            self.floor = FloorPlane(self.spec.floor_contacts)
        previous = self.view
        self.view = self.tracker.update(frame.t_ms, frame.pose)
        self.changed = previous is not None and self.view is not None and self.view != previous
        if self.changed:
            self.floor = FloorPlane(self.spec.floor_contacts)  # a new camera angle: the floor moved in its axes
        self._frame = frame
        return self.view

    def placement_problem(self) -> str | None:
        """The message key ("turn_side_on", ...) when this view cannot measure the exercise."""
        if self.view is None:
            frame = self._frame
            if frame is None or frame.pose is None:
                return None
            return placement_2d(frame.pose, frame.width, frame.height, self.spec.view)
        if self.view in self.spec.views:
            return None
        preferred = self.spec.view if self.spec.view in PLACEMENT_MESSAGES else self.spec.views[0]
        return PLACEMENT_MESSAGES.get(preferred, "turn_side_on")

    def compute(self, names: list[str], body: Body | None, t_ms: float, at_rest: bool = True) -> dict[str, float]:
        """The named per-pose signals, each measured the honest way for the current view.
        ``at_rest``: no movement is under way, so the floor contacts are on the floor."""
        dt_s = (t_ms - self._last_ms) / 1000.0 if math.isfinite(self._last_ms) and t_ms > self._last_ms else 0.0
        self._last_ms = t_ms
        if body is None:
            return {name: math.nan for name in names}
        if body.world is None or self.view is None:
            # No world landmarks: the picture is all there is (the view check used the 2D width).
            return {name: float(SIGNALS[name](body)) for name in names}
        view = self.view
        up = self.floor.update(body, at_rest)
        out = {}
        used_3d = False
        for name in names:
            if view in views_measuring(name):
                out[name] = float(SIGNALS[name](body))
                continue
            out[name] = float(WORLD_SIGNALS[name](body, up)) if name in WORLD_SIGNALS else math.nan
            if math.isfinite(out[name]):
                used_3d = True
            elif name not in WORLD_SIGNALS or (name in NEEDS_FLOOR and up is None):
                # Not a landmark out of sight: this view cannot measure it at all.
                self.unmeasured_s[name] = self.unmeasured_s.get(name, 0.0) + dt_s
        if used_3d:
            self.measured_3d_s += dt_s
        return out

    def summary(self) -> dict:
        """For summary.json: seconds per view, and what was not checked because of the view."""
        rules = self.spec.rules
        not_checked = sorted({r.code for r in rules if self._unmeasured(r.signal) >= 0.5})
        return {
            "seconds": {k: round(v, 1) for k, v in sorted(self.tracker.seconds_by_view.items())},
            "measurable": list(self.spec.views),
            "measured_3d_s": round(self.measured_3d_s, 1),
            "not_checked": {code: round(max(self._unmeasured(r.signal) for r in rules if r.code == code), 1)
                            for code in not_checked},
        }

    def _unmeasured(self, signal: str) -> float:
        base = speed_source(signal) or signal
        base = RELATIVE_TO_START.get(base, base)
        return self.unmeasured_s.get(base, 0.0)

    def warnings(self) -> list[str]:
        out = []
        s = self.summary()
        if s["not_checked"]:
            titles = {r.code: (r.title or r.code) for r in self.spec.rules}
            parts = [f"{titles[c].lower()} ({t:.0f} s)" for c, t in s["not_checked"].items()]
            out.append("Not checked while the camera was at an angle that cannot measure it: "
                       + "; ".join(parts) + ". Film side-on to have these checked.")
        return out
