"""Client keys: which key a request carries, and whether it may use /v1/*."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional

from flask import Request

from proxy.errors import ErrorKind, ProxyError


def client_key(request: Request) -> Optional[str]:
    """The key from any header or query a supported client uses to send it."""
    for header in ("x-api-key", "x-goog-api-key"):
        value = request.headers.get(header)
        if value:
            return value.strip()
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = request.args.get("key")  # Gemini clients may send ?key=
    return key.strip() if key else None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def check_client_key(request: Request, allowed: list[str]) -> None:
    """Raise AUTHENTICATION unless `allowed` is empty or the request carries one of its keys."""
    if not allowed:
        return
    key = client_key(request)
    if key is None:
        raise ProxyError(ErrorKind.AUTHENTICATION, "No API key was sent. Send it as x-api-key or "
                         "Authorization: Bearer (x-goog-api-key for Gemini clients).")
    # Compare fixed-length digests against every key: the time taken reveals neither which key
    # was close nor how long the keys are (compare_digest returns early on a length mismatch).
    sent = _digest(key)
    matched = False
    for candidate in allowed:
        matched |= hmac.compare_digest(sent, _digest(candidate))
    if not matched:
        raise ProxyError(ErrorKind.AUTHENTICATION, "Invalid API key.")
