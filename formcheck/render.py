"""Draws a FrameResult onto a BGR frame: skeleton, the rep angle with its target zone, the rep
counter, the phase and the form cues. No logic: everything shown comes from the FrameResult.

Cues must be readable from two metres on a laptop: large white text on a solid red or amber
band across the bottom, scaled to the frame size.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .skeleton import BONES, FIRST_BODY_LANDMARK, INDEX, VISIBILITY_FLOOR
from .spec import ExerciseSpec
from .types import FrameResult

# The engine's phases in the patient's words (the overlay and the live panel).
PHASE_WORDS = {
    "waiting": "Waiting for the camera",
    "setup": "Getting into position",
    "rest": "Starting position",
    "rising": "Moving",
    "top": "Hold",
    "lowering": "Coming back",
}

GREEN = (80, 200, 80)
AMBER = (0, 170, 255)
RED = (40, 40, 220)
WHITE = (255, 255, 255)
DARK = (30, 30, 30)


def draw(frame: np.ndarray, result: FrameResult, spec: ExerciseSpec, fps: float | None = None,
         plain: bool = False) -> np.ndarray:
    """Return the frame with the overlay drawn on it (the input is modified in place too).

    ``plain`` is the patient's live view: the count and what to do now in plain words, large,
    with the gauge but no angle names, degrees or frame rates (the clinician's annotated video
    keeps them).
    """
    h, w = frame.shape[:2]
    # Text scales with the frame's short side, so a portrait phone clip keeps its panel inside.
    scale = max(0.45, min(h, w) / 540.0)
    if result.pose is not None:
        _draw_skeleton(frame, result, scale)
    if plain:
        _draw_plain_panel(frame, result, spec, scale)
    else:
        _draw_panel(frame, result, spec, scale, fps)
    message = result.cues[0] if result.cues else ("" if result.view_ok else result.view_message)
    if message:
        colour = RED if result.cues else AMBER
        _draw_banner(frame, message, colour, scale)
    return frame


def _draw_skeleton(frame: np.ndarray, result: FrameResult, scale: float) -> None:
    h, w = frame.shape[:2]
    pose = result.pose
    assert pose is not None, "drawn only when a pose was found"
    image = pose.image
    colour = RED if result.active_flags else GREEN
    thickness = max(2, int(3 * scale))
    for a, b in BONES:
        pa, pb = image[INDEX[a]], image[INDEX[b]]
        if min(pa[3], pb[3]) < VISIBILITY_FLOOR:
            continue
        cv2.line(frame, (int(pa[0] * w), int(pa[1] * h)), (int(pb[0] * w), int(pb[1] * h)), colour, thickness,
                 cv2.LINE_AA)
    for x, y, _, vis in image[FIRST_BODY_LANDMARK:]:
        if vis >= VISIBILITY_FLOOR:
            cv2.circle(frame, (int(x * w), int(y * h)), thickness + 1, WHITE, -1, cv2.LINE_AA)
    if pose.back_contour is not None:
        pts = (pose.back_contour * np.array([w, h])).astype(np.int32)
        cv2.polylines(frame, [pts], False, AMBER, max(1, thickness - 1), cv2.LINE_AA)


def _draw_panel(frame: np.ndarray, result: FrameResult, spec: ExerciseSpec, scale: float, fps: float | None) -> None:
    side_counts = "  ".join(f"{s[0].upper()}:{n}" for s, n in result.rep_count_by_side.items())
    lines = [f"Reps {result.rep_count}" + (f"  ({side_counts})" if side_counts else "")]
    angle_name, value = _rep_angle(result, spec)
    if math.isfinite(value):
        lines.append(f"{angle_name} {value:.0f} deg")
    lines.append(f"{result.phase}" + (f"   {fps:.0f} fps" if fps else ""))
    font_scale = 0.7 * scale
    line_h = int(32 * scale)
    box_h = line_h * len(lines) + int(12 * scale)
    box_w = int(max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)[0][0] for t in lines) + 20 * scale)
    _shade(frame, box_w, box_h, 0.6, 0.4)
    for i, text in enumerate(lines):
        cv2.putText(frame, text, (int(10 * scale), line_h * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, WHITE,
                    max(1, int(2 * scale)), cv2.LINE_AA)
    _draw_gauge(frame, value, spec, scale, box_h)


def _draw_plain_panel(frame: np.ndarray, result: FrameResult, spec: ExerciseSpec, scale: float) -> None:
    """The patient's panel: "3 reps" in large type and the phase in words, over the gauge."""
    sides = "   ".join(f"{s.capitalize()} {n}" for s, n in result.rep_count_by_side.items())
    lines = [(f"{result.rep_count} {'rep' if result.rep_count == 1 else 'reps'}", 1.6 * scale),
             (PHASE_WORDS.get(result.phase, result.phase), 0.95 * scale)]
    if sides:
        lines.insert(1, (sides, 0.95 * scale))
    thickness = [max(2, int(2.2 * fs)) for _, fs in lines]
    heights = [int(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, th)[0][1] * 1.6)
               for (t, fs), th in zip(lines, thickness)]
    box_w = int(max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, th)[0][0] for (t, fs), th in zip(lines, thickness))
                + 24 * scale)
    box_h = sum(heights) + int(14 * scale)
    _shade(frame, box_w, box_h, 0.65, 0.35)
    y = 0
    for (text, fs), th, lh in zip(lines, thickness, heights):
        y += lh
        cv2.putText(frame, text, (int(12 * scale), y - int(lh * 0.2)), cv2.FONT_HERSHEY_SIMPLEX, fs, WHITE, th,
                    cv2.LINE_AA)
    _angle_name, value = _rep_angle(result, spec)
    _draw_gauge(frame, value, spec, scale, box_h)


