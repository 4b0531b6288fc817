"""The proxy's typed errors. Every failure a client can see is one `ProxyError`;
each protocol adapter turns it into its own error shape at the boundary."""
from __future__ import annotations

import enum
from typing import Optional


class ErrorKind(enum.Enum):
    """What went wrong, independent of any protocol. The value is the default HTTP status."""
    INVALID_REQUEST = 400  # malformed JSON, missing or wrong fields (param names the field)
    CONTEXT_TOO_LONG = 413  # input over the model's limit; protocols pick their own status
    AUTHENTICATION = 401  # client key missing or wrong
    PERMISSION = 403
    NOT_FOUND = 404  # unknown route or model
    RATE_LIMITED = 429  # no account may take the request now; carries retry_after
    QUOTA_EXHAUSTED = 402  # every account is out of credits
    OVERLOADED = 529  # upstream capacity (Kiro "high traffic")
    UNAVAILABLE = 503  # no usable account, or the proxy is saturated
    UPSTREAM = 502  # Kiro failed in a way retries did not fix
    TIMEOUT = 504
    INTERNAL = 500  # a bug in the proxy


class ProxyError(Exception):
    """A failure with a kind, a client-safe message and optional field / retry hints."""

    def __init__(self, kind: ErrorKind, message: str, *, param: Optional[str] = None,
                 retry_after: Optional[int] = None, code: Optional[str] = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.code = code  # a machine-readable detail, e.g. the Kiro reason

    @property
    def status(self) -> int:
        """The default HTTP status for this kind."""
        return self.kind.value

    def __repr__(self) -> str:
        return f"ProxyError({self.kind.name}, {self.message!r})"


def bad_request(message: str, param: Optional[str] = None) -> ProxyError:
    """A 400 that names the offending field."""
    return ProxyError(ErrorKind.INVALID_REQUEST, message, param=param)
