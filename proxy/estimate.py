"""Token estimates for a `Chat`, used for count_tokens and for usage before Kiro reports its own."""
from __future__ import annotations

import json
import math

from proxy.chat import Chat, ImagePart, TextPart, ThinkingPart, ToolCallPart, ToolResultPart

# Claude-family tokenizers average ~3.5-4 characters per token on English and code; CJK runs
# closer to one token per character. Counting non-ASCII characters at full weight keeps the
# estimate from under-shooting on Chinese text, which would make clients compact too late.
CHARS_PER_TOKEN = 3.6
IMAGE_TOKENS = 1600  # a typical ~1 MP image
MESSAGE_OVERHEAD = 4  # role markers and separators per turn


def text_tokens(text: str) -> int:
    """Estimated tokens of one string."""
    if not text:
        return 0
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return math.ceil((len(text) - wide) / CHARS_PER_TOKEN) + wide


def estimate_tokens(chat: Chat) -> int:
    """Estimated input tokens of the whole request: system, turns, tools."""
    total = text_tokens(chat.system)
    for message in chat.messages:
        total += MESSAGE_OVERHEAD
        for part in message.parts:
            if isinstance(part, TextPart):
                total += text_tokens(part.text)
            elif isinstance(part, ThinkingPart):
                total += text_tokens(part.text)
            elif isinstance(part, ImagePart):
                total += IMAGE_TOKENS
            elif isinstance(part, ToolCallPart):
                total += text_tokens(part.name) + text_tokens(json.dumps(part.arguments, ensure_ascii=False))
            elif isinstance(part, ToolResultPart):
                total += text_tokens(part.content) + IMAGE_TOKENS * len(part.images)
    for tool in chat.tools:
        total += text_tokens(tool.name) + text_tokens(tool.description)
        total += text_tokens(json.dumps(tool.schema, ensure_ascii=False, separators=(",", ":")))
    return max(1, total)
