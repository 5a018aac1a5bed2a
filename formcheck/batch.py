"""Batch analysis: every recording in a folder, each into its own output folder.

    formcheck batch DIR [--exercise NAME] [--prescription FILE.toml] --out OUT [--workers N]
                    [--engine local|ray --address ADDR] [--no-video] [--max-side PX] [--max-fps F]

Every video (``video.VIDEO_SUFFIXES``) and landmark trace (``.json``, ``.json.gz``) directly inside
DIR is analysed with the same exercise; OUT/<file stem>/ (``a.json.gz`` -> ``a``) receives exactly
what ``formcheck analyze`` writes. Every session bundle (``.formcheck``, see bundle.py) is re-scored
from the landmark traces it carries, no model needed: each session with its own exercise (or ``--exercise`` when given),
with a prescription's targets and limits where ``--prescription`` names that exercise, into
OUT/<bundle stem>/<session uid>/. That is how a clinic re-scores stored sessions after a
definition or a prescription changes. Reruns are cheap: an input whose OUT/<stem>/ holds a
complete run (a summary.json newer than the input, listing outputs that are all there at their
sizes: ``outputs.is_complete``) is skipped; any other folder is analysed again. A file that
cannot be analysed is reported and the others go on (a truncated video counts as failed, yet its
folder holds the results of its readable part, so a rerun skips it: decoding it again would stop
at the same place). A link leading out of DIR is not followed, and an input whose folder would
take the place of the summary is refused: both are reported as failed. At the end a table (file, status, reps,
partial, flags, seconds, error) is printed and written to OUT/batch_summary.csv; the exit status
is 0 when nothing failed, 2 otherwise.

Engines: ``local`` runs ``workers`` processes on this machine (a process pool); ``ray`` runs the
same per-file function, ``analyze_one``, as Ray tasks, on a local Ray instance or on the cluster
at ``--address``. Each analysis creates its own pose model: MediaPipe's video mode tracks the
person from frame to frame, so a model shared between files would carry one recording's state
into the next. On a cluster, DIR and OUT must be at the same path on every node (a shared file
system): tasks receive paths, not file contents.
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .backends.replay import TRACE_SUFFIXES, is_trace_name, trace_stem
from .framerate import DEFAULT_MAX_FPS
from .outputs import COMMIT_MARKER, FolderLock, OutputError, is_complete, write_atomically
from .pipeline import AnalyzeOptions, analyze
from .plaintext import printable
from .spec import ExerciseSpec, SpecError, load_exercise
from .video import ANALYSIS_MAX_SIDE_PX, VIDEO_SUFFIXES

if TYPE_CHECKING:
    from .clinic.prescription import Prescription

BUNDLE_SUFFIXES = (".formcheck",)
EXTRACTED_DIR = ".bundle-traces"  # OUT/.bundle-traces/<bundle stem>/<uid>.json: what the workers read
SUMMARY_CSV = "batch_summary.csv"
BATCH_LOCK = ".formcheck-batch.lock"
SUMMARY_COLUMNS = ("file", "status", "reps", "partial", "flags", "seconds", "error")
EXIT_OK, EXIT_SOME_FAILED = 0, 2


class BatchError(Exception):
    """The batch as a whole cannot run (no such folder, Ray missing); the message says why."""


@dataclass(frozen=True)
class Job:
    """One input to analyse; everything a worker needs, on this machine or another."""

    input: Path
    out_dir: Path
    spec: ExerciseSpec
    options: AnalyzeOptions
    label: str = ""  # the name in the summary; the input's file name when empty

    @property
    def name(self) -> str:
        return self.label or self.input.name


@dataclass(frozen=True)
class Item:
    """One thing to analyse, before the check whether it was done already."""

    label: str
    input: Path
    out_dir: Path
    spec: ExerciseSpec | None  # None: no --exercise for a recording; plan() reports it


@dataclass(frozen=True)
class Outcome:
    """One row of the batch summary."""

    file: str
    status: str  # "ok" | "skipped" | "failed"
    reps: int | None = None
    partial: int | None = None
    flags: int | None = None
    seconds: float = 0.0
    error: str = ""

    def row(self) -> list[str]:
        def cell(value: int | None) -> str:
            return "" if value is None else str(value)

        return [self.file, self.status, cell(self.reps), cell(self.partial), cell(self.flags),
                f"{self.seconds:.1f}", self.error]


# -- planning (pure) --------------------------------------------------------------------------------


def find_inputs(folder: Path) -> list[Path]:
    """Videos, traces and session bundles directly inside ``folder``, by name; hidden files are left out."""
    suffixes = VIDEO_SUFFIXES + BUNDLE_SUFFIXES
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".")
                  and (p.suffix.lower() in suffixes or is_trace_name(p)))


def is_link_outside(path: Path, folder: Path) -> bool:
    """True when ``path`` is a symbolic link leading out of ``folder`` (a batch reads the folder
    it is given, not whatever a link inside it points to)."""
    if not path.is_symlink():
        return False
    try:
        path.resolve(strict=True).relative_to(folder.resolve(strict=True))
    except (OSError, ValueError):
        return True
    return False


def is_done(input_path: Path, out_dir: Path) -> bool:
    """True when out_dir holds a complete run (outputs.is_complete) committed after the input last changed."""
    summary = out_dir / COMMIT_MARKER
    return is_complete(out_dir) and summary.stat().st_mtime > input_path.stat().st_mtime


def plan(inputs: Iterable[Path | Item], out: Path, spec: ExerciseSpec | None,
         options: AnalyzeOptions) -> tuple[list[Job], list[Outcome]]:
    """Split the inputs into jobs to run and outcomes known already (done before, name clash).

    A path is analysed with ``spec`` into OUT/<stem>/; an ``Item`` (a bundled session) says its own."""
    jobs: list[Job] = []
    known: list[Outcome] = []
    stems: dict[Path, str] = {}
    for entry in inputs:
        item = entry if isinstance(entry, Item) else Item(entry.name, entry, out / trace_stem(entry), spec)
        if item.out_dir.relative_to(out).parts[0] == SUMMARY_CSV:
            known.append(Outcome(item.label, "failed", error=f"its output folder would take the place of "
                                 f"{SUMMARY_CSV}; rename it"))
            continue
        if item.out_dir in stems:
            known.append(Outcome(item.label, "failed", error=f"same output folder {item.out_dir} as "
                                 f"{stems[item.out_dir]}; rename one of them"))
            continue
        stems[item.out_dir] = item.label
        if item.spec is None:
            known.append(Outcome(item.label, "failed", error="videos and traces need --exercise"))
        elif is_done(item.input, item.out_dir):
            known.append(outcome_from_summary(item.label, "skipped", item.out_dir / "summary.json"))
        else:
            jobs.append(Job(item.input, item.out_dir, item.spec, options, label=item.label))
    return jobs, known


def bundle_items(bundle: Path, out: Path, spec: ExerciseSpec | None,
                 prescription: Prescription | None) -> tuple[list[Item], list[Outcome]]:
    """The bundle's sessions as items to re-score (their traces extracted under OUT/.bundle-traces),
    or one failed outcome when the bundle is refused (bundle.py checks it whole first)."""
    from .bundle import BundleError, bundle_traces

    try:
        sessions = bundle_traces(bundle)
    except BundleError as exc:
        return [], [Outcome(bundle.name, "failed", error=_one_line(exc).removeprefix(f"{bundle}: "))]
    items, known = [], []
    extracted = out / EXTRACTED_DIR / bundle.stem
    for session in sessions:
        label = f"{bundle.name}:{session.uid[:8]} {session.exercise} {session.started_at[:16]}"
        if session.trace is None:
            known.append(Outcome(label, "failed", error="no landmark trace in the bundle for this session"))
            continue
        trace = extracted / f"{session.uid}.json"
        if not trace.is_file() or trace.stat().st_mtime < bundle.stat().st_mtime:
            extracted.mkdir(parents=True, exist_ok=True)
            trace.write_bytes(session.trace)
        try:
            session_spec = spec or _prescribed(session.exercise, prescription) or load_exercise(session.exercise)
        except SpecError as exc:
            known.append(Outcome(label, "failed", error=_one_line(exc)))
            continue
        items.append(Item(label, trace, out / bundle.stem / session.uid, session_spec))
    return items, known


def _prescribed(exercise: str, prescription: Prescription | None) -> ExerciseSpec | None:
    """The exercise with the prescription's targets and limits, when the prescription has it."""
    for item in (prescription.exercises if prescription is not None else ()):
        if item.name == exercise:
            return item.spec()
    return None


