"""The clinic's rules, apart from any screen or database.

* ``red_flags``: the one red-flag checklist (codes, the clinician's labels, the patient's
  questions, the outcome words, the stop message). Pure data; the store validates against it.
* ``safety``: the day's gate from the stored checks (ask, stopped, cleared), and ``TabChecks``,
  the checks answered in one browser tab (one per set of answers, a lock, the retry queue).
* ``advice``: what the patient is told around a session (the clearance note, the pain
  thresholds ``HIGH_PAIN_BEFORE`` and ``PAIN_RISE`` and their advice).
* ``prescription``: what the clinician prescribes (exercises, sets, reps, form limits, and their
  defaults), today's plan and adherence on the patient's local day; pure, but for
  ``save_prescription``, which validates a prescription before the store keeps it.
* ``plan``: today's step as the live page's set (reps, rest, whether another set follows).
* ``overview``: the clinic's overview of many patients (red flags first, last session, pain).

Nothing here imports Streamlit; the pages in ``formcheck.ui`` show these.
"""
