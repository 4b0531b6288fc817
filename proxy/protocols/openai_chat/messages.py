"""Chat Completions `messages` -> (system text, neutral `Message`s); pure.

system / developer turns become `Chat.system` (joined in order), tool turns become
`ToolResultPart`s in a user turn, and assistant `tool_calls` become `ToolCallPart`s.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from proxy.chat import ImagePart, Message, Part, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.errors import ProxyError, bad_request
from proxy.protocols.openai_chat.fields import (get_object, get_str, invalid_type, invalid_value, missing,
                                                require_object)
from proxy.protocols.images import IMAGE_TYPES, base64_data, data_url

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_USER_PARTS = ("text", "image_url", "input_audio", "file")
_CONTENT_TYPES = "one of a string or array of objects"


def parse_messages(raw: list) -> tuple[str, list[Message]]:
    """The system text and the user/assistant turns of a `messages` array."""
    system: list[str] = []
    messages: list[Message] = []
    tool_turn: Optional[Message] = None  # the user turn collecting consecutive tool results
    for i, item in enumerate(raw):
        param = f"messages[{i}]"
        item = require_object(item, param)
        role = get_str(item, "role", f"{param}.role", required=True)
        if role in ("system", "developer"):
            text = _plain_text(item, param)
            if text:
                system.append(text)
        elif role == "user":
            messages.append(Message("user", _user_parts(item, param)))
            tool_turn = None
        elif role == "assistant":
            messages.append(Message("assistant", _assistant_parts(item, param)))
            tool_turn = None
        elif role == "tool":
            result = _tool_result(item, param)
            if tool_turn is None:
                tool_turn = Message("user", [])
                messages.append(tool_turn)
            tool_turn.parts.append(result)
        elif role == "function":
            raise bad_request("The legacy 'function' role is not supported; send tool results as 'tool' "
                              "messages with a 'tool_call_id'.", f"{param}.role")
        else:
            raise invalid_value(f"{param}.role", role, ROLES)
    return "\n\n".join(system), messages


def _parts_list(item: dict, param: str) -> Optional[list]:
    """The message's content as a list of part objects, or None when it is a string or absent."""
    content = item.get("content")
    if content is None or isinstance(content, str):
        return None
    if not isinstance(content, list):
        raise invalid_type(f"{param}.content", _CONTENT_TYPES, content)
    return content


def _plain_text(item: dict, param: str) -> str:
    """Text of a system / developer message: a string or text parts (joined by newlines)."""
    parts = _parts_list(item, param)
    if parts is None:
        return item.get("content") or ""
    texts = []
    for j, part in enumerate(parts):
        part_param = f"{param}.content[{j}]"
        part = require_object(part, part_param)
        kind = get_str(part, "type", f"{part_param}.type", required=True)
        if kind != "text":
            raise invalid_value(f"{part_param}.type", kind, ("text",))
        texts.append(get_str(part, "text", f"{part_param}.text", required=True))
    return "\n".join(texts)


def _user_parts(item: dict, param: str) -> list[Part]:
    """Parts of a user message: text and data-URL images."""
    parts = _parts_list(item, param)
    if parts is None:
        content = item.get("content")
        if content is None:
            raise missing(f"{param}.content")
        return [TextPart(content)]
    return [_user_part(part, f"{param}.content[{j}]") for j, part in enumerate(parts)]


def _user_part(part: Any, param: str) -> Part:
    """One user content part; audio and files are refused (Kiro takes neither)."""
    part = require_object(part, param)
    kind = get_str(part, "type", f"{param}.type", required=True)
    if kind == "text":
        return TextPart(get_str(part, "text", f"{param}.text", required=True))
    if kind == "image_url":
        return _image(part, param)
    if kind in ("input_audio", "file"):
        raise bad_request(f"Content parts of type '{kind}' are not supported; send text or images "
                          f"as data URLs.", f"{param}.type")
    raise invalid_value(f"{param}.type", kind, _USER_PARTS)


