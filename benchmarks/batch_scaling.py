"""How ``formcheck batch`` scales from 1 to 2 workers, with the local process pool and with Ray.

    python benchmarks/batch_scaling.py [CLIP] [--copies 4] [--workers 1,2] [--engines local,ray] [--video]

Puts ``copies`` copies of a real clip in a temporary folder and runs the real command,
``formcheck batch``, once per engine and worker count, each in a fresh process and into a fresh
output folder (so nothing is skipped). Seconds are wall-clock for the whole command: process
start, Ray start-up and the model's loading included, as a user would wait for them.
Speed-up is against 1 worker of the same engine.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CLIP = ROOT / "tests" / "fixtures" / "video" / "bird_dog_360.mp4"
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_batch(folder: Path, out: Path, engine: str, workers: int, video: bool) -> float:
    """Seconds that ``formcheck batch`` took; raises if any file failed."""
    env = {**os.environ, **QUIET_ENV,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "formcheck.cli", "batch", str(folder), "--exercise", "bird_dog",
           "--out", str(out), "--engine", engine, "--workers", str(workers)] + ([] if video else ["--no-video"])
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch_scaling: {' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stdout}\n{proc.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--engines", default="local,ray", help="comma-separated: local, ray")
    parser.add_argument("--video", action="store_true", help="also write annotated.mp4 (default: --no-video)")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    engines = [e.strip() for e in args.engines.split(",")]

    rows = []
    with tempfile.TemporaryDirectory(prefix="fc-batch-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(args.copies):
            shutil.copyfile(args.clip, folder / f"clip_{i:02d}{Path(args.clip).suffix}")
        for engine in engines:
            for n in workers:
                seconds = run_batch(folder, Path(tmp) / f"out_{engine}_{n}", engine, n, args.video)
                rows.append((engine, n, seconds))
                print(f"  {engine} x{n}: {seconds:.1f} s", file=sys.stderr, flush=True)

    print(f"{args.copies} copies of {Path(args.clip).name}, {os.cpu_count()} CPU(s), "
          f"{'with' if args.video else 'without'} annotated video")
    print(f"{'engine':8s} {'workers':>7s} {'seconds':>8s} {'files/min':>9s} {'speed-up':>8s}")
    for engine, n, seconds in rows:
        base = next(s for e, w, s in rows if e == engine and w == min(workers))
        print(f"{engine:8s} {n:7d} {seconds:8.1f} {60 * args.copies / seconds:9.1f} {base / seconds:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
