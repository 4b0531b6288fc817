"""Strict checks of a GenerateAssistantResponse body (docs/kiro-upstream.md §2.2, §2.3, §2.5).

`check_chat` returns a `ChatRequest` or raises `Rejected` carrying the exact §4 error body.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import bodies
from .catalog import window_for
from .config import FakeConfig

TOOL_USE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PROFILE_ARN = re.compile(r"^arn:aws:codewhisperer:[a-z0-9-]+:\d{12}:profile/[A-Za-z0-9]+$")
IMAGE_FORMATS = {"jpeg", "png", "gif", "webp"}
MAX_DESCRIPTION = 10_000
REQUEST_FIELDS = {"thinking": {"type": {"adaptive", "disabled"}, "display": {"summarized", "omitted"}},
                  "output_config": {"effort": {"low", "medium", "high", "max", "xhigh"}}}


class Rejected(Exception):
    """The request fails a rule; carries the HTTP status and exact JSON body to answer with."""

    def __init__(self, status: int, body: dict, rule: str):
        super().__init__(f"{status} {rule}")
        self.status = status
        self.body = body
        self.rule = rule  # which check failed, for the request log and tests


@dataclass
class ChatRequest:
    """The parts of a valid body the reply script and the stream need."""
    body: dict
    model_id: str
    input_tokens: int  # estimate: len(raw body bytes) // 4
    window: int
    content: str  # currentMessage content
    history: list = field(default_factory=list)
    tools: list = field(default_factory=list)  # toolSpecification dicts
    tool_results: list = field(default_factory=list)  # currentMessage toolResults


def _malformed(rule: str) -> Rejected:
    """400 Improperly formed request."""
    return Rejected(400, bodies.IMPROPERLY_FORMED, rule)


def _bad_tool_use(rule: str) -> Rejected:
    """400 Invalid tool use format (REQUEST_BODY_INVALID)."""
    return Rejected(400, bodies.INVALID_TOOL_USE, rule)


def estimate_tokens(raw: bytes) -> int:
    """Input-token estimate the fake uses everywhere: one token per 4 body bytes."""
    return len(raw) // 4


def _dict(value: Any, rule: str) -> dict:
    """`value` if it is an object, else Improperly formed."""
    if not isinstance(value, dict):
        raise _malformed(rule)
    return value


def _list(value: Any, rule: str) -> list:
    """`value` if it is an array (missing = empty), else Improperly formed."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _malformed(rule)
    return value


def _check_tools(tools: list) -> list[dict]:
    """Each tool: name charset/length, non-empty description ≤10000, object schema without nulls."""
    specs = []
    for tool in tools:
        spec = _dict(_dict(tool, "tool must be an object").get("toolSpecification"),
                     "tool.toolSpecification must be an object")
        name = spec.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise _malformed("tool name must match [A-Za-z0-9_-]{1,64}")
        description = spec.get("description")
        if not isinstance(description, str) or not description.strip():
            raise _malformed("tool description must be non-empty")
        if len(description) > MAX_DESCRIPTION:
            raise _malformed("tool description longer than 10000 characters")
        schema = _dict(spec.get("inputSchema"), "tool inputSchema must be an object").get("json")
        _check_schema(_dict(schema, "tool inputSchema.json must be an object"))
        specs.append(spec)
    return specs


def _check_schema(schema: Any) -> None:
    """Reject `null` `required`/`properties` anywhere in a tool schema (the proven 400 trigger)."""
    if isinstance(schema, dict):
        for key in ("required", "properties"):
            if key in schema and schema[key] is None:
                raise _malformed(f"tool schema has null {key}")
        for value in schema.values():
            _check_schema(value)
    elif isinstance(schema, list):
        for value in schema:
            _check_schema(value)


