"""formcheck's Streamlit side: the only package that imports Streamlit (and streamlit-webrtc).

* ``webrtc``: the streamlit-webrtc glue of the live page (the frame callback into a
  ``formcheck.live.LiveSession``, the newest-frame relay).
"""