def _image(part: dict, param: str) -> ImagePart:
    """An `image_url` part whose URL must be a base64 data URL; remote URLs are never fetched."""
    image_url = part.get("image_url")
    if isinstance(image_url, str):  # some clients send the URL directly instead of {url}
        url, url_param = image_url, f"{param}.image_url"
    else:
        image_url = get_object(part, "image_url", f"{param}.image_url", required=True)
        url_param = f"{param}.image_url.url"
        url = get_str(image_url, "url", url_param, required=True)
    if url.lower().startswith(("http://", "https://")):
        raise bad_request("Remote image URLs are not supported: only data URLs "
                          "('data:image/png;base64,...') are accepted.", url_param)
    parsed = data_url(url)
    if parsed is None:
        raise bad_request("Invalid image URL: expected a base64 data URL "
                          "('data:image/png;base64,...').", url_param)
    media_type, raw = parsed
    if media_type not in IMAGE_TYPES:
        raise bad_request(f"Unsupported image type '{media_type}'. Supported types are: "
                          f"{', '.join(IMAGE_TYPES)}.", url_param)
    data = base64_data(raw)
    if data is None:
        raise bad_request("Invalid image data: the data URL is not valid base64.", url_param)
    return ImagePart(media_type, data)


def _assistant_parts(item: dict, param: str) -> list[Part]:
    """Parts of an assistant message: replayed reasoning, text and tool calls."""
    if item.get("function_call") is not None:
        raise bad_request("The legacy 'function_call' field is not supported; use 'tool_calls'.",
                          f"{param}.function_call")
    parts: list[Part] = []
    reasoning = get_str(item, "reasoning_content", f"{param}.reasoning_content")
    if reasoning:
        parts.append(ThinkingPart(reasoning))
    content = _parts_list(item, param)
    if content is None:
        texts = [item.get("content") or ""]
    else:
        texts = [_assistant_text(part, f"{param}.content[{j}]") for j, part in enumerate(content)]
    # clients send content "" (or null) beside tool calls; an empty text part means nothing
    parts.extend(TextPart(t) for t in texts if t)
    calls = item.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise invalid_type(f"{param}.tool_calls", "an array", calls)
        parts.extend(_tool_call(call, f"{param}.tool_calls[{k}]") for k, call in enumerate(calls))
    return parts


def _assistant_text(part: Any, param: str) -> str:
    """One assistant content part: text, or a refusal kept as text."""
    part = require_object(part, param)
    kind = get_str(part, "type", f"{param}.type", required=True)
    if kind in ("text", "refusal"):
        return get_str(part, kind, f"{param}.{kind}", required=True)
    raise invalid_value(f"{param}.type", kind, ("text", "refusal"))


def _tool_call(call: Any, param: str) -> ToolCallPart:
    """An assistant tool call; `arguments` is a JSON string that must hold an object."""
    call = require_object(call, param)
    kind = get_str(call, "type", f"{param}.type")
    if kind not in (None, "function"):
        raise invalid_value(f"{param}.type", kind, ("function",))
    call_id = get_str(call, "id", f"{param}.id", required=True)
    function = get_object(call, "function", f"{param}.function", required=True)
    name = get_str(function, "name", f"{param}.function.name", required=True)
    return ToolCallPart(call_id, name, _arguments(function.get("arguments"), f"{param}.function.arguments"))


def _arguments(raw: Any, param: str) -> dict:
    """Parsed tool-call arguments; "" or absent means no arguments (models emit that for no-arg tools)."""
    if isinstance(raw, dict):  # tolerated: some clients replay the parsed object
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if not isinstance(raw, str):
        raise invalid_type(param, "a string", raw)
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise _bad_arguments(param, f"not valid JSON ({e})") from e
    if not isinstance(value, dict):
        raise _bad_arguments(param, "a JSON object is required")
    return value


def _bad_arguments(param: str, why: str) -> ProxyError:
    """A 400 for tool-call arguments that cannot be replayed."""
    return bad_request(f"Invalid '{param}': {why}.", param)


def _tool_result(item: dict, param: str) -> ToolResultPart:
    """A tool message: its call id and output (text parts joined, data-URL images kept)."""
    call_id = get_str(item, "tool_call_id", f"{param}.tool_call_id", required=True)
    parts = _parts_list(item, param)
    if parts is None:
        return ToolResultPart(call_id, item.get("content") or "")
    texts: list[str] = []
    images: list[ImagePart] = []
    for j, part in enumerate(parts):
        converted = _user_part(part, f"{param}.content[{j}]")
        if isinstance(converted, ImagePart):
            images.append(converted)
        else:
            texts.append(converted.text)
    return ToolResultPart(call_id, "\n".join(texts), images=images)
