"""formcheck's Streamlit app: the only package that imports Streamlit (and streamlit-webrtc).

``app.py`` (``streamlit run app.py``) calls ``main.main``, which draws the sidebar and runs the
page the user picked (``st.navigation``). What lives where:

* ``main``: the page list (titles, URLs), the page frame (config, CSS, data folder, sidebar).
* ``pages/``: one module per page, each with ``show(store)``: ``patient`` (today's session),
  ``send`` (send sessions to my clinic), ``overview`` (clinic overview and import), ``review``,
  ``upload``, ``progress``, ``prescription``.
* ``safety_check``: the patient's red-flag questions and stop message (the rules are in
  ``formcheck.clinic.safety``); ``live_view``: the live session's camera, counts and Finish;
  ``clinician``: the clinician pages' shared parts (patient header with red-flag reports, one
  session's detail).
* ``widgets``: small shared widgets (pickers, pain picker, the big message box, ``polite``,
  which shows a plain message instead of a traceback); ``camera``: the streamlit-webrtc
  component and its workaround; ``webrtc``: the streamlit-webrtc glue of the live page (the
  frame callback into a ``formcheck.live.LiveSession``, the newest-frame relay); ``state``: the
  per-tab ``UiState``; ``resources``: what every
  browser session shares (the store, the live registry, the exercise definitions).

Rules (red flags, pain advice, the prescription's plan) live in ``formcheck.clinic``; the live
session in ``formcheck.live``; tables and charts in ``formcheck.review``.
"""
