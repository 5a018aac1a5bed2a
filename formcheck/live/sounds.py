"""The live page's two sounds, made here rather than shipped as files: a chime when a rep is
done and a buzz when a form cue starts.

They are built on first use (a few milliseconds of numpy), not when the package is imported:
``rep_sound()`` and ``flag_sound()``, or the names ``REP_SOUND`` and ``FLAG_SOUND`` (module
attributes computed on first access, then kept).
"""
from __future__ import annotations

import functools
import io
import wave

import numpy as np


def tone_wav(frequencies_hz: tuple[float, ...], note_s: float = 0.12, rate: int = 22050,
             volume: float = 0.4) -> bytes:
    """A short WAV (mono, 16 bit) playing the notes one after the other, with soft edges."""
    samples = []
    for freq in frequencies_hz:
        t = np.arange(int(rate * note_s)) / rate
        envelope = np.minimum(1.0, np.minimum(t, note_s - t) / 0.01)  # 10 ms fade in and out
        samples.append(volume * envelope * np.sin(2 * np.pi * freq * t))
    pcm = (np.concatenate(samples) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()


@functools.cache
def rep_sound() -> bytes:
    """A rising two-note chime: rep done."""
    return tone_wav((660.0, 880.0))


@functools.cache
def flag_sound() -> bytes:
    """A low alternating buzz: check your form."""
    return tone_wav((440.0, 330.0, 440.0, 330.0), note_s=0.1)


_LAZY = {"REP_SOUND": rep_sound, "FLAG_SOUND": flag_sound}


def __getattr__(name: str) -> bytes:  # PEP 562: REP_SOUND and FLAG_SOUND, built when first read
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
