"""Validation: how often formcheck is right on recordings whose truth was counted by eye.

    formcheck validate MANIFEST [--out DIR] [--workers N] [--max-fps F] [--markdown FILE]

A manifest (TOML) lists recordings with their truth; each is analysed on the same path as
``formcheck analyze`` (``pipeline.analyze``) and its summary.json is scored against the truth.
README.md ("Validation") documents the manifest; in short, one ``[[clip]]`` table per recording:

    trace = "traces/x.json.gz"   # or video = "x.mp4"; paths are relative to the manifest
    exercise = "glute_bridge"    # an exercise name or a .toml file (relative to the manifest)
    reps = 5                     # complete reps (a hold counts as one)
    reps_ok = [4]                # optional: other acceptable counts
    rep_times = [[0.2, 0.7, 1.4], ...]  # optional: [start, peak, end] s of each complete rep
    faults = []                  # rule codes a clinician sees; empty: correct form
    confidence = "sure"          # sure (a failure fails the run) | likely (reported only)
    cannot_measure_ok = false    # true: "this recording cannot measure it" is an acceptable answer
    sides = { left = 3, right = 3 }  # optional: complete reps per side (reported, not scored)
    prescription = { target_hold_s = 8 }  # optional: the rep targets a clinician set for this
                                 # recording (ExerciseSpec.with_rep_targets: target_hold_s, top_deg, rest_deg)
    holds, view, name, file, repo, path, movement, notes, licence: for people (read, not scored)

Scoring (pure functions on summary dicts, so the unit tests need no recordings):
- the count is right when the complete reps are ``reps`` or one of ``reps_ok``; its error is
  the distance to the nearest acceptable count;
- counted reps are paired with the truth's ``rep_times`` by time overlap (largest overlap first,
  each rep used once) and the start and end errors of each pair are measured;
- a fault is found when a warning or danger flag with its code was raised; every warning or
  danger flag whose code is not among the truth's faults is a false alarm (info flags such as
  partial_rep or short_hold are advice, not alarms);
- a refusal is ``summary["measurement"]["status"] == "not_measurable"`` (absent: measured); it
  is honest when the clip allows it (``cannot_measure_ok``) and a failure otherwise.
A clip passes when its count is right, no false alarm fired, no fault was missed and it was not
refused without leave (or refused with leave). ``run_validation`` is the one side-effecting part.
"""
from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, overload

CONFIDENCES = ("sure", "likely")
ALARM_SEVERITIES = ("warning", "danger")
# The labels' stated precision ("rep_times ... +/- 0.25 s"): a timing error within it is agreement.
TIMING_TOLERANCE_S = 0.25
MAX_MANIFEST_BYTES = 1024 * 1024
REASON_CHARS = 60  # a refusal's reason in the table, cut so the table stays readable (summary.json has it whole)
SCORED_FIELDS = {"trace", "video", "exercise", "reps", "reps_ok", "rep_times", "faults", "confidence",
                 "cannot_measure_ok", "sides", "prescription"}
INFO_FIELDS = {"name", "holds", "view", "file", "repo", "path", "movement", "notes", "licence"}


class ManifestError(ValueError):
    """The manifest is malformed; the message names the file, the clip and the field."""


# -- the manifest ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipTruth:
    """One recording and what a careful viewer counted in it."""

    name: str
    input: Path
    exercise: str  # a name or a .toml path, as load_exercise takes it
    reps: int
    reps_ok: tuple[int, ...] = ()
    rep_times: tuple[tuple[float, float, float], ...] = ()  # [start, peak, end] s of complete reps
    faults: tuple[str, ...] = ()
    confidence: str = "sure"
    cannot_measure_ok: bool = False
    sides: dict[str, int] | None = None
    holds: tuple[tuple[float, float], ...] = ()
    view: str = ""
    prescription: dict[str, float] = field(default_factory=dict)  # rep targets (ExerciseSpec.with_rep_targets)

    def spec(self):
        """The exercise definition the clip is analysed with, its prescription applied."""
        from .spec import load_exercise

        spec = load_exercise(self.exercise)
        return spec.with_rep_targets(**self.prescription) if self.prescription else spec

    @property
    def acceptable_counts(self) -> tuple[int, ...]:
        return tuple(sorted({self.reps, *self.reps_ok}))


