"""Mutation fuzzing of the Anthropic parser: every malformed body is a 400 naming its field, never a 500."""
import json

import pytest

from proxy.errors import ProxyError
from proxy.protocols.anthropic.parse import parse_count_tokens_request, parse_messages_request
from tests.support import CAPTURES
from tests.unit.proxy.protocols.fuzzing import crashes, mutants, trimmed

RICH = {
    "model": "claude-x", "max_tokens": 100, "stream": True, "temperature": 0.5, "top_p": 0.9,
    "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            {"type": "document", "title": "t", "source": {"type": "content", "content": [{"type": "text", "text": "d"}]}},
            {"type": "search_result", "title": "t", "source": "s", "content": [{"type": "text", "text": "x"}]}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {"query": "q"}},
            {"type": "web_search_tool_result", "tool_use_id": "srv_1", "content": [
                {"type": "web_search_result", "title": "t", "url": "https://a.test", "encrypted_content": "e"}]},
            {"type": "mcp_tool_result", "tool_use_id": "m1", "content": [{"type": "text", "text": "r"}]},
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": False, "content": [
                {"type": "text", "text": "ok"}, {"type": "tool_reference", "tool_name": "Grep"}]}]},
        {"role": "system", "content": "a reminder"},
    ],
    "tools": [{"name": "Bash", "description": "run", "input_schema": {"type": "object"}},
              {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
    "tool_choice": {"type": "tool", "name": "Bash"},
    "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
    "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
    "stop_sequences": ["STOP"],
    "metadata": {"user_id": '{"session_id": "s-1"}'},
}


def parse(body):
    return parse_messages_request(body, {})


def capture_body():
    """Claude Code's second turn of a Bash round trip (tool_use and tool_result), cut to size."""
    (path,) = CAPTURES.glob("claude-code/0003_*.json")
    return trimmed(json.loads(path.read_text())["body"])


def test_the_rich_body_parses():
    chat = parse(RICH)
    assert chat.tools[0].name == "Bash" and chat.web_search is not None


def test_every_mutation_of_a_rich_body_is_parsed_or_refused_with_a_400():
    assert crashes(parse, mutants(RICH)) == []


def test_every_mutation_of_a_count_tokens_body_is_parsed_or_refused_with_a_400():
    assert crashes(parse_count_tokens_request, mutants({k: v for k, v in RICH.items() if k != "stream"})) == []


def test_every_mutation_of_a_claude_code_request_is_parsed_or_refused_with_a_400():
    assert crashes(parse, mutants(capture_body())) == []


@pytest.mark.parametrize("content", [-1, "text", {"type": "text"}, True])
def test_a_replayed_mcp_tool_result_with_odd_content_is_read_as_text(content):
    # regression: a non-list, non-string content raised TypeError (a 500)
    body = {"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "mcp_tool_result", "tool_use_id": "m", "content": content}]},
        {"role": "user", "content": "go on"}]}
    chat = parse(body)
    assert chat.messages[1].parts[0].text.startswith("[Tool result]")


def test_a_body_that_is_not_an_object_is_a_400():
    for body in ([], "x", None, 3):
        with pytest.raises(ProxyError) as e:
            parse(body)
        assert e.value.status == 400
