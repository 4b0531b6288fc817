"""Kiro's failures as one typed error: HTTP status + body (or an in-stream exception frame)
become a `KiroError` whose properties tell the relay what to do (docs/kiro-upstream.md §4).

Messages from Kiro can name the account ("Your User ID (…) is suspended"), so
`to_proxy_error` only passes Kiro's own words on for request-shaped problems.
"""
from __future__ import annotations

import email.utils
import enum
import json
import math
import time
from typing import Mapping, Optional

from proxy.errors import ErrorKind, ProxyError

DEFAULT_RETRY_AFTER = 30  # seconds a rate-limited client is told to wait when Kiro gives no hint
CAPACITY_RETRY_AFTER = 5  # Kiro's "high traffic" passes in seconds (its own backoff is 200 ms-2 s, §4)
NO_ACCOUNT_RETRY_AFTER = 30  # every account has an account problem: someone must act, ask again later


class KiroErrorKind(enum.Enum):
    """What Kiro's failure means, from the relay's point of view."""
    MALFORMED_REQUEST = "malformed_request"  # "Improperly formed request." and other client-shape 400s
    CONTENT_TOO_LONG = "content_too_long"  # input over the context window
    INVALID_TOOL_USE = "invalid_tool_use"  # REQUEST_BODY_INVALID
    INVALID_MODEL = "invalid_model"  # unknown id, or this account's plan lacks the model
    CONVERSATION_LIMIT = "conversation_limit"  # CONVERSATION_LIMIT_EXCEEDED
    PROFILE_ARN_REQUIRED = "profile_arn_required"  # the account has no profileArn
    TOKEN_INVALID = "token_invalid"  # expired / revoked access token
    PERMISSION = "permission"  # the account may not use this feature
    SUSPENDED = "suspended"  # account banned
    QUOTA_EXHAUSTED = "quota_exhausted"  # monthly credits or overage cap
    SUSPICIOUS_ACTIVITY = "suspicious_activity"  # per-account throttle, a pre-ban signal
    RATE_LIMITED = "rate_limited"  # request-rate limits
    CAPACITY = "capacity"  # global model capacity; another account will not help
    OUTPUT_LIMIT = "output_limit"  # in-stream ContentLengthExceededException: output budget hit
    SERVER_ERROR = "server_error"  # 500 "unexpected error"
    GATEWAY = "gateway"  # 502/503/504/524 with HTML or empty bodies
    NETWORK = "network"  # connection failure or timeout before an answer
    UNKNOWN = "unknown"


_FATAL = {KiroErrorKind.MALFORMED_REQUEST, KiroErrorKind.CONTENT_TOO_LONG,
          KiroErrorKind.INVALID_TOOL_USE, KiroErrorKind.CONVERSATION_LIMIT}
_ELSEWHERE = {KiroErrorKind.INVALID_MODEL, KiroErrorKind.PROFILE_ARN_REQUIRED,
              KiroErrorKind.TOKEN_INVALID, KiroErrorKind.PERMISSION, KiroErrorKind.SUSPENDED,
              KiroErrorKind.QUOTA_EXHAUSTED, KiroErrorKind.SUSPICIOUS_ACTIVITY,
              KiroErrorKind.SERVER_ERROR, KiroErrorKind.GATEWAY, KiroErrorKind.NETWORK}
_FAULTS = {KiroErrorKind.SUSPENDED: "banned", KiroErrorKind.QUOTA_EXHAUSTED: "quota",
           KiroErrorKind.SUSPICIOUS_ACTIVITY: "throttled", KiroErrorKind.TOKEN_INVALID: "token"}
# Rate-limit reasons that are about the whole service, not this account.
_SERVICE_WIDE = {"SERVICE_REQUEST_RATE_EXCEEDED"}
_NO_ACCOUNT = "no usable Kiro account"


