"""The app's pages, one module each, each drawn by its ``show(store)`` (see ``formcheck.ui.main``)."""