def _shade(frame: np.ndarray, box_w: int, box_h: int, dark: float, picture: float) -> None:
    """Darken the panel's box (top left, box_w x box_h pixels, edges included) in place: DARK
    and the picture mixed with these weights. Only the box is blended: a copy and a blend of the
    whole frame cost three times as much and leave the pixels outside it as they were."""
    box = frame[:box_h + 1, :box_w + 1]  # cv2.rectangle's corners are inclusive
    cv2.addWeighted(np.full(box.shape, DARK, np.uint8), dark, box, picture, 0, box)


def _draw_gauge(frame: np.ndarray, value: float, spec: ExerciseSpec, scale: float, top: int) -> None:
    """A vertical bar: grey range, green target zone (at or beyond top_deg), white marker for now."""
    h = frame.shape[0]
    x0, x1 = int(10 * scale), int(34 * scale)
    y0, y1 = top + int(12 * scale), min(h - int(90 * scale), top + int(260 * scale))
    if y1 - y0 < 40:
        return
    lo, hi = sorted((spec.rep.rest_deg, spec.rep.top_deg))
    span = hi - lo
    lo, hi = lo - 0.5 * span, hi + 0.3 * span

    def y_of(v: float) -> int:
        frac = (v - lo) / (hi - lo)
        return int(y1 - np.clip(frac, 0, 1) * (y1 - y0))

    cv2.rectangle(frame, (x0, y0), (x1, y1), (90, 90, 90), -1)
    target_lo, target_hi = (spec.rep.top_deg, hi) if spec.rep.rising else (lo, spec.rep.top_deg)
    cv2.rectangle(frame, (x0, y_of(target_hi)), (x1, y_of(target_lo)), GREEN, -1)
    if math.isfinite(value):
        y = y_of(value)
        cv2.rectangle(frame, (x0 - 4, y - 3), (x1 + 4, y + 3), WHITE, -1)


def _draw_banner(frame: np.ndarray, text: str, colour: tuple[int, int, int], scale: float) -> None:
    h, w = frame.shape[:2]
    font_scale = 1.0 * scale
    thickness = max(2, int(2.5 * scale))
    words, lines, current = text.split(), [], ""
    for word in words:  # wrap to the frame width
        trial = f"{current} {word}".strip()
        if cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)[0][0] > w - 30 * scale and current:
            lines.append(current)
            current = word
        else:
            current = trial
    lines.append(current)
    line_h = int(44 * scale)
    band_h = line_h * len(lines) + int(20 * scale)
    cv2.rectangle(frame, (0, h - band_h), (w, h), colour, -1)
    for i, line in enumerate(lines):
        cv2.putText(frame, line, (int(15 * scale), h - band_h + line_h * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, WHITE, thickness, cv2.LINE_AA)


def _rep_angle(result: FrameResult, spec: ExerciseSpec) -> tuple[str, float]:
    """The rep signal to show; for sided exercises the side that is moving most."""
    best_name, best = "", math.nan
    for side in spec.rep.sides or ("",):
        name = spec.rep.signal_for(side)
        value = result.signals.get(name, math.nan)
        if math.isfinite(value) and not (math.isfinite(best) and (best >= value) == spec.rep.rising):
            best_name, best = name, value
    label = best_name.replace("_deg", "").replace("_pct", " %").replace("_", " ").capitalize() if best_name else "Angle"
    return label, best
