"""OpenAI's error shape `{error:{message,type,param,code}}`, shared by Chat Completions and Responses."""
from __future__ import annotations

from proxy.errors import ErrorKind, ProxyError

# (status, type, code): the codes are the ones OpenAI clients act on (Codex retries a 429
# only with Retry-After, and stops at once on context_length_exceeded).
_OPENAI = {
    ErrorKind.INVALID_REQUEST: (400, "invalid_request_error", None),
    ErrorKind.CONTEXT_TOO_LONG: (400, "invalid_request_error", "context_length_exceeded"),
    ErrorKind.AUTHENTICATION: (401, "invalid_request_error", "invalid_api_key"),
    ErrorKind.PERMISSION: (403, "permission_error", "permission_denied"),
    ErrorKind.NOT_FOUND: (404, "invalid_request_error", "not_found"),
    ErrorKind.RATE_LIMITED: (429, "rate_limit_error", "rate_limit_exceeded"),
    ErrorKind.QUOTA_EXHAUSTED: (429, "insufficient_quota", "insufficient_quota"),
    ErrorKind.OVERLOADED: (503, "server_error", "server_overloaded"),
    ErrorKind.UNAVAILABLE: (503, "server_error", "service_unavailable"),
    ErrorKind.UPSTREAM: (502, "server_error", "server_error"),
    ErrorKind.TIMEOUT: (504, "server_error", "timeout"),
    ErrorKind.INTERNAL: (500, "server_error", "server_error"),
}


def openai_error_body(err: ProxyError) -> tuple[int, dict]:
    """(status, body) for an error in OpenAI's shape; `code` prefers the table's client-facing code."""
    status, type_, code = _OPENAI[err.kind]
    if err.kind is ErrorKind.NOT_FOUND and err.code == "model_not_found":
        code = "model_not_found"
    message = err.message
    if err.kind is ErrorKind.CONTEXT_TOO_LONG and "context length" not in message.lower():
        message = f"This model's maximum context length was exceeded: {message}"
    return status, {"error": {"message": message, "type": type_, "param": err.param, "code": code}}