def _check_images(message: dict) -> None:
    """Images: known format and non-empty base64 bytes."""
    for image in _list(message.get("images"), "images must be an array"):
        image = _dict(image, "image must be an object")
        source = _dict(image.get("source"), "image.source must be an object")
        if image.get("format") not in IMAGE_FORMATS or not isinstance(source.get("bytes"), str) \
                or not source["bytes"]:
            raise _malformed("image needs a known format and base64 bytes")


def _user_parts(message: dict, where: str) -> tuple[str, list]:
    """(content, toolResults) of a userInputMessage, checking content and result shapes."""
    content = message.get("content")
    if not isinstance(content, str):
        raise _malformed(f"{where} content must be a string")
    context = message.get("userInputMessageContext") or {}
    results = _list(_dict(context, f"{where} context must be an object").get("toolResults"),
                    f"{where} toolResults must be an array")
    if not content.strip() and not results:
        raise _malformed(f"{where} content must be non-empty")
    seen = set()
    for result in results:
        result = _dict(result, "toolResult must be an object")
        tool_use_id = result.get("toolUseId")
        if not isinstance(tool_use_id, str) or not TOOL_USE_ID.match(tool_use_id):
            raise _bad_tool_use("toolResult toolUseId must match [A-Za-z0-9_-]{1,64}")
        if tool_use_id in seen:
            raise _malformed("duplicate toolUseId in toolResults")
        seen.add(tool_use_id)
        _list(result.get("content"), "toolResult content must be an array")
        if result.get("status", "success") not in ("success", "error"):
            raise _malformed("toolResult status must be success or error")
    _check_images(message)
    return content, results


def _assistant_uses(message: dict, where: str, config: FakeConfig) -> list:
    """toolUses of an assistantResponseMessage, checking content, ids and input objects."""
    content = message.get("content", "")
    if not isinstance(content, str):
        raise _malformed(f"{where} content must be a string")
    if "toolUses" in message and message["toolUses"] == [] and config.reject_empty_tool_uses:
        raise _malformed("empty toolUses array")
    uses = _list(message.get("toolUses"), f"{where} toolUses must be an array")
    if not content.strip() and not uses:
        raise _malformed(f"{where} content must be non-empty")
    for use in uses:
        use = _dict(use, "toolUse must be an object")
        tool_use_id = use.get("toolUseId")
        if not isinstance(tool_use_id, str) or not TOOL_USE_ID.match(tool_use_id):
            raise _bad_tool_use("toolUse toolUseId must match [A-Za-z0-9_-]{1,64}")
        if not isinstance(use.get("name"), str) or not use["name"]:
            raise _bad_tool_use("toolUse needs a name")
        if not isinstance(use.get("input"), dict):
            raise _malformed("toolUse input must be an object")
    return uses


def _check_history(history: list, current_results: list, tools: list, config: FakeConfig) -> None:
    """Alternation, start/end roles, tool pairing in both directions, declared tool names."""
    turns: list[tuple[str, list]] = []  # (role, toolUses or toolResults)
    for index, item in enumerate(history):
        item = _dict(item, "history entry must be an object")
        roles = [k for k in ("userInputMessage", "assistantResponseMessage") if k in item]
        if len(roles) != 1:
            raise _malformed("history entry needs exactly one of userInputMessage/assistantResponseMessage")
        message = _dict(item[roles[0]], f"history[{index}] message must be an object")
        if roles[0] == "userInputMessage":
            turns.append(("user", _user_parts(message, f"history[{index}]")[1]))
        else:
            turns.append(("assistant", _assistant_uses(message, f"history[{index}]", config)))
    if turns and turns[0][0] != "user":
        raise _malformed("history must start with a user message")
    for before, after in zip(turns, turns[1:]):
        if before[0] == after[0]:
            raise _malformed("history roles must alternate")
    if turns and turns[-1][0] != "assistant":
        raise _malformed("history must end with an assistant message")
    turns.append(("user", current_results))
    all_ids: set = set()
    any_tool_content = False
    for index, (role, items) in enumerate(turns):
        if role == "assistant":
            ids = [use["toolUseId"] for use in items]
            if len(set(ids)) != len(ids) or all_ids & set(ids):
                raise _malformed("duplicate toolUseId in toolUses")
            all_ids.update(ids)
            answered = {r["toolUseId"] for r in turns[index + 1][1]}
            if set(ids) != answered:
                raise _malformed("toolUses and the next toolResults do not pair up")
        elif items:
            previous = turns[index - 1] if index else ("user", [])
            if previous[0] != "assistant" or not previous[1]:
                raise _malformed("toolResults without a preceding toolUses turn")
        any_tool_content = any_tool_content or bool(items)
    if any_tool_content and not tools:
        raise _malformed("toolUses/toolResults without any tools declared")
    declared = {spec["name"].lower() for spec in tools}
    for role, items in turns:
        if role == "assistant":
            for use in items:
                if use["name"].lower() not in declared:
                    raise _bad_tool_use(f"tool {use['name']!r} used in history is not declared")


