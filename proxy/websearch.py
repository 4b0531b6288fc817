"""Web search served by the proxy: the model calls the `web_search` function the request builder
declared, the proxy runs Kiro's MCP search and continues the answer in a new Kiro call.

Kiro has no server-side search tool, so the search round happens here, between two upstream
streams; the client sees ServerToolCall / ServerToolResult events in between and one answer.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Iterator, Optional

from proxy.account import Account
from proxy.chat import (Chat, Message, ServerToolCall, ServerToolResult, Stop, StreamEvent, TextDelta,
                        TextPart, ToolCallDelta, ToolCallEnd, ToolCallPart, ToolCallStart, ToolResultPart)
from proxy.kiro.errors import KiroError
from proxy.kiro.request import WEB_SEARCH_TOOL

log = logging.getLogger(__name__)

DEFAULT_MAX_ROUNDS = 3  # searches per answer when the client sets no max_uses
SEARCH_FAILED = "The web search failed; answer from what you know and say so."


def with_web_search(chat: Chat, opened: list, reopen: Callable[[Chat], object],
                    search: Callable[[Account, str], list[dict]]) -> Iterator[StreamEvent]:
    """Pass the answer's events through, serving each web_search call the model makes.

    `opened[-1]` is the open upstream; each later round's upstream (from `reopen`) is appended,
    so the caller can close every one of them whatever happens to this generator.
    """
    upstream = opened[-1]
    max_rounds = 0
    if chat.web_search:
        max_rounds = DEFAULT_MAX_ROUNDS if chat.web_search.max_uses is None else chat.web_search.max_uses
    rounds = 0
    while True:
        hidden: set[str] = set()
        call: Optional[ToolCallEnd] = None
        client_calls = False
        text: list[str] = []
        try:
            for event in upstream.events:
                if isinstance(event, ToolCallStart) and upstream.search_tool and event.name == upstream.search_tool:
                    hidden.add(event.id)  # the proxy's own tool: never shown as a client tool call
                    continue
                if isinstance(event, (ToolCallDelta, ToolCallEnd)) and event.id in hidden:
                    if isinstance(event, ToolCallEnd):
                        call = event
                    continue
                if isinstance(event, ToolCallEnd):
                    client_calls = True
                elif isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, Stop) and call and not client_calls:
                    if rounds < max_rounds:
                        break  # the answer continues after the search
                    event = Stop("end_turn")  # out of searches: the hidden call must not read as a tool stop
                yield event
            else:
                return
        finally:
            upstream.close()
        query = str(call.arguments.get("query") or "").strip()
        yield ServerToolCall(call.id, "web_search", {"query": query})
        try:
            results = search(upstream.account, query)
            yield ServerToolResult(call.id, "web_search", results)
            summary = results_text(results)
        except KiroError as e:
            log.warning("web search failed: %s", e)
            yield ServerToolResult(call.id, "web_search", [], error="unavailable")
            summary = SEARCH_FAILED
        rounds += 1
        said = [TextPart("".join(text))] if text else []
        chat = dataclasses.replace(chat, messages=chat.messages + [
            Message("assistant", said + [ToolCallPart(call.id, WEB_SEARCH_TOOL, {"query": query})]),
            Message("user", [ToolResultPart(call.id, summary)]),
        ])
        upstream = reopen(chat)
        opened.append(upstream)


def results_text(results: list[dict]) -> str:
    """Search results as the text the model reads."""
    if not results:
        return "No results."
    return "\n\n".join(f"[{i}] {r['title']}\n{r['url']}\n{r['snippet']}" for i, r in enumerate(results, 1))
