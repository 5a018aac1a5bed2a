"""The exercise engine: interprets one ExerciseSpec frame by frame, poses in, FrameResults out.

What lives where:
- core.py: ``ExerciseEngine`` itself, the per-frame order of the stages and the SessionResult;
- view.py: shot changes and person switches, the camera roll, the view, "in position or not";
- filters.py: the filters handed to the engine (``SignalFilters``, ``STANDARD_FILTERS``) and speeds;
- baselines.py: signals relative to the start posture, rolling rest levels, the noise estimate;
- rules.py: form rules debounced into flags, the reps' flags, the session's warnings;
- messages.py: the default messages to the patient.

Below it (never importing it): signals.py, views.py, view_gate.py, shots.py, reps.py, smoothing.py.
"""
from .core import ExerciseEngine
from .filters import STANDARD_FILTERS, SignalFilters
from .messages import DEFAULT_MESSAGES

__all__ = ["DEFAULT_MESSAGES", "STANDARD_FILTERS", "ExerciseEngine", "SignalFilters"]