def _check_request_fields(fields: Any) -> None:
    """additionalModelRequestFields: known keys and enum values only (§2.5)."""
    fields = _dict(fields, "additionalModelRequestFields must be an object")
    for key, value in fields.items():
        if key not in REQUEST_FIELDS and key != "max_tokens":
            raise Rejected(400, {"message": f"Invalid additionalModelRequestFields: property '{key}' "
                                            "is not defined in the schema", "reason": None},
                           "unknown additionalModelRequestFields key")
        if key == "max_tokens":
            if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 64000:
                raise _malformed("max_tokens must be an integer 1024..64000")
            continue
        for sub, sub_value in _dict(value, f"{key} must be an object").items():
            allowed = REQUEST_FIELDS[key].get(sub)
            if allowed is None or sub_value not in allowed:
                raise _malformed(f"invalid {key}.{sub}")


def check_chat(raw: bytes, config: FakeConfig) -> ChatRequest:
    """Validate a raw GenerateAssistantResponse body; the first failing rule wins."""
    if len(raw) > config.max_body_bytes:
        raise _malformed("body larger than max_body_bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _malformed("body is not JSON") from e
    body = _dict(body, "body must be a JSON object")
    state = _dict(body.get("conversationState"), "conversationState must be an object")
    if config.require_profile_arn and not body.get("profileArn"):
        raise Rejected(400, bodies.PROFILE_ARN_REQUIRED, "profileArn missing")
    if "profileArn" in body and not (isinstance(body["profileArn"], str)
                                     and PROFILE_ARN.match(body["profileArn"])):
        raise _malformed("profileArn is not a codewhisperer profile ARN")
    if state.get("chatTriggerType") != "MANUAL":
        raise _malformed("chatTriggerType must be MANUAL")
    if not isinstance(state.get("conversationId"), str) or not state["conversationId"].strip():
        raise _malformed("conversationId must be a non-empty string")
    current = _dict(_dict(state.get("currentMessage"), "currentMessage must be an object")
                    .get("userInputMessage"), "currentMessage.userInputMessage must be an object")
    content, results = _user_parts(current, "currentMessage")
    context = current.get("userInputMessageContext") or {}
    tools = _check_tools(_list(context.get("tools"), "tools must be an array"))
    history = _list(state.get("history"), "history must be an array")
    _check_history(history, results, tools, config)
    if "additionalModelRequestFields" in body:
        _check_request_fields(body["additionalModelRequestFields"])
    model_id = current.get("modelId")
    if not isinstance(model_id, str) or model_id not in config.models:
        raise Rejected(400, bodies.INVALID_MODEL, "unknown modelId")
    tokens = estimate_tokens(raw)
    if tokens > config.input_limit_tokens:
        raise Rejected(400, bodies.INPUT_TOO_LONG, "estimated input tokens over input_limit_tokens")
    return ChatRequest(body=body, model_id=model_id, input_tokens=tokens, window=window_for(model_id),
                       content=content, history=history, tools=tools, tool_results=results)