def load_manifest(path: str | Path) -> list[ClipTruth]:
    """Read and check a manifest; any problem raises ManifestError with one clear line."""
    from .spec import read_toml

    path = Path(path)
    return parse_manifest(read_toml(path, MAX_MANIFEST_BYTES, ManifestError, "validation manifest"), path)


def parse_manifest(data: dict, path: Path) -> list[ClipTruth]:
    unknown = set(data) - {"clip"}
    if unknown:
        raise ManifestError(f"{path}: unknown top-level key(s) {sorted(unknown)}; a manifest holds [[clip]] tables")
    entries = data.get("clip")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ManifestError(f"{path}: no [[clip]] tables; each recording is one [[clip]] with its truth")
    clips = [_parse_clip(entry, n, path) for n, entry in enumerate(entries, start=1)]
    seen: dict[str, int] = {}
    for n, clip in enumerate(clips, start=1):
        if clip.name in seen:
            raise ManifestError(f"{path}: clip {n}: name {clip.name!r} is also clip {seen[clip.name]}'s; "
                                "give one of them a 'name'")
        seen[clip.name] = n
    return clips


def _parse_clip(entry: dict, n: int, manifest: Path) -> ClipTruth:
    from .backends.replay import trace_stem
    from .spec import SpecError, load_exercise

    where = f"{manifest}: clip {n}"
    unknown = set(entry) - SCORED_FIELDS - INFO_FIELDS
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {sorted(unknown)}; "
                            f"fields are {sorted(SCORED_FIELDS | INFO_FIELDS)}")
    if ("trace" in entry) == ("video" in entry):
        raise ManifestError(f"{where}: give exactly one of the fields 'trace' and 'video' (the recording)")
    key = "trace" if "trace" in entry else "video"
    source = _field(where, key, entry[key], str)
    recording = (manifest.parent / source).resolve()
    if not recording.is_file():
        raise ManifestError(f"{where}: field {key!r}: no such file {source} (paths are relative to the manifest)")
    name = _field(where, "name", entry.get("name", trace_stem(recording)), str)
    where = f"{manifest}: clip {n} ({name})"

    exercise = _field(where, "exercise", entry.get("exercise"), str)
    if exercise.endswith(".toml"):
        exercise = str((manifest.parent / exercise).resolve())
    try:
        load_exercise(exercise)
    except SpecError as exc:
        raise ManifestError(f"{where}: field 'exercise': {exc}") from None
    prescription = _field(where, "prescription", entry.get("prescription", {}), dict)
    for key, value in prescription.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ManifestError(f"{where}: field 'prescription.{key}' must be a number, got {value!r}")

    reps = _count(where, "reps", entry.get("reps"))
    reps_ok = tuple(_count(where, "reps_ok", v) for v in _list(where, "reps_ok", entry.get("reps_ok", [])))
    rep_times = tuple(_times(where, "rep_times", v, 3) for v in _list(where, "rep_times", entry.get("rep_times", [])))
    holds = tuple(_times(where, "holds", v, 2) for v in _list(where, "holds", entry.get("holds", [])))
    faults = tuple(_field(where, "faults", v, str) for v in _list(where, "faults", entry.get("faults", [])))
    confidence = _field(where, "confidence", entry.get("confidence", "sure"), str)
    if confidence not in CONFIDENCES:
        raise ManifestError(f"{where}: field 'confidence' must be one of {', '.join(CONFIDENCES)}, got {confidence!r}")
    cannot_measure_ok = _field(where, "cannot_measure_ok", entry.get("cannot_measure_ok", False), bool)
    sides = entry.get("sides")
    if sides is not None:
        if not isinstance(sides, dict) or not sides:
            raise ManifestError(f"{where}: field 'sides' must be a table of side = count, "
                                "e.g. { left = 3, right = 3 }")
        sides = {str(side): _count(where, f"sides.{side}", count) for side, count in sides.items()}
    view = _field(where, "view", entry.get("view", ""), str)
    clip = ClipTruth(name=name, input=recording, exercise=exercise, reps=reps, reps_ok=reps_ok, rep_times=rep_times,
                     faults=faults, confidence=confidence, cannot_measure_ok=cannot_measure_ok, sides=sides,
                     holds=holds, view=view, prescription=dict(prescription))
    try:
        clip.spec()
    except SpecError as exc:
        raise ManifestError(f"{where}: field 'prescription': {exc}") from None
    return clip


