"""Anthropic `messages[]` -> neutral `Message`s: content blocks to parts, system turns folded in.

Claude Code puts `role: "system"` turns inside `messages` (after the first user turn). Kiro
has no such role, so their text is wrapped in `<system-reminder>` tags and joined to the user
turn before them (or, when none precedes, the next one) — nothing the client said is lost.
"""
from __future__ import annotations

import json
from typing import Any

from proxy.chat import (ImagePart, Message, Part, TextPart, ThinkingPart, ToolCallPart,
                        ToolResultPart)

from proxy.protocols.images import base64_data

from .fields import as_bool, as_dict, as_list, as_str, expected, fail, required, tag_error
from .websearch import decode_snippet

ROLES = ("user", "assistant", "system")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # exactly, in the real API's order

# Results of Anthropic-run tools an assistant turn may replay; all become plain text here.
SERVER_RESULTS = ("web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
                  "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
                  "tool_search_tool_result", "mcp_tool_result")
USER_ONLY = ("image", "document", "search_result", "tool_result")
ASSISTANT_ONLY = ("tool_use", "thinking", "redacted_thinking", "server_tool_use",
                  "mcp_tool_use") + SERVER_RESULTS
BLOCK_TYPES = ("text",) + USER_ONLY + ASSISTANT_ONLY
TOOL_RESULT_TYPES = ("text", "image", "document", "search_result", "tool_reference")


def parse_messages(raw: Any) -> list[Message]:
    """The conversation, with system turns folded into user turns and empty turns left out."""
    if raw is None:
        raise fail("messages", "Field required")
    as_list(raw, "messages")
    if not raw:
        raise fail("messages", "at least one message is required")
    out: list[Message] = []
    waiting: list[Part] = []  # system text with no user turn before it yet
    for i, item in enumerate(raw):
        path = f"messages.{i}"
        message = as_dict(item, path)
        role = required(message, "role", f"{path}.role")
        if role not in ROLES:
            raise fail(f"{path}.role", f"Input should be {expected(ROLES)}")
        content = required(message, "content", f"{path}.content")
        if role == "system":
            reminder = _system_turn(content, f"{path}.content")
            if not reminder:
                continue
            if out and out[-1].role == "user":
                out[-1].parts.append(reminder)
            else:
                waiting.append(reminder)
            continue
        parts = _content(content, f"{path}.content", role)
        if role == "user" and waiting:
            parts, waiting = waiting + parts, []
        if parts:
            out.append(Message(role=role, parts=parts))
    if waiting:
        out.append(Message(role="user", parts=waiting))
    if not out:
        raise fail("messages", "every message is empty; at least one needs content")
    return out


def text_blocks(raw: Any, path: str) -> list[str]:
    """The texts of a string or a list of text blocks (the shape of `system` and system turns)."""
    if isinstance(raw, str):
        return [raw] if raw else []
    if not isinstance(raw, list):
        raise fail(path, "Input should be a valid string or a list of text blocks")
    texts = []
    for i, block in enumerate(raw):
        as_dict(block, f"{path}.{i}")
        kind = required(block, "type", f"{path}.{i}.type")
        if kind != "text":
            raise fail(f"{path}.{i}.type", "Input should be 'text'")
        text = as_str(required(block, "text", f"{path}.{i}.text"), f"{path}.{i}.text")
        if text:
            texts.append(text)
    return texts


def _system_turn(content: Any, path: str) -> TextPart | None:
    """A system turn as one `<system-reminder>` text part (None when it is empty)."""
    text = "\n\n".join(text_blocks(content, path))
    if not text:
        return None
    if text.lstrip().startswith("<system-reminder>"):
        return TextPart(text)
    return TextPart(f"<system-reminder>\n{text}\n</system-reminder>")


def _content(content: Any, path: str, role: str) -> list[Part]:
    """A user or assistant turn's content: a string or a list of blocks."""
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    if not isinstance(content, list):
        raise fail(path, "Input should be a valid string or a list of content blocks")
    parts: list[Part] = []
    for i, block in enumerate(content):
        parts.extend(_block(block, f"{path}.{i}", role))
    return parts


