"""Getting into position before a set: the expected camera view as a picture, then a 3-2-1.

Pure code (no Streamlit, no files, nothing downloaded): ``pictogram_svg`` draws a small stick
figure in the exercise's start posture, the laptop where it should stand and its field of view;
``Readiness`` decides when the set starts: once the body has been seen in the start position
(the view check passes and the engine is at rest) for ``READY_HOLD_S``, a ``COUNTDOWN_S``
countdown runs, and the set's count starts at its end. Leaving the start position during the
countdown starts the set-up again, so the set never begins with the patient half in the picture.
``setup_tip`` is the camera set-up advice in words, by the exercise's view.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# A moment of stillness in the start position: long enough that a patient passing through the
# position while lying down is not taken as ready (a transition lasts well under a second),
# short enough not to keep a patient waiting on hands and knees.
READY_HOLD_S = 1.0
COUNTDOWN_S = 3  # "3, 2, 1": the usual spoken countdown, one number a second

POSITION, COUNTDOWN, GO = "position", "countdown", "go"

# Where to put the laptop, by the exercise's camera view (``ExerciseSpec.view``).
SETUP_TIPS = {
    "side": "Put the laptop on the floor or a low table about 2 metres away, **side-on** to you, so "
            "your whole body, head to feet, is in the picture.",
    "front": "Put the laptop about 2 metres away, **facing** you, so your whole body is in the picture.",
    "any": "Put the laptop about 2 metres away so your whole body is in the picture.",
}


def setup_tip(view: str) -> str:
    """The camera set-up advice (Markdown) for an exercise's view; the general one for others."""
    return SETUP_TIPS.get(view, SETUP_TIPS["any"])


@dataclass(frozen=True)
class ReadyState:
    stage: str  # POSITION | COUNTDOWN | GO
    seconds_left: int  # during COUNTDOWN: 3, 2, 1; else 0


@dataclass
class Readiness:
    """Tracks one set's start from the page's polls (``now_s``: any monotonic clock, seconds)."""

    in_position_since: float | None = None
    go_at: float | None = None

    def update(self, in_start_position: bool, now_s: float) -> ReadyState:
        if self.go_at is not None and now_s >= self.go_at:
            return ReadyState(GO, 0)  # once started, a set stays started
        if not in_start_position:
            self.in_position_since, self.go_at = None, None
            return ReadyState(POSITION, 0)
        if self.in_position_since is None:
            self.in_position_since = now_s
        if now_s - self.in_position_since < READY_HOLD_S:
            return ReadyState(POSITION, 0)
        if self.go_at is None:
            self.go_at = now_s + COUNTDOWN_S
        return ReadyState(COUNTDOWN, max(1, math.ceil(self.go_at - now_s)))


# -- the picture ---------------------------------------------------------------------------------

# Stick figures in the start position, seen from the side, on a 200 x 100 canvas with the floor at
# y = 90: (head centre, then the joints as polylines). Drawn by hand from the exercises' start
# positions (exercises/*.toml descriptions).
_FIGURES: dict[str, tuple[tuple[float, float], list[list[tuple[float, float]]]]] = {
    # lying on the back, knees bent, feet flat
    "supine": ((28, 82), [[(36, 84), (80, 86), (105, 66), (122, 88)], [(50, 85), (70, 88)]]),
    # on hands and knees, back flat
    "quadruped": ((42, 40), [[(52, 46), (110, 48)], [(56, 47), (56, 88)], [(110, 48), (110, 88), (140, 88)]]),
    # kneeling, sitting back on the heels, arms forward (child's pose)
    "kneeling": ((60, 78), [[(68, 76), (110, 64)], [(110, 64), (100, 88), (130, 88)], [(66, 80), (30, 88)]]),
    # lying on one side, legs straight
    "side_lying": ((30, 78), [[(38, 82), (90, 84), (150, 86)], [(50, 83), (40, 70)]]),
    # standing
    "standing": ((100, 18), [[(100, 26), (100, 58)], [(100, 58), (92, 88)], [(100, 58), (108, 88)],
                             [(100, 32), (88, 50)], [(100, 32), (112, 50)]]),
}


def pictogram_svg(posture: str, view: str, width_px: int = 320) -> str:
    """An inline SVG: the body in its start position, the laptop about 2 m away and what it sees.

    ``view`` "side" puts the laptop level with the middle of the body, side-on; "front" (and
    "any") in line with it, facing; the dashed lines are the camera's field of view.
    """
    head, limbs = _FIGURES.get(posture, _FIGURES["standing"])
    xs = [x for limb in limbs for x, _ in limb] + [head[0]]
    middle = (min(xs) + max(xs)) / 2
    # The laptop: below the figure (nearer the viewer) for a side view, to its right otherwise.
    if view == "side":
        cam_x, cam_y = middle, 150
        label = "side-on, about 2 m away"
    else:
        cam_x, cam_y = 190, 80
        label = "facing you, about 2 m away"
    lines = "".join(
        f'<polyline points="{" ".join(f"{x:.0f},{y:.0f}" for x, y in limb)}" fill="none" stroke="#111" '
        f'stroke-width="5" stroke-linecap="round" stroke-linejoin="round"/>'
        for limb in limbs
    )
    cone = (f'<line x1="{cam_x:.0f}" y1="{cam_y:.0f}" x2="{min(xs) - 8:.0f}" y2="10" stroke="#0b57a4" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<line x1="{cam_x:.0f}" y1="{cam_y:.0f}" x2="{max(xs) + 8:.0f}" y2="10" stroke="#0b57a4" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>')
    laptop = (f'<rect x="{cam_x - 14:.0f}" y="{cam_y - 12:.0f}" width="28" height="16" rx="2" fill="#0b57a4"/>'
              f'<rect x="{cam_x - 18:.0f}" y="{cam_y + 4:.0f}" width="36" height="4" rx="1" fill="#0b57a4"/>'
              f'<circle cx="{cam_x:.0f}" cy="{cam_y - 4:.0f}" r="2.5" fill="#fff"/>')
    height = 175
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 220 {height}" width="{width_px}" '
            f'role="img" aria-label="Camera set-up: {label}">'
            f'<line x1="0" y1="90" x2="220" y2="90" stroke="#999" stroke-width="2"/>{cone}'
            f'<circle cx="{head[0]}" cy="{head[1]}" r="7" fill="#111"/>{lines}{laptop}'
            f'<text x="110" y="{height - 3}" text-anchor="middle" font-size="11" font-family="sans-serif" '
            f'fill="#0b57a4">Laptop {label}</text></svg>')
