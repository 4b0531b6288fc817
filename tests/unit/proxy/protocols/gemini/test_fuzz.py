"""Mutation fuzzing of the Gemini parsers: every malformed body is a 400 naming its field."""
import json

import pytest

from proxy.protocols.gemini.parse import parse, parse_count_tokens
from tests.support import CAPTURES
from tests.unit.proxy.protocols.fuzzing import crashes, mutants, trimmed

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
RICH = {
    "contents": [
        {"role": "user", "parts": [{"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]},
        {"role": "model", "parts": [{"text": "hmm", "thought": True, "thoughtSignature": "sig"},
                                    {"functionCall": {"id": "a", "name": "f", "args": {"x": 1}}}]},
        {"role": "user", "parts": [{"functionResponse": {
            "id": "a", "name": "f", "response": {"output": "ok"},
            "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}]}}]},
    ],
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "tools": [{"functionDeclarations": [{"name": "f", "description": "d", "parameters": {
        "type": "OBJECT", "properties": {"x": {"type": "INTEGER", "nullable": True}}, "propertyOrdering": ["x"]}}]},
              {"googleSearch": {}}],
    "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
    "generationConfig": {"maxOutputTokens": 100, "temperature": 1, "topP": 0.5, "stopSequences": ["END"],
                         "candidateCount": 1, "responseModalities": ["TEXT"],
                         "responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"},
                         "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}},
}


def generate(body):
    return parse(body, "gemini-2.5-flash", stream=True)


def count(body):
    return parse_count_tokens(body, "gemini-2.5-flash")


def test_the_rich_body_parses():
    chat = generate(RICH)
    assert chat.tools[0].name == "f" and chat.web_search is not None


def test_every_mutation_of_a_rich_body_is_parsed_or_refused_with_a_400():
    assert crashes(generate, mutants(RICH)) == []


def test_every_mutation_of_a_count_tokens_body_is_parsed_or_refused_with_a_400():
    assert crashes(count, mutants({"contents": RICH["contents"]})) == []
    assert crashes(count, mutants({"generateContentRequest": RICH})) == []


def test_every_mutation_of_a_gemini_cli_request_is_parsed_or_refused_with_a_400():
    (path,) = CAPTURES.glob("gemini-cli/0026_*.json")
    assert crashes(generate, mutants(trimmed(json.loads(path.read_text())["body"]))) == []


@pytest.mark.parametrize("role", [[], {}, ["user"]])
def test_a_role_of_the_wrong_type_is_a_400(role):
    # regression: a list or object role raised TypeError (unhashable) looking it up
    body = {"contents": [{"role": role, "parts": [{"text": "hi"}]}]}
    assert crashes(generate, [("role", body)]) == []
    assert crashes(count, [("role", body)]) == []
