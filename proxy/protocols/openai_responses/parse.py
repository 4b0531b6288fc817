"""POST /v1/responses body -> `Chat` plus the `ResponseContext` its renderer needs. Pure.

Served: `input` (string or items), `instructions`, tools of every kind Codex sends, `tool_choice`,
`reasoning`, `text.format`, `max_output_tokens`, `temperature`, `top_p`, `stream`,
`prompt_cache_key` (session stickiness; else the `session-id` header). Accepted and echoed, with
no effect: `store` (nothing is stored), `include`, `parallel_tool_calls`, `text.verbosity`,
`metadata`, `client_metadata`, `service_tier`, `truncation`, `user`, `safety_identifier`.
Refused, because they need server-side state this proxy does not keep: `previous_response_id`,
`conversation`, `prompt` (stored prompt templates), `background`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from proxy.chat import Chat, ResponseFormat, Thinking
from proxy.errors import bad_request
from proxy.protocols.openai_responses.context import ResponseContext
from proxy.protocols.openai_responses.items import parse_input
from proxy.protocols.openai_responses.tools import ToolSet, parse_tool_choice

# OpenAI effort names -> the neutral Thinking effort (low | medium | high | max)
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "max", "max": "max", "ultra": "max"}
_NO_THINKING = ("none", "minimal")
_STATELESS = "this proxy keeps no response state; send the full input"
_STATE_FIELDS = {
    "previous_response_id": f"previous_response_id is not supported: {_STATELESS}",
    "conversation": f"conversation is not supported: {_STATELESS}",
    "prompt": f"prompt (stored prompt templates) is not supported: {_STATELESS}",
}
# request fields the Response object repeats back, as the real API does
_ECHOED = ("instructions", "max_output_tokens", "parallel_tool_calls", "reasoning", "temperature", "text",
           "tool_choice", "top_p", "truncation", "metadata", "user", "service_tier", "prompt_cache_key",
           "safety_identifier", "max_tool_calls", "top_logprobs")


@dataclass
class ParsedRequest:
    """A parsed Responses request: the neutral chat, the render context, and notes worth logging."""
    chat: Chat
    context: ResponseContext
    warnings: list[str] = field(default_factory=list)


def parse(body: Any, headers: Optional[Mapping[str, str]] = None) -> ParsedRequest:
    """Validate a Responses request body and turn it into a Chat; bad input -> ProxyError naming the field."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key, message in _STATE_FIELDS.items():
        if body.get(key) is not None:
            raise bad_request(message, key)
    if body.get("background") is True:
        raise bad_request("background is not supported: this proxy keeps no response state; "
                          "send the request without background.", "background")

    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("model is required and must be a non-empty string.", "model")
    if body.get("input") is None:
        raise bad_request("input is required: a string or an array of input items.", "input")
    instructions = _opt(body, "instructions", str)

    toolset = ToolSet()
    if body.get("tools") is not None:
        toolset.add_all(body["tools"], "tools")
    conv = parse_input(body["input"], toolset)  # may add tools (additional_tools, tool_search_output)
    if not conv.messages:
        raise bad_request("input holds no user or assistant content.", "input")
    tool_choice = parse_tool_choice(body.get("tool_choice"), toolset)
    max_tool_calls = _opt(body, "max_tool_calls", int, minimum=1)
    if toolset.web_search is not None and max_tool_calls is not None:
        toolset.web_search.max_uses = max_tool_calls

    stream = _opt(body, "stream", bool)
    for key in ("store", "parallel_tool_calls"):
        _opt(body, key, bool)
    for key in ("metadata", "client_metadata", "stream_options"):
        _opt(body, key, dict)
    for key in ("service_tier", "truncation", "user", "safety_identifier", "prompt_cache_retention"):
        _opt(body, key, str)
    include = _opt(body, "include", list)
    if include is not None and not all(isinstance(x, str) for x in include):
        raise bad_request("include must be an array of strings.", "include")

    thinking = _thinking(body.get("reasoning"))
    chat = Chat(
        model=model,
        messages=conv.messages,
        system="\n\n".join(([instructions] if instructions else []) + conv.system),
        tools=toolset.tools,
        tool_choice=tool_choice,
        max_tokens=_opt(body, "max_output_tokens", int, minimum=1),
        temperature=_opt(body, "temperature", float, minimum=0, maximum=2),
        top_p=_opt(body, "top_p", float, minimum=0, maximum=1),
        stream=bool(stream),
        thinking=thinking,
        response_format=_response_format(body.get("text")),
        web_search=toolset.web_search,
        session_key=_session_key(body, headers),
    )
    echo = {key: body[key] for key in _ECHOED if body.get(key) is not None}
    echo["tools"] = body.get("tools") or []
    context = ResponseContext(tools=dict(toolset.registry), echo=echo,
                              show_reasoning=thinking is None or thinking.include)
    return ParsedRequest(chat, context, toolset.warnings + conv.warnings)


