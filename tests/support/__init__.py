"""Helpers the tests share (imported as ``tests.support.<module>``; pyproject's pytest
``pythonpath`` puts the repository root on the path):

* ``paths``: where the repository and its test fixtures are;
* ``synth``: synthetic pose streams (angles -> landmarks) for the engine's unit tests;
* ``live_clips``: a test clock, real clips as camera frames, a backend replaying a trace;
* ``browser``: Streamlit started for a test, headless Chromium with a fake webcam;
* ``app_pages``: what a patient or clinician does on the app's pages, for the browser tests;
* ``async_support``: running an asyncio server in its own thread.
"""