class KiroError(Exception):
    """One classified Kiro failure; `message` is Kiro's own text (may name the account)."""

    def __init__(self, kind: KiroErrorKind, status: int, message: str, *,
                 reason: Optional[str] = None, retry_after: Optional[int] = None,
                 error_type: Optional[str] = None, request_id: Optional[str] = None):
        super().__init__(message)
        self.kind = kind
        self.status = status  # HTTP status; 0 for network errors; the HTTP analogue in-stream
        self.message = message
        self.reason = reason  # Kiro's `reason` code, upper-case, if any
        self.retry_after = retry_after  # seconds, from Retry-After
        self.error_type = error_type  # the exception name (`__type`), namespace stripped
        self.request_id = request_id
        self.is_timeout = False  # set by `network` when the connection timed out

    def __repr__(self) -> str:
        return f"KiroError({self.kind.name}, {self.status}, {self.message!r}, reason={self.reason!r})"

    @classmethod
    def network(cls, exc: BaseException) -> "KiroError":
        """A connection error or timeout that happened before Kiro answered."""
        # Matching by class name covers TimeoutError, socket.timeout and the HTTP libraries'
        # own ReadTimeout/ConnectTimeout classes without importing any of them.
        timeout = any("Timeout" in klass.__name__ for klass in type(exc).__mro__)
        what = "timed out" if timeout else "failed"
        error = cls(KiroErrorKind.NETWORK, 0, f"connection to Kiro {what}: {type(exc).__name__}: {exc}",
                    error_type=type(exc).__name__)
        error.is_timeout = timeout
        return error

    @property
    def retry_elsewhere(self) -> bool:
        """Another account may succeed where this one failed."""
        if self.kind is KiroErrorKind.RATE_LIMITED:
            return self.reason not in _SERVICE_WIDE
        return self.kind in _ELSEWHERE

    @property
    def account_fault(self) -> Optional[str]:
        """What to record against the account: 'banned' | 'quota' | 'throttled' | 'token' | None."""
        if self.kind is KiroErrorKind.RATE_LIMITED:
            return None if self.reason in _SERVICE_WIDE else "throttled"
        return _FAULTS.get(self.kind)

    @property
    def fatal_for_request(self) -> bool:
        """No account will accept this request as it is: fail it (or shorten it) at once."""
        return self.kind in _FATAL

    @property
    def transient(self) -> bool:
        """Worth retrying after a short backoff even on the same account."""
        return self.kind in (KiroErrorKind.CAPACITY, KiroErrorKind.SERVER_ERROR,
                             KiroErrorKind.GATEWAY, KiroErrorKind.NETWORK)

    def to_proxy_error(self) -> ProxyError:
        """The client-safe error, once no retry or other account fixed this one."""
        kind = self.kind
        code = self.reason
        if kind is KiroErrorKind.CONTENT_TOO_LONG:
            return ProxyError(ErrorKind.CONTEXT_TOO_LONG, self.message,
                              code=self.reason or "CONTENT_LENGTH_EXCEEDS_THRESHOLD")
        if kind is KiroErrorKind.CONVERSATION_LIMIT:
            return ProxyError(ErrorKind.CONTEXT_TOO_LONG, self.message, code=code)
        if kind in (KiroErrorKind.MALFORMED_REQUEST, KiroErrorKind.INVALID_TOOL_USE):
            return ProxyError(ErrorKind.INVALID_REQUEST, self.message, code=code)
        if kind is KiroErrorKind.INVALID_MODEL:
            return ProxyError(ErrorKind.INVALID_REQUEST, self.message, param="model",
                              code=code or "INVALID_MODEL_ID")
        if kind is KiroErrorKind.CAPACITY:
            return ProxyError(ErrorKind.OVERLOADED, "Kiro is experiencing high traffic, please try again shortly.",
                              retry_after=self.retry_after or CAPACITY_RETRY_AFTER, code=code)
        if kind in (KiroErrorKind.RATE_LIMITED, KiroErrorKind.SUSPICIOUS_ACTIVITY):
            return ProxyError(ErrorKind.RATE_LIMITED, "Kiro rate limit reached, please retry later.",
                              retry_after=self.retry_after or DEFAULT_RETRY_AFTER,
                              code=code if kind is KiroErrorKind.RATE_LIMITED else None)
        if kind is KiroErrorKind.QUOTA_EXHAUSTED:
            return ProxyError(ErrorKind.QUOTA_EXHAUSTED, "Kiro usage limit reached on every account.",
                              code=code)
        if kind in (KiroErrorKind.SUSPENDED, KiroErrorKind.TOKEN_INVALID, KiroErrorKind.PERMISSION,
                    KiroErrorKind.PROFILE_ARN_REQUIRED):
            return ProxyError(ErrorKind.UNAVAILABLE, _NO_ACCOUNT, retry_after=NO_ACCOUNT_RETRY_AFTER)
        if self.is_timeout:
            return ProxyError(ErrorKind.TIMEOUT, "Kiro did not answer in time.")
        status = f" (status {self.status})" if self.status else ""
        return ProxyError(ErrorKind.UPSTREAM, f"Kiro request failed{status}.", code=code)