T = TypeVar("T")


def _field(where: str, key: str, value: object, kind: type[T]) -> T:
    if value is None:
        raise ManifestError(f"{where}: field {key!r} is missing")
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ManifestError(f"{where}: field {key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _count(where: str, key: str, value: object) -> int:
    if value is None:
        raise ManifestError(f"{where}: field {key!r} is missing")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ManifestError(f"{where}: field {key!r} must be a whole number of reps (0 or more), got {value!r}")
    return value


def _list(where: str, key: str, value: object) -> list:
    if not isinstance(value, list):
        raise ManifestError(f"{where}: field {key!r} must be a list, got {value!r}")
    return value


@overload
def _times(where: str, key: str, value: object, size: Literal[3]) -> tuple[float, float, float]: ...
@overload
def _times(where: str, key: str, value: object, size: Literal[2]) -> tuple[float, float]: ...
def _times(where: str, key: str, value: object, size: int) -> tuple[float, ...]:
    shape = "[start, peak, end]" if size == 3 else "[start, end]"
    if (not isinstance(value, list) or len(value) != size
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise ManifestError(f"{where}: field {key!r}: each entry must be {shape} in seconds, got {value!r}")
    times = tuple(float(v) for v in value)
    if list(times) != sorted(times) or times[0] < 0:
        raise ManifestError(f"{where}: field {key!r}: {shape} must be in order and not negative, got {value!r}")
    return times


# -- scoring one clip (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipScore:
    """One clip's truth beside what formcheck said, and the verdict."""

    truth: ClipTruth
    counted: int | None = None  # complete reps; None when the analysis failed
    partial: int = 0
    count_error: int | None = None  # signed distance from the nearest acceptable count
    timing_errors_s: tuple[tuple[float, float], ...] = ()  # (start, end) absolute error of each matched rep
    faults_found: tuple[str, ...] = ()
    faults_missed: tuple[str, ...] = ()
    false_alarms: tuple[str, ...] = ()  # one code per warning/danger flag the truth does not have
    refused: bool = False
    refusal_reason: str = ""
    sides_counted: dict[str, int] = field(default_factory=dict)
    error: str = ""  # the analysis itself failed

    @property
    def count_ok(self) -> bool:
        return not self.error and not self.refused and self.count_error == 0

    @property
    def refusal_ok(self) -> bool:
        return self.refused and self.truth.cannot_measure_ok

    @property
    def passed(self) -> bool:
        if self.error or self.false_alarms or self.faults_missed:
            return False
        return self.refusal_ok if self.refused else self.count_ok

    @property
    def fails_run(self) -> bool:
        """A sure clip that failed, or any clip that could not be analysed at all."""
        return bool(self.error) or (self.truth.confidence == "sure" and not self.passed)

    @property
    def worst_start_s(self) -> float | None:
        return max((s for s, _ in self.timing_errors_s), default=None)

    @property
    def worst_end_s(self) -> float | None:
        return max((e for _, e in self.timing_errors_s), default=None)

    def problems(self) -> list[str]:
        """Why the clip did not pass, in words (empty when it passed)."""
        if self.error:
            return [f"error: {self.error}"]
        out = []
        if self.refused and not self.truth.cannot_measure_ok:
            out.append("refused a measurable clip")
        elif not self.refused and self.count_error:
            out.append(f"count {self.counted}, truth {_counts_text(self.truth)}")
        if self.false_alarms:
            out.append(f"false alarm {_codes_text(self.false_alarms)}")
        if self.faults_missed:
            out.append(f"missed {', '.join(self.faults_missed)}")
        return out

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass (honest refusal)" if self.refused else "pass"
        word = "FAIL" if self.fails_run else "miss (likely)"
        return f"{word}: {'; '.join(self.problems())}"


def score_clip(truth: ClipTruth, summary: dict) -> ClipScore:
    """Score one summary.json (as a dict) against the clip's truth."""
    counted = int(summary["reps"])
    error = min((counted - ok for ok in truth.acceptable_counts), key=abs)
    reps = [(float(r["start_s"]), float(r["end_s"])) for r in summary.get("rep_details", [])]
    truth_spans = [(start, end) for start, _, end in truth.rep_times]
    timing = tuple((abs(reps[i][0] - truth_spans[j][0]), abs(reps[i][1] - truth_spans[j][1]))
                   for i, j in sorted(match_by_overlap(reps, truth_spans), key=lambda p: p[1]))
    alarms = [f["code"] for f in summary.get("flags", []) if f.get("severity") in ALARM_SEVERITIES]
    measurement = summary.get("measurement") or {}
    refused = measurement.get("status") == "not_measurable"
    return ClipScore(
        truth=truth, counted=counted, partial=int(summary.get("partial_reps", 0)), count_error=error,
        timing_errors_s=timing,
        faults_found=tuple(f for f in truth.faults if f in alarms),
        faults_missed=tuple(f for f in truth.faults if f not in alarms),
        false_alarms=tuple(code for code in alarms if code not in truth.faults),
        refused=refused, refusal_reason=str(measurement.get("reason") or "") if refused else "",
        sides_counted=dict(summary.get("reps_by_side") or {}),
    )


def failed_clip(truth: ClipTruth, error: str) -> ClipScore:
    return ClipScore(truth=truth, error=error)


def match_by_overlap(found: Sequence[tuple[float, float]],
                     truth: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Pairs (found index, truth index) of (start, end) intervals that overlap in time.

    Reps happen one after another, so pairs keep the time order (no two pairs cross); among such
    matchings the one with the most pairs, then the largest total overlap, is chosen (dynamic
    programming, as in aligning two sequences). Touching or disjoint intervals are never paired.
    """
    f_order = sorted(range(len(found)), key=lambda i: found[i])
    t_order = sorted(range(len(truth)), key=lambda j: truth[j])
    # best[a][b]: (pairs, total overlap, pairs list) using the first a found and first b truth intervals
    best: list[list[tuple[int, float, tuple[tuple[int, int], ...]]]] = [
        [(0, 0.0, ())] * (len(t_order) + 1) for _ in range(len(f_order) + 1)]
    for a in range(1, len(f_order) + 1):
        for b in range(1, len(t_order) + 1):
            i, j = f_order[a - 1], t_order[b - 1]
            options = [best[a - 1][b], best[a][b - 1]]
            overlap = min(found[i][1], truth[j][1]) - max(found[i][0], truth[j][0])
            if overlap > 0:
                pairs, total, chosen = best[a - 1][b - 1]
                options.append((pairs + 1, total + overlap, chosen + ((i, j),)))
            best[a][b] = max(options, key=lambda o: (o[0], o[1]))
    return list(best[-1][-1][2])


# -- the whole run (pure) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    clips: int
    exact: int
    mae: float  # over the clips that gave a count (not refused, not failed)
    off_by_one: int
    measured: int  # clips that gave a count
    worst_start_s: float | None
    worst_end_s: float | None
    matched_reps: int
    reps_within_tolerance: int  # matched reps whose start and end are both within TIMING_TOLERANCE_S
    faults: int
    faults_found: int
    false_alarms: int  # warning/danger flags
    clips_with_false_alarms: int
    missed_faults: int
    refused: int
    honest_refusals: int
    errors: int
    sure: int
    sure_failed: int
    likely_missed: int

    @property
    def line(self) -> str:
        """The machine-readable last line of ``formcheck validate``."""
        return (f"clips={self.clips} exact={self.exact} mae={self.mae:.2f} false_alarms={self.false_alarms} "
                f"missed_faults={self.missed_faults} refused={self.refused}")


def metrics(scores: Sequence[ClipScore]) -> Metrics:
    measured = [s for s in scores if not s.error and not s.refused]
    count_errors = [s.count_error for s in measured if s.count_error is not None]  # None only with an error
    timing = [t for s in scores for t in s.timing_errors_s]
    return Metrics(
        clips=len(scores),
        exact=sum(s.count_ok for s in scores),
        mae=(sum(abs(e) for e in count_errors) / len(measured)) if measured else 0.0,
        off_by_one=sum(abs(e) == 1 for e in count_errors),
        measured=len(measured),
        worst_start_s=max((start for start, _ in timing), default=None),
        worst_end_s=max((end for _, end in timing), default=None),
        matched_reps=len(timing),
        reps_within_tolerance=sum(max(t) <= TIMING_TOLERANCE_S for t in timing),
        faults=sum(len(s.truth.faults) for s in scores if not s.error),
        faults_found=sum(len(s.faults_found) for s in scores),
        false_alarms=sum(len(s.false_alarms) for s in scores),
        clips_with_false_alarms=sum(bool(s.false_alarms) for s in scores),
        missed_faults=sum(len(s.faults_missed) for s in scores),
        refused=sum(s.refused for s in scores),
        honest_refusals=sum(s.refusal_ok for s in scores),
        errors=sum(bool(s.error) for s in scores),
        sure=sum(s.truth.confidence == "sure" for s in scores),
        sure_failed=sum(s.fails_run for s in scores),
        likely_missed=sum(s.truth.confidence == "likely" and not s.passed for s in scores),
    )


TABLE_COLUMNS = ("clip", "exercise", "truth", "counted", "partial", "timing error s (start/end)",
                 "faults flagged", "false alarms", "refused", "verdict")


def table_rows(scores: Sequence[ClipScore]) -> list[list[str]]:
    rows = []
    for s in scores:
        truth = _counts_text(s.truth) + ("" if s.truth.confidence == "sure" else f" ({s.truth.confidence})")
        if s.truth.sides:
            truth += f" [{_sides_text(s.truth.sides)}]"
        counted = "-" if s.counted is None else str(s.counted)
        if s.truth.sides and s.counted is not None:
            counted += f" [{_sides_text(s.sides_counted)}]"
        timing = "-" if not s.timing_errors_s else (f"{s.worst_start_s:.2f}/{s.worst_end_s:.2f}"
                                                   f" ({len(s.timing_errors_s)} matched)")
        faults = "-" if not s.truth.faults else f"{len(s.faults_found)}/{len(s.truth.faults)}"
        refused = "no"
        if s.refused:
            reason = (s.refusal_reason if len(s.refusal_reason) <= REASON_CHARS
                      else s.refusal_reason[:REASON_CHARS - 3] + "...")
            refused = ("yes, allowed" if s.truth.cannot_measure_ok else "yes") + (f": {reason}" if reason else "")
        rows.append([s.truth.name, Path(s.truth.exercise).stem, truth, counted,
                     "-" if s.counted is None else str(s.partial), timing, faults,
                     _codes_text(s.false_alarms) or "-", refused, s.verdict])
    return rows


def text_table(scores: Sequence[ClipScore]) -> str:
    """Aligned columns, the verdict last (unpadded)."""
    rows = [list(TABLE_COLUMNS)] + table_rows(scores)
    widths = [max(len(r[i]) for r in rows) for i in range(len(TABLE_COLUMNS) - 1)]
    return "\n".join("  ".join([r[i].ljust(w) for i, w in enumerate(widths)] + [r[-1]]).rstrip() for r in rows)


def markdown_table(scores: Sequence[ClipScore]) -> str:
    """The table as GitHub markdown, to paste into README.md, followed by the metrics."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table_rows(scores)]
    return "\n".join(lines + ["", *(f"- {line}" for line in metrics_text(metrics(scores)).splitlines()), ""])


def metrics_text(m: Metrics) -> str:
    """The metrics in words, one per line (the last line of the output is ``Metrics.line``)."""
    def share(k: int, n: int) -> str:
        return f"{k}/{n}" + (f" ({100.0 * k / n:.0f}%)" if n else "")

    timing = "no counted rep overlaps a timed truth rep"
    if m.matched_reps:
        timing = (f"start {m.worst_start_s:.2f} s, end {m.worst_end_s:.2f} s (worst of {m.matched_reps} matched reps; "
                  f"{m.reps_within_tolerance} within +/-{TIMING_TOLERANCE_S} s at both ends)")
    recall = share(m.faults_found, m.faults) if m.faults else "n/a (no clip has a labelled fault)"
    lines = [
        f"exact counts: {share(m.exact, m.clips)}",
        f"mean absolute count error: {m.mae:.2f} reps (over the {m.measured} clips that gave a count);"
        f" off by one: {share(m.off_by_one, m.measured)}",
        f"worst rep timing error: {timing}",
        f"fault recall: {recall}",
        f"false alarms: {m.false_alarms} warning/danger flag(s) on {m.clips_with_false_alarms} clip(s)",
        f"refusals: {m.refused} ({m.honest_refusals} allowed by the manifest)",
        f"sure clips failing: {m.sure_failed} of {m.sure}; likely clips missed (reported only): {m.likely_missed}",
    ]
    if m.errors:
        lines.append(f"clips that could not be analysed: {m.errors}")
    return "\n".join(lines)


def _counts_text(truth: ClipTruth) -> str:
    others = [str(n) for n in truth.acceptable_counts if n != truth.reps]
    return str(truth.reps) + (f" (or {', '.join(others)})" if others else "")


def _codes_text(codes: Sequence[str]) -> str:
    """``("a", "a", "b")`` -> ``"a x2, b"``."""
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return ", ".join(code + (f" x{n}" if n > 1 else "") for code, n in counts.items())


def _sides_text(sides: dict[str, int]) -> str:
    return " ".join(f"{side[0].upper()}{n}" for side, n in sorted(sides.items())) or "none"


# -- running the analyses (side effects) ----------------------------------------------------------------

Progress = Callable[[ClipScore], None]


def run_validation(clips: Sequence[ClipTruth], out: Path, workers: int, options,
                   progress: Progress | None = None) -> list[ClipScore]:
    """Analyse every clip into out/<name>/ (in ``workers`` processes) and score it; in manifest order."""
    from .batch import Job, analyze_one

    jobs = [Job(clip.input, out / clip.name, clip.spec(), options) for clip in clips]
    if workers <= 1 or len(jobs) <= 1:
        outcomes = (analyze_one(job) for job in jobs)
        return [_report(_scored(clip, outcome, job), progress) for clip, job, outcome in zip(clips, jobs, outcomes)]
    scores = []
    # "spawn": no inherited model threads (see batch.run_local); results are read in manifest order.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(analyze_one, job) for job in jobs]
        for clip, job, future in zip(clips, jobs, futures):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker process died: that clip failed, the others go on
                outcome = None
                error = f"the worker process died ({type(exc).__name__}: {exc})"
            scores.append(_report(_scored(clip, outcome, job) if outcome else failed_clip(clip, error), progress))
    return scores


def _scored(clip: ClipTruth, outcome, job) -> ClipScore:
    import json

    if outcome.status != "ok":
        return failed_clip(clip, outcome.error or "the analysis failed")
    try:
        summary = json.loads((job.out_dir / "summary.json").read_text(encoding="utf-8"))
        return score_clip(clip, summary)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return failed_clip(clip, f"cannot read its summary.json ({exc})")


def _report(score: ClipScore, progress: Progress | None) -> ClipScore:
    if progress is not None:
        progress(score)
    return score


def default_workers(clips: int) -> int:
    return max(1, min(clips, os.cpu_count() or 1))
