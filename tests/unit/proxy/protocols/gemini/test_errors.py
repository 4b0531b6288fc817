"""Tests for Google's error shape and the adapter's per-request options."""
import pytest

from proxy.chat import Chat, Thinking
from proxy.errors import ErrorKind, ProxyError, bad_request
from proxy.protocols.gemini import ADAPTER
from proxy.protocols.gemini.errors import google_error


@pytest.mark.parametrize("kind,status,code", [
    (ErrorKind.INVALID_REQUEST, 400, "INVALID_ARGUMENT"),
    (ErrorKind.CONTEXT_TOO_LONG, 400, "INVALID_ARGUMENT"),
    (ErrorKind.AUTHENTICATION, 401, "UNAUTHENTICATED"),
    (ErrorKind.PERMISSION, 403, "PERMISSION_DENIED"),
    (ErrorKind.NOT_FOUND, 404, "NOT_FOUND"),
    (ErrorKind.RATE_LIMITED, 429, "RESOURCE_EXHAUSTED"),
    (ErrorKind.QUOTA_EXHAUSTED, 429, "RESOURCE_EXHAUSTED"),
    (ErrorKind.OVERLOADED, 503, "UNAVAILABLE"),
    (ErrorKind.UNAVAILABLE, 503, "UNAVAILABLE"),
    (ErrorKind.UPSTREAM, 502, "UNAVAILABLE"),
    (ErrorKind.TIMEOUT, 504, "DEADLINE_EXCEEDED"),
    (ErrorKind.INTERNAL, 500, "INTERNAL"),
])
def test_every_kind_has_a_google_status(kind, status, code):
    """Each ErrorKind maps to an HTTP status and a google.rpc code name."""
    assert ADAPTER.render_error(ProxyError(kind, "m")) == (
        status, {"error": {"code": status, "message": "m", "status": code}})


def test_field_violation_and_retry_info_details():
    """A named field becomes BadRequest.fieldViolations; retry_after becomes RetryInfo."""
    status, body = google_error(bad_request("* GenerateContentRequest.contents: bad", param="contents"))
    assert status == 400 and body["error"]["details"] == [{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "contents", "description": "* GenerateContentRequest.contents: bad"}]}]
    _, body = google_error(ProxyError(ErrorKind.RATE_LIMITED, "wait", retry_after=0.2))
    assert body["error"]["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]


def test_foreign_exceptions_count_as_upstream_failures():
    """A StreamError carrying something other than a ProxyError still renders."""
    assert google_error(RuntimeError("reset")) == (
        502, {"error": {"code": 502, "message": "reset", "status": "UNAVAILABLE"}})


def test_for_request_picks_framing_and_thoughts():
    """The per-request adapter: SSE or array, thoughts only when includeThoughts."""
    chat = Chat(model="m", messages=[], thinking=Thinking(mode="adaptive", include=True))
    adapter = ADAPTER.for_request(chat, sse=False)
    assert (adapter.sse, adapter.include_thoughts, adapter.stream_mimetype) == (False, True, "application/json")
    quiet = Chat(model="m", messages=[], thinking=Thinking(mode="adaptive", include=False))
    hidden = ADAPTER.for_request(quiet, sse=True)
    assert hidden.include_thoughts is False and ADAPTER.for_request(Chat("m", []), True).include_thoughts is False