# -- the per-file work, shared by both engines ------------------------------------------------------


def analyze_one(job: Job) -> Outcome:
    """Analyse one input into its folder; never raises: a failure becomes a 'failed' outcome."""
    started = time.perf_counter()
    try:
        result = analyze(job.input, job.spec, job.out_dir, job.options)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch; the error is reported
        error = _one_line(exc).removeprefix(f"{job.input}: ")  # the table names the file already
        return Outcome(job.name, "failed", seconds=time.perf_counter() - started, error=error)
    summary = result.to_dict()
    return Outcome(job.name, "ok", summary["reps"], summary["partial_reps"], len(summary["flags"]),
                   time.perf_counter() - started)


def outcome_from_summary(file: str, status: str, summary_path: Path) -> Outcome:
    """An outcome read back from a summary.json written by an earlier run."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        return Outcome(file, status, summary["reps"], summary["partial_reps"], len(summary["flags"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Outcome(file, status, error=f"cannot read {summary_path.name}: {_one_line(exc)}")


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """The error as one line of at most ``limit`` characters; the type only where it adds meaning."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (ValueError, OSError, RuntimeError)):  # our errors explain themselves
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- engines: each runs analyze_one over the jobs and reports every outcome as it arrives -------------

Report = Callable[[Outcome], None]


