"""The red-flag symptoms of the pre-exercise safety check: one list, every wording of it.

Adding a symptom is one edit here: the store accepts its code, the patient's page asks its
question, the clinician's pages and the printable report show its label. Codes are stored in
the database and in ``.formcheck`` bundles: never rename one (a new wording goes in ``label`` or
``question``); a retired symptom stays listed so old records still read.

Any "yes" stops the session: the patient is told to stop and contact their doctor
(``STOP_MESSAGE``), and the stop holds for the day until a clinician releases it
(``formcheck.clinic.safety``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedFlag:
    code: str  # stable, stored
    label: str  # the clinician's wording (review, report, overview)
    question: str  # what the patient is asked (yes / no)


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag("severe_or_worsening_pain", "Severe or worsening pain",
            "Severe pain, or pain that is getting worse?"),
    RedFlag("fever_or_chills", "Fever or chills", "Fever or chills?"),
    RedFlag("wound_redness_or_drainage", "Wound redness, warmth, swelling or drainage",
            "Redness, warmth, swelling or fluid (drainage) at your wound?"),
    RedFlag("new_numbness_tingling_or_weakness", "New numbness, tingling or weakness in the legs or feet",
            "New numbness, tingling or weakness in your legs or feet?"),
    RedFlag("bladder_or_bowel_change", "Change in bladder or bowel control",
            "Any change in bladder or bowel control?"),
    RedFlag("breathing_or_chest_problem", "Trouble breathing or chest pain",
            "Trouble breathing, or chest pain?"),
)

# code -> the clinician's wording, in the checklist's order.
RED_FLAG_SYMPTOMS: dict[str, str] = {flag.code: flag.label for flag in RED_FLAGS}

# stopped: at least one "yes", no exercise that day; cleared: all "no".
CHECK_OUTCOMES = ("stopped", "cleared")
OUTCOME_WORDS = {
    "stopped": "Red flag: told not to exercise and to contact their doctor",
    "cleared": "No red flags",
}

STOP_MESSAGE = (
    "**Please stop: do not exercise today.** Contact your doctor or your surgeon's office today "
    "and tell them about this symptom. If it is severe or sudden (for example loss of bladder or "
    "bowel control, numbness between your legs, chest pain or trouble breathing), call your "
    "emergency number now."
)


def symptom_label(code: str) -> str:
    """A symptom code in the clinician's words (an unknown code, e.g. from a newer formcheck, as is)."""
    return RED_FLAG_SYMPTOMS.get(code, code.replace("_", " ").capitalize())