# ---------------------------------------------------------------- classification

def classify(status: int, body: "bytes | str", headers: Optional[Mapping] = None, *,
             now: Optional[float] = None) -> KiroError:
    """Turn a non-2xx Kiro response into a `KiroError` (`now` only for HTTP-date Retry-After)."""
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    message, reason, error_type = _parse_body(text)
    header = _header_getter(headers)
    if error_type is None and header("x-amzn-errortype"):
        error_type = _short_type(header("x-amzn-errortype").split(":", 1)[0])
    kind = _kind(status, text, reason, error_type)
    return KiroError(kind, status, message or _fallback_message(status, text), reason=reason,
                     retry_after=_retry_after(header("retry-after"), now),
                     error_type=error_type, request_id=header("x-amzn-requestid"))


# In-stream exception name -> the HTTP status Kiro would have used for it.
_FRAME_STATUS = {"ThrottlingException": 429, "InternalServerException": 500,
                 "ValidationException": 400, "ContentLengthExceededException": 400,
                 "AccessDeniedException": 403, "ServiceQuotaExceededException": 402}


def classify_exception_frame(exception_type: str, payload: bytes) -> KiroError:
    """Turn an in-stream `exception` frame (HTTP status was 200) into a `KiroError`."""
    name = _short_type(exception_type or "")
    text = payload.decode("utf-8", "replace")
    if name == "ContentLengthExceededException":
        message, reason, _ = _parse_body(text)
        return KiroError(KiroErrorKind.OUTPUT_LIMIT, 400, message or name, reason=reason,
                         error_type=name)
    error = classify(_FRAME_STATUS.get(name, 500), payload)
    error.error_type = error.error_type or name or None
    if error.kind is KiroErrorKind.UNKNOWN:
        error.kind = KiroErrorKind.SERVER_ERROR
    return error


def _kind(status: int, text: str, reason: Optional[str], error_type: Optional[str]) -> KiroErrorKind:
    """The kind, judged by reason code first, then exception name, then wording, then status."""
    low = text.lower()
    if (reason == "TEMPORARILY_SUSPENDED" or error_type == "AccountSuspendedException" or status == 423
            or ("suspended" in low and "locked" in low)):
        return KiroErrorKind.SUSPENDED
    by_reason = _BY_REASON.get(reason or "")
    if by_reason is not None:
        return by_reason
    for phrase, kind in _BY_PHRASE:
        if phrase in low:
            return kind
    if error_type in _BY_TYPE:
        return _BY_TYPE[error_type]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == 500:
        return KiroErrorKind.SERVER_ERROR
    return KiroErrorKind.GATEWAY if status > 500 else KiroErrorKind.UNKNOWN


