"""What the analysis costs over the bare MediaPipe loop, measured in one run on one clip.

    python benchmarks/throughput.py CLIP [--frames N] [--repeat R] [--exercise NAME]

Measurements (each in a fresh subprocess, so every peak memory figure is its own):

  bare           OpenCV decode + mp.solutions.pose.Pose(model_complexity=1,
                 smooth_landmarks=False).process(rgb) per frame, nothing else
  bare_seg       the same with enable_segmentation=True (the pipeline uses the mask)
  analyze        formcheck.pipeline.analyze with the annotated video (the default)
  analyze_novideo  analyze with write_video=False (``--no-video``)
  sequential     analyze with the annotated video, one frame at a time (overlap=False)
  analyze_fullsize  analyze with the annotated video at the recorded size (``--max-side 0``);
                 the default analyses frames at most 960 px on their longer side, which only
                 matters for clips larger than that (e.g. a 1080 x 1920 phone recording)

Every timing starts before the model is created and stops after the last output is written;
imports are not timed. fps = frames / seconds. "cpu" is user + system CPU time over wall time
(100% = one core busy) and "cpu ms/frame" the same CPU time per frame: the work done, which,
unlike fps, barely depends on what else the machine is running. Peak RSS is the child's
high-water mark (VmHWM). With --repeat R each measurement runs R times, interleaved, and the
best is kept (other jobs on the machine only ever slow a run down). The last line is
``ratio=<analyze fps / bare fps>``; with --json one more line follows: every figure as JSON.

--frames N first loops (or cuts) the clip to exactly N frames by copying its packets (see
clips.py), so short clips can be measured over a longer, steadier run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

KINDS = {
    "bare": "(a) bare MediaPipe loop",
    "bare_seg": "(a) bare loop + segmentation",
    "analyze": "(b) analyze, with video",
    "analyze_novideo": "(c) analyze --no-video",
    "analyze_fullsize": "(e) analyze, video, --max-side 0",
    "sequential": "(d) analyze, video, sequential",
}
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}


# -- the measurements (run inside the child) ------------------------------------------------------


def bare_loop(clip: str, segmentation: bool) -> tuple[int, float]:
    """Decode and run the pose model on every frame, nothing else: (frames, seconds)."""
    import cv2
    from mediapipe.python.solutions import pose as mp_pose

    frames = 0
    start = time.perf_counter()
    with mp_pose.Pose(model_complexity=1, smooth_landmarks=False, enable_segmentation=segmentation) as pose:
        cap = cv2.VideoCapture(clip)
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            frames += 1
        cap.release()
    return frames, time.perf_counter() - start


def run_analyze(clip: str, exercise: str, **options) -> tuple[int, float]:
    """formcheck.pipeline.analyze into a temporary folder: (frames, seconds)."""
    from formcheck.pipeline import AnalyzeOptions, analyze
    from formcheck.spec import load_exercise

    spec = load_exercise(exercise)
    with tempfile.TemporaryDirectory(prefix="fc-bench-") as out:
        start = time.perf_counter()
        result = analyze(clip, spec, out, AnalyzeOptions(**options))
        seconds = time.perf_counter() - start
    return result.frames, seconds


def measure(kind: str, clip: str, exercise: str) -> dict:
    """Run one measurement in this process; return its figures."""
    import cv2  # noqa: F401 - imported before timing, in every measurement alike
    import mediapipe  # noqa: F401 - as cv2

    import formcheck.pipeline  # noqa: F401 - as cv2

    runs = {
        "bare": lambda: bare_loop(clip, segmentation=False),
        "bare_seg": lambda: bare_loop(clip, segmentation=True),
        "analyze": lambda: run_analyze(clip, exercise),
        "analyze_novideo": lambda: run_analyze(clip, exercise, write_video=False),
        "sequential": lambda: run_analyze(clip, exercise, overlap=False),
        "analyze_fullsize": lambda: run_analyze(clip, exercise, max_side_px=0),
    }
    cpu_before = _cpu_seconds()
    frames, seconds = runs[kind]()
    cpu = _cpu_seconds() - cpu_before
    return {"kind": kind, "frames": frames, "seconds": seconds, "fps": frames / seconds,
            "cpu_pct": 100.0 * cpu / seconds, "cpu_ms_per_frame": 1000.0 * cpu / frames,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's resident-memory high-water mark in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the parent: one subprocess a measurement, then the table ---------------------------------------


def run_child(kind: str, clip: str, exercise: str) -> dict:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **QUIET_ENV, "PYTHONPATH": pythonpath}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, clip, "--exercise", exercise]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"throughput: the {kind} measurement failed:\n{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(results: list[dict]) -> dict:
    """The fastest run, with the least CPU time and the highest memory peak seen in any run."""
    best = dict(max(results, key=lambda r: r["fps"]))
    best["cpu_ms_per_frame"] = min(r["cpu_ms_per_frame"] for r in results)
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
    return best


def table(rows: list[dict], bare_fps: float) -> str:
    header = (f"{'measurement':32s} {'frames':>7s} {'seconds':>8s} {'fps':>7s} {'x bare':>7s} {'cpu':>6s}"
              f" {'cpu ms/frame':>12s} {'peak RSS':>10s}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{KINDS[r['kind']]:32s} {r['frames']:7d} {r['seconds']:8.2f} {r['fps']:7.1f} "
                     f"{r['fps'] / bare_fps:7.2f} {r['cpu_pct']:5.0f}% {r['cpu_ms_per_frame']:12.1f}"
                     f" {r['peak_rss_mb']:7.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip")
    parser.add_argument("--frames", type=int, default=None, help="loop or cut the clip to N frames first")
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement R times, keep the best")
    parser.add_argument("--exercise", default="bird_dog")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {', '.join(KINDS)}")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON with every figure")
    parser.add_argument("--child", choices=tuple(KINDS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(measure(args.child, args.clip, args.exercise)))
        return 0

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or "bare" not in kinds or "analyze" not in kinds:
        parser.error(f"--kinds must include bare and analyze, from: {', '.join(KINDS)}")
    if not Path(args.clip).is_file():
        parser.error(f"{args.clip}: no such file")

    with tempfile.TemporaryDirectory(prefix="fc-bench-clip-") as tmp:
        clip = args.clip
        if args.frames:
            sys.path.insert(0, str(HERE))
            from clips import loop_clip

            clip = str(loop_clip(args.clip, Path(tmp) / "clip.mp4", args.frames))
        results: dict[str, list[dict]] = {k: [] for k in kinds}
        for _ in range(max(1, args.repeat)):
            for kind in kinds:
                results[kind].append(run_child(kind, clip, args.exercise))
    rows = [best_of(results[k]) for k in kinds]
    by_kind = {r["kind"]: r for r in rows}
    bare_fps = by_kind["bare"]["fps"]
    print(f"clip: {args.clip}" + (f" looped to {args.frames} frames" if args.frames else "")
          + f"; {os.cpu_count()} CPU(s); best of {max(1, args.repeat)}")
    print(table(rows, bare_fps))
    print(f"ratio={by_kind['analyze']['fps'] / bare_fps:.3f}")
    if args.json:
        print(json.dumps({"clip": args.clip, "frames": args.frames, "repeat": max(1, args.repeat),
                          "cpus": os.cpu_count(), "rows": rows, "ratio": by_kind["analyze"]["fps"] / bare_fps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
