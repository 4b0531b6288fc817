"""A `Chat` as the body of Kiro's GenerateAssistantResponse (kiro-upstream §2).

Kiro answers a body it dislikes with an opaque `400 Improperly formed request`, so every
rule of §2.2/§2.3 is applied here: turn shape and tool pairing (`turns.py`), tool names and
ids (`naming.py`), input schemas (`schema.py`), descriptions, empty keys and body size.
Kiro has no system, thinking, tool-choice or response-format fields: those become prompt
text. Pure: no I/O; the only non-determinism is a fresh `agentContinuationId`.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Optional

from json.encoder import encode_basestring as json_string  # the escaper json.dumps(ensure_ascii=False) uses

from proxy.chat import Chat, ImagePart, Thinking, ToolChoice, ToolResultPart
from proxy.errors import ErrorKind, ProxyError, bad_request
from proxy.kiro.naming import hashed_name, safe_name
from proxy.kiro.schema import EMPTY_OBJECT_SCHEMA, clean_schema
from proxy.kiro.turns import (EMPTY_TOOL_RESULT_TEXT, IMAGE_FORMATS, PART_SEPARATOR,
                              AssistantTurn, UserTurn, shape_turns)

MAX_BODY_BYTES = 600_000  # Kiro rejects bodies over ~615 KB as "Improperly formed" (§2.3)

# Ids of typical length for a body built before the account is known (history measures its size):
# `for_account` turns such a body into the one `build_request` makes for an account.
MEASURING_ARN = "arn:aws:codewhisperer:us-east-1:000000000000:profile/MEASURING000"
MEASURING_ID = "00000000-0000-4000-8000-000000000000"
MAX_TOOL_DESCRIPTION = 10_000  # Kiro's description cap (§2.3); over it -> 400
TRUNCATION_MARK = "..."  # ends a cut description so the model knows text is missing

# Thinking prompt tags (§2.5 mechanism 1); clamps as AIClient/petehsu use them.
THINKING_BUDGET_DEFAULT = 20_000
THINKING_BUDGET_MIN = 1_024
THINKING_BUDGET_MAX = 24_576
THINKING_EFFORT_DEFAULT = "high"
THINKING_EFFORTS = ("low", "medium", "high")  # the tag takes these; max/xhigh become high

# Claude Code puts this line first in its system prompt; it must stay first (§2.4).
BILLING_HEADER_PREFIX = "x-anthropic-billing-header:"

# The fake Kiro finds the schema by this exact text: keep it byte-exact.
RESPONSE_FORMAT_HEAD = ("\n\n<response_format>\nAnswer with one JSON object only, no prose and "
                        "no code fence. It must validate against this JSON Schema:\n")
RESPONSE_FORMAT_TAIL = "\n</response_format>"
JSON_OBJECT_SCHEMA = {"type": "object"}

# Kiro has no tool_choice field; the choice becomes an instruction in the current message.
TOOL_CHOICE_NONE = "Do not call any tools in this reply; answer with text only."
TOOL_CHOICE_ANY = "You must call at least one of the available tools in this reply."
TOOL_CHOICE_TOOL = "You must call the tool `{name}` in this reply."
TOOL_CHOICE_BLOCK = "\n\n<tool_choice>\n{instruction}\n</tool_choice>"

EMPTY_TOOL_DESCRIPTION = "No description provided."  # Kiro rejects empty descriptions
# Spec for a tool that history calls but the client no longer declares (§2.2-7, kiro.rs).
HISTORY_TOOL_DESCRIPTION = "Tool used in conversation history."

# Kiro's chat has no search tool; the proxy declares one and serves calls via MCP (§2.7).
WEB_SEARCH_TOOL = "web_search"
WEB_SEARCH_DESCRIPTION = ("Search the web for current information. Returns a list of results, "
                          "each with a title, url and snippet.")
WEB_SEARCH_SCHEMA = {"type": "object",
                     "properties": {"query": {"type": "string",
                                              "description": "The search query."}},
                     "required": ["query"]}


@dataclass
class BuiltRequest:
    """The Kiro body and what the response side needs to read the answer."""
    payload: dict
    tool_names: dict = field(default_factory=dict)  # Kiro tool name -> client tool name
    body: bytes = b""  # the exact bytes to send
    thinking_tags: bool = False  # thinking tags were sent: split <thinking> out of the text
    web_search_tool: Optional[str] = None  # Kiro name of the proxy's search tool, if declared


def build_request(chat: Chat, *, model_id: str, profile_arn: Optional[str],
                  conversation_id: str, max_body_bytes: int = MAX_BODY_BYTES,
                  max_tool_description: int = MAX_TOOL_DESCRIPTION, origin: str = "AI_EDITOR",
                  continuation_id: Optional[str] = None) -> BuiltRequest:
    """The Kiro request for `chat`; ProxyError CONTEXT_TOO_LONG when the body is too big."""
    turns = shape_turns(chat.messages)
    tools = _ToolTable(chat, max_tool_description)
    tags = thinking_tags(chat.thinking)
    prefix = prompt_prefix(chat.system, tags)

    history: list[dict] = []
    for index, turn in enumerate(turns[:-1]):
        if isinstance(turn, AssistantTurn):
            history.append(_assistant_message(turn, tools))
        else:
            content = _join_prefix(prefix, turn.text) if index == 0 else turn.text
            history.append(_user_message(turn, content, model_id, origin))
    current_turn = turns[-1]
    assert isinstance(current_turn, UserTurn)
    # after history: its placeholder specs count as tools for the tool-choice instruction
    suffix = _tool_choice_text(chat.tool_choice or ToolChoice(), tools) + \
        response_format_text(chat)
    content = current_turn.text if history else _join_prefix(prefix, current_turn.text)
    current = _user_message(current_turn, content + suffix, model_id, origin, tools.specs)

    state: dict = {"chatTriggerType": "MANUAL", "conversationId": conversation_id,
                   "agentContinuationId": continuation_id or str(uuid.uuid4()),
                   "agentTaskType": "vibe", "currentMessage": current}
    if history:
        state["history"] = history  # empty arrays are omitted (§2.2-6)
    payload: dict = {"conversationState": state}
    if profile_arn:
        payload["profileArn"] = profile_arn
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    _check_size(body, max_body_bytes)
    return BuiltRequest(payload=payload, tool_names=dict(tools.names), body=body,
                        thinking_tags=bool(tags), web_search_tool=tools.web_search)


def _check_size(body: bytes, max_body_bytes: int) -> None:
    if len(body) > max_body_bytes:
        raise ProxyError(ErrorKind.CONTEXT_TOO_LONG,
                         f"prompt is too long: the request is {len(body)} bytes and Kiro accepts "
                         f"at most {max_body_bytes}; shorten the conversation or its tool output.",
                         code="BODY_TOO_LARGE")


# A body's ids sit at its two ends: dumps keeps the payload's key order (conversationState first,
# its chatTriggerType, conversationId, agentContinuationId first in it; profileArn last).
_HEAD = '{"conversationState":{"chatTriggerType":"MANUAL","conversationId":%s,"agentContinuationId":%s,'
_ARN_TAIL = ',"profileArn":%s}'
_MEASURED_HEAD = (_HEAD % (json_string(MEASURING_ID), json_string(MEASURING_ID))).encode("utf-8")
_MEASURED_TAIL = (_ARN_TAIL % json_string(MEASURING_ARN)).encode("utf-8")


def for_account(measured: BuiltRequest, *, profile_arn: Optional[str], conversation_id: str,
                max_body_bytes: int = MAX_BODY_BYTES, continuation_id: Optional[str] = None) -> Optional[BuiltRequest]:
    """What `build_request` gives for the same chat and settings with these ids, made from a build
    with the measuring ids (`MEASURING_ID` for both ids, `MEASURING_ARN`) by replacing the ids at
    the body's ends instead of building and dumping it all again. None when `measured` was not
    built so. Raises the same ProxyError as build_request when the body is over `max_body_bytes`."""
    body = measured.body
    if not (body.startswith(_MEASURED_HEAD) and body.endswith(_MEASURED_TAIL)):
        return None
    continuation = continuation_id or str(uuid.uuid4())
    head = (_HEAD % (json_string(conversation_id), json_string(continuation))).encode("utf-8")
    tail = (_ARN_TAIL % json_string(profile_arn)).encode("utf-8") if profile_arn else b"}"
    body = b"".join((head, body[len(_MEASURED_HEAD):len(body) - len(_MEASURED_TAIL)], tail))
    _check_size(body, max_body_bytes)
    payload: dict = {"conversationState": {**measured.payload["conversationState"], "conversationId": conversation_id,
                                           "agentContinuationId": continuation}}
    if profile_arn:
        payload["profileArn"] = profile_arn
    return BuiltRequest(payload=payload, tool_names=dict(measured.tool_names), body=body,
                        thinking_tags=measured.thinking_tags, web_search_tool=measured.web_search_tool)


def thinking_tags(thinking: Optional[Thinking]) -> str:
    """The §2.5 prompt tags asking for visible reasoning; "" when none should be shown."""
    if thinking is None or not thinking.include:
        return ""
    if thinking.mode == "adaptive":
        effort = (thinking.effort or THINKING_EFFORT_DEFAULT).lower()
        if effort not in THINKING_EFFORTS:
            effort = "high"  # max / xhigh: the strongest the tag knows
        return f"<thinking_mode>adaptive</thinking_mode><thinking_effort>{effort}</thinking_effort>"
    budget = thinking.budget_tokens or THINKING_BUDGET_DEFAULT
    budget = min(max(budget, THINKING_BUDGET_MIN), THINKING_BUDGET_MAX)
    return (f"<thinking_mode>enabled</thinking_mode>"
            f"<max_thinking_length>{budget}</max_thinking_length>")


def prompt_prefix(system: str, tags: str) -> str:
    """What goes before the first user turn: billing header, thinking tags, `<system>` block."""
    header, rest = "", system or ""
    if rest.startswith(BILLING_HEADER_PREFIX):
        header, _, rest = rest.partition("\n")
    block = f"<system>\n{rest.strip()}\n</system>" if rest.strip() else ""
    return "\n".join(p for p in (header, tags, block) if p)


def response_format_text(chat: Chat) -> str:
    """The structured-output instruction appended to the current message, or ""."""
    fmt = chat.response_format
    if fmt is None:
        return ""
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else JSON_OBJECT_SCHEMA
    return (RESPONSE_FORMAT_HEAD + json.dumps(schema, ensure_ascii=False, sort_keys=True)
            + RESPONSE_FORMAT_TAIL)


def _join_prefix(prefix: str, text: str) -> str:
    """The first user turn's content with the prompt prefix in front."""
    return f"{prefix}{PART_SEPARATOR}{text}" if prefix else text