def _block(raw: Any, path: str, role: str) -> list[Part]:
    """One content block as zero or more parts."""
    block = as_dict(raw, path)
    kind = required(block, "type", f"{path}.type")
    if kind not in BLOCK_TYPES:
        raise tag_error(f"{path}.type", kind, BLOCK_TYPES)
    if role == "user" and kind in ASSISTANT_ONLY:
        raise fail(f"{path}.type", f"'{kind}' blocks are only allowed in assistant messages")
    if role == "assistant" and kind in USER_ONLY:
        raise fail(f"{path}.type", f"'{kind}' blocks are only allowed in user messages")
    if kind == "text":
        text = as_str(required(block, "text", f"{path}.text"), f"{path}.text")
        return [TextPart(text)] if text else []
    if kind == "image":
        return [_image(block, path)]
    if kind == "document":
        return _document(block, path)
    if kind == "search_result":
        return [TextPart(_search_result(block, path))]
    if kind == "tool_result":
        return [_tool_result(block, path)]
    if kind == "tool_use":
        return [ToolCallPart(id=as_str(required(block, "id", f"{path}.id"), f"{path}.id"),
                             name=as_str(required(block, "name", f"{path}.name"), f"{path}.name"),
                             arguments=as_dict(block.get("input", {}), f"{path}.input"))]
    if kind == "thinking":
        text = as_str(block.get("thinking") or "", f"{path}.thinking")
        signature = as_str(block.get("signature") or "", f"{path}.signature")
        return [ThinkingPart(text=text, signature=signature)] if text else []
    if kind == "redacted_thinking":
        return []  # encrypted by Anthropic: nothing Kiro could read
    if kind in ("server_tool_use", "mcp_tool_use"):
        return [TextPart(_server_call(block))]
    return [TextPart(_server_result(block, kind))]


def _image(block: dict, path: str) -> ImagePart:
    """A base64 image; URL and file sources are refused since Kiro takes inline bytes only."""
    source = as_dict(required(block, "source", f"{path}.source"), f"{path}.source")
    kind = required(source, "type", f"{path}.source.type")
    if kind in ("url", "file"):
        raise fail(f"{path}.source", f"'{kind}' image sources are not supported by this proxy "
                                     "(Kiro accepts only inline images); send the image as a "
                                     "'base64' source")
    if kind != "base64":
        raise tag_error(f"{path}.source.type", kind, ("base64", "url", "file"))
    media_type = required(source, "media_type", f"{path}.source.media_type")
    if media_type not in IMAGE_TYPES:
        raise fail(f"{path}.source.media_type", f"Input should be {expected(IMAGE_TYPES)}")
    given = as_str(required(source, "data", f"{path}.source.data"), f"{path}.source.data")
    if given.startswith("data:") and ";base64," in given:  # a data URL pasted whole
        given = given.split(";base64,", 1)[1]
    data = base64_data(given)
    if data is None:
        raise fail(f"{path}.source.data", "The image data is not valid base64")
    return ImagePart(media_type=media_type, data=data)


def _document(block: dict, path: str) -> list[Part]:
    """A text document as text; PDFs, URLs and files are refused (Kiro reads text and images)."""
    source = as_dict(required(block, "source", f"{path}.source"), f"{path}.source")
    kind = required(source, "type", f"{path}.source.type")
    header = [as_str(block[key], f"{path}.{key}") for key in ("title", "context") if block.get(key)]
    if kind == "text":
        data = as_str(required(source, "data", f"{path}.source.data"), f"{path}.source.data")
        return [TextPart("\n\n".join(header + [data]))]
    if kind == "content":
        inner = required(source, "content", f"{path}.source.content")
        if isinstance(inner, str):
            return [TextPart("\n\n".join(header + [inner]))]
        parts: list[Part] = [TextPart("\n\n".join(header))] if header else []
        for i, item in enumerate(as_list(inner, f"{path}.source.content")):
            item_path = f"{path}.source.content.{i}"
            item_kind = required(as_dict(item, item_path), "type", f"{item_path}.type")
            if item_kind not in ("text", "image"):
                raise tag_error(f"{item_path}.type", item_kind, ("text", "image"))
            parts.extend(_block(item, item_path, "user"))
        return parts
    if kind in ("base64", "url", "file"):
        raise fail(f"{path}.source", f"'{kind}' document sources (PDF) are not supported by this "
                                     "proxy: Kiro accepts only text and images. Send the "
                                     "document's text as a text block or a 'text' source")
    raise tag_error(f"{path}.source.type", kind, ("text", "content", "base64", "url", "file"))


