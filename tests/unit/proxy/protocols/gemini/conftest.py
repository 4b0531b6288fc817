"""Shared helpers for the Gemini adapter tests: captured client requests and reply factories."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from proxy.chat import Reply

# the captures live in the repo; KIRO_PROXY_CAPTURES points elsewhere if wanted
CAPTURES = Path(os.environ.get("KIRO_PROXY_CAPTURES",
                               Path(__file__).resolve().parents[4] / "fixtures" / "clients"))


def load_capture(client: str, seq: str) -> dict:
    """The captured request whose file name starts with `seq` in `client`'s folder (skip if absent)."""
    found = sorted((CAPTURES / client).glob(f"{seq}_*.json"))
    if not found:
        pytest.skip(f"capture {client}/{seq} not available under {CAPTURES}")
    return json.loads(found[0].read_text())


def make_reply(**overrides) -> Reply:
    """A Reply with fixed identity, so rendered bytes are exact."""
    fields = {"id": "r1", "model": "gemini-2.5-flash", "created": 1700000000, "input_tokens": 10}
    fields.update(overrides)
    return Reply(**fields)


@pytest.fixture
def reply() -> Reply:
    """The default fixed Reply."""
    return make_reply()
