"""A Chat Completions request body -> (`Chat`, `StreamOptions`); pure.

Options Kiro cannot honour either map onto the neutral model, are tolerated and ignored
(seed, penalties, logit_bias, metadata, store, parallel_tool_calls), or are refused with a
400 naming the field when ignoring them would silently give the client something else
(n > 1, logprobs, audio output, legacy functions).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from proxy.chat import Chat, ResponseFormat, Thinking, Tool, ToolChoice, WebSearch
from proxy.errors import bad_request
from proxy.protocols.openai_chat.fields import (get_bool, get_int, get_list, get_number, get_object, get_str,
                                                invalid_type, invalid_value, require_object)
from proxy.protocols.openai_chat.messages import parse_messages

EMPTY_SCHEMA = {"type": "object", "properties": {}}
MAX_STOP_SEQUENCES = 4
# OpenAI reasoning efforts -> Thinking efforts; None: the client asked for no reasoning
REASONING_EFFORTS = {"none": None, "minimal": None, "low": "low", "medium": "medium", "high": "high",
                     "xhigh": "max"}
_RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_TOOL_CHOICES = ("none", "auto", "required")


@dataclass(frozen=True)
class StreamOptions:
    """What the client wants in the stream beyond the Chat: a final usage chunk or not."""
    include_usage: bool = False


def parse(body: Any) -> tuple[Chat, StreamOptions]:
    """The `Chat` and stream options of a POST /v1/chat/completions body."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    model = get_str(body, "model", "model", required=True)
    raw_messages = get_list(body, "messages", "messages", required=True)
    if not raw_messages:
        raise bad_request("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                          "but got an empty array instead.", "messages")
    _refuse_unsupported(body)
    system, messages = parse_messages(raw_messages)
    tools = _tools(body)
    stream = bool(get_bool(body, "stream", "stream"))
    chat = Chat(
        model=model,
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=_tool_choice(body, tools),
        max_tokens=_max_tokens(body),
        temperature=get_number(body, "temperature", "temperature", minimum=0, maximum=2),
        top_p=get_number(body, "top_p", "top_p", minimum=0, maximum=1),
        stop_sequences=_stop(body),
        stream=stream,
        thinking=_thinking(body),
        response_format=_response_format(body),
        web_search=_web_search(body),
        session_key=_session_key(body),
    )
    return chat, _stream_options(body)


def _refuse_unsupported(body: dict) -> None:
    """400 for options whose silent omission would hand the client the wrong kind of answer."""
    n = get_int(body, "n", "n", minimum=1)
    if n is not None and n > 1:
        raise bad_request("n > 1 is not supported.", "n")
    if get_bool(body, "logprobs", "logprobs"):
        raise bad_request("logprobs are not supported.", "logprobs")
    modalities = get_list(body, "modalities", "modalities") or []
    if any(m != "text" for m in modalities) or body.get("audio") is not None:
        raise bad_request("Only text output is supported; audio output is not.", "modalities")
    for legacy, modern in (("functions", "tools"), ("function_call", "tool_choice")):
        if body.get(legacy) is not None:
            raise bad_request(f"The legacy '{legacy}' parameter is not supported; use '{modern}'.", legacy)


def _tools(body: dict) -> list[Tool]:
    """Function tools; `strict` is ignored (Kiro has no strict mode)."""
    tools = []
    for i, raw in enumerate(get_list(body, "tools", "tools") or []):
        param = f"tools[{i}]"
        raw = require_object(raw, param)
        kind = get_str(raw, "type", f"{param}.type", required=True)
        if kind != "function":
            raise invalid_value(f"{param}.type", kind, ("function",))
        function = get_object(raw, "function", f"{param}.function", required=True)
        name = get_str(function, "name", f"{param}.function.name", required=True)
        description = get_str(function, "description", f"{param}.function.description") or ""
        schema = get_object(function, "parameters", f"{param}.function.parameters")
        tools.append(Tool(name, description, schema if schema is not None else dict(EMPTY_SCHEMA)))
    return tools


def _tool_choice(body: dict, tools: list[Tool]) -> ToolChoice:
    """none / auto / required (-> any) / a named function that must be among `tools`."""
    raw = body.get("tool_choice")
    if raw is None:
        return ToolChoice()
    if isinstance(raw, str):
        if raw not in _TOOL_CHOICES:
            raise invalid_value("tool_choice", raw, _TOOL_CHOICES)
        choice = ToolChoice({"none": "none", "auto": "auto", "required": "any"}[raw])
    elif isinstance(raw, dict):
        kind = get_str(raw, "type", "tool_choice.type", required=True)
        if kind != "function":
            raise invalid_value("tool_choice.type", kind, ("function",))
        function = get_object(raw, "function", "tool_choice.function", required=True)
        name = get_str(function, "name", "tool_choice.function.name", required=True)
        if name not in {t.name for t in tools}:
            raise bad_request(f"Invalid value for 'tool_choice': no function named '{name}' is "
                              f"defined in 'tools'.", "tool_choice.function.name")
        choice = ToolChoice("tool", name)
    else:
        raise invalid_type("tool_choice", "a string or an object", raw)
    if choice.mode in ("any", "tool") and not tools:
        raise bad_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
                          "are specified.", "tool_choice")
    return choice