def _search_result(block: dict, path: str) -> str:
    """A client-supplied search result as a titled text."""
    title = as_str(block.get("title") or "", f"{path}.title")
    source = as_str(block.get("source") or "", f"{path}.source")
    texts = text_blocks(block.get("content") or [], f"{path}.content")
    head = f"{title} ({source})" if title and source else title or source
    return "\n".join(([head] if head else []) + texts)


def _tool_result(block: dict, path: str) -> ToolResultPart:
    """A tool result: text (joined) plus any images the tool returned."""
    call_id = as_str(required(block, "tool_use_id", f"{path}.tool_use_id"), f"{path}.tool_use_id")
    is_error = as_bool(block.get("is_error") or False, f"{path}.is_error")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return ToolResultPart(call_id=call_id, content=content or "", is_error=is_error)
    texts: list[str] = []
    images: list[ImagePart] = []
    for i, item in enumerate(as_list(content, f"{path}.content")):
        item_path = f"{path}.content.{i}"
        kind = required(as_dict(item, item_path), "type", f"{item_path}.type")
        if kind not in TOOL_RESULT_TYPES:
            raise tag_error(f"{item_path}.type", kind, TOOL_RESULT_TYPES)
        if kind == "tool_reference":  # tool search loaded a deferred tool; all tools are sent anyway
            name = as_str(required(item, "tool_name", f"{item_path}.tool_name"), f"{item_path}.tool_name")
            texts.append(f"Tool loaded: {name}")
            continue
        for part in _block(item, item_path, "user"):
            if isinstance(part, ImagePart):
                images.append(part)
            elif isinstance(part, TextPart):
                texts.append(part.text)
    return ToolResultPart(call_id=call_id, content="\n".join(texts), is_error=is_error,
                          images=images)


def _server_call(block: dict) -> str:
    """An Anthropic-run tool call replayed from an earlier turn, as a line of text."""
    name = block.get("name") or "server tool"
    arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
    if name == "web_search" and isinstance(arguments.get("query"), str):
        return f"[Searched the web for: {arguments['query']}]"
    server = block.get("server_name")
    label = f"{server}/{name}" if isinstance(server, str) and server else name
    return f"[Called tool {label} with {json.dumps(arguments, ensure_ascii=False)}]"


def _server_result(block: dict, kind: str) -> str:
    """An Anthropic-run tool's result replayed from an earlier turn, as text."""
    content = block.get("content")
    if kind == "web_search_tool_result":
        if isinstance(content, dict):
            return f"[Web search failed: {content.get('error_code', 'unavailable')}]"
        lines = ["[Web search results]"]
        for n, item in enumerate(content if isinstance(content, list) else [], start=1):
            if not isinstance(item, dict):
                continue
            lines.append(f"{n}. {item.get('title', '')} - {item.get('url', '')}")
            snippet = decode_snippet(item.get("encrypted_content"))
            if snippet:
                lines.append(f"   {snippet}")
        return "\n".join(lines)
    if kind == "mcp_tool_result":
        if isinstance(content, str):
            return f"[Tool result]\n{content}"
        blocks = content if isinstance(content, list) else []
        texts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
        return "\n".join(["[Tool result]"] + texts)
    if isinstance(content, dict) and content.get("error_code"):
        return f"[{kind}: error {content['error_code']}]"
    return f"[{kind}]"
