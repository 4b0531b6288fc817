"""Anthropic Messages request JSON -> `Chat` (pure). Covers what Claude Code and the SDK send.

Accepted and ignored: `cache_control` anywhere, `top_k`, `context_management`, `service_tier`,
`container`, `mcp_servers`, `anthropic-beta` flags, and unknown keys on tools and blocks.
Refused with a 400 naming the field: wrong types, unknown roles or block types, URL images,
PDF documents, and Anthropic-defined tools other than web search (bash_*, text_editor_*,
code_execution_*, web_fetch_*, ...): those need Anthropic's servers or a schema the client
did not send, and silently dropping them would leave the model unable to do what the client
expects. Web search tools become `chat.web_search`, never a `Tool`.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional

from proxy.chat import Chat, ResponseFormat, Thinking, Tool, ToolChoice, WebSearch

from .content import parse_messages, text_blocks
from .fields import (as_bool, as_dict, as_int, as_list, as_number, as_str, expected, fail,
                     required, tag_error)

SESSION_HEADER = "x-claude-code-session-id"
THINKING_TYPES = ("enabled", "adaptive", "disabled", "between_tools")
DISPLAYS = ("summarized", "omitted")
TOOL_CHOICES = ("auto", "any", "tool", "none")
# older Claude Code: "user_<hash>_account_<uuid>_session_<uuid>"
_LEGACY_SESSION = re.compile(r"_session_([0-9a-fA-F-]{36})$")


def parse_messages_request(body: Any, headers: Mapping[str, str]) -> Chat:
    """A POST /v1/messages body (and its headers, for the session id) as a `Chat`."""
    return _parse(body, headers, count_only=False)


def parse_count_tokens_request(body: Any) -> Chat:
    """A POST /v1/messages/count_tokens body as a `Chat`; `max_tokens` is optional there."""
    return _parse(body, {}, count_only=True)


def _parse(body: Any, headers: Mapping[str, str], count_only: bool) -> Chat:
    """The shared parse; count_tokens differs only in what it requires."""
    if not isinstance(body, dict):
        raise fail("body", "Input should be a valid dictionary (a JSON object)")
    model = as_str(required(body, "model", "model"), "model")
    if not model:
        raise fail("model", "String should have at least 1 character")
    raw_max = body.get("max_tokens")
    if raw_max is None and not count_only:
        raise fail("max_tokens", "Field required")
    max_tokens = None if raw_max is None else as_int(raw_max, "max_tokens", minimum=1)
    tools, web_search = _tools(body.get("tools"))
    output_config = _or_default(body, "output_config", {})
    as_dict(output_config, "output_config")
    return Chat(
        model=model,
        messages=parse_messages(body.get("messages")),
        system="\n\n".join(text_blocks(_or_default(body, "system", ""), "system")),
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice")),
        max_tokens=max_tokens,
        temperature=_unit(body, "temperature"),
        top_p=_unit(body, "top_p"),
        stop_sequences=_stop_sequences(body.get("stop_sequences")),
        stream=False if count_only else as_bool(_or_default(body, "stream", False), "stream"),
        thinking=_thinking(body.get("thinking"), output_config),
        response_format=_response_format(body, output_config),
        web_search=web_search,
        session_key=_session_key(body.get("metadata"), headers),
    )


def _or_default(body: dict, key: str, default: Any) -> Any:
    """body[key], or `default` when it is absent or null (clients send both)."""
    value = body.get(key)
    return default if value is None else value


def _unit(body: dict, key: str) -> Optional[float]:
    """temperature / top_p: a number in [0, 1] or absent."""
    value = body.get(key)
    return None if value is None else as_number(value, key, 0.0, 1.0)


def _stop_sequences(raw: Any) -> list[str]:
    """The client's stop strings; empty ones are dropped since they could never match."""
    if raw is None:
        return []
    return [s for i, s in enumerate(as_list(raw, "stop_sequences"))
            if as_str(s, f"stop_sequences.{i}")]


