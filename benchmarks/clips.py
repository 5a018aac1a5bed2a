"""Benchmark inputs made from a real clip: loop it to any length without re-encoding.

The H.264 packets are copied (remuxed) with their timestamps shifted by one clip length per
loop, so a 10-minute "recording" costs a second to make and decodes exactly like the original.
Cutting after N packets gives exactly N frames: packets are in decode order, so every packet
kept has its reference frames before it.
"""
from __future__ import annotations

import shutil
from pathlib import Path


def clip_frames(path: str | Path) -> int:
    """Frames in the clip's first video stream (counted from its packets, not from the header)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size and packet.pts is not None)


def loop_clip(src: str | Path, dst: str | Path, frames: int) -> Path:
    """Write ``dst``: the clip ``src`` repeated (or cut) to exactly ``frames`` frames."""
    import av

    src, dst = Path(src), Path(dst)
    if frames <= 0:
        raise ValueError(f"frames must be positive, got {frames}")
    written, offset = 0, 0
    with av.open(str(dst), mode="w") as out:
        out_stream = None
        while written < frames:
            with av.open(str(src)) as container:
                stream = container.streams.video[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                loop_length = _stream_length(stream)
                for packet in container.demux(stream):
                    if not packet.size or packet.pts is None:
                        continue  # the demuxer's empty end-of-stream packet
                    packet.pts += offset
                    if packet.dts is not None:
                        packet.dts += offset
                    packet.stream = out_stream
                    out.mux(packet)
                    written += 1
                    if written == frames:
                        break
                offset += loop_length
    return dst


def repeat_clip(src: str | Path, dst: str | Path, copies: int) -> Path:
    """Write ``dst``: ``copies`` back-to-back copies of ``src`` (1 copy: a plain file copy)."""
    if copies == 1:
        shutil.copyfile(src, dst)
        return Path(dst)
    return loop_clip(src, dst, copies * clip_frames(src))


def _stream_length(stream) -> int:
    """One loop's length in the stream's time base (duration, or frames x frame duration)."""
    if stream.duration:
        return int(stream.duration)
    rate = stream.average_rate or 30
    return int(round(stream.frames / rate / stream.time_base))