def _max_tokens(body: dict) -> Optional[int]:
    """`max_completion_tokens` (the current name) or else the older `max_tokens`."""
    newer = get_int(body, "max_completion_tokens", "max_completion_tokens", minimum=1)
    older = get_int(body, "max_tokens", "max_tokens", minimum=1)
    return newer if newer is not None else older


def _stop(body: dict) -> list[str]:
    """Stop sequences from a string or a list of up to four; empty strings mean nothing."""
    raw = body.get("stop")
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw else []
    if not isinstance(raw, list):
        raise invalid_type("stop", "a string or an array of strings", raw)
    if len(raw) > MAX_STOP_SEQUENCES:
        raise bad_request(f"Invalid 'stop': array too long. Expected an array with maximum length "
                          f"{MAX_STOP_SEQUENCES}, but got an array with length {len(raw)} instead.", "stop")
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            raise invalid_type(f"stop[{i}]", "a string", item)
    return [s for s in raw if s]


def _thinking(body: dict) -> Optional[Thinking]:
    """`reasoning_effort` -> adaptive thinking with that effort; none / minimal -> no thinking."""
    effort = get_str(body, "reasoning_effort", "reasoning_effort")
    if effort is None:
        return None
    if effort not in REASONING_EFFORTS:
        raise invalid_value("reasoning_effort", effort, tuple(REASONING_EFFORTS))
    mapped = REASONING_EFFORTS[effort]
    return Thinking("adaptive", effort=mapped) if mapped else None


def _response_format(body: dict) -> Optional[ResponseFormat]:
    """text (-> None) / json_object / json_schema {name, schema, strict}."""
    raw = get_object(body, "response_format", "response_format")
    if raw is None:
        return None
    kind = get_str(raw, "type", "response_format.type", required=True)
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind == "json_schema":
        spec = get_object(raw, "json_schema", "response_format.json_schema", required=True)
        name = get_str(spec, "name", "response_format.json_schema.name")
        schema = get_object(spec, "schema", "response_format.json_schema.schema")
        return ResponseFormat("json_schema", schema=schema, name=name)
    raise invalid_value("response_format.type", kind, _RESPONSE_FORMATS)


def _web_search(body: dict) -> Optional[WebSearch]:
    """`web_search_options` (OpenAI's search-model switch) offers web search; its fields are ignored."""
    if get_object(body, "web_search_options", "web_search_options") is None:
        return None
    return WebSearch()


def _session_key(body: dict) -> Optional[str]:
    """The conversation identity for account stickiness, most specific field first."""
    for key in ("prompt_cache_key", "user", "safety_identifier"):
        value = get_str(body, key, key)
        if value:
            return value
    return None


def _stream_options(body: dict) -> StreamOptions:
    """`stream_options.include_usage`; tolerated (and meaningless) when not streaming."""
    options = get_object(body, "stream_options", "stream_options") or {}
    return StreamOptions(include_usage=bool(get_bool(options, "include_usage", "stream_options.include_usage")))
