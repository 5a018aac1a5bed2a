"""The app's frame: page config, CSS, the data folder, the sidebar and the page the user picked.

The pages are listed in ``PAGES`` (URL path -> (sidebar title, module)); ``st.navigation`` draws
them in the sidebar and runs the chosen one's ``show(store)``, inside ``polite`` so a failure is a
plain message, never a traceback. The first page (the patient's session) is the default.
"""
from __future__ import annotations

from types import ModuleType

import streamlit as st

from ..store import StoreError, default_data_dir
from .pages import overview, patient, prescription, progress, review, send, upload
from .resources import get_registry, get_store
from .state import ui
from .widgets import CSS, polite

# URL path (also the page module's name, which AppTest's switch_page uses) -> (sidebar title, page).
PAGES: dict[str, tuple[str, ModuleType]] = {
    "patient": ("Patient: today's session", patient),
    "send": ("Patient: send sessions to my clinic", send),
    "overview": ("Clinician: clinic overview", overview),
    "review": ("Clinician: review", review),
    "upload": ("Clinician: upload a video", upload),
    "progress": ("Clinician: progress", progress),
    "prescription": ("Clinician: prescription", prescription),
}


def main() -> None:
    st.set_page_config(page_title="formcheck", layout="wide")
    st.markdown(CSS, unsafe_allow_html=True)
    try:
        store = get_store(str(default_data_dir().resolve()))
    except StoreError as exc:
        st.error(f"The data folder cannot be used: {exc}")
        st.stop()
    get_registry().sweep()
    ui().runs += 1

    def runner(module: ModuleType):
        def run() -> None:
            with polite("show this page"):
                module.show(store)
        return run

    pages = [st.Page(runner(module), title=title, url_path=path, default=(path == "patient"))
             for path, (title, module) in PAGES.items()]
    page = st.navigation(pages, position="sidebar", expanded=True)
    st.sidebar.caption(f"Everything stays on this computer. Data folder: `{store.data_dir}`")
    page.run()
