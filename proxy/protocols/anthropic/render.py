"""Pieces the streamed and the whole-message renderers share: ids, usage, signatures, SSE framing.

Usage: the neutral `Usage.input_tokens` counts every input token; Anthropic's `input_tokens`
excludes cache reads, so cache reads are subtracted and reported as `cache_read_input_tokens`.

Thinking signatures: Kiro's reasoning carries no Anthropic signature, but Claude Code expects
one on every thinking block and sends the block back verbatim. When the upstream gave none, a
stable stand-in (`kiro-proxy:<reply id>:<block index>`, base64) is emitted; the proxy never
checks signatures, so this only has to be present and opaque.
"""
from __future__ import annotations

import base64
import json
from typing import Optional

from proxy.chat import Reply, Usage

PING = b'event: ping\ndata: {"type": "ping"}\n\n'  # the real API spaces this one event's JSON


def message_id(reply: Reply) -> str:
    """The Anthropic message id for a reply."""
    return "msg_" + reply.id


def to_json(data: dict) -> str:
    """Compact JSON with UTF-8 left as is, like the real API."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def sse(data: dict) -> bytes:
    """One server-sent event; the event name is the payload's `type`."""
    return f"event: {data['type']}\ndata: {to_json(data)}\n\n".encode("utf-8")


def usage_dict(usage: Optional[Usage], reply: Reply, searches: int = 0) -> dict:
    """Anthropic's usage object; before the upstream reports, the input estimate and 0 output."""
    if usage is None:
        cached, total, output = 0, reply.input_tokens, 0
    else:
        cached, total, output = usage.cache_read_tokens, usage.input_tokens, usage.output_tokens
    out = {"input_tokens": max(0, total - cached), "cache_creation_input_tokens": 0,
           "cache_read_input_tokens": cached, "output_tokens": output}
    if searches:
        out["server_tool_use"] = {"web_search_requests": searches, "web_fetch_requests": 0}
    return out


def signature(given: str, reply: Reply, index: int) -> str:
    """The upstream's thinking signature, or the proxy's stand-in for block `index`."""
    if given:
        return given
    return base64.b64encode(f"kiro-proxy:{reply.id}:{index}".encode("utf-8")).decode("ascii")
