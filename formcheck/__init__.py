"""formcheck: exercise form checking for lumbar-surgery rehabilitation, on the patient's own machine.

Pipeline: frames (video) -> pose (backends) -> signals -> exercise engine (reps, rules)
-> SessionResult -> outputs (render, report, store) -> UI (ui/, started by app.py) and CLI (cli.py).
"""
__version__ = "0.1.0"