def run_local(jobs: list[Job], workers: int, report: Report) -> list[Outcome]:
    """A pool of ``workers`` processes on this machine ("spawn": no inherited model threads)."""
    outcomes = []
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(analyze_one, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker process itself died
                outcome = Outcome(futures[future].name, "failed",
                                  error=f"the worker process died ({_one_line(exc)})")
            report(outcome)
            outcomes.append(outcome)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return outcomes


def run_ray(jobs: list[Job], workers: int, report: Report, address: str | None = None) -> list[Outcome]:
    """The same work as Ray tasks: on the cluster at ``address``, or on a local instance."""
    try:
        import ray
    except ImportError:
        raise BatchError("the ray engine needs Ray: pip install ray (plain ray; ray[default] "
                         "breaks mediapipe's protobuf)") from None
    if ray.is_initialized():
        raise BatchError("Ray is already initialised in this process; run the batch from a fresh process")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(include_dashboard=False, num_cpus=workers, log_to_driver=False)
    try:
        # max_retries=0: a file that crashes its worker is reported, not retried three times.
        task = ray.remote(num_cpus=1, max_retries=0)(analyze_one)
        pending = {task.remote(job): job for job in jobs}
        outcomes = []
        while pending:
            [ready], _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready)
            try:
                outcome = ray.get(ready)
            except Exception as exc:  # noqa: BLE001 - the task's worker died
                outcome = Outcome(job.name, "failed", error=f"the Ray task failed ({_one_line(exc)})")
            report(outcome)
            outcomes.append(outcome)
        return outcomes
    finally:
        ray.shutdown()


# -- the summary ------------------------------------------------------------------------------------------


def summary_table(outcomes: list[Outcome]) -> str:
    """The outcomes as an aligned text table, errors last on each line."""
    rows = [list(SUMMARY_COLUMNS)] + [[printable(cell) for cell in o.row()] for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(SUMMARY_COLUMNS) - 1)]
    numeric = {"reps", "partial", "flags", "seconds"}
    lines = []
    for r in rows:
        cells = [r[i].rjust(w) if SUMMARY_COLUMNS[i] in numeric else r[i].ljust(w) for i, w in enumerate(widths)]
        lines.append("  ".join(cells + [r[-1]]).rstrip())
    return "\n".join(lines)


def write_summary_csv(outcomes: list[Outcome], path: Path) -> None:
    """The table as CSV, written whole or not at all (outputs.write_atomically)."""

    def write(f) -> None:
        writer = csv.writer(f)
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerows(o.row() for o in outcomes)

    write_atomically(path, write)


