"""Client keys: which key a request carries, and whether it may use /v1/*."""
from __future__ import annotations

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


def check_client_key(request: Request, allowed: list[str]) -> None:
    """Raise AUTHENTICATION unless `allowed` is empty or the request carries one of its keys."""
    if not allowed:
        return
    key = client_key(request)
    if key is None:
        raise ProxyError(ErrorKind.AUTHENTICATION, "No API key was sent. Send it as x-api-key or "
                         "Authorization: Bearer (x-goog-api-key for Gemini clients).")
    # compare against every key so the time taken does not reveal which one was close
    matched = False
    for candidate in allowed:
        matched |= hmac.compare_digest(key.encode(), candidate.encode())
    if not matched:
        raise ProxyError(ErrorKind.AUTHENTICATION, "Invalid API key.")
