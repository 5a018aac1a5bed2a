"""Every benchmark of the README, one after the other, and one table with all their figures.

    python benchmarks/report.py [--full] [--live-seconds 60] [--out FILE] [--json FILE]
    python benchmarks/report.py --from-json FILE     # the table again, from a saved run

Runs, each in its own process and one at a time (so they do not compete for the two cores):

  1. throughput.py      bare MediaPipe loop, ``analyze`` with the annotated video and ``analyze
                        --no-video`` on tests/fixtures/video/bird_dog_360.mp4 (427 frames), then
                        on the same recording at the phone's 1080 x 1920 (../shared, when there),
                        with ``--max-side 0`` too
  2. live_page.py       the live page in headless Chromium: its frame rate, and movement -> cue
  3. memory_long_video.py  peak memory of ``analyze`` on the clip looped to 30 s and to 2 min
                        (``--full``: 1 and 10 minutes, as in the README, about 10 minutes more)
  4. startup.py         app start-up (server, first page) and the heavy imports

Each script's own output goes to stderr as it runs; stdout gets the machine (CPU model, cores,
load average at the start and at the end: the figures depend on what else runs) and one
markdown table: measure | figure | unit | notes, with the ratios to the bare loop. A step that
fails is shown as failed and the others still run. About 6 minutes on this 2-core machine
shared with other jobs (load average 6-8); ``--full`` adds about 10 minutes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIP = ROOT / "tests" / "fixtures" / "video" / "bird_dog_360.mp4"
# The same recording as the phone made it (1080 x 1920), from the development fixtures beside
# the repository; the step is left out where they are not.
PHONE_CLIP = ROOT.parent / "shared" / "fixtures" / "video" / "bird_dog.mp4"
STEPS = ("throughput", "throughput_phone", "live_page", "memory", "startup")
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}


def steps(args) -> dict[str, list[str]]:
    """Script and arguments of each measurement, in running order."""
    memory = ["--base-seconds", "60", "--factor", "10"] if args.full else ["--base-seconds", "30", "--factor", "4"]
    repeat = str(2 if args.full else 1)
    return {
        "throughput": ["throughput.py", str(CLIP), "--kinds", "bare,analyze,analyze_novideo",
                       "--repeat", repeat, "--json"],
        **({"throughput_phone": ["throughput.py", str(PHONE_CLIP), "--kinds",
                                 "bare,analyze,analyze_novideo,analyze_fullsize", "--repeat", repeat, "--json"]}
           if PHONE_CLIP.exists() else {}),
        "live_page": ["live_page.py", "--seconds", str(args.live_seconds), "--json"],
        "memory": ["memory_long_video.py", str(CLIP), *memory, "--json"],
        "startup": ["startup.py", "--repeat", "3", "--json"],
    }


def run_step(name: str, argv: list[str]) -> dict:
    """Run one benchmark script, echoing its output to stderr; return its JSON line's figures and
    ``step_seconds``, the script's wall time."""
    env = {**os.environ, **QUIET_ENV, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    print(f"\n== {name}: {' '.join(argv)}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / argv[0]), *argv[1:]], cwd=str(ROOT), env=env,
                            stdout=subprocess.PIPE, text=True)
    last = ""
    for line in proc.stdout:
        print(f"   {line}", end="", file=sys.stderr, flush=True)
        if line.startswith("{"):
            last = line
    proc.wait()
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not last:
        return {"error": f"exit code {proc.returncode}", "step_seconds": seconds}
    return {**json.loads(last), "step_seconds": seconds}


def machine() -> dict:
    """CPU model, cores and load average now."""
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


# -- the table ------------------------------------------------------------------------------------


def num(value, fmt: str = ".1f") -> str:
    """A number for the table ("-" when missing or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:{fmt}}"


def throughput_rows(t: dict, clip: str = "360 x 640 test clip") -> list[tuple]:
    if "error" in t:
        return [(f"CLI pipeline and bare loop, {clip} (throughput.py)", "failed", "", t["error"])]
    rows = {r["kind"]: r for r in t["rows"]}
    bare = rows["bare"]["fps"]
    what = {"bare": "bare MediaPipe loop (decode + pose)",
            "analyze": "CLI pipeline: `analyze`, annotated video",
            "analyze_novideo": "CLI pipeline: `analyze --no-video`",
            "analyze_fullsize": "CLI pipeline: `analyze --max-side 0` (recorded size)"}
    out = []
    for kind, label in what.items():
        r = rows.get(kind)
        if r:
            label = f"{label}, {clip}"
            ratio = "" if kind == "bare" else f"; {r['fps'] / bare:.2f} x bare"
            out.append((label, num(r["fps"]), "frames/s",
                        f"{r['frames']} frames, best of {t['repeat']}; {r['cpu_ms_per_frame']:.1f} CPU ms/frame; "
                        f"peak RSS {r['peak_rss_mb']:.0f} MiB{ratio}"))
    return out


def live_rows(live: dict, bare_fps: float | None) -> list[tuple]:
    if "error" in live:
        return [("live page (live_page.py)", "failed", "", live["error"])]
    fps, ms = live["page_fps"], live["page_ms_per_frame"]
    ratio = f"; {fps['median'] / bare_fps:.2f} x bare" if bare_fps and not math.isnan(fps["median"]) else ""
    video, band, panel = live["video_delay_ms"], live["cue_video_s"], live["cue_panel_s"]
    episodes = live["episodes"]
    return [
        ("live page: frames analysed (as the page says)", num(fps["median"], ".0f"), "frames/s",
         f"median over {live['seconds']:.0f} s (range {num(fps['min'], '.0f')}-{num(fps['max'], '.0f')}); "
         f"{num(ms['median'], '.0f')} ms per frame{ratio}"),
        ("live page: annotated frames displayed", num(live["shown_fps"]), "frames/s",
         f"distinct frames on screen (frame markers); camera {num(live['camera_fps'])} fps"),
        ("camera frame -> its annotated picture on screen", num(video["median"], ".0f"), "ms",
         f"median, p90 {num(video['p90'], '.0f')} ms, n={video['n']}"),
        ("movement -> cue on the video (red band)", num(band["median"], ".2f"), "s",
         f"median of {band['n']} (range {num(band['min'], '.2f')}-{num(band['max'], '.2f')}); includes the rule's "
         f"{live['debounce_s']:g} s debounce, not the smoothing's {num(live['smoothing_lag_ms']['median'], '.0f')} ms; "
         f"{episodes['video_missed']} of {episodes['expected']} movements missed"),
        ("movement -> cue in the side panel", num(panel["median"], ".2f"), "s",
         f"median of {panel['n']} (range {num(panel['min'], '.2f')}-{num(panel['max'], '.2f')}); "
         f"panel refreshed every 0.5 s; {episodes['panel_unpaired']} panel onset(s) not paired with the video's"),
    ]


def memory_rows(m: dict) -> list[tuple]:
    if "error" in m:
        return [("peak memory on a long video (memory_long_video.py)", "failed", "", m["error"])]
    short, long = m["runs"]
    return [(f"peak memory, `analyze` with video, {long['minutes']:.0f} min recording", num(long["peak_rss_mb"], ".0f"),
             "MiB", f"{short['peak_rss_mb']:.0f} MiB for {short['minutes']:.1f} min: x{m['rss_ratio']:.2f} "
                    f"for {long['minutes'] / short['minutes']:.0f}x the length; {long['fps']:.1f} frames/s")]


def startup_rows(s: dict) -> list[tuple]:
    if "error" in s:
        return [("app start-up (startup.py)", "failed", "", s["error"])]
    out = [("app start-up: server answering", num(s["health_s"]["best"], ".2f"), "s",
            f"best of {len(s['health_s']['runs'])}, median {s['health_s']['median']:.2f} s; `streamlit run app.py`, "
            "fresh data folder"),
           ("app start-up: first page drawn", num(s["first_page_s"]["best"], ".2f"), "s",
            f"best of {len(s['first_page_s']['runs'])}, median {s['first_page_s']['median']:.2f} s; launch to the "
            "patient page's title in the browser")]
    imports = dict(s.get("imports_s", {}))
    model = imports.pop("pose model created and closed", None)
    everything = imports.pop("all of app.py's imports", None)
    if everything is not None:
        out.append(("app.py's imports (fresh process)", num(everything, ".2f"), "s",
                    "of which " + ", ".join(f"{k.split(' ')[0]} {v:.1f} s" for k, v in imports.items())
                    + " (each alone; they share dependencies)"))
    if model is not None:
        out.append(("pose model load (at the first Start session)", num(model, ".2f"), "s",
                    "fresh process, its imports included"))
    return out


def table(results: dict) -> str:
    t = results.get("throughput", {"error": "not run"})
    bare = next((r["fps"] for r in t.get("rows", []) if r["kind"] == "bare"), None)
    phone = ([*throughput_rows(results["throughput_phone"], "1080 x 1920 phone clip")]
             if "throughput_phone" in results else [])
    rows = [*throughput_rows(t), *phone, *live_rows(results.get("live_page", {"error": "not run"}), bare),
            *memory_rows(results.get("memory", {"error": "not run"})),
            *startup_rows(results.get("startup", {"error": "not run"}))]
    lines = ["| measure | figure | unit | notes |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="the README's long-video memory run (1 and 10 min) and throughput best of 2")
    parser.add_argument("--live-seconds", type=float, default=60.0, help="recording time of the live page")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(STEPS)}")
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    parser.add_argument("--json", help="also write every figure (JSON) to this file")
    parser.add_argument("--from-json", help="print the table of a run saved with --json instead of running")
    args = parser.parse_args(argv)

    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
    else:
        started, before = time.perf_counter(), machine()
        plan = steps(args)
        chosen = [s.strip() for s in args.only.split(",")] if args.only else list(plan)
        results = {name: run_step(name, plan[name]) for name in plan if name in chosen}
        saved = {"machine": before, "machine_after": machine(), "seconds": time.perf_counter() - started, **results}
    results = {k: v for k, v in saved.items() if k in STEPS}
    before, after = saved["machine"], saved["machine_after"]
    head = (f"Machine: {before['cpu']}, {before['cores']} cores; load average (1, 5, 15 min) "
            f"{' '.join(map(str, before['load']))} at the start, {' '.join(map(str, after['load']))} at the end. "
            f"Run time {saved['seconds'] / 60:.1f} min ("
            + ", ".join(f"{k} {v['step_seconds']:.0f} s" for k, v in results.items()) + ").")
    text = head + "\n\n" + table(results)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    if args.json and not args.from_json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(saved, indent=1), encoding="utf-8")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
