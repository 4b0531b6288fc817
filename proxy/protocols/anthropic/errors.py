"""Anthropic's error shape `{"type":"error","error":{"type","message"}}` and its statuses.

UNAVAILABLE (no usable account, proxy saturated) answers 503 api_error rather than 529:
Claude Code treats repeated 529s as model overload (and may switch to a fallback model),
which is wrong when the cause is the proxy's own account pool. Both are retried.
"""
from __future__ import annotations

import re

from proxy.errors import ErrorKind, ProxyError

_ANTHROPIC = {
    ErrorKind.INVALID_REQUEST: (400, "invalid_request_error"),
    ErrorKind.CONTEXT_TOO_LONG: (400, "invalid_request_error"),
    ErrorKind.AUTHENTICATION: (401, "authentication_error"),
    ErrorKind.PERMISSION: (403, "permission_error"),
    ErrorKind.NOT_FOUND: (404, "not_found_error"),
    ErrorKind.RATE_LIMITED: (429, "rate_limit_error"),
    ErrorKind.QUOTA_EXHAUSTED: (429, "rate_limit_error"),
    ErrorKind.OVERLOADED: (529, "overloaded_error"),
    ErrorKind.UNAVAILABLE: (503, "api_error"),
    ErrorKind.UPSTREAM: (502, "api_error"),
    ErrorKind.TIMEOUT: (504, "api_error"),
    ErrorKind.INTERNAL: (500, "api_error"),
}

_TOKENS_OVER = re.compile(r"(\d[\d,]*)\s*tokens?\s*>\s*(\d[\d,]*)")
_NUMBER = re.compile(r"\d[\d,]*")


def error_type(err: ProxyError) -> tuple[int, str]:
    """(HTTP status, Anthropic error type) for a ProxyError."""
    return _ANTHROPIC.get(err.kind, (500, "api_error"))


def error_message(err: ProxyError) -> str:
    """The client-facing message; context and quota errors are worded for Claude Code."""
    if err.kind is ErrorKind.CONTEXT_TOO_LONG:
        return too_long_message(err.message)
    if err.kind is ErrorKind.QUOTA_EXHAUSTED and "credit" not in err.message.lower():
        return f"The account pool's credits are used up: {err.message}"
    return err.message


def too_long_message(message: str) -> str:
    """"prompt is too long: N tokens > M maximum", the sentence Claude Code parses.

    N and M come from "N tokens > M" anywhere in `message`; failing that, from the first two
    numbers of a message that speaks of tokens, when the first is the larger (an input size,
    then a limit). Otherwise (no numbers, or sizes in bytes) the original text follows the
    "prompt is too long: " prefix, which Claude Code still recognises without showing sizes.
    """
    match = _TOKENS_OVER.search(message)
    numbers = [match.group(1), match.group(2)] if match else (
        _NUMBER.findall(message)[:2] if "token" in message.lower() else [])
    if len(numbers) == 2:
        size, limit = (int(n.replace(",", "")) for n in numbers)
        if match or size > limit:
            return f"prompt is too long: {size} tokens > {limit} maximum"
    if message.lower().startswith("prompt is too long"):
        return message
    return f"prompt is too long: {message}" if message else "prompt is too long"


def error_body(err: ProxyError) -> dict:
    """The `error` object inside both the HTTP error body and the in-stream error event."""
    return {"type": error_type(err)[1], "message": error_message(err)}


def render_error(err: ProxyError) -> tuple[int, dict]:
    """(status, body) in Anthropic's error shape."""
    return error_type(err)[0], {"type": "error", "error": error_body(err)}
