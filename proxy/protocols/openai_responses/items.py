"""Responses `input` items -> neutral messages plus system text.

system/developer messages become system text (in order); user and assistant items become
turns, with neighbouring items of the same role merged (a reasoning item, a message and a
function call of one model turn form one assistant turn). Tool outputs travel in user turns.
Items that only make sense with server-side state are refused (`item_reference`); items
this proxy cannot replay but whose loss does not break a conversation (compaction blobs,
hosted-tool records) are skipped with a warning, so a Codex thread never gets stuck on them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from proxy.chat import ImagePart, Message, Part, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.errors import bad_request
from proxy.protocols.images import IMAGE_TYPES, base64_data, data_url
from proxy.protocols.openai_responses.context import kiro_tool_name
from proxy.protocols.openai_responses.tools import ToolSet

_TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")

# Items we cannot replay (opaque compaction blobs, hosted tools this proxy never runs) but whose
# absence does not make the conversation invalid.
_SKIPPED = {
    "compaction", "compaction_summary", "context_compaction", "compaction_trigger", "configuration_update",
    "image_generation_call", "code_interpreter_call", "file_search_call", "computer_call",
    "computer_call_output", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response",
    "mcp_call", "ghost_snapshot", "program", "program_output",
}


@dataclass
class Conversation:
    """The parsed `input`: system texts in order, merged turns, and what was skipped."""
    system: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, role: str, parts: list[Part]) -> None:
        """Append parts to the conversation, merging with the previous turn of the same role."""
        if not parts:
            return
        if self.messages and self.messages[-1].role == role:
            self.messages[-1].parts.extend(parts)
        else:
            self.messages.append(Message(role=role, parts=list(parts)))  # type: ignore[arg-type]


def parse_input(value: Any, toolset: ToolSet) -> Conversation:
    """`input` (a string or a list of items) -> Conversation; additional tools land in `toolset`."""
    conv = Conversation()
    if isinstance(value, str):
        if value:
            conv.add("user", [TextPart(value)])
        return conv
    if not isinstance(value, list):
        raise bad_request("input must be a string or an array of input items.", "input")
    for i, item in enumerate(value):
        _parse_item(item, f"input[{i}]", conv, toolset)
    return conv


def _parse_item(item: Any, p: str, conv: Conversation, toolset: ToolSet) -> None:
    if not isinstance(item, dict):
        raise bad_request(f"{p} must be an object.", p)
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = "message"  # the short form {role, content}
    if not isinstance(kind, str):
        raise bad_request(f"{p}.type is required and must be a string.", f"{p}.type")
    if kind == "message":
        _message(item, p, conv)
    elif kind in ("function_call", "custom_tool_call"):
        name = _str(item, "name", p)
        namespace = item.get("namespace") if isinstance(item.get("namespace"), str) else None
        kiro_name = kiro_tool_name(name, namespace)
        toolset.use(kiro_name)
        if kind == "function_call":
            arguments = _arguments(item.get("arguments"), f"{p}.arguments")
        else:
            raw = item.get("input", "")
            if not isinstance(raw, str):
                raise bad_request(f"{p}.input must be a string.", f"{p}.input")
            arguments = {"input": raw}
        conv.add("assistant", [ToolCallPart(_str(item, "call_id", p), kiro_name, arguments)])
    elif kind == "local_shell_call":
        conv.add("assistant", [ToolCallPart(_call_id_or_id(item, p), "local_shell", _shell_arguments(item, p))])
    elif kind == "tool_search_call":
        arguments = item.get("arguments")
        arguments = _arguments(arguments, f"{p}.arguments") if not isinstance(arguments, dict) else arguments
        conv.add("assistant", [ToolCallPart(_call_id_or_id(item, p), "tool_search", arguments)])
    elif kind in ("function_call_output", "custom_tool_call_output"):
        text, images = _tool_output(item.get("output"), f"{p}.output")
        conv.add("user", [ToolResultPart(_str(item, "call_id", p), text, images=images)])
    elif kind == "local_shell_call_output":
        text, images = _tool_output(item.get("output"), f"{p}.output")
        conv.add("user", [ToolResultPart(_call_id_or_id(item, p), text, images=images)])
    elif kind == "tool_search_output":
        tools = item.get("tools") or []
        toolset.add_all(tools, f"{p}.tools", load_deferred=True)
        call_id = item.get("call_id")
        if isinstance(call_id, str) and call_id:
            conv.add("user", [ToolResultPart(call_id, _loaded_tools_text(tools))])
    elif kind == "reasoning":
        text = _reasoning_text(item, p)
        if text:
            conv.add("assistant", [ThinkingPart(text)])  # encrypted_content is OpenAI's; Kiro can't use it
    elif kind == "web_search_call":
        conv.add("assistant", [TextPart(_web_search_note(item.get("action")))])
    elif kind == "additional_tools":
        toolset.add_all(item.get("tools"), f"{p}.tools")
    elif kind == "item_reference":
        raise bad_request("item_reference is not supported: this proxy keeps no stored items; "
                          "send the full item instead.", f"{p}.type")
    elif kind in _SKIPPED:
        conv.warnings.append(f"{p}: {kind!r} items cannot be replayed through this proxy; skipped.")
    else:
        conv.warnings.append(f"{p}: unknown input item type {kind!r}; skipped.")


def _message(item: dict, p: str, conv: Conversation) -> None:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise bad_request(f"{p}.role must be one of user, assistant, system, developer.", f"{p}.role")
    parts = _content(item.get("content"), role, f"{p}.content")
    if role in ("system", "developer"):
        text = "\n".join(part.text for part in parts if isinstance(part, TextPart))
        if text:
            conv.system.append(text)
    else:
        conv.add(role, parts)


def _content(content: Any, role: str, p: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    if not isinstance(content, list):
        raise bad_request(f"{p} must be a string or an array of content parts.", p)
    parts: list[Part] = []
    for j, part in enumerate(content):
        q = f"{p}[{j}]"
        if not isinstance(part, dict):
            raise bad_request(f"{q} must be an object.", q)
        kind = part.get("type")
        if kind in _TEXT_PARTS or kind == "refusal":
            key = "refusal" if kind == "refusal" else "text"
            text = part.get(key)
            if not isinstance(text, str):
                raise bad_request(f"{q}.{key} must be a string.", f"{q}.{key}")
            if text:
                parts.append(TextPart(text))
        elif kind == "input_image":
            if role != "user":
                raise bad_request(f"{q}: images are only supported in user messages.", f"{q}.type")
            parts.append(_image(part, q))
        elif kind in ("input_file", "input_audio"):
            raise bad_request(f"{q}: {kind} content is not supported by this proxy; send text or images.",
                              f"{q}.type")
        else:
            raise bad_request(f"{q}.type {kind!r} is not a supported content part type.", f"{q}.type")
    return parts


def _image(part: dict, q: str) -> ImagePart:
    """An `input_image` part -> ImagePart; only inline data URLs can reach Kiro."""
    url = part.get("image_url")
    if url is None and part.get("file_id") is not None:
        raise bad_request(f"{q}.file_id: file references are not supported (this proxy stores no files); "
                          "send the image as a base64 data URL in image_url.", f"{q}.file_id")
    return image_from_url(url, f"{q}.image_url")


def image_from_url(url: Any, param: str) -> ImagePart:
    """A `data:image/...;base64,...` URL -> ImagePart; remote URLs are refused (Kiro takes inline images only)."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"{param} is required and must be a data URL string.", param)
    if url.lower().startswith(("http://", "https://")):
        raise bad_request(f"{param}: remote image URLs are not supported; send the image inline as a "
                          "base64 data URL (data:image/png;base64,...).", param)
    parsed = data_url(url)
    if parsed is None:
        raise bad_request(f"{param} must be a base64 data URL (data:<media type>;base64,<data>).", param)
    media_type, raw = parsed
    if media_type not in IMAGE_TYPES:
        raise bad_request(f"{param}: unsupported image type {media_type!r}; use PNG, JPEG, GIF or WebP.", param)
    data = base64_data(raw)
    if data is None:
        raise bad_request(f"{param}: the image data is not valid base64.", param)
    return ImagePart(media_type=media_type, data=data)


