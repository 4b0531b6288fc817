"""Fixtures for the Responses adapter tests: Codex captures, a reply, a render context, SSE decoding."""
import json

import pytest

from proxy.chat import Reply
from proxy.protocols.openai_responses.context import ClientTool, ResponseContext

from tests.support import CAPTURES as ALL_CAPTURES

CAPTURES = ALL_CAPTURES / "codex"


@pytest.fixture
def capture():
    """Load a Codex capture by its number prefix (e.g. "0014"); returns {headers, body, response}."""
    def load(prefix: str) -> dict:
        (path,) = CAPTURES.glob(f"{prefix}_*.json")
        return json.loads(path.read_text())
    return load


@pytest.fixture
def reply():
    """The identity of one answer, as serve_chat would make it."""
    return Reply(id="r1", model="gpt-5.5", created=1700000000, input_tokens=7)


@pytest.fixture
def context():
    """A render context with every client tool kind, no echoed request fields."""
    return ResponseContext(tools={
        "exec_command": ClientTool("function", "exec_command"),
        "apply_patch": ClientTool("custom", "apply_patch"),
        "local_shell": ClientTool("local_shell", "local_shell"),
        "tool_search": ClientTool("tool_search", "tool_search"),
        "functions__exec": ClientTool("custom", "exec", "functions"),
        "multi_agent_v1__spawn_agent": ClientTool("function", "spawn_agent", "multi_agent_v1"),
    })


@pytest.fixture
def decode_sse():
    """Split SSE bytes into data dicts, checking each `event:` line names the data's type."""
    def decode(raw: bytes) -> list:
        events = []
        for block in raw.decode("utf-8").split("\n\n"):
            if not block or block.startswith(":"):
                continue
            event_line, data_line = block.split("\n")
            data = json.loads(data_line.removeprefix("data: "))
            assert event_line == f"event: {data['type']}"
            events.append(data)
        return events
    return decode
