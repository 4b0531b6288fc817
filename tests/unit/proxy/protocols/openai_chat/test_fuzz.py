"""Mutation fuzzing of the Chat Completions parser: every malformed body is a 400 naming its field."""
import json

from proxy.protocols.openai_chat.parse import parse
from tests.support import CAPTURES
from tests.unit.proxy.protocols.fuzzing import crashes, mutants, trimmed

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
RICH = {
    "model": "gpt-x", "stream": True, "stream_options": {"include_usage": True},
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "really"}]},
        {"role": "user", "content": [{"type": "text", "text": "hi"},
                                     {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]},
        {"role": "assistant", "content": None, "reasoning_content": "hmm",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "ok"}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        {"role": "user", "content": "go on"},
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                                                "parameters": {"type": "object", "properties": {}}}}],
    "tool_choice": {"type": "function", "function": {"name": "f"}},
    "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
    "max_completion_tokens": 100, "temperature": 1, "top_p": 0.5, "stop": ["END"], "reasoning_effort": "low",
    "web_search_options": {}, "n": 1, "user": "u-1",
}


def chat_only(body):
    return parse(body)[0]


def test_the_rich_body_parses():
    chat = chat_only(RICH)
    assert chat.tools[0].name == "f" and chat.web_search is not None


def test_every_mutation_of_a_rich_body_is_parsed_or_refused_with_a_400():
    assert crashes(chat_only, mutants(RICH)) == []


def test_every_mutation_of_an_sdk_request_is_parsed_or_refused_with_a_400():
    (path,) = CAPTURES.glob("sdk-openai/0037_*.json")
    assert crashes(chat_only, mutants(trimmed(json.loads(path.read_text())["body"]))) == []