_BY_REASON = {
    "CONTENT_LENGTH_EXCEEDS_THRESHOLD": KiroErrorKind.CONTENT_TOO_LONG,
    "REQUEST_BODY_INVALID": KiroErrorKind.INVALID_TOOL_USE,
    "INVALID_MODEL_ID": KiroErrorKind.INVALID_MODEL,
    "TOOL_USE_RESULT_MISMATCH": KiroErrorKind.MALFORMED_REQUEST,
    "TOOL_SCHEMA_INVALID": KiroErrorKind.MALFORMED_REQUEST,
    "FEATURE_NOT_SUPPORTED": KiroErrorKind.PERMISSION,
    "MONTHLY_REQUEST_COUNT": KiroErrorKind.QUOTA_EXHAUSTED,
    "OVERAGE_REQUEST_LIMIT_EXCEEDED": KiroErrorKind.QUOTA_EXHAUSTED,
    "CONVERSATION_LIMIT_EXCEEDED": KiroErrorKind.CONVERSATION_LIMIT,
    "INSUFFICIENT_MODEL_CAPACITY": KiroErrorKind.CAPACITY,
    "MODEL_TEMPORARILY_UNAVAILABLE": KiroErrorKind.CAPACITY,
    "USER_REQUEST_RATE_EXCEEDED": KiroErrorKind.RATE_LIMITED,
    "SERVICE_REQUEST_RATE_EXCEEDED": KiroErrorKind.RATE_LIMITED,
    "DAILY_REQUEST_COUNT": KiroErrorKind.RATE_LIMITED,
}
# Checked in order on the lower-cased body when no known reason code is present.
_BY_PHRASE = [
    ("input is too long", KiroErrorKind.CONTENT_TOO_LONG),
    ("invalid tool use format", KiroErrorKind.INVALID_TOOL_USE),
    ("expected toolresult blocks", KiroErrorKind.MALFORMED_REQUEST),
    ("profilearn is required", KiroErrorKind.PROFILE_ARN_REQUIRED),
    ("invalid model", KiroErrorKind.INVALID_MODEL),
    ("bearer token included in the request is invalid", KiroErrorKind.TOKEN_INVALID),
    ("security token included in the request is expired", KiroErrorKind.TOKEN_INVALID),
    ("expiredtokenexception", KiroErrorKind.TOKEN_INVALID),
    ("not authorized", KiroErrorKind.PERMISSION),
    ("suspicious activity", KiroErrorKind.SUSPICIOUS_ACTIVITY),
    ("high traffic", KiroErrorKind.CAPACITY),
    # exception frames carry no `reason`; some name it in their text only (§3.5)
    ("insufficient_model_capacity", KiroErrorKind.CAPACITY),
    ("model_temporarily_unavailable", KiroErrorKind.CAPACITY),
    ("high volume of traffic", KiroErrorKind.CAPACITY),
    ("unexpectedly high load", KiroErrorKind.CAPACITY),
    ("improperly formed request", KiroErrorKind.MALFORMED_REQUEST),
]
_BY_TYPE = {
    "ExpiredTokenException": KiroErrorKind.TOKEN_INVALID,
    "UnrecognizedClientException": KiroErrorKind.TOKEN_INVALID,
    "ServiceQuotaExceededException": KiroErrorKind.QUOTA_EXHAUSTED,
    "ThrottlingException": KiroErrorKind.RATE_LIMITED,
}
# A bare 403 is almost always a stale token (§4), so it gets one forced refresh.
_BY_STATUS = {400: KiroErrorKind.MALFORMED_REQUEST, 401: KiroErrorKind.TOKEN_INVALID,
              403: KiroErrorKind.TOKEN_INVALID, 402: KiroErrorKind.QUOTA_EXHAUSTED,
              429: KiroErrorKind.RATE_LIMITED}


def _parse_body(text: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(message, reason, exception name) from a JSON body, its `error`/`cause` wrappers, or text."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        stripped = text.strip()
        # Plain "ExpiredTokenException: The security token …" bodies carry their type in front.
        head, sep, rest = stripped.partition(":")
        if sep and head.endswith("Exception") and " " not in head:
            return rest.strip() or stripped, None, _short_type(head)
        if stripped and not stripped.startswith("<"):  # HTML error pages are not messages
            return stripped[:500], None, None
        return None, None, None
    message = _first_str(data, "message", "Message")
    reason = _first_str(data, "reason")
    error_type = _first_str(data, "__type")
    for key in ("error", "cause"):
        nested = data.get(key)
        if isinstance(nested, dict):
            message = message or _first_str(nested, "message", "Message")
            reason = reason or _first_str(nested, "reason")
            error_type = error_type or _first_str(nested, "__type", "name")
    return message, reason.upper() if reason else None, _short_type(error_type) if error_type else None


def _first_str(data: dict, *keys: str) -> Optional[str]:
    """The first of `keys` whose value is a non-empty string."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _short_type(name: str) -> str:
    """'com.amazon.coral.service#ThrottlingException' -> 'ThrottlingException'."""
    return name.rsplit("#", 1)[-1].strip()


def _fallback_message(status: int, text: str) -> str:
    """A message for bodies that carry none (HTML pages, empty bodies)."""
    return f"Kiro answered HTTP {status}" + (" with an empty body" if not text.strip() else "")


def _header_getter(headers: Optional[Mapping]):
    """A case-insensitive header lookup over any mapping (or None)."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    return lambda name: lowered.get(name)


def _retry_after(value: Optional[str], now: Optional[float]) -> Optional[int]:
    """Seconds from a Retry-After value (delta-seconds or HTTP-date); None if absent or unusable."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0, math.ceil(seconds))