def _tools(raw: Any) -> tuple[list[Tool], Optional[WebSearch]]:
    """Custom tools, and the web search server tool if the client offered one."""
    if raw is None:
        return [], None
    tools: list[Tool] = []
    web_search: Optional[WebSearch] = None
    for i, item in enumerate(as_list(raw, "tools")):
        path = f"tools.{i}"
        tool = as_dict(item, path)
        kind = tool.get("type")
        if kind is not None and kind != "custom":
            kind = as_str(kind, f"{path}.type")
            if not kind.startswith("web_search_"):
                raise fail(f"{path}.type", f"the Anthropic-defined tool '{kind}' is not supported "
                                           "by this proxy (only web_search is); define it as a "
                                           "custom tool with an input_schema instead")
            max_uses = tool.get("max_uses")
            web_search = WebSearch(
                tool_name=as_str(tool.get("name") or "web_search", f"{path}.name"),
                max_uses=None if max_uses is None else as_int(max_uses, f"{path}.max_uses", 1))
            continue
        name = as_str(required(tool, "name", f"{path}.name"), f"{path}.name")
        if not name:
            raise fail(f"{path}.name", "String should have at least 1 character")
        tools.append(Tool(
            name=name,
            description=as_str(tool.get("description") or "", f"{path}.description"),
            schema=as_dict(required(tool, "input_schema", f"{path}.input_schema"),
                           f"{path}.input_schema")))
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise fail("tools", "Tool names must be unique.")
    return tools, web_search


def _tool_choice(raw: Any) -> ToolChoice:
    """auto / any / tool(name) / none; `disable_parallel_tool_use` is accepted and ignored."""
    if raw is None:
        return ToolChoice()
    choice = as_dict(raw, "tool_choice")
    mode = required(choice, "type", "tool_choice.type")
    if mode not in TOOL_CHOICES:
        raise tag_error("tool_choice.type", mode, TOOL_CHOICES)
    if mode == "tool":
        name = as_str(required(choice, "name", "tool_choice.name"), "tool_choice.name")
        return ToolChoice(mode="tool", name=name)
    return ToolChoice(mode=mode)


def _thinking(raw: Any, output_config: dict) -> Optional[Thinking]:
    """`thinking` plus `output_config.effort`. `between_tools` is treated as adaptive (closest)."""
    if raw is None:
        return None
    config = as_dict(raw, "thinking")
    mode = required(config, "type", "thinking.type")
    if mode not in THINKING_TYPES:
        raise tag_error("thinking.type", mode, THINKING_TYPES)
    if mode == "disabled":
        return None
    display = config.get("display")
    if display is not None and display not in DISPLAYS:
        raise fail("thinking.display", f"Input should be {expected(DISPLAYS)}")
    effort = output_config.get("effort")
    effort = None if effort is None else as_str(effort, "output_config.effort").lower()
    if mode == "enabled":
        budget = as_int(required(config, "budget_tokens", "thinking.budget_tokens"),
                        "thinking.budget_tokens", minimum=1)
        return Thinking(mode="enabled", budget_tokens=budget, effort=effort,
                        include=display != "omitted")
    return Thinking(mode="adaptive", effort=effort, include=display != "omitted")


def _response_format(body: dict, output_config: dict) -> Optional[ResponseFormat]:
    """Structured output: `output_config.format` or the older top-level `output_format`."""
    raw, path = output_config.get("format"), "output_config.format"
    if raw is None:
        raw, path = body.get("output_format"), "output_format"
    if raw is None:
        return None
    config = as_dict(raw, path)
    kind = required(config, "type", f"{path}.type")
    if kind != "json_schema":
        raise tag_error(f"{path}.type", kind, ("json_schema",))
    schema = as_dict(required(config, "schema", f"{path}.schema"), f"{path}.schema")
    return ResponseFormat(type="json_schema", schema=schema)


def _session_key(metadata: Any, headers: Mapping[str, str]) -> Optional[str]:
    """Conversation identity: Claude Code's session header, else the session inside
    `metadata.user_id` (a JSON string, or the older `_session_<uuid>` form), else the raw user_id."""
    for name, value in headers.items():
        if name.lower() == SESSION_HEADER and isinstance(value, str) and value.strip():
            return value.strip()
    if metadata is None:
        return None
    user_id = as_dict(metadata, "metadata").get("user_id")
    if user_id is None:
        return None
    user_id = as_str(user_id, "metadata.user_id")
    if user_id.lstrip().startswith("{"):
        try:
            decoded = json.loads(user_id)
        except ValueError:
            decoded = None  # not JSON after all: the raw string is still a usable identity
        if isinstance(decoded, dict) and isinstance(decoded.get("session_id"), str) \
                and decoded["session_id"]:
            return decoded["session_id"]
    legacy = _LEGACY_SESSION.search(user_id)
    if legacy:
        return legacy.group(1)
    return user_id or None
