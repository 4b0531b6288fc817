"""StreamEvents -> one Anthropic Message JSON (the non-streaming answer).

Blocks form exactly as in the stream: consecutive text or thinking deltas share a block,
anything else starts a new one, so both answers carry the same content and signatures.
A tool call cut off by max_tokens (no ToolCallEnd) is left out: the stream marks it by leaving
its block open, which a whole message cannot say, and a client must never run it.
"""
from __future__ import annotations

from typing import Optional

from proxy.chat import (Reply, ServerToolCall, ServerToolResult, Stop, StreamEvent, TextDelta,
                        ThinkingDelta, ToolCallEnd, ToolCallStart, Usage)

from .render import message_id, signature, usage_dict
from .websearch import result_content


def render_message(events: list[StreamEvent], reply: Reply) -> dict:
    """The whole answer as Anthropic's Message object."""
    content: list[dict] = []
    finished: set[str] = set()
    usage: Optional[Usage] = None
    stop: Optional[Stop] = None
    searches = 0
    for event in events:
        last = content[-1] if content else {}
        if isinstance(event, TextDelta) and event.text:
            if last.get("type") == "text":
                last["text"] += event.text
            else:
                content.append({"type": "text", "text": event.text})
        elif isinstance(event, ThinkingDelta) and (event.text or event.signature):
            if last.get("type") != "thinking":
                last = {"type": "thinking", "thinking": "", "signature": ""}
                content.append(last)
            last["thinking"] += event.text
            last["signature"] = event.signature or last["signature"]
        elif isinstance(event, ToolCallStart):
            content.append({"type": "tool_use", "id": event.id, "name": event.name, "input": {}})
        elif isinstance(event, ToolCallEnd):
            finished.add(event.id)
            for block in content:
                if block["type"] == "tool_use" and block["id"] == event.id:
                    block["input"] = event.arguments
        elif isinstance(event, ServerToolCall):
            searches += 1
            content.append({"type": "server_tool_use", "id": event.id, "name": event.name,
                            "input": event.input})
        elif isinstance(event, ServerToolResult):
            content.append({"type": "web_search_tool_result", "tool_use_id": event.id,
                            "content": result_content(event)})
        elif isinstance(event, Usage):
            usage = event
        elif isinstance(event, Stop):
            stop = event
    for index, block in enumerate(content):
        if block["type"] == "thinking":
            block["signature"] = signature(block["signature"], reply, index)
    content = [b for b in content if b["type"] != "tool_use" or b["id"] in finished]  # never a cut-off call
    if stop is None:  # the relay always sends one; this only keeps the answer well-formed
        calls = any(b["type"] == "tool_use" for b in content)
        stop = Stop(reason="tool_use" if calls else "end_turn")
    return {"id": message_id(reply), "type": "message", "role": "assistant", "model": reply.model,
            "content": content, "stop_reason": stop.reason, "stop_sequence": stop.stop_sequence,
            "usage": usage_dict(usage, reply, searches)}

