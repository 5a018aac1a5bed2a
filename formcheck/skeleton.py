"""BlazePose-33 landmark names and indices, and left/right helpers (which side faces the camera)."""
from __future__ import annotations

import numpy as np

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}
SIDES = ("left", "right")
FIRST_BODY_LANDMARK = INDEX["left_shoulder"]  # the landmarks before it are the face's
# A landmark whose visibility is below this is missing (signals.py: and so is every signal that
# needs it, NaN, never 0). MediaPipe's own threshold for drawing a landmark.
VISIBILITY_FLOOR = 0.5

# Bones drawn by the overlay (pairs of landmark names).
BONES: tuple[tuple[str, str], ...] = tuple(
    (f"{s}_{a}", f"{s}_{b}")
    for s in SIDES
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("shoulder", "hip"), ("hip", "knee"),
                 ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"))
) + (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_ear", "left_shoulder"),
     ("right_ear", "right_shoulder"))


def other_side(side: str) -> str:
    if side not in SIDES:
        raise ValueError(f"Unknown side {side!r}, expected one of {SIDES}")
    return "right" if side == "left" else "left"


# The side facing the camera is the one the model sees better over the whole length of the body:
# shoulder, hip, knee and ankle (the sum of their visibilities). The back's outline once chose by
# the shoulder and hip alone, and where the two choices disagreed the outline and the angles were
# read off opposite sides of the body.
NEAR_SIDE_PARTS = ("shoulder", "hip", "knee", "ankle")


def near_side(image: np.ndarray) -> str:
    """"left" or "right": the side facing the camera, whose NEAR_SIDE_PARTS have the larger summed
    visibility (left on a tie). image: (33, 4) normalized landmarks with visibility. The one
    definition, used by the signals (signals.Body.near_side) and the back outline (silhouette.py)."""
    visibility = np.asarray(image, float)[:, 3]
    left = visibility[[INDEX[f"left_{part}"] for part in NEAR_SIDE_PARTS]].sum()
    right = visibility[[INDEX[f"right_{part}"] for part in NEAR_SIDE_PARTS]].sum()
    return "left" if left >= right else "right"


def index_of(name: str) -> int:
    """Index of a landmark by its full name ("left_hip")."""
    try:
        return INDEX[name]
    except KeyError:
        raise ValueError(f"Unknown landmark {name!r}, expected one of {sorted(INDEX)}") from None
