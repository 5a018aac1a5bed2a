"""User text shown as text: in Streamlit's Markdown, and on a terminal.

Patient names, prescription notes, upload file names and error messages quoting them come from
people and files. Streamlit renders ``st.info``/``st.caption``/``st.error`` text as Markdown, so
a note holding ``![x](https://host/track.png)`` would make the browser fetch that address, and
``**`` or ``:red[...]`` would restyle the page. A file name holding a newline or an escape
sequence would forge progress lines or move the cursor on a terminal.

Pure functions; the UI and the CLI call them where user text meets the screen.
"""
from __future__ import annotations

import string
import unicodedata

# CommonMark lets a backslash escape any ASCII punctuation, which then shows as itself. Escaping
# all of it (rather than a hand-picked few) also covers Streamlit's own syntax (":red[...]",
# ":material/icon:", "$...$" LaTeX) and GitHub's (autolinks, tables, strikethrough).
_MARKDOWN_ESCAPES = {ord(c): "\\" + c for c in string.punctuation}


def escape_markdown(text: object) -> str:
    """User text (a name, a note, a file name, an error quoting them) for an element that renders
    Markdown, shown exactly as typed: every ASCII punctuation character escaped, so it never
    becomes a link, an image, emphasis or HTML; control characters other than line breaks shown
    as codes (``printable``). Line breaks stay: a note keeps its lines.
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(printable(line).translate(_MARKDOWN_ESCAPES) for line in lines)


def printable(text: object) -> str:
    """``text`` with control and formatting characters (newlines, escapes, bidi overrides)
    shown as ``\\xNN``/``\\uNNNN`` codes, so it cannot break or forge a line of output."""
    # Control and format characters (C*), and the Unicode line and paragraph separators (Zl, Zp),
    # which some terminals and str.splitlines() treat as a new line.
    return "".join(_code(c) if unicodedata.category(c) in _HIDDEN or unicodedata.category(c)[0] == "C" else c
                   for c in str(text))


_HIDDEN = ("Zl", "Zp")


def _code(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"
