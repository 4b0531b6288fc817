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
                        TextPart, ToolCallDelta, ToolCallEnd, ToolCallPart, ToolCallStart, ToolResultPart, Usage)
from proxy.kiro.errors import KiroError
from proxy.kiro.request import WEB_SEARCH_TOOL

log = logging.getLogger(__name__)

DEFAULT_MAX_ROUNDS = 3  # searches per answer when the client sets no max_uses
SEARCH_FAILED = "The web search failed; answer from what you know and say so."


def with_web_search(chat: Chat, opened: list, reopen: Callable[[Chat], object],
                    search: Callable[[Account, str], list[dict]]) -> Iterator[StreamEvent]:
    """Pass the answer's events through, serving each web_search call the model makes.

    `opened[-1]` is the open upstream; each later round's upstream (from `reopen`) is appended,
    so the caller can close every one of them whatever happens to this generator. A round's
    Usage is held until its Stop: one Usage goes out, before the one Stop, and it counts the
    output (and credits) of every round (the last round's input already holds the earlier ones).
    """
    upstream = opened[-1]
    max_rounds = 0
    if chat.web_search:
        max_rounds = DEFAULT_MAX_ROUNDS if chat.web_search.max_uses is None else chat.web_search.max_uses
    rounds = 0
    spent: Optional[Usage] = None  # output of the rounds before this one
    while True:
        hidden: set[str] = set()
        call: Optional[ToolCallEnd] = None
        client_calls = False
        text: list[str] = []
        usage: Optional[Usage] = None
        try:
            for event in upstream.events:
                if isinstance(event, Usage):
                    usage = event
                    continue
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
                if isinstance(event, Stop) and (usage or spent):
                    yield _added(usage, spent)
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
        spent = _added(usage, spent)
        said = [TextPart("".join(text))] if text else []
        chat = dataclasses.replace(chat, messages=chat.messages + [
            Message("assistant", said + [ToolCallPart(call.id, WEB_SEARCH_TOOL, {"query": query})]),
            Message("user", [ToolResultPart(call.id, summary)]),
        ])
        upstream = reopen(chat)
        opened.append(upstream)


def _added(usage: Optional[Usage], spent: Optional[Usage]) -> Usage:
    """This round's usage plus the output and credits of the rounds before it."""
    usage = usage or Usage(0, 0)
    if spent is None:
        return usage
    credits = None if usage.credits is None and spent.credits is None else \
        (usage.credits or 0.0) + (spent.credits or 0.0)
    return Usage(usage.input_tokens, usage.output_tokens + spent.output_tokens, usage.cache_read_tokens, credits)


def results_text(results: list[dict]) -> str:
    """Search results as the text the model reads."""
    if not results:
        return "No results."
    return "\n\n".join(f"[{i}] {r['title']}\n{r['url']}\n{r['snippet']}" for i, r in enumerate(results, 1))
