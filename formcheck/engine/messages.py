"""What the engine tells the patient by default; an exercise file's ``[messages]`` overrides any of them."""
from __future__ import annotations

from ..spec import ExerciseSpec

DEFAULT_MESSAGES = {
    "partial_rep": "Almost there: go a little further each time, if it is comfortable.",
    "short_hold": "Hold the top position a little longer.",
    "not_visible": "Move so that your whole body is in view.",
    "too_far": "Move closer to the camera.",
    "turn_side_on": "Turn side-on to the camera.",
    "turn_to_face": "Face the camera.",
    "lie_down": "Get into the start position on the mat to begin.",
    "stand_up": "Stand (or sit) upright to begin.",
    "someone_else": "Only you should be in view: the tracking may have jumped to someone else.",
    "view_changing": "The camera picture is changing: counting resumes when it settles.",
}


def messages_for(spec: ExerciseSpec) -> dict[str, str]:
    """The default messages with the exercise's own in their place."""
    return {**DEFAULT_MESSAGES, **spec.messages}
