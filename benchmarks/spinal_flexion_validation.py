"""Spinal flexion: how well the back-outline measure agrees with hand annotation, how steady it is
in still holds, whether every cat-cow cycle is ordered (cat above the start, cow below), and the
range correct reps reach per exercise. Prints the README's tables.

    .venv/bin/python benchmarks/spinal_flexion_validation.py [--traces DIR ...]

Inputs:
- ``tests/fixtures/spine_annotations.json``: 40 hand-annotated frames of four real recordings
  (three points on the back each) with the pose and back outline formcheck found in that frame
  (stored, so the comparison needs no model); see the file's ``about``.
- landmark traces with back outlines (formcheck-trace/v1, ``.json`` or ``.json.gz``): the copies
  in ``tests/fixtures/spine/``, the shared validation traces and, if present, traces of the shared
  videos (``formcheck trace VIDEO -o DIR/NAME.json``). Missing files are skipped with a note.

The annotated quantity and the measured one are both "the total bend of a circular arc" along
the back, but over different stretches: the annotation runs from C7 to the sacrum, the outline
from the hip joint's level to 80 % of the way to the shoulder joint. The absolute numbers
therefore differ (bias); what the product uses is the change from the patient's start posture,
so the table also gives the error of within-recording changes (each recording's mean removed).
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formcheck.backends.replay import replay, validate_trace  # noqa: E402 - found through the sys.path line above
from formcheck.engine import STANDARD_FILTERS, ExerciseEngine  # noqa: E402 - as replay
from formcheck.silhouette import frame_back_arc  # noqa: E402 - as replay
from formcheck.spec import load_exercise  # noqa: E402 - as replay

ANNOTATIONS = ROOT / "tests" / "fixtures" / "spine_annotations.json"
SHARED = ROOT.parent.parent / "shared" / "fixtures"
TRACE_DIRS = [ROOT / "tests" / "fixtures" / "spine", ROOT / "tests" / "fixtures" / "validation" / "traces",
              SHARED / "validation" / "traces", Path("/tmp/spine/traces")]

# Still holds (seconds) from the recordings' counted truth (shared fixtures' README and
# validation/labels.toml): the outline's spread while the person holds still is its noise.
HOLDS = [
    ("childs_pose", "child's pose hold", "childs_pose", (4.0, 12.5)),
    ("childs_pose_mosmi", "child's pose hold", "childs_pose", (16.0, 40.0)),
    ("cat_cow_aca", "cat hold", "cat_cow", (1.2, 3.0)),
    ("cat_cow_aca", "cat hold", "cat_cow", (7.4, 9.6)),
    ("cat_cow_aca", "cow hold", "cat_cow", (4.6, 6.2)),
    ("cat_cow_aca", "cow hold", "cat_cow", (11.0, 12.8)),
    ("glute_bridge_sic", "rest before a bridge", "glute_bridge", (3.0, 3.4)),
    ("glute_bridge_sic", "rest before a bridge", "glute_bridge", (11.2, 12.5)),
    ("glute_bridge_darebee", "rest before a bridge", "glute_bridge", (1.8, 1.95)),
    ("bird_dog", "rest on all fours", "bird_dog", (0.0, 0.8)),
    ("pelvic_tilt_supine", "lying still (set-up end)", "pelvic_tilt", (1.0, 2.2)),
]
# Cat-cow cycles: (cat peak, cow peak) seconds, from the counted truth.
CYCLES = {
    "cat_cow": [(1.7, 5.3), (8.3, 11.8)],
    "cat_cow_aca": [(2.3, 5.2), (8.7, 12.0)],
}
# Recordings of correct form, scored as their exercise (shared README and labels.toml).
CORRECT = [
    ("glute_bridge_darebee", "glute_bridge"), ("glute_bridge_sic", "glute_bridge"),
    ("cat_cow", "cat_cow"), ("cat_cow_aca", "cat_cow"),
    ("bird_dog", "bird_dog"), ("bird_dog_fitbod", "bird_dog"),
    ("childs_pose", "childs_pose"), ("childs_pose_mosmi", "childs_pose"),
]
REP_PHASES = ("rising", "top", "lowering")


def annotated_bend_deg(c7, apex, sacrum, dorsal) -> float:
    """Total bend of the circular arc through three points of the back (degrees): the inscribed
    angle at the apex is 180 minus half the arc's bend, wherever the apex lies on the arc.
    Positive when the apex lies on the dorsal side of the C7-sacrum chord (rounded)."""
    c7, apex, sacrum, dorsal = (np.asarray(p, float) for p in (c7, apex, sacrum, dorsal))
    a, b = c7 - apex, sacrum - apex
    cosine = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    bend = 2.0 * (180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cosine)))))
    chord = sacrum - c7
    normal = np.array([-chord[1], chord[0]])
    return bend if np.dot(apex - c7, normal) * np.dot(dorsal, normal) >= 0 else -bend


@dataclass
class Agreement:
    recording: str
    n: int
    measured: int
    bias_deg: float  # mean of measured - annotated
    sd_deg: float
    mae_deg: float
    change_mae_deg: float  # mean |error| of changes within the recording (each side's mean removed)
    r: float


def annotation_agreement(path: Path = ANNOTATIONS) -> list[Agreement]:
    data = json.loads(path.read_text())
    by_recording: dict[str, list[tuple[float, float]]] = {}
    counts: dict[str, int] = {}
    for item in data["frames"]:
        rec = item["video"].removesuffix(".mp4")
        counts[rec] = counts.get(rec, 0) + 1
        scale = np.array([item["video_width"], item["video_height"]], float)
        size = np.array([item["width"], item["height"]], float)
        points = [np.array(item[k], float) / scale * size for k in ("c7", "apex", "sacrum")]
        truth = annotated_bend_deg(*points, item["dorsal"])
        arc = frame_back_arc(np.array(item["image"]), np.array(item["back"]), item["width"], item["height"])
        if math.isfinite(arc.bend_deg):
            by_recording.setdefault(rec, []).append((truth, arc.bend_deg))
    rows = []
    for rec, pairs in by_recording.items():
        truth, measured = (np.array(x) for x in zip(*pairs))
        error = measured - truth
        change = (measured - measured.mean()) - (truth - truth.mean())
        rows.append(Agreement(rec, counts[rec], len(pairs), float(error.mean()), float(error.std(ddof=1)),
                              float(np.abs(error).mean()), float(np.abs(change).mean()),
                              float(np.corrcoef(truth, measured)[0, 1])))
    return rows


def load_any_trace(name: str, dirs: list[Path]) -> dict | None:
    for directory in dirs:
        for candidate in (directory / f"{name}.json", directory / f"{name}.json.gz"):
            if candidate.is_file():
                opener = gzip.open if candidate.suffix == ".gz" else open
                with opener(candidate, "rt", encoding="utf-8") as fh:
                    return validate_trace(json.load(fh), str(candidate))
    return None


def engine_series(data: dict, exercise: str) -> tuple[list[tuple[float, float, float, str]], object]:
    """Per frame (t_s, back_bend_deg, spinal_flexion_deg, phase) and the session result."""
    engine = ExerciseEngine(load_exercise(exercise), STANDARD_FILTERS)
    rows = []
    for frame in replay(data):
        result = engine.process(frame)
        rows.append((frame.t_ms / 1000.0, result.signals.get("back_bend_deg", math.nan),
                     result.signals.get("spinal_flexion_deg", math.nan), result.phase))
    return rows, engine.finish()


def raw_bends(data: dict) -> list[tuple[float, float]]:
    """(t_s, back outline bend) of every frame, unsmoothed (NaN where not measured)."""
    out = []
    for frame in data["frames"]:
        bend = math.nan
        if "image" in frame and "back" in frame:
            arc = frame_back_arc(np.array(frame["image"]), np.array(frame["back"]), data["width"], data["height"])
            bend = arc.bend_deg
        out.append((float(frame["t"]), bend))
    return out


def repeatability(dirs: list[Path]) -> list[tuple[str, str, tuple[float, float], int, int, float]]:
    """(recording, hold, window, frames, measured, SD of the raw outline bend in degrees)."""
    rows = []
    for rec, what, _exercise, (t0, t1) in HOLDS:
        data = load_any_trace(rec, dirs)
        if data is None:
            continue
        values = [b for t, b in raw_bends(data) if t0 <= t <= t1]
        finite = [b for b in values if math.isfinite(b)]
        rows.append((rec, what, (t0, t1), len(values), len(finite),
                     float(np.std(finite, ddof=1)) if len(finite) > 2 else math.nan))
    return rows


def ordering(dirs: list[Path]) -> list[tuple[str, int, float, float, float]]:
    """(recording, cycle, start posture, cat, cow): the outline bend's median within 0.3 s of each
    peak, and the start posture the engine measured against."""
    rows = []
    for rec, cycles in CYCLES.items():
        data = load_any_trace(rec, dirs)
        if data is None:
            continue
        series, _ = engine_series(data, "cat_cow")
        baseline = next((b - f for _, b, f, _ in series if math.isfinite(f)), math.nan)
        for n, (cat_s, cow_s) in enumerate(cycles, 1):
            cat = np.nanmedian([f for t, _, f, _ in series if abs(t - cat_s) <= 0.3] or [math.nan])
            cow = np.nanmedian([f for t, _, f, _ in series if abs(t - cow_s) <= 0.3] or [math.nan])
            rows.append((rec, n, baseline, float(cat), float(cow)))
    return rows


def sustained_max(series: list[tuple[float, float, float, str]], phases: tuple[str, ...], hold_s: float) -> float:
    """The highest spinal_flexion_deg held for hold_s seconds (a rule's debounce) while the phase
    is one of ``phases``: what a rule with that debounce would see. A single-frame glitch is not."""
    best = math.nan
    for i, (t0, _, _, _) in enumerate(series):
        window = [f for t, _, f, phase in series[i:] if t <= t0 + hold_s and phase in phases]
        span = [t for t, _, _, _ in series[i:] if t <= t0 + hold_s]
        whole = bool(window) and span[-1] - t0 >= hold_s - 0.05 and len(window) == len(span)
        if not whole or not all(map(math.isfinite, window)):
            continue
        best = max(best, min(window)) if math.isfinite(best) else min(window)
    return best


@dataclass
class Range:
    exercise: str
    recording: str
    low: float  # min during reps
    high: float  # max during reps
    p5: float
    p95: float
    sustained: float  # highest level held for the spinal_flexion rule's debounce during reps
    measured_share: float  # of rep frames
    complete_reps: int
    flags: list[str]


def ranges(dirs: list[Path]) -> list[Range]:
    """Spinal flexion reached during the reps of recordings of correct form."""
    rows = []
    for rec, exercise in CORRECT:
        data = load_any_trace(rec, dirs)
        if data is None:
            continue
        series, session = engine_series(data, exercise)
        rule = next(r for r in load_exercise(exercise).rules if r.code == "spinal_flexion")
        during = [f for _, _, f, phase in series if phase in REP_PHASES]
        finite = np.array([f for f in during if math.isfinite(f)])
        flags = [f"{f.start_s:.1f}-{f.end_s:.1f} s ({f.peak_value:.0f})" for f in session.flags
                 if f.code == "spinal_flexion"]
        if not len(finite):
            finite = np.array([math.nan])
        rows.append(Range(exercise, rec, float(np.min(finite)), float(np.max(finite)),
                          *(float(x) for x in np.percentile(finite, [5, 95])),
                          sustained_max(series, REP_PHASES, rule.min_duration_s),
                          float(np.isfinite(during).mean()) if during else 0.0, len(session.complete_reps), flags))
    return rows


def _deg(value: float, sign: bool = True) -> str:
    """Degrees for a table cell: "n/a" when not measured, no "-0"."""
    if not math.isfinite(value):
        return "n/a"
    rounded = round(value) + 0
    return f"{rounded:+d}" if sign else f"{rounded:d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", action="append", type=Path, default=[],
                        help="another folder of traces (NAME.json or NAME.json.gz); searched first")
    args = parser.parse_args(argv)
    dirs = [*args.traces, *TRACE_DIRS]

    print("### Agreement with hand annotation (degrees)\n")
    print("| recording | frames | measured | bias | SD | mean abs error | mean abs error of changes | r |")
    print("|---|---|---|---|---|---|---|---|")
    for a in annotation_agreement():
        print(f"| {a.recording} | {a.n} | {a.measured} | {a.bias_deg:+.0f} | {a.sd_deg:.0f} | {a.mae_deg:.0f} | "
              f"{a.change_mae_deg:.0f} | {a.r:.2f} |")

    print("\n### Repeatability in still holds (SD of the outline bend, degrees)\n")
    print("| recording | hold | seconds | frames | measured | SD |")
    print("|---|---|---|---|---|---|")
    for rec, what, (t0, t1), n, m, sd in repeatability(dirs):
        print(f"| {rec} | {what} | {t0}-{t1} | {n} | {m} | {sd:.1f} |")

    print("\n### Cat-cow ordering (spinal_flexion_deg near each peak, relative to the start posture)\n")
    print("| recording | cycle | cat | cow | ordered (cat > 0 > cow) |")
    print("|---|---|---|---|---|")
    for rec, n, _baseline, cat, cow in ordering(dirs):
        ok = "yes" if cat > 0 > cow else "no"
        print(f"| {rec} | {n} | {_deg(cat)} | {_deg(cow)} | {ok} |")

    print("\n### Range correct reps reach (spinal_flexion_deg while a rep is under way)\n")
    print("| exercise | recording | min | max | 5th-95th percentile | held 0.5 s | rep frames measured | "
          "complete reps | spinal-flexion flags |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ranges(dirs):
        print(f"| {r.exercise} | {r.recording} | {_deg(r.low)} | {_deg(r.high)} | {_deg(r.p5)} to {_deg(r.p95)} | "
              f"{_deg(r.sustained)} | {100 * r.measured_share:.0f} % | {r.complete_reps} | "
              f"{'; '.join(r.flags) or 'none'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
