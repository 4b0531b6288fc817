"""What a request costs against Kiro's limits: estimated tokens, body bytes, characters.

Tokens come from `proxy.estimate` (additive per message, so planning is exact for them).
Bytes are measured for real with `build_request` once per plan and approximated per message
in between: the approximation only decides where to cut, and the real size is checked after.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from proxy.chat import Chat, ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.estimate import message_tokens
from proxy.kiro.request import MEASURING_ARN, MEASURING_ID, BuiltRequest, build_request

# Room for what the measuring body lacks or approximates: a real profile ARN can be longer
# than the placeholder, and the relay makes each account's body with its own ARN and ids.
BODY_MARGIN = 2048
PLACEHOLDER_ARN = MEASURING_ARN
PLACEHOLDER_ID = MEASURING_ID

# JSON framing Kiro's body spends per message and per part (keys, ids, modelId, origin).
MESSAGE_BYTES = 96
PART_BYTES = 64


@dataclass(frozen=True)
class Cost:
    """One message's share of a request: raw estimated tokens, approximate body bytes, characters."""
    tokens: int
    bytes: int
    chars: int

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.tokens + other.tokens, self.bytes + other.bytes, self.chars + other.chars)

    def __sub__(self, other: "Cost") -> "Cost":
        return Cost(self.tokens - other.tokens, self.bytes - other.bytes, self.chars - other.chars)


ZERO = Cost(0, 0, 0)


def json_bytes(text: str) -> int:
    """Bytes a string takes inside Kiro's JSON body (escapes and UTF-8 included)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8"))


def message_cost(message: Message) -> Cost:
    """The cost of one message."""
    size = MESSAGE_BYTES
    chars = 0
    for part in message.parts:
        size += PART_BYTES
        if isinstance(part, (TextPart, ThinkingPart)):
            size += json_bytes(part.text)
            chars += len(part.text)
        elif isinstance(part, ImagePart):
            size += len(part.data)
        elif isinstance(part, ToolCallPart):
            args = json.dumps(part.arguments, ensure_ascii=False)
            size += len(args.encode("utf-8")) + len(part.id) + len(part.name)
            chars += len(args)
        elif isinstance(part, ToolResultPart):
            size += json_bytes(part.content) + len(part.call_id)
            size += sum(len(i.data) + PART_BYTES for i in part.images)
            chars += len(part.content)
    return Cost(message_tokens(message), size, chars)


def text_cost(text: str) -> Cost:
    """The cost of a user message holding only `text` (the summary or truncation note)."""
    return message_cost(Message("user", [TextPart(text)]))


def measuring_build(chat: Chat, model_id: str, max_tool_description: int) -> BuiltRequest:
    """The Kiro body for `chat` with placeholder ARN and ids of typical length, never refused for
    its size: what history measures, and what the relay turns into each account's body
    (`proxy.kiro.request.for_account`) instead of building it again."""
    return build_request(chat, model_id=model_id, profile_arn=PLACEHOLDER_ARN,
                         conversation_id=PLACEHOLDER_ID, continuation_id=PLACEHOLDER_ID,
                         max_body_bytes=sys.maxsize, max_tool_description=max_tool_description)


def body_bytes(chat: Chat, model_id: str, max_tool_description: int) -> int:
    """The real size of the Kiro body for `chat` (placeholder ARN and ids of typical length)."""
    return len(measuring_build(chat, model_id, max_tool_description).body)
