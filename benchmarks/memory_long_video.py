"""Peak memory of ``analyze`` on a long recording against one ten times shorter: it must stay flat.

    python benchmarks/memory_long_video.py [CLIP] [--base-seconds 60] [--factor 10] [--no-video]

A real clip is looped (its packets copied, see clips.py) to ``base-seconds`` and to ``factor``
times that (60 s and 10 minutes by default); each is analysed in a fresh process and its
resident-memory high-water mark (VmHWM) read at the end. Frames are streamed and the trace is
spooled to disk, so the peak should not grow with the length: the last line is
``rss_ratio=<peak long / peak short>`` (about 1.0 is flat; the 10x run takes a while); with
--json one more line follows: every figure as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from clips import clip_frames, loop_clip  # noqa: E402 - found through the sys.path line above
from throughput import run_child  # noqa: E402 - as clips

DEFAULT_CLIP = HERE.parent / "tests" / "fixtures" / "video" / "bird_dog_360.mp4"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--base-seconds", type=float, default=60.0, help="length of the short recording")
    parser.add_argument("--factor", type=int, default=10, help="the long recording is this many times longer")
    parser.add_argument("--no-video", action="store_true", help="analyse without writing annotated.mp4")
    parser.add_argument("--exercise", default="bird_dog")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON with every figure")
    args = parser.parse_args(argv)

    import av

    with av.open(args.clip) as container:
        fps = float(container.streams.video[0].average_rate or 30)
    base_frames = max(1, round(args.base_seconds * fps))
    kind = "analyze_novideo" if args.no_video else "analyze"
    print(f"clip: {args.clip} ({clip_frames(args.clip)} frames at {fps:g} fps), looped; "
          f"{'without' if args.no_video else 'with'} annotated video")
    rows = []
    with tempfile.TemporaryDirectory(prefix="fc-long-") as tmp:
        for factor in (1, args.factor):
            frames = base_frames * factor
            clip = loop_clip(args.clip, Path(tmp) / f"long_{factor}x.mp4", frames)
            result = run_child(kind, str(clip), args.exercise)
            clip.unlink()
            rows.append((factor, result))
            print(f"{factor:3d}x  {frames / fps / 60:6.1f} min  {result['frames']:7d} frames  "
                  f"{result['fps']:5.1f} fps  peak RSS {result['peak_rss_mb']:6.0f} MiB", flush=True)
    (_, short), (_, long) = rows
    print(f"rss_ratio={long['peak_rss_mb'] / short['peak_rss_mb']:.3f}")
    if args.json:
        print(json.dumps({"clip": args.clip, "video": not args.no_video, "clip_fps": fps,
                          "runs": [{"factor": f, "minutes": base_frames * f / fps / 60, **r} for f, r in rows],
                          "rss_ratio": long["peak_rss_mb"] / short["peak_rss_mb"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
