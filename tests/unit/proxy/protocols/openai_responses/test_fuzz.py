"""Mutation fuzzing of the Responses parser: every malformed body is a 400 naming its field."""
import json

import pytest

from proxy.protocols.openai_responses.parse import parse
from tests.support import CAPTURES
from tests.unit.proxy.protocols.fuzzing import crashes, mutants, trimmed

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
RICH = {
    "model": "gpt-x", "instructions": "be brief", "stream": True, "store": False, "include": ["x"],
    "input": [
        {"role": "developer", "content": "really"},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hmm"}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'},
        {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "ok"}]},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "done"},
        {"type": "local_shell_call", "call_id": "c3", "action": {"type": "exec", "command": ["ls"],
                                                                "working_directory": "/", "timeout_ms": 5}},
        {"type": "local_shell_call_output", "call_id": "c3", "output": "a.txt"},
        {"type": "tool_search_call", "call_id": "c4", "arguments": {"query": "q"}},
        {"type": "tool_search_output", "call_id": "c4", "tools": [
            {"type": "function", "name": "g"}, {"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": "h"}]}]},
        {"type": "web_search_call", "action": {"type": "search", "queries": ["a", "b"]}},
        {"type": "additional_tools", "tools": [{"type": "function", "name": "k"}]},
        {"role": "user", "content": "go on"},
    ],
    "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}},
              {"type": "function", "name": "later", "defer_loading": True},
              {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "x"}},
              {"type": "local_shell"}, {"type": "tool_search"}, {"type": "web_search"},
              {"type": "namespace", "name": "ns2", "tools": [{"type": "function", "name": "z"}]}],
    "tool_choice": {"type": "function", "name": "f"},
    "reasoning": {"effort": "high", "summary": "auto"},
    "text": {"format": {"type": "json_schema", "name": "n", "schema": {"type": "object"}}, "verbosity": "low"},
    "max_output_tokens": 100, "max_tool_calls": 3, "temperature": 1, "top_p": 1, "prompt_cache_key": "k",
}


def chat_only(body):
    return parse(body, {}).chat


def test_the_rich_body_parses():
    chat = chat_only(RICH)
    assert [t.name for t in chat.tools][:2] == ["f", "apply_patch"] and chat.web_search is not None


def test_every_mutation_of_a_rich_body_is_parsed_or_refused_with_a_400():
    assert crashes(chat_only, mutants(RICH)) == []


def test_every_mutation_of_a_codex_request_is_parsed_or_refused_with_a_400():
    (path,) = CAPTURES.glob("codex/0015_*.json")
    assert crashes(chat_only, mutants(trimmed(json.loads(path.read_text())["body"]))) == []


@pytest.mark.parametrize("effort", [[], {}, 3, True])
def test_a_reasoning_effort_of_the_wrong_type_is_a_400(effort):
    # regression: a list or object effort raised TypeError (unhashable) before the check
    assert crashes(chat_only, [("effort", {**RICH, "reasoning": {"effort": effort}})]) == []


@pytest.mark.parametrize("queries", [5, "ab", {"q": 1}])
def test_a_replayed_web_search_with_odd_queries_is_a_note(queries):
    # regression: a non-list `queries` raised TypeError (a 500)
    body = {"model": "m", "input": [{"role": "user", "content": "hi"},
                                    {"type": "web_search_call", "action": {"type": "search", "queries": queries}}]}
    assert chat_only(body).messages[1].parts[0].text == "(Web search)"
