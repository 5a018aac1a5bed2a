"""Streamlit's /media/ route must answer kept videos, sounds and pictures (issue 12, item 1).

Streamlit 1.60's gzip middleware holds back the response start of audio, video and image
responses for Starlette's pre-1.5 responder to send with the first body; on Starlette 1.5+ it
was never sent, so every kept video answered HTTP 500 ("Expected ASGI message
'http.response.start', but got 'http.response.body'") and stayed at 0:00 in the review page.
These tests run Streamlit's own middleware over a real Starlette response, as the server
does, and check what reaches the client: a start first, then the body, for plain, gzip and
range requests (a browser's <video> sends ``Range: bytes=0-``). The browser side is in
tests/e2e/test_e2e_walkthrough.py.
"""
from __future__ import annotations

import pytest
from starlette.responses import Response
from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware

from tests.support.async_support import run_in_own_thread

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40  # 10 kB, above the gzip minimum size


def _serve(content_type: str, status: int, headers: dict[str, str]) -> list[dict]:
    """The ASGI messages the client gets for one request through Streamlit's gzip middleware."""
    app = SelectiveGZipMiddleware(Response(VIDEO, status_code=status, media_type=content_type),
                                  minimum_size=500, compresslevel=6)
    scope = {"type": "http", "method": "GET", "path": "/media/abc.mp4", "root_path": "",
             "query_string": b"", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    run_in_own_thread(app(scope, receive, send))
    return sent


@pytest.mark.parametrize("content_type", ["video/mp4", "audio/wav", "image/png"])
@pytest.mark.parametrize("status,headers", [
    (200, {}),
    (200, {"Accept-Encoding": "gzip, deflate"}),
    (206, {"Range": "bytes=0-"}),
    (206, {"Accept-Encoding": "gzip, deflate, br", "Range": "bytes=0-"}),
])
def test_media_responses_start_before_their_body_and_are_not_compressed(content_type, status, headers):
    sent = _serve(content_type, status, headers)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == status
    response_headers = {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}
    if not content_type.startswith("image/"):  # a gzipped picture is fine; a gzipped video cannot seek
        assert "content-encoding" not in response_headers
        assert b"".join(m.get("body", b"") for m in sent[1:]) == VIDEO


def test_text_downloads_are_still_compressed_for_browsers_that_accept_gzip():
    sent = _serve("text/csv", 200, {"Accept-Encoding": "gzip"})
    assert sent[0]["type"] == "http.response.start"
    assert dict((k.decode().lower(), v.decode()) for k, v in sent[0]["headers"])["content-encoding"] == "gzip"