def _tool_choice_text(choice: ToolChoice, tools: "_ToolTable") -> str:
    """The tool-choice instruction for the current message, or "" when there is nothing to say."""
    if choice.mode == "auto" or not tools.specs:
        return ""
    if choice.mode == "none":
        instruction = TOOL_CHOICE_NONE
    elif choice.mode == "any":
        instruction = TOOL_CHOICE_ANY
    else:
        instruction = TOOL_CHOICE_TOOL.format(name=tools.choice_name(choice.name or ""))
    return TOOL_CHOICE_BLOCK.format(instruction=instruction)


def _user_message(turn: UserTurn, content: str, model_id: str, origin: str,
                  specs: Optional[list] = None) -> dict:
    """A `userInputMessage`; images, tools and results only when there are some."""
    message: dict = {"content": content, "modelId": model_id, "origin": origin}
    if turn.images:
        message["images"] = [_image(p) for p in turn.images]
    context: dict = {}
    if specs:
        context["tools"] = specs
    if turn.results:
        context["toolResults"] = [_result(r) for r in turn.results]
    if context:
        message["userInputMessageContext"] = context
    return {"userInputMessage": message}


def _assistant_message(turn: AssistantTurn, tools: "_ToolTable") -> dict:
    """An `assistantResponseMessage`; `toolUses` only when there are calls."""
    message: dict = {"content": turn.content()}
    if turn.calls:
        message["toolUses"] = [{"toolUseId": c.id, "name": tools.use(c.name), "input": c.arguments}
                               for c in turn.calls]
    return {"assistantResponseMessage": message}


