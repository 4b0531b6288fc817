"""Google's error shape `{error:{code,message,status,details?}}` for a ProxyError."""
from __future__ import annotations

from proxy.errors import ErrorKind
from proxy.protocols.common import as_proxy_error

# (HTTP status, google.rpc.Code name). Gemini CLI retries 429 and every 5xx and gives up at
# once on 400/401/403/404; UPSTREAM keeps the proxy's 502 with a "try again" code.
_GOOGLE = {
    ErrorKind.INVALID_REQUEST: (400, "INVALID_ARGUMENT"),
    ErrorKind.CONTEXT_TOO_LONG: (400, "INVALID_ARGUMENT"),
    ErrorKind.AUTHENTICATION: (401, "UNAUTHENTICATED"),
    ErrorKind.PERMISSION: (403, "PERMISSION_DENIED"),
    ErrorKind.NOT_FOUND: (404, "NOT_FOUND"),
    ErrorKind.RATE_LIMITED: (429, "RESOURCE_EXHAUSTED"),
    ErrorKind.QUOTA_EXHAUSTED: (429, "RESOURCE_EXHAUSTED"),
    ErrorKind.OVERLOADED: (503, "UNAVAILABLE"),
    ErrorKind.UNAVAILABLE: (503, "UNAVAILABLE"),
    ErrorKind.UPSTREAM: (502, "UNAVAILABLE"),
    ErrorKind.TIMEOUT: (504, "DEADLINE_EXCEEDED"),
    ErrorKind.INTERNAL: (500, "INTERNAL"),
}
_TYPE = "type.googleapis.com/google.rpc."


def google_error(err: BaseException) -> tuple[int, dict]:
    """(HTTP status, body); anything that is not a ProxyError counts as an upstream failure."""
    err = as_proxy_error(err)
    status, code = _GOOGLE[err.kind]
    error: dict = {"code": status, "message": err.message, "status": code}
    details = []
    if err.param and err.kind is ErrorKind.INVALID_REQUEST:
        details.append({"@type": _TYPE + "BadRequest",
                        "fieldViolations": [{"field": err.param, "description": err.message}]})
    if err.retry_after is not None:
        # Gemini CLI waits RetryInfo.retryDelay before its next attempt (else its own ~5 s)
        details.append({"@type": _TYPE + "RetryInfo", "retryDelay": f"{max(1, int(err.retry_after))}s"})
    if details:
        error["details"] = details
    return status, {"error": error}