def _tool_output(output: Any, p: str) -> tuple[str, list[ImagePart]]:
    """A tool output (string, or a list of input_text / input_image parts) -> (text, images)."""
    if output is None:
        return "", []
    if isinstance(output, str):
        return output, []
    if not isinstance(output, list):
        raise bad_request(f"{p} must be a string or an array of content parts.", p)
    texts: list[str] = []
    images: list[ImagePart] = []
    for j, part in enumerate(output):
        q = f"{p}[{j}]"
        if not isinstance(part, dict):
            raise bad_request(f"{q} must be an object.", q)
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            if not isinstance(part.get("text"), str):
                raise bad_request(f"{q}.text must be a string.", f"{q}.text")
            texts.append(part["text"])
        elif kind == "input_image":
            images.append(_image(part, q))
        else:
            raise bad_request(f"{q}.type {kind!r} is not supported in a tool output; send input_text or "
                              "input_image parts.", f"{q}.type")
    return "\n".join(texts), images


def _arguments(raw: Any, p: str) -> dict:
    """A call's JSON-string arguments -> object. Unparsable text is kept, not refused: a model's one bad
    (e.g. truncated) call must not make the whole thread unsendable."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise bad_request(f"{p} must be a JSON string.", p)
    try:
        value = json.loads(raw)
    except ValueError:
        return {"raw_arguments": raw}
    return value if isinstance(value, dict) else {"raw_arguments": raw}


def _shell_arguments(item: dict, p: str) -> dict:
    """A local_shell_call's exec action -> the arguments of our `local_shell` function tool."""
    action = item.get("action")
    if not isinstance(action, dict):
        raise bad_request(f"{p}.action must be an object.", f"{p}.action")
    command = action.get("command")
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise bad_request(f"{p}.action.command must be an array of strings.", f"{p}.action.command")
    arguments: dict = {"command": command}
    if isinstance(action.get("working_directory"), str):
        arguments["workdir"] = action["working_directory"]
    if isinstance(action.get("timeout_ms"), int):
        arguments["timeout_ms"] = action["timeout_ms"]
    return arguments