def _image(part: ImagePart) -> dict:
    """An image as Kiro takes it: format word and bare base64."""
    data = part.data
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]  # tolerate a data URL where bare base64 was promised
    return {"format": IMAGE_FORMATS[part.media_type.lower()], "source": {"bytes": data}}


def _result(result: ToolResultPart) -> dict:
    """A toolResults entry; Kiro wants non-empty text."""
    return {"toolUseId": result.call_id,
            "content": [{"text": result.content if result.content.strip() else EMPTY_TOOL_RESULT_TEXT}],
            "status": "error" if result.is_error else "success"}


class _ToolTable:
    """The tool specs for `currentMessage` and the Kiro name <-> client name mapping."""

    def __init__(self, chat: Chat, max_description: int):
        self.specs: list[dict] = []
        self.names: dict[str, str] = {}  # Kiro name -> client name
        self.web_search: Optional[str] = None
        self._search_client_name: Optional[str] = None  # what the client calls the search tool
        self._kiro: dict[str, str] = {}  # client name -> Kiro name
        self._declared: set[str] = set()  # lower-case: Kiro matches history names so (§2.2-7)
        self._reserved = {WEB_SEARCH_TOOL} if chat.web_search else set()
        self._max_description = max_description
        for tool in chat.tools:
            name = self._name(tool.name)
            if name.lower() not in self._declared:  # a repeated declaration is sent once
                self._declare(name, tool.name, tool.description, clean_schema(tool.schema))
        if chat.web_search:
            self.web_search = WEB_SEARCH_TOOL
            self._search_client_name = chat.web_search.tool_name
            self._add_spec(WEB_SEARCH_TOOL, WEB_SEARCH_DESCRIPTION, WEB_SEARCH_SCHEMA)

    def use(self, client_name: str) -> str:
        """The Kiro name for a tool called in history, declaring a placeholder if needed."""
        name = self._name(client_name)
        if name.lower() not in self._declared:
            self._declare(name, client_name, HISTORY_TOOL_DESCRIPTION,
                          dict(EMPTY_OBJECT_SCHEMA, properties={}))
        return name

    def choice_name(self, client_name: str) -> str:
        """The Kiro name of the tool `tool_choice` forces; it must be one the client declared."""
        if self.web_search and client_name == self._search_client_name:
            return self.web_search
        name = self._kiro.get(client_name)
        if name is None:
            raise bad_request(f"tool_choice names the tool {client_name!r}, which is not among "
                              f"the declared tools.", param="tool_choice")
        return name

    def _name(self, client_name: str) -> str:
        """The Kiro-safe name for a client tool name, kept out of the proxy's reserved names."""
        if client_name not in self._kiro:
            name = safe_name(client_name)
            if name.lower() in self._reserved:
                name = hashed_name(client_name)
            self._kiro[client_name] = name
        return self._kiro[client_name]

    def _declare(self, name: str, client_name: str, description: str, schema: dict) -> None:
        """Add a client tool's spec and remember how to map its name back."""
        self.names[name] = client_name
        self._add_spec(name, description, schema)

    def _add_spec(self, name: str, description: str, schema: dict) -> None:
        """Append one `toolSpecification` with a description Kiro accepts."""
        self._declared.add(name.lower())
        self.specs.append({"toolSpecification": {
            "name": name, "description": self._description(description),
            "inputSchema": {"json": schema}}})

    def _description(self, text: str) -> str:
        """Non-empty and within Kiro's length cap."""
        if not (text or "").strip():
            return EMPTY_TOOL_DESCRIPTION
        if len(text) > self._max_description:
            return text[: self._max_description - len(TRUNCATION_MARK)] + TRUNCATION_MARK
        return text