def counts(outcomes: list[Outcome]) -> str:
    by_status = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    return ", ".join(f"{n} {s}" for s, n in by_status.items())


# -- the command ----------------------------------------------------------------------------------------


def run_batch(args: argparse.Namespace) -> int:
    """``formcheck batch``: see the module docstring. Returns the exit status."""
    try:
        return _run(args)
    except (BatchError, OutputError) as exc:
        print(printable(f"formcheck: error: {exc}"), file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    folder, out = Path(args.folder), Path(args.out)
    if not folder.is_dir():
        raise BatchError(f"{folder}: no such folder")
    if args.workers < 1:
        raise BatchError(f"--workers must be at least 1, got {args.workers}")
    # An unknown exercise or a bad prescription fails here, once, not once per file.
    spec = load_exercise(args.exercise) if getattr(args, "exercise", None) else None
    prescription = _load_prescription(getattr(args, "prescription", None))
    inputs = find_inputs(folder)
    if not inputs:
        raise BatchError(f"{folder}: no videos ({', '.join(VIDEO_SUFFIXES)}), "
                         f"traces ({', '.join(TRACE_SUFFIXES)}) or session bundles (.formcheck) in it")
    if spec is None and any(p.suffix.lower() not in BUNDLE_SUFFIXES for p in inputs):
        raise BatchError(f"{folder} holds videos or traces: name their exercise with --exercise")
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, "batch", BATCH_LOCK):  # a second batch into the same folder is refused
        return _run_locked(args, folder, out, spec, prescription, inputs)


def _run_locked(args: argparse.Namespace, folder: Path, out: Path, spec: ExerciseSpec | None,
                prescription: Prescription | None, inputs: list[Path]) -> int:
    # Overlapping decoding, model and writing uses idle cores; with a file on every core there are none.
    options = AnalyzeOptions(write_video=not args.no_video, overlap=args.workers < (os.cpu_count() or 1),
                             max_side_px=getattr(args, "max_side", ANALYSIS_MAX_SIDE_PX),
                             max_fps=getattr(args, "max_fps", DEFAULT_MAX_FPS))
    entries: list[Path | Item] = []
    refused: list[Outcome] = []
    for path in inputs:
        if is_link_outside(path, folder):
            refused.append(Outcome(path.name, "failed",
                                   error="a link to a file outside the input folder; not followed"))
        elif path.suffix.lower() in BUNDLE_SUFFIXES:
            items, failed = bundle_items(path, out, spec, prescription)
            entries += items
            refused += failed
        else:
            entries.append(path)
    jobs, known = plan(entries, out, spec, options)
    known += refused

    total = len(jobs) + len(known)
    done = [0]

    def report(outcome: Outcome) -> None:
        done[0] += 1
        detail = outcome.error or (f"{outcome.reps} reps, {outcome.seconds:.1f} s" if outcome.status == "ok" else "")
        print(printable(f"[{done[0]}/{total}] {outcome.file}: {outcome.status}" + (f" ({detail})" if detail else "")),
              file=sys.stderr, flush=True)

    for outcome in known:
        report(outcome)
    if jobs and args.engine == "ray":
        ran = run_ray(jobs, args.workers, report, address=getattr(args, "address", None))
    elif jobs:
        ran = run_local(jobs, args.workers, report)
    else:
        ran = []
    outcomes = sorted(known + ran, key=lambda o: o.file)  # the inputs' order: by name
    print(summary_table(outcomes))  # first: whatever happens to the file, the table is shown
    try:
        write_summary_csv(outcomes, out / SUMMARY_CSV)
    except OSError as exc:
        print(printable(f"formcheck: error: cannot write {out / SUMMARY_CSV}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_SOME_FAILED
    print(printable(f"{counts(outcomes)}; summary in {out / SUMMARY_CSV}"))
    return EXIT_SOME_FAILED if any(o.status == "failed" for o in outcomes) else EXIT_OK


def _load_prescription(path: str | None) -> Prescription | None:
    if not path:
        return None
    from .clinic.prescription import PrescriptionError, parse_prescription

    try:
        return parse_prescription(Path(path).read_text(encoding="utf-8"), where=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{path}: cannot read the prescription ({exc})") from None
    except PrescriptionError as exc:
        raise BatchError(str(exc)) from None
