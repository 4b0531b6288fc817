"""Gemini `contents` (and `systemInstruction`) to neutral `Message`s.

Tool calls and their results pair by id when the client sends ids. Gemini CLI echoes the id we
gave (after prefixing it with `<name>__`), or invents `<name>_<ms>_<n>` ids when the server gave
none; other clients may send no ids at all, and then a result pairs with the earliest unanswered
call of the same name in the latest model turn.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from proxy.chat import (ImagePart, Message, Part, TextPart, ThinkingPart, ToolCallPart,
                        ToolResultPart)
from proxy.errors import bad_request
from proxy.protocols.gemini.fields import (bad_value, bool_at, has, invalid, join, list_at,
                                           obj_at, pick, str_at)
from proxy.protocols.images import IMAGE_TYPES, base64_data, media_type

_ROLES = {"user": "user", "model": "assistant", "function": "user"}  # "function": old SDKs' tool role
_UNSUPPORTED_PARTS = {
    "fileData": "fileData (a file URI) is not supported by this proxy; send the bytes inline "
                "as inlineData instead",
    "executableCode": "executableCode parts are not supported: this proxy has no code execution",
    "codeExecutionResult": "codeExecutionResult parts are not supported: this proxy has no "
                           "code execution",
}
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def parse_system(value: Any, path: str = "systemInstruction") -> str:
    """The system prompt: a Content's text parts joined (its role is ignored), or a plain string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise bad_value(path, "TYPE_MESSAGE", value)
    texts = []
    for i, part in enumerate(list_at(value, "parts", path)):
        part_path = f"{path}.parts[{i}]"
        if not isinstance(part, dict):
            raise bad_value(part_path, "TYPE_MESSAGE", part)
        text = str_at(part, "text", part_path)
        if text is None:
            raise invalid(part_path, "system instructions may contain only text parts")
        texts.append(text)
    return "\n".join(texts)


@dataclass
class _Pairing:
    """Which tool call each function response answers."""
    names: dict[str, str] = field(default_factory=dict)  # every call id seen -> its name
    open_calls: list[tuple[str, str]] = field(default_factory=list)  # latest model turn, unanswered

    def call(self, given: Optional[str], name: str, where: tuple[int, int]) -> str:
        """The id for a model turn's functionCall."""
        call_id = _normalise_id(given, name) or _made_up_id(name, where)
        self.names[call_id] = name
        self.open_calls.append((call_id, name))
        return call_id

    def result(self, given: Optional[str], name: str, where: tuple[int, int]) -> str:
        """The id of the call a functionResponse answers."""
        wanted = _normalise_id(given, name)
        if wanted and wanted in self.names:
            self._close(wanted)
            return wanted
        for call_id, call_name in self.open_calls:
            if call_name == name:
                self._close(call_id)
                return call_id
        return wanted or _made_up_id(name, where)  # an orphan; the Kiro request guard decides

    def new_model_turn(self) -> None:
        """Only the latest model turn's calls are candidates for id-less pairing."""
        self.open_calls = []

    def _close(self, call_id: str) -> None:
        self.open_calls = [c for c in self.open_calls if c[0] != call_id]


def _normalise_id(given: Optional[str], name: str) -> str:
    """Undo Gemini CLI's `<name>__` prefix so our own id comes back as we issued it."""
    if not given:
        return ""
    prefix = f"{name.strip() or 'generic_tool'}__"
    if given.startswith(prefix) and len(given) > len(prefix):
        return given[len(prefix):]
    return given


def _made_up_id(name: str, where: tuple[int, int]) -> str:
    """A deterministic id from the call's position and name, so a resent history pairs the same."""
    return f"call_{where[0]}_{where[1]}_{_ID_CHARS.sub('_', name)}"[:64]


def parse_contents(contents: Any, path: str = "contents") -> list[Message]:
    """Every content turn as a `Message`, tool calls and results paired."""
    if contents is None or contents == []:
        raise invalid(path, "contents is not specified")
    if not isinstance(contents, list):
        raise bad_value(path, "TYPE_LIST", contents)
    pairing = _Pairing()
    messages = []
    for ci, content in enumerate(contents):
        content_path = f"{path}[{ci}]"
        if not isinstance(content, dict):
            raise bad_value(content_path, "TYPE_MESSAGE", content)
        role_name = pick(content, "role", "user")
        if not isinstance(role_name, str) or role_name not in _ROLES:
            raise invalid(join(content_path, "role"),
                          f'Please use a valid role: user, model. Got "{role_name}".')
        role = _ROLES[role_name]
        parts = list_at(content, "parts", content_path)
        if not parts:
            raise invalid(join(content_path, "parts"), "contents.parts must not be empty.")
        if role == "assistant":
            pairing.new_model_turn()
        converted: list[Part] = []
        for pi, part in enumerate(parts):
            new = _part(part, role, (ci, pi), f"{content_path}.parts[{pi}]", pairing)
            if new is None:
                continue
            if (isinstance(new, ThinkingPart) and converted
                    and isinstance(converted[-1], ThinkingPart)):
                # one reasoning block split over several parts; the signature closes it
                last = converted[-1]
                converted[-1] = ThinkingPart(last.text + new.text, new.signature or last.signature)
                continue
            converted.append(new)
        messages.append(Message(role=role, parts=converted))
    return messages


