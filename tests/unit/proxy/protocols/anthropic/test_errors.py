"""Tests for Anthropic's error statuses, types and the messages Claude Code parses."""
import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic.errors import render_error, too_long_message


@pytest.mark.parametrize("kind, status, kind_name", [
    (ErrorKind.INVALID_REQUEST, 400, "invalid_request_error"),
    (ErrorKind.AUTHENTICATION, 401, "authentication_error"),
    (ErrorKind.PERMISSION, 403, "permission_error"),
    (ErrorKind.NOT_FOUND, 404, "not_found_error"),
    (ErrorKind.RATE_LIMITED, 429, "rate_limit_error"),
    (ErrorKind.OVERLOADED, 529, "overloaded_error"),
    (ErrorKind.UNAVAILABLE, 503, "api_error"),
    (ErrorKind.UPSTREAM, 502, "api_error"),
    (ErrorKind.TIMEOUT, 504, "api_error"),
    (ErrorKind.INTERNAL, 500, "api_error"),
])
def test_status_and_type_keep_the_message(kind, status, kind_name):
    assert render_error(ProxyError(kind, "Something went wrong", param="x")) == (
        status, {"type": "error", "error": {"type": kind_name, "message": "Something went wrong"}})


def test_every_kind_is_mapped():
    for kind in ErrorKind:
        status, body = render_error(ProxyError(kind, "m"))
        assert status >= 400 and body["error"]["type"].endswith("_error")


def test_quota_exhausted_is_a_429_that_says_the_credits_are_gone():
    assert render_error(ProxyError(ErrorKind.QUOTA_EXHAUSTED, "No account can take the request.")) == (
        429, {"type": "error", "error": {"type": "rate_limit_error", "message":
              "The account pool's credits are used up: No account can take the request."}})
    assert render_error(ProxyError(ErrorKind.QUOTA_EXHAUSTED, "All credits used"))[1]["error"]["message"] == \
        "All credits used"


def test_context_too_long_is_a_400_with_claude_codes_sentence():
    err = ProxyError(ErrorKind.CONTEXT_TOO_LONG, "Input is too long: 250000 tokens > 200000 maximum")
    assert render_error(err) == (400, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}})


@pytest.mark.parametrize("message, expected", [
    ("prompt is too long: 250000 tokens > 200000 maximum", "prompt is too long: 250000 tokens > 200000 maximum"),
    ("estimated 250,000 tokens > 200,000", "prompt is too long: 250000 tokens > 200000 maximum"),
    ("Request of 210000 tokens exceeds the 200000 token window",
     "prompt is too long: 210000 tokens > 200000 maximum"),
    ("Kiro limit 200000, sent 210000 tokens", "prompt is too long: Kiro limit 200000, sent 210000 tokens"),
    ("prompt is too long: the request is 700000 bytes and Kiro accepts at most 600000",
     "prompt is too long: the request is 700000 bytes and Kiro accepts at most 600000"),
    ("Sent 700000 bytes, limit 600000", "prompt is too long: Sent 700000 bytes, limit 600000"),
    ("Input is too long.", "prompt is too long: Input is too long."),
    ("Prompt is too long", "Prompt is too long"),
    ("", "prompt is too long"),
])
def test_too_long_message(message, expected):
    assert too_long_message(message) == expected
