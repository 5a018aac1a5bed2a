"""The exercise engine: interprets one ExerciseSpec frame by frame (see core.py)."""
from .core import DEFAULT_MESSAGES, ExerciseEngine

__all__ = ["DEFAULT_MESSAGES", "ExerciseEngine"]
