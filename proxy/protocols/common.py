"""Decisions every protocol adapter makes the same way, whatever its wire format.

A stream renderer ends with its protocol's in-stream error in three cases: a `StreamError`
event, events that stop without a `Stop`, and an exception while iterating (the relay's
contract is StreamError, and a renderer must never raise: the status line is long gone).
The errors themselves are worded once, here, so every client reads the same sentence.
"""
from __future__ import annotations

import logging

from proxy.errors import ErrorKind, ProxyError

log = logging.getLogger(__name__)

UNFINISHED = "The upstream ended the answer before it was complete."


def unfinished() -> ProxyError:
    """The error for an answer whose events ended with neither Stop nor StreamError."""
    return ProxyError(ErrorKind.UPSTREAM, UNFINISHED)


def as_proxy_error(err: BaseException) -> ProxyError:
    """`err` itself when it is a ProxyError; anything else counts as an upstream failure."""
    if isinstance(err, ProxyError):
        return err
    return ProxyError(ErrorKind.UPSTREAM, str(err) or type(err).__name__)


def stream_failure(err: BaseException, protocol: str) -> ProxyError:
    """The error a renderer shows for an exception raised while it iterated the events.

    A ProxyError is passed on as it is; anything else is a proxy bug: logged with its traceback,
    and shown as an internal error without its details.
    """
    if isinstance(err, ProxyError):
        return err
    log.error("streaming a %s answer failed", protocol, exc_info=err)
    return ProxyError(ErrorKind.INTERNAL, "The proxy failed while streaming the answer.")
