"""The live session: camera frames in, annotated frames and results out. No Streamlit here (the
page and the streamlit-webrtc glue are in ``formcheck.ui``), so tests drive it directly.

What lives where:

* ``session.py``: ``LiveSession`` (one patient, one exercise, three threads: camera, page,
  finish), the ``LiveSnapshot`` the page reads, ``LastRep``, and the session's small parts:
  ``SessionClock`` (frame times), ``letterboxed`` (one frame size), ``FrameRate``, ``Autosave``;
* ``cues.py``: which form cue is shown and for how long (``CueHolder``), the advice after a rep;
* ``registry.py``: ``LiveRegistry``, every session of the server, so abandoned ones get finished;
* ``sounds.py``: the rep chime and the form buzz (WAV bytes, made on first use);
* ``coaching.py``: what the page says (the big message, the set's end, the spoken lines);
* ``setup_guide.py``: getting into position before a set (the pictogram, the 3-2-1);
* ``measurable.py``: whether this camera view can measure the back, said before the set.

The names importers use are re-exported here (``from formcheck.live import LiveSession``).
"""
from __future__ import annotations

from .cues import CUE_HOLD_S, CueHolder
from .registry import LiveRegistry
from .session import STALE_AFTER_S, VIDEO_STOPPED_NOTE, LastRep, LiveSession, LiveSnapshot
from .sounds import flag_sound, rep_sound, tone_wav

__all__ = [
    "CUE_HOLD_S", "CueHolder", "FLAG_SOUND", "LastRep", "LiveRegistry", "LiveSession", "LiveSnapshot", "REP_SOUND",
    "STALE_AFTER_S", "VIDEO_STOPPED_NOTE", "flag_sound", "rep_sound", "tone_wav",
]


def __getattr__(name: str) -> bytes:  # REP_SOUND, FLAG_SOUND: built on first use (sounds.py)
    if name in ("REP_SOUND", "FLAG_SOUND"):
        from . import sounds

        return getattr(sounds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