def _opt(body: dict, key: str, kind: type, *, minimum: Optional[float] = None,
         maximum: Optional[float] = None) -> Any:
    """An optional field of one JSON type (null = absent), range-checked; wrong types name the field."""
    value = body.get(key)
    if value is None:
        return None
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        names = "a number"
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        names = "an integer"
    else:
        ok = isinstance(value, kind)
        names = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}[kind]
    if not ok:
        raise bad_request(f"{key} must be {names}.", key)
    if minimum is not None and value < minimum:
        raise bad_request(f"{key} must be at least {minimum}.", key)
    if maximum is not None and value > maximum:
        raise bad_request(f"{key} must be at most {maximum}.", key)
    return value


def _thinking(reasoning: Any) -> Optional[Thinking]:
    """`reasoning {effort, summary}` -> adaptive Thinking; effort none/minimal -> no thinking."""
    if reasoning is None:
        return None
    if not isinstance(reasoning, dict):
        raise bad_request("reasoning must be an object.", "reasoning")
    effort = reasoning.get("effort")
    if effort is not None and (not isinstance(effort, str) or (effort not in _EFFORT and effort not in _NO_THINKING)):
        raise bad_request("reasoning.effort must be one of none, minimal, low, medium, high, xhigh, max.",
                          "reasoning.effort")
    if effort in _NO_THINKING:
        return None
    summary = reasoning.get("summary", reasoning.get("generate_summary"))
    if summary is not None and summary not in ("auto", "concise", "detailed", "none"):
        raise bad_request("reasoning.summary must be one of auto, concise, detailed, none.", "reasoning.summary")
    # a reasoning object without an effort means the API default, medium
    return Thinking(mode="adaptive", effort=_EFFORT[effort or "medium"], include=summary != "none")


def _response_format(text: Any) -> Optional[ResponseFormat]:
    """`text.format` -> ResponseFormat (None for plain text); `text.verbosity` is accepted."""
    if text is None:
        return None
    if not isinstance(text, dict):
        raise bad_request("text must be an object.", "text")
    if text.get("verbosity") is not None and text["verbosity"] not in ("low", "medium", "high"):
        raise bad_request("text.verbosity must be one of low, medium, high.", "text.verbosity")
    fmt = text.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise bad_request("text.format must be an object.", "text.format")
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat(type="json_object")
    if kind == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise bad_request("text.format.schema is required and must be a JSON Schema object.",
                              "text.format.schema")
        name = fmt.get("name")
        if name is not None and not isinstance(name, str):
            raise bad_request("text.format.name must be a string.", "text.format.name")
        return ResponseFormat(type="json_schema", schema=schema, name=name)
    raise bad_request("text.format.type must be one of text, json_object, json_schema.", "text.format.type")


def _session_key(body: dict, headers: Optional[Mapping[str, str]]) -> Optional[str]:
    """Conversation identity: `prompt_cache_key`, else Codex's `session-id` header."""
    key = _opt(body, "prompt_cache_key", str)
    if key:
        return key
    for name, value in (headers or {}).items():
        if name.lower() in ("session-id", "session_id") and value:
            return value
    return None
