"""asyncio for tests that run a coroutine to its end from synchronous test code."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_in_own_thread(coroutine):
    """asyncio.run in a thread of its own: other tests (playwright's sync API, Streamlit) may have
    left an event loop running in this one, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
