"""Decisions every protocol adapter makes the same way, whatever its wire format.

A stream renderer ends with its protocol's in-stream error in three cases: a `StreamError`
event, events that stop without a `Stop`, and an exception while iterating (the relay's
contract is StreamError, and a renderer must never raise: the status line is long gone).
The errors themselves are worded once, here, so every client reads the same sentence.
"""
from __future__ import annotations

import logging
from json.encoder import encode_basestring as json_string  # the escaper json.dumps(ensure_ascii=False) uses
from typing import Optional

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


# Text deltas are most of a stream's events. A renderer dumps its text chunk once with this slot
# for the text and keeps the JSON around it; each delta is then the slot's surroundings with the
# text escaped by `json_string`, the very function json.dumps escapes strings with, so the bytes
# are the same as dumping the whole chunk (the renderers' tests compare both on tricky strings).
TEXT_SLOT = "\x00kiro-proxy text slot\x00"


def text_slot(document: str) -> Optional[tuple[str, str]]:
    """(before, after) around the JSON string TEXT_SLOT in `document`; None unless it is there
    exactly once (a client-chosen value, such as the model name, could also contain it)."""
    before, found, after = document.partition(json_string(TEXT_SLOT))
    if not found or json_string(TEXT_SLOT) in after:
        return None
    return before, after
