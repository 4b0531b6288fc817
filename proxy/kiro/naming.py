"""Deterministic renaming of tool names and tool-call ids into the charset Kiro accepts.

Kiro (Bedrock underneath) takes tool names and toolUseIds only as `[a-zA-Z0-9_-]{1,64}`
(kiro-upstream §2.2-9, §2.3). Anything else is renamed to a readable prefix plus a short
hash of the original, so the same input always gives the same output: a toolUse and its
toolResult renamed separately still match, and a shortened tool name can be mapped back.
"""
from __future__ import annotations

import hashlib
import re

MAX_NAME_LENGTH = 64  # Bedrock's limit for tool names and toolUseIds
_VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INVALID_CHAR = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LENGTH = 8  # hex digits of sha256; enough to keep distinct names distinct in one request


def safe_name(name: str) -> str:
    """`name` if Kiro accepts it, else a deterministic `<sanitised prefix>_<hash>` of ≤64 chars."""
    return name if _VALID.match(name) else hashed_name(name)


def hashed_name(name: str) -> str:
    """Always the `<sanitised prefix>_<hash>` form; used to move a name out of a reserved one."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    prefix = _INVALID_CHAR.sub("_", name)[: MAX_NAME_LENGTH - _HASH_LENGTH - 1]
    return f"{prefix}_{digest}"


def safe_tool_use_id(call_id: str) -> str:
    """A toolUseId Kiro accepts; applied identically to toolUses and toolResults."""
    return safe_name(call_id)
