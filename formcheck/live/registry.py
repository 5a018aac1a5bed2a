"""Every live session of the server process, so that one whose tab closed still gets finished.

The app keeps one ``LiveRegistry`` (``st.cache_resource``), adds each session it starts and
calls ``sweep()`` on every page run; ``start_sweeper()`` also sweeps from a background thread,
so an abandoned session is stored even if nobody opens the app again.
"""
from __future__ import annotations

import logging
import threading
import time

from ..store import Store, StoreError
from .session import LiveSession

log = logging.getLogger(__name__)


class LiveRegistry:
    """Every live session of this server process, so one whose tab closed still gets finished.

    The app keeps one (``st.cache_resource``) and calls ``sweep()`` on every page run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: list[LiveSession] = []
        self._sweeper: threading.Thread | None = None

    def start_sweeper(self, every_s: float = 15.0) -> None:
        """Sweep in a background thread too, so an abandoned session is finished (and its trace
        stored) even if nobody opens the app again before the server stops."""
        if self._sweeper is not None:
            return

        def run() -> None:
            while True:
                time.sleep(every_s)
                try:
                    self.sweep()
                except Exception:  # keep sweeping
                    log.exception("live session sweep failed")

        self._sweeper = threading.Thread(target=run, name="formcheck-live-sweeper", daemon=True)
        self._sweeper.start()

    def add(self, session: LiveSession) -> None:
        with self._lock:
            self._sessions.append(session)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def unfinished(self, store: Store, patient_id: int) -> list[LiveSession]:
        """The patient's sessions (in ``store``'s database) that received frames and are not
        finished, e.g. their tab was reloaded mid-set; newest first, so the page can offer to
        continue or finish them."""
        with self._lock:
            sessions = list(self._sessions)
        return [s for s in reversed(sessions) if s.patient_id == patient_id and s.store.data_dir == store.data_dir
                and s.session_id is not None and not s.finished]

    def sweep(self, now: float | None = None) -> list[LiveSession]:
        """Finish the stale sessions, forget the finished ones; return those finished now."""
        with self._lock:
            sessions = list(self._sessions)
        finished_now = []
        for session in sessions:
            try:
                session.flush_if_idle()
                if session.finish_if_stale(now) is not None:
                    finished_now.append(session)
            except StoreError:
                log.exception("could not save abandoned live session %s; will retry", session.session_id)
                continue
        with self._lock:
            self._sessions = [s for s in self._sessions if not s.saved]
        return finished_now
