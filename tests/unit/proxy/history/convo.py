"""Factories for long synthetic conversations: tool rounds, images, a first turn with rules."""
from __future__ import annotations

import json
from typing import Optional

from proxy.chat import (Chat, ImagePart, Message, TextPart, ThinkingPart, Tool, ToolCallPart,
                        ToolResultPart)
from proxy.kiro.models import KiroModel
from proxy.kiro.request import build_request
from proxy.settings import Settings

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
FIRST_TASK = "Refactor the parser. RULE: never touch files under vendor/. Use tabs, not spaces."
BASH = Tool("Bash", "Run a shell command", {"type": "object", "properties": {"command": {"type": "string"}},
                                            "required": ["command"]})
READ = Tool("Read", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}},
                                    "required": ["path"]})


def model(window: int = 200_000) -> KiroModel:
    """A Kiro model with a given context window."""
    return KiroModel("claude-sonnet-4.5", window)


def settings(**overrides) -> Settings:
    """Settings for history tests: summaries off unless asked, no auto-truncate."""
    values = dict(history_smart_summary=False)
    values.update(overrides)
    return Settings(**values)


def tool_round(i: int, result_chars: int = 3000, image: bool = False, thinking: bool = False,
               prompt: Optional[str] = None) -> list[Message]:
    """One agentic round: a user prompt, a tool call, its result, the assistant's answer."""
    call_id = f"toolu_{i:04d}"
    tool = "Bash" if i % 2 else "Read"
    args = {"command": f"cat src/file_{i}.py"} if tool == "Bash" else {"path": f"src/file_{i}.py"}
    assistant = [TextPart(f"Looking at file {i}.")]
    if thinking:
        assistant.insert(0, ThinkingPart(f"thinking about step {i} " * 20, signature="sig"))
    body = (f"# file {i}\n" + f"line of code number {i};\n" * (result_chars // 22 + 1))[:result_chars]
    result = ToolResultPart(call_id, body, images=[ImagePart("image/png", PNG * 40)] if image else [])
    user_prompt = [TextPart(prompt or f"Step {i}: continue with the next file.")]
    if image:
        user_prompt.append(ImagePart("image/png", PNG * 40))
    return [Message("user", user_prompt),
            Message("assistant", assistant + [ToolCallPart(call_id, tool, args)]),
            Message("user", [result]),
            Message("assistant", [TextPart(f"File {i} read; {len(body)} characters.")])]


def conversation(rounds: int, *, result_chars: int = 3000, images_every: int = 0, thinking: bool = False,
                 end_with_result: bool = True, session_key: Optional[str] = None) -> Chat:
    """A Claude Code-like session: system prompt, tools, a first turn with rules, many rounds.
    With `end_with_result` the current turn answers a pending tool call (the agentic loop)."""
    messages = [Message("user", [TextPart(FIRST_TASK)]), Message("assistant", [TextPart("Understood.")])]
    for i in range(1, rounds + 1):
        messages += tool_round(i, result_chars, image=bool(images_every) and i % images_every == 0,
                               thinking=thinking)
    if end_with_result:
        last = rounds + 1
        messages += [Message("user", [TextPart(f"Step {last}: run the tests.")]),
                     Message("assistant", [ToolCallPart(f"toolu_{last:04d}", "Bash", {"command": "pytest"})]),
                     Message("user", [ToolResultPart(f"toolu_{last:04d}", "5 passed")])]
    else:
        messages.append(Message("user", [TextPart("What is left to do?")]))
    return Chat(model="claude-sonnet-4-5", messages=messages, system="You are a coding agent. " * 50,
                tools=[BASH, READ], session_key=session_key)


def body_size(chat: Chat) -> int:
    """The real Kiro body size of a chat."""
    return len(build_request(chat, model_id="claude-sonnet-4.5", profile_arn=None, conversation_id="c",
                             max_body_bytes=10 ** 12).body)


def pairs_intact(chat: Chat) -> bool:
    """Every tool call is answered in the next user message and every result answers the turn before."""
    messages = chat.messages
    for i, message in enumerate(messages):
        calls = {p.id for p in message.parts if isinstance(p, ToolCallPart)}
        if message.role == "assistant" and calls:
            if i + 1 >= len(messages):
                return False
            answered = {p.call_id for p in messages[i + 1].parts if isinstance(p, ToolResultPart)}
            if calls != answered:
                return False
        results = {p.call_id for p in message.parts if isinstance(p, ToolResultPart)}
        if results:
            before = messages[i - 1] if i else None
            offered = {p.id for p in before.parts if isinstance(p, ToolCallPart)} if before else set()
            if not results <= offered:
                return False
    return True


def texts(chat: Chat) -> str:
    """All text of a chat, for "is this still there" checks."""
    return json.dumps([[getattr(p, "text", "") or getattr(p, "content", "") for p in m.parts]
                       for m in chat.messages], ensure_ascii=False)
