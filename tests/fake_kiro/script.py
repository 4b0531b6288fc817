"""Scripted replies: what the fake "model" answers, chosen from directives in the request.

Precedence (first match wins):
1. currentMessage carries toolResults -> `TOOL_RESULT_SEEN: <first result text, trimmed>`
   (or the JSON object when a `<response_format>` block is present too).
2. `RUN_TOOL: <cmd>` in the current content and a shell-like tool declared -> call it.
3. `APPLY_PATCH: <path> <text>` and an `apply_patch` tool declared -> add-file patch.
4. `WEB_SEARCH: <query>` and a `web_search` tool declared -> call it.
5. A `<response_format>` block anywhere in the user turns -> minimal JSON fitting the schema.
6. Otherwise the hello text.
Orthogonally, `<thinking_mode>enabled|adaptive</thinking_mode>` in the prompt adds a
`<thinking>…</thinking>\n\n` text prefix, and native adaptive thinking adds reasoning frames.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

from .schema_fit import example_for, fit_object
from .validation import ChatRequest

THINKING_TEXT = "The user sent a request; I will answer it briefly."
REASONING_TEXT = "Considering the request before answering."
RUN_TOOL = re.compile(r"RUN_TOOL:[ \t]*(\S[^\r\n]*)")
APPLY_PATCH = re.compile(r"APPLY_PATCH:[ \t]*(\S+)[ \t]+([^\r\n]*)")
WEB_SEARCH = re.compile(r"WEB_SEARCH:[ \t]*(\S[^\r\n]*)")
THINKING_MODE = re.compile(r"<thinking_mode>\s*(enabled|adaptive)\s*</thinking_mode>")
RESPONSE_FORMAT = re.compile(
    r"<response_format>\nAnswer with one JSON object only, no prose and no code fence\. "
    r"It must validate against this JSON Schema:\n(.*?)\n</response_format>", re.DOTALL)
# Shell tools by preference; each maps to the property that carries the command.
SHELL_TOOLS = ("bash", "exec_command", "shell", "local_shell", "run_shell_command", "exec")


@dataclass
class ToolCall:
    """One tool call the reply makes."""
    name: str
    input: dict


@dataclass
class ReplyPlan:
    """What to stream: optional reasoning, visible text, tool calls."""
    text: str
    tool_calls: list = field(default_factory=list)
    reasoning: Optional[str] = None  # native reasoningContentEvent text
    directive: str = "hello"  # which rule chose the reply (for tests and the request log)


def _user_contents(chat: ChatRequest) -> list[str]:
    """Every user turn's content, oldest first, current last."""
    out = [item["userInputMessage"].get("content", "") for item in chat.history
           if isinstance(item, dict) and "userInputMessage" in item]
    return out + [chat.content]


def response_schema(chat: ChatRequest) -> Optional[dict]:
    """The JSON Schema of the last `<response_format>` block in the user turns, if any."""
    for content in reversed(_user_contents(chat)):
        matches = RESPONSE_FORMAT.findall(content)
        for text in reversed(matches):
            try:
                schema = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(schema, dict):
                return schema
    return None


def wants_thinking_tags(chat: ChatRequest) -> bool:
    """True when the prompt turns on tag-based thinking (§2.5 mechanism 1)."""
    return any(THINKING_MODE.search(content) for content in _user_contents(chat))


def wants_native_reasoning(chat: ChatRequest) -> bool:
    """True when additionalModelRequestFields asks for adaptive thinking (root or on the message)."""
    current = chat.body["conversationState"]["currentMessage"]["userInputMessage"]
    for fields in (chat.body.get("additionalModelRequestFields"), current.get("additionalModelRequestFields")):
        if isinstance(fields, dict) and isinstance(fields.get("thinking"), dict) \
                and fields["thinking"].get("type") == "adaptive":
            return True
    return False


def _result_text(result: dict) -> str:
    """The first text (or JSON) item of a toolResult, trimmed."""
    for item in result.get("content") or []:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            return item["text"].strip()
        if isinstance(item, dict) and "json" in item:
            return json.dumps(item["json"], separators=(",", ":"))
    return ""


def _tool(chat: ChatRequest, name: str) -> Optional[dict]:
    """The declared toolSpecification with this name (case-insensitive)."""
    return next((spec for spec in chat.tools if spec["name"].lower() == name), None)


