"""The set under way, as the live page runs it, from today's step of a prescription.

Where the patient is today (``todays_plan``, on the local day) is ``clinic.prescription``'s; this
turns its step into the live page's ``coaching.SetPlan``. Pure, no Streamlit.
"""
from __future__ import annotations

from ..live.coaching import SetPlan
from .prescription import PlanStep


def set_plan(step: PlanStep) -> SetPlan:
    """The set the step asks for: its reps, the rest after it, whether another set follows today."""
    assert step.exercise is not None, "no set to do: done for today"
    return SetPlan(reps=step.exercise.reps, rest_s=step.exercise.rest_s,
                   more_sets=step.set_number < step.exercise.sets,
                   label=f"Set {step.set_number} of {step.exercise.sets}")
