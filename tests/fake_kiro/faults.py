"""Injected faults: a queue of one-shot (or counted) failures, matched per account and operation."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, asdict
from typing import Optional

from flask import Response

from . import bodies

# kind -> (HTTP status, body factory taking the account's user id)
HTTP_FAULTS = {
    "capacity_429": (429, lambda uid: bodies.CAPACITY),
    "suspicious_429": (429, bodies.suspicious),
    "rate_429": (429, lambda uid: bodies.RATE_LIMITED),
    "quota_402": (402, lambda uid: bodies.MONTHLY_LIMIT),
    "suspended_403": (403, bodies.suspended),
    "invalid_token_403": (403, lambda uid: bodies.BEARER_INVALID),
    "server_500": (500, lambda uid: bodies.SERVER_ERROR),
    "unavailable_503": (503, None),  # HTML body, like an edge error
    "too_long_400": (400, lambda uid: bodies.INPUT_TOO_LONG),
    "malformed_400": (400, lambda uid: bodies.IMPROPERLY_FORMED),
}
STREAM_FAULTS = ("reset_midstream", "bad_crc", "slow_first_byte", "exception_frame", "truncated_tool",
                 "thinking")
KINDS = tuple(HTTP_FAULTS) + STREAM_FAULTS
TARGETS = ("chat", "refresh", "usage", "models", "mcp")  # which operation a fault hits
UNLIMITED = -1
EXCEPTION_MESSAGE = "I am experiencing high traffic, please try again shortly. (INSUFFICIENT_MODEL_CAPACITY)"


class FaultError(ValueError):
    """A fault spec the control API refuses."""


@dataclass
class Fault:
    """One queued fault; `count` requests left (-1 = until reset)."""
    fault_id: int
    kind: str
    count: int = 1
    account_id: Optional[str] = None  # None = any account
    on: str = "chat"
    delay: Optional[float] = None
    retry_after: Optional[int] = None
    exception_type: str = "ThrottlingException"
    hits: int = 0

    @property
    def is_http(self) -> bool:
        """True when the fault replaces the response with an HTTP error."""
        return self.kind in HTTP_FAULTS

    def public(self) -> dict:
        """JSON view for the control API."""
        return asdict(self)


class FaultBook:
    """Pending faults in FIFO order; `take` consumes the first one that matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, kind: str, count: int = 1, account_id: Optional[str] = None, on: str = "chat",
            delay: Optional[float] = None, retry_after: Optional[int] = None,
            exception_type: str = "ThrottlingException") -> Fault:
        """Queue a fault after checking its fields."""
        if kind not in KINDS:
            raise FaultError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        if on not in TARGETS:
            raise FaultError(f"on must be one of {', '.join(TARGETS)}")
        if kind in STREAM_FAULTS and on != "chat":
            raise FaultError(f"{kind} only applies to chat streams")
        if isinstance(count, bool) or not isinstance(count, int) or (count < 1 and count != UNLIMITED):
            raise FaultError("count must be a positive integer or -1 (until reset)")
        for name, value in (("delay", delay), ("retry_after", retry_after)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise FaultError(f"{name} must be a non-negative number")
        fault = Fault(next(self._ids), kind, count, account_id, on, delay, retry_after, exception_type)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, on: str, account_id: Optional[str]) -> Optional[Fault]:
        """Consume one use of the first fault for this operation and account."""
        with self._lock:
            for fault in self._faults:
                if fault.on == on and fault.account_id in (None, account_id):
                    fault.hits += 1
                    if fault.count != UNLIMITED:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict]:
        """Queued faults as JSON."""
        with self._lock:
            return [f.public() for f in self._faults]

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()


def http_fault_response(fault: Fault, user_id: str):
    """The Flask response an HTTP fault answers with."""
    status, make_body = HTTP_FAULTS[fault.kind]
    if make_body is None:
        resp = Response(bodies.UNAVAILABLE_HTML, status=status, mimetype="text/html")
        resp.headers["x-amzn-requestid"] = bodies.request_id()
        if fault.retry_after is not None:
            resp.headers["Retry-After"] = str(fault.retry_after)
        return resp
    return bodies.json_response(make_body(user_id), status, retry_after=fault.retry_after)
