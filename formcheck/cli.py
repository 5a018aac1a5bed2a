"""The ``formcheck`` command line.

    formcheck analyze INPUT --exercise NAME --out DIR [--no-video] [--max-side PX] [--max-fps F]
                      [--backend tasks --model F.task]
    formcheck trace VIDEO -o trace.json
    formcheck exercises
    formcheck batch DIR --exercise NAME --out DIR [--workers N] [--engine local|ray --address ADDR]
    formcheck export --data DIR [--patient ID] [--since DATE] [--with-video] -o FILE.formcheck
    formcheck import FILE.formcheck --data DIR
    formcheck validate MANIFEST [--out DIR] [--workers N] [--markdown FILE] [--max-fps F]

Errors a user can cause (missing or damaged file, unknown exercise, bad trace, bad manifest) print
one line on stderr and exit with status 2; nothing prints a traceback. ``validate`` exits with 1
when a clip its manifest marks "sure" fails (see formcheck/validation.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .framerate import DEFAULT_MAX_FPS
from .measurement import Measurement
from .plaintext import printable
from .video import ANALYSIS_MAX_SIDE_PX

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """A problem with what the user asked for, shown as one line."""


def main(argv: list[str] | None = None) -> int:
    _quiet_native_logs()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("formcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `formcheck exercises | head`): nothing to say about it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a clear line
        from .backends import BackendError
        from .backends.replay import TraceError
        from .bundle import BundleError
        from .outputs import OutputError
        from .spec import SpecError
        from .store import StoreError
        from .validation import ManifestError
        from .video import VideoError

        if isinstance(exc, (UserError, VideoError, TraceError, SpecError, BackendError, BundleError, StoreError,
                            OutputError, ManifestError, OSError)):
            print(printable(f"formcheck: error: {exc}"), file=sys.stderr)  # a file name may hold a newline
            return EXIT_BAD_INPUT
        print(printable(f"formcheck: internal error ({type(exc).__name__}: {exc}); please report it"), file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="formcheck", description="Exercise form checker for back-surgery rehab.")
    sub = parser.add_subparsers(dest="command")

    analyze = sub.add_parser("analyze", help="analyse a video or a landmark trace")
    analyze.add_argument("input", help="video file (mp4, mov, webm, avi) or landmark trace (.json, .json.gz)")
    analyze.add_argument("--exercise", "-e", required=True,
                         help="exercise name (see `formcheck exercises`) or a .toml file")
    analyze.add_argument("--out", "-o", required=True, help="output folder")
    analyze.add_argument("--no-video", action="store_true", help="do not write annotated.mp4")
    _size_arg(analyze)
    _fps_arg(analyze)
    _backend_args(analyze)
    analyze.set_defaults(run=_cmd_analyze)

    trace = sub.add_parser("trace", help="extract a landmark trace from a video")
    trace.add_argument("video")
    trace.add_argument("-o", "--out", required=True, help="trace file to write (.json)")
    _size_arg(trace)
    _backend_args(trace)
    trace.set_defaults(run=_cmd_trace)

    exercises = sub.add_parser("exercises", help="list the exercise definitions")
    exercises.set_defaults(run=_cmd_exercises)

    batch = sub.add_parser("batch", help="analyse every recording in a folder")
    batch.add_argument("folder")
    batch.add_argument("--exercise", "-e", default=None,
                       help="exercise of the videos and traces; session bundles default to each session's own")
    batch.add_argument("--prescription", default=None, metavar="FILE.toml",
                       help="re-score bundled sessions with this prescription's targets and limits")
    batch.add_argument("--out", "-o", required=True)
    batch.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
    batch.add_argument("--engine", choices=("local", "ray"), default="local")
    batch.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    batch.add_argument("--no-video", action="store_true")
    _size_arg(batch)
    _fps_arg(batch)
    batch.set_defaults(run=_cmd_batch)

    export = sub.add_parser("export", help="pack a patient's sessions into one .formcheck file for the clinic")
    _data_arg(export)
    export.add_argument("--patient", default=None,
                        help="the patient's number or id (needed when the data folder has several patients)")
    export.add_argument("--since", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="sessions saved from this day on (default: everything since the last export)")
    export.add_argument("--all", action="store_true", help="every session, whatever was exported before")
    export.add_argument("--with-video", action="store_true", help="include kept videos (default: none leave)")
    export.add_argument("-o", "--out", required=True, help="bundle to write (FILE.formcheck)")
    export.set_defaults(run=_cmd_export)

    import_ = sub.add_parser("import", help="add a .formcheck session bundle to this data folder")
    import_.add_argument("bundle", help="the .formcheck file")
    _data_arg(import_)
    import_.set_defaults(run=_cmd_import)

    validate = sub.add_parser("validate", help="score formcheck against recordings whose truth was counted by eye")
    validate.add_argument("manifest", help="TOML manifest of recordings and their truth (see README: Validation)")
    validate.add_argument("--out", "-o", default=None,
                          help="folder for each clip's analysis (default: a temporary folder, deleted afterwards)")
    validate.add_argument("--workers", type=int, default=None,
                          help="clips analysed at once, one process each (default: one per core)")
    validate.add_argument("--markdown", default=None, metavar="FILE",
                          help="also write the table and the metrics as markdown (for README.md)")
    _size_arg(validate)
    _fps_arg(validate)
    validate.set_defaults(run=_cmd_validate)
    return parser


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None,
                        help="data folder (default: $FORMCHECK_DATA_DIR, else ./formcheck-data, as the app)")


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def _size_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-side", type=_side_px, default=ANALYSIS_MAX_SIDE_PX, metavar="PX",
                        help=f"analyse (and annotate) frames at most PX pixels on their longer side "
                             f"(default {ANALYSIS_MAX_SIDE_PX}; 0 keeps the recorded size)")


def _fps_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-fps", type=_max_fps, default=DEFAULT_MAX_FPS, metavar="F",
                        help=f"analyse at most F frames a second, skipping frames closer in time than 1/F s "
                             f"(default {DEFAULT_MAX_FPS:g}: a 60 fps clip costs what a 30 fps one does; "
                             f"0: every frame)")


def _max_fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value != 0 and not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 (every frame) or a rate from 1 to 1000 frames a second")
    return value


def _side_px(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value != 0 and not 64 <= value <= 8192:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 (the recorded size) or a size from 64 to 8192 pixels")
    return value


def _backend_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("mediapipe", "tasks"), default="mediapipe",
                        help="pose model: the bundled MediaPipe model (default) or a Tasks .task file")
    parser.add_argument("--model", default=None, help="path to a PoseLandmarker .task file (with --backend tasks)")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .pipeline import AnalyzeOptions, analyze
    from .spec import load_exercise

    spec = load_exercise(args.exercise)
    _check_input(args.input)
    options = AnalyzeOptions(backend=args.backend, model_path=args.model, write_video=not args.no_video,
                             max_side_px=args.max_side, max_fps=args.max_fps)
    progress = ProgressBar(printable(f"Analysing {Path(args.input).name}"))
    result = analyze(args.input, spec, args.out, options, progress=progress)
    progress.done()
    print(summary_text(result.to_dict(), Path(args.out)))
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    from .backends import make_backend
    from .backends.replay import TraceRecorder
    from .outputs import write_atomically
    from .types import PoseFrame
    from .video import fit_within, open_video, read_frames

    _check_input(args.video)
    out = Path(args.out)
    if out.exists() and os.path.samefile(out, args.video):
        raise UserError(f"{args.out}: is the video itself; formcheck would write over it")
    _, info = open_video(args.video)
    backend = make_backend(args.backend, model_path=args.model)
    recorder = TraceRecorder(model=backend.description, label=Path(args.video).name, fps=info.fps or 30.0)
    progress = ProgressBar(printable(f"Tracing {Path(args.video).name}"))
    try:
        for index, t_ms, recorded in read_frames(args.video):
            image = fit_within(recorded, args.max_side)  # as analyze sees it, so replays match
            recorder.add(PoseFrame(index, t_ms, image.shape[1], image.shape[0], backend.detect(image, t_ms)))
            progress(index + 1, info.frame_count)
    finally:
        backend.close()
    progress.done()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda f: f.write(recorder.to_json()))  # whole or not at all, 0600
    print(printable(f"Wrote {out}: {len(recorder)} frames, {recorder.frames_with_pose} with a pose."))
    return 0


def _cmd_exercises(args: argparse.Namespace) -> int:
    from .spec import list_exercises, load_exercise

    for name in list_exercises():
        spec = load_exercise(name)
        print(f"{name:22s} {spec.title} ({spec.posture}, {spec.view} view; measured from: {', '.join(spec.views)})")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

    return run_batch(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from .bundle import EVERYTHING, export_bundle
    from .store import open_store

    store = open_store(args.data)
    patient = _pick_patient(store, args.patient)
    since = EVERYTHING if args.all else args.since
    result = export_bundle(store, patient.id, args.out, since=since, include_video=args.with_video)
    print(printable(f"Wrote {result.path}: {result.patient_name}, {result.sessions} session(s), "
                    f"{result.symptom_checks} red-flag check(s), {result.videos} video(s), "
                    f"{result.size_bytes / 1024:.0f} KB."))
    return 0


def _pick_patient(store, wanted: str | None):
    patients = store.list_patients()
    if wanted is None:
        if len(patients) == 1:
            return patients[0]
        if not patients:
            raise UserError(f"{store.data_dir}: no patients in this data folder")
        choices = ", ".join(f"{p.id} ({p.name})" for p in patients)
        raise UserError(f"{store.data_dir} has several patients; choose one with --patient: {choices}")
    for p in patients:
        if wanted in (str(p.id), p.uid):
            return p
    raise UserError(f"{store.data_dir}: no patient {wanted!r}; patients are "
                    + ", ".join(f"{p.id} ({p.name})" for p in patients))


def _cmd_import(args: argparse.Namespace) -> int:
    from .bundle import import_bundle
    from .store import open_store

    _check_input(args.bundle)
    result = import_bundle(open_store(args.data), args.bundle)
    print(printable(f"Imported {Path(args.bundle).name}: {result.describe()}"))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    import tempfile

    from .pipeline import AnalyzeOptions
    from .validation import (
        default_workers,
        load_manifest,
        markdown_table,
        metrics,
        metrics_text,
        run_validation,
        text_table,
    )

    clips = load_manifest(args.manifest)
    workers = default_workers(len(clips)) if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    # Overlapping decoding, model and writing uses idle cores; with a clip on every core there are none.
    options = AnalyzeOptions(write_video=False, write_trace=False, overlap=workers < (os.cpu_count() or 1),
                             max_side_px=args.max_side, max_fps=args.max_fps)
    done = [0]

    def progress(score) -> None:
        done[0] += 1
        print(f"[{done[0]}/{len(clips)}] {score.truth.name}: {score.verdict}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="formcheck-validate-") as scratch:
        out = Path(args.out) if args.out else Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        scores = run_validation(clips, out, workers, options, progress)
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(scores), encoding="utf-8")
    m = metrics(scores)
    print(text_table(scores))
    print()
    print(metrics_text(m))
    print(m.line)
    return 1 if m.sure_failed else 0


def _check_input(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file")
    if p.is_dir():
        raise UserError(f"{path}: is a folder, not a video or trace file")


def summary_text(summary: dict, out_dir: Path | None = None) -> str:
    by_side = ", ".join(f"{s} {n}" for s, n in summary["reps_by_side"].items())
    lines = [f"{summary['exercise_title']}: {summary['reps']} complete rep(s)"
             + (f" ({by_side})" if summary["reps_by_side"] else "")
             + f", {summary['partial_reps']} partial, {summary['duration_s']:.1f} s,"
             f" pose found in {summary['frames_with_pose']}/{summary['frames']} frames."]
    measurement = Measurement.from_dict(summary.get("measurement"))
    if not measurement.measured:
        lines.append(f"  NOT MEASURED: {measurement.sentence(summary['exercise_title'])}")
    for rep in summary["rep_details"]:
        side = f" {rep['side']}" if rep["side"] else ""
        flags = f"  flags: {', '.join(rep['flags'])}" if rep["flags"] else ""
        lines.append(f"  rep {rep['index']}{side}: {rep['start_s']:.1f}-{rep['end_s']:.1f} s,"
                     f" peak {rep['peak_deg']} deg, range {rep['rom_deg']} deg, hold {rep['hold_s']:.1f} s{flags}")
    for flag in summary["flags"]:
        lines.append(f"  [{flag['severity']}] {flag['start_s']:.1f}-{flag['end_s']:.1f} s"
                     f" {flag['code']}: {flag['message']}")
    for warning in summary["warnings"]:
        lines.append(f"  warning: {warning}")
    if out_dir is not None:
        lines.append(f"Results in {out_dir}/")
    return "\n".join(printable(line) for line in lines)  # names and messages come from files


class ProgressBar:
    """A one-line progress bar on stderr, shown only on a terminal and only for long jobs."""

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last_draw < 0.2 or now - self.started < 1.0:
            return
        self._last_draw = now
        if total > 0:
            frac = min(done / total, 1.0)
            bar = "#" * int(30 * frac)
            text = f"\r{self.label} [{bar:30s}] {100 * frac:5.1f}% ({done}/{total} frames)"
        else:
            text = f"\r{self.label} {done} frames"
        self.stream.write(text)
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self._last_draw:
            self.stream.write("\n")
            self.stream.flush()


def _quiet_native_logs() -> None:
    # MediaPipe's C++ and TensorFlow Lite log start-up chatter on stderr, which would bury the one
    # clear line users should see. Set before mediapipe is imported.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