def _part(part: Any, role: str, where: tuple[int, int], path: str,
          pairing: _Pairing) -> Optional[Part]:
    """One part, or None for a part that carries nothing (an empty text with a signature)."""
    if not isinstance(part, dict):
        raise bad_value(path, "TYPE_MESSAGE", part)
    for key, message in _UNSUPPORTED_PARTS.items():
        if has(part, key):
            raise invalid(join(path, key), message)
    if has(part, "text"):
        text = str_at(part, "text", path)
        if bool_at(part, "thought", path):
            if role != "assistant":
                return None  # reasoning only means something in the model's own turns
            return ThinkingPart(text, str_at(part, "thoughtSignature", path) or "")
        return TextPart(text) if text else None
    if has(part, "inlineData"):
        return image(obj_at(part, "inlineData", path), join(path, "inlineData"))
    if has(part, "functionCall"):
        if role != "assistant":
            raise invalid(join(path, "functionCall"), "functionCall parts belong in model turns")
        return _function_call(obj_at(part, "functionCall", path), where,
                              join(path, "functionCall"), pairing)
    if has(part, "functionResponse"):
        if role == "assistant":
            raise invalid(join(path, "functionResponse"),
                          "functionResponse parts belong in user turns")
        return _function_response(obj_at(part, "functionResponse", path), where,
                                  join(path, "functionResponse"), pairing)
    if bool_at(part, "thought", path) or has(part, "thoughtSignature"):
        return None  # a bare signature part (Gemini 3 sends them); nothing to replay
    raise invalid(join(path, "data"), "required oneof field 'data' must have one initialized "
                                      "field (text, inlineData, functionCall or functionResponse)")


def image(blob: dict, path: str) -> ImagePart:
    """An inline image blob; other media types are refused, naming the field."""
    mime = media_type(str_at(blob, "mimeType", path) or "")
    if mime not in IMAGE_TYPES:
        raise invalid(join(path, "mimeType"),
                      f'unsupported MIME type "{mime}"; this proxy accepts inline images '
                      "only (image/png, image/jpeg, image/gif, image/webp)")
    given = str_at(blob, "data", path)
    if not given:
        raise invalid(join(path, "data"), "inline data must not be empty")
    if given.startswith("data:") and "," in given:
        given = given.split(",", 1)[1]
    # the Python SDK sends URL-safe base64; Kiro wants the standard alphabet
    data = base64_data(given, urlsafe=True)
    if data is None:
        shown = given if len(given) <= 40 else given[:37] + "..."
        raise bad_request(f"Invalid value at '{join(path, 'data')}' (TYPE_BYTES), Base64 decoding failed for "
                          f'"{shown}"', param=join(path, "data"))
    return ImagePart(media_type=mime, data=data)


def _function_call(call: dict, where: tuple[int, int], path: str,
                   pairing: _Pairing) -> ToolCallPart:
    """A model turn's function call."""
    name = str_at(call, "name", path)
    if not name:
        raise invalid(join(path, "name"), "function call name must not be empty")
    args = pick(call, "args", {})
    if not isinstance(args, dict):
        raise bad_value(join(path, "args"), "TYPE_MESSAGE", args)
    call_id = pairing.call(str_at(call, "id", path), name, where)
    return ToolCallPart(id=call_id, name=name, arguments=args)


def _function_response(resp: dict, where: tuple[int, int], path: str,
                       pairing: _Pairing) -> ToolResultPart:
    """A user turn's function response: `output` (or `content`) as text, `error` as an error."""
    name = str_at(resp, "name", path)
    if not name:
        raise invalid(join(path, "name"), "function response name must not be empty")
    body = pick(resp, "response", {})
    if not isinstance(body, dict):
        raise bad_value(join(path, "response"), "TYPE_MESSAGE", body)
    is_error = False
    if "output" in body:
        content = _as_text(body["output"])
    elif "content" in body:
        content = _as_text(body["content"])
    elif "error" in body and len(body) == 1:
        content, is_error = _as_text(body["error"]), True
    else:
        content = json.dumps(body, ensure_ascii=False) if body else ""
    images = []
    for i, extra in enumerate(list_at(resp, "parts", path)):  # multimodal function responses
        extra_path = f"{path}.parts[{i}]"
        if not isinstance(extra, dict) or not has(extra, "inlineData"):
            raise invalid(extra_path, "function response parts may only hold inlineData images")
        images.append(image(obj_at(extra, "inlineData", extra_path), join(extra_path, "inlineData")))
    call_id = pairing.result(str_at(resp, "id", path), name, where)
    return ToolResultPart(call_id=call_id, content=content, is_error=is_error, images=images)


def _as_text(value: Any) -> str:
    """A tool output as the text the model reads."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