def _reasoning_text(item: dict, p: str) -> str:
    """The readable text of a reasoning item: its summary, else its reasoning content."""
    for key in ("summary", "content"):
        entries = item.get(key) or []
        if not isinstance(entries, list):
            raise bad_request(f"{p}.{key} must be an array.", f"{p}.{key}")
        texts = [e["text"] for e in entries if isinstance(e, dict) and isinstance(e.get("text"), str) and e["text"]]
        if texts:
            return "\n\n".join(texts)
    return ""


def _web_search_note(action: Any) -> str:
    """A replayed hosted web search, as a short note the model can read."""
    action = action if isinstance(action, dict) else {}
    kind = action.get("type")
    if kind == "open_page" and action.get("url"):
        return f"(Opened web page: {action['url']})"
    if kind == "find_in_page" and action.get("url"):
        return f"(Searched web page {action['url']} for: {action.get('pattern', '')})"
    queries = action.get("queries") if isinstance(action.get("queries"), list) else []
    query = action.get("query") or "; ".join(q for q in queries if isinstance(q, str))
    return f"(Web search: {query})" if query else "(Web search)"


def _loaded_tools_text(tools: Any) -> str:
    """The tool result text for a client tool search: which tools it made available."""
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            continue
        inner = tool.get("tools") if tool.get("type") == "namespace" else None
        if isinstance(inner, list):
            names += [kiro_tool_name(t["name"], tool["name"]) for t in inner
                      if isinstance(t, dict) and isinstance(t.get("name"), str)]
        else:
            names.append(tool["name"])
    return f"Tools now available: {', '.join(names)}" if names else "No matching tools were found."


def _str(item: dict, key: str, p: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{p}.{key} is required and must be a non-empty string.", f"{p}.{key}")
    return value


def _call_id_or_id(item: dict, p: str) -> str:
    """local_shell / tool_search items name their call by `call_id`, older ones by `id`."""
    value: Optional[Any] = item.get("call_id") or item.get("id")
    if not isinstance(value, str) or not value:
        raise bad_request(f"{p}.call_id is required and must be a non-empty string.", f"{p}.call_id")
    return value