def _base_name(spec: dict) -> str:
    """A tool's own name, lower-case, without a `<namespace>__` prefix a proxy adds when it flattens
    namespaced tools (Codex code mode's `exec` lives in the `functions` namespace)."""
    return spec["name"].lower().rpartition("__")[2]


def _schema(spec: dict) -> dict:
    """A tool's input JSON Schema."""
    return spec.get("inputSchema", {}).get("json") or {}


def _last(pattern: re.Pattern, text: str) -> Optional[re.Match]:
    """The last match of a directive in the text (the user's words come after any system text)."""
    matches = list(pattern.finditer(text))
    return matches[-1] if matches else None


def shell_call(spec: dict, cmd: str) -> ToolCall:
    """A call of a shell-like tool with `cmd`, fitted to the tool's schema."""
    schema = _schema(spec)
    props = schema.get("properties") or {}
    is_input_only = set(props) == {"input"} and str(props["input"].get("type", "string")).lower() == "string"
    if is_input_only and _base_name(spec) == "exec":
        script = f"const r = await tools.exec_command({{cmd: {json.dumps(cmd)}}}); text(r);"
        return ToolCall(spec["name"], fit_object(schema, {"input": script}))
    key = next((k for k in ("command", "cmd") if k in props), "input" if "input" in props else "command")
    prop_type = str(props.get(key, {}).get("type", "string")).lower()
    value: object = ["bash", "-lc", cmd] if prop_type == "array" else cmd
    given: dict = {key: value}
    if "description" in (schema.get("required") or []):
        given["description"] = "Run the requested shell command"
    return ToolCall(spec["name"], fit_object(schema, given))


def _shell_tool(chat: ChatRequest) -> Optional[dict]:
    """The preferred declared shell-like tool; per name, an exact match wins over a namespaced one."""
    for name in SHELL_TOOLS:
        spec = _tool(chat, name) or next((s for s in chat.tools if _base_name(s) == name), None)
        if spec is not None:
            return spec
    return None


def patch_call(spec: dict, path: str, text: str) -> ToolCall:
    """A Codex apply_patch call adding `path` with one line."""
    patch = f"*** Begin Patch\n*** Add File: {path}\n+{text}\n*** End Patch"
    return ToolCall(spec["name"], fit_object(_schema(spec), {"input": patch}))


def search_call(spec: dict, query: str) -> ToolCall:
    """A web_search call with the query."""
    return ToolCall(spec["name"], fit_object(_schema(spec), {"query": query}))


def plan_reply(chat: ChatRequest, hello_text: str) -> ReplyPlan:
    """Choose the reply for a validated request (see the module docstring for precedence)."""
    plan = _choose(chat, hello_text)
    if wants_thinking_tags(chat):
        plan.text = f"<thinking>{THINKING_TEXT}</thinking>\n\n{plan.text}"
    if wants_native_reasoning(chat):
        plan.reasoning = REASONING_TEXT
    return plan


def _choose(chat: ChatRequest, hello_text: str) -> ReplyPlan:
    """The directive-driven part of plan_reply."""
    schema = response_schema(chat)
    if chat.tool_results:
        if schema is not None:
            return ReplyPlan(json.dumps(example_for(schema)), directive="response_format")
        return ReplyPlan(f"TOOL_RESULT_SEEN: {_result_text(chat.tool_results[0])}", directive="tool_result")
    match = _last(RUN_TOOL, chat.content)
    shell = _shell_tool(chat)
    if match and shell is not None:
        return ReplyPlan("Running the command.", [shell_call(shell, match.group(1).strip())],
                         directive="run_tool")
    match = _last(APPLY_PATCH, chat.content)
    if match and _tool(chat, "apply_patch") is not None:
        return ReplyPlan("Applying the patch.",
                         [patch_call(_tool(chat, "apply_patch"), match.group(1), match.group(2).strip())],
                         directive="apply_patch")
    match = _last(WEB_SEARCH, chat.content)
    if match and _tool(chat, "web_search") is not None:
        return ReplyPlan("Searching the web.", [search_call(_tool(chat, "web_search"), match.group(1).strip())],
                         directive="web_search")
    if schema is not None:
        return ReplyPlan(json.dumps(example_for(schema)), directive="response_format")
    return ReplyPlan(hello_text)
