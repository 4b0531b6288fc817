"""Web search results in Anthropic's block shapes, and back to text when a client replays them.

Anthropic's `encrypted_content` is opaque to clients, so the proxy stores the result's snippet
there (marked, base64). When Claude Code sends the block back in a later turn, the parser can
turn it into readable history instead of a bare list of links.
"""
from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any, Optional

from proxy.chat import ServerToolResult

SNIPPET_MARK = "kp1."  # versioned so a future format can be told apart
ERROR_CODES = ("invalid_tool_input", "unavailable", "max_uses_exceeded", "too_many_requests",
               "query_too_long", "request_too_large")


def encode_snippet(snippet: str) -> str:
    """The opaque `encrypted_content` for a result whose snippet is `snippet`."""
    return SNIPPET_MARK + base64.b64encode(snippet.encode("utf-8")).decode("ascii")


def decode_snippet(encrypted: Any) -> str:
    """The snippet stored by `encode_snippet`, or "" for anything else (e.g. Anthropic's own)."""
    if not isinstance(encrypted, str) or not encrypted.startswith(SNIPPET_MARK):
        return ""
    try:
        return base64.b64decode(encrypted[len(SNIPPET_MARK):], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def page_age(result: dict) -> Optional[str]:
    """Anthropic's `page_age` ("May 3, 2026"): given as is, or from an epoch-ms publish date."""
    given = result.get("page_age")
    if isinstance(given, str) and given:
        return given
    published = result.get("publishedDate", result.get("published_date"))
    if isinstance(published, (int, float)) and not isinstance(published, bool) and published > 0:
        try:
            day = datetime.datetime.fromtimestamp(published / 1000, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        return f"{day:%B} {day.day}, {day.year}"
    return None


def result_content(event: ServerToolResult) -> Any:
    """The `content` of a `web_search_tool_result` block: result items, or an error object."""
    if event.error is not None:
        code = event.error if event.error in ERROR_CODES else "unavailable"
        return {"type": "web_search_tool_result_error", "error_code": code}
    items = []
    for result in event.results:
        if not isinstance(result, dict):
            continue
        items.append({"type": "web_search_result", "title": str(result.get("title") or ""),
                      "url": str(result.get("url") or ""),
                      "encrypted_content": encode_snippet(str(result.get("snippet") or "")),
                      "page_age": page_age(result)})
    return items
