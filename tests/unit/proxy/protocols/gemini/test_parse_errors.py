"""Tests for the Gemini parser's 400s: each names the offending field in Google's words."""
import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.gemini.parse import parse, parse_count_tokens

HELLO = [{"role": "user", "parts": [{"text": "hi"}]}]


def rejected(body, model="m") -> ProxyError:
    """The INVALID_REQUEST error parsing `body` raises."""
    with pytest.raises(ProxyError) as info:
        parse(body, model)
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    return info.value


def user(*parts) -> dict:
    """A body with one user turn holding `parts`."""
    return {"contents": [{"role": "user", "parts": list(parts)}]}


def test_missing_contents():
    """No contents at all."""
    err = rejected({})
    assert err.param == "contents"
    assert err.message == "* GenerateContentRequest.contents: contents is not specified"


def test_unknown_top_level_field_and_non_object_body():
    """An OpenAI-style body gets Google's "Unknown name"; a list body is refused."""
    err = rejected({"messages": [], "contents": HELLO})
    assert err.message == 'Invalid JSON payload received. Unknown name "messages": Cannot find field.'
    assert err.param == "messages"
    assert "Expected an object" in rejected([1]).message


@pytest.mark.parametrize("body,param,words", [
    ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "contents[0].role", "valid role"),
    ({"contents": [{"role": "user", "parts": []}]}, "contents[0].parts", "must not be empty"),
    ({"contents": "hi"}, "contents", "TYPE_LIST"),
    (user({"text": 5}), "contents[0].parts[0].text", "TYPE_STRING"),
    (user({"text": "a"}, {"fileData": {"fileUri": "gs://x"}}), "contents[0].parts[1].fileData", "inlineData"),
    (user({"executableCode": {"code": "1"}}), "contents[0].parts[0].executableCode", "code execution"),
    (user({"codeExecutionResult": {}}), "contents[0].parts[0].codeExecutionResult", "code execution"),
    (user({"inlineData": {"mimeType": "application/pdf", "data": "AA=="}}),
     "contents[0].parts[0].inlineData.mimeType", "application/pdf"),
    (user({"inlineData": {"mimeType": "image/png", "data": ""}}), "contents[0].parts[0].inlineData.data", "empty"),
    (user({"videoMetadata": {}}), "contents[0].parts[0].data", "oneof"),
    (user({"functionCall": {"name": "f"}}), "contents[0].parts[0].functionCall", "model turns"),
    ({"contents": [{"role": "model", "parts": [{"functionResponse": {"name": "f"}}]}]},
     "contents[0].parts[0].functionResponse", "user turns"),
    ({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": "x"}}]}]},
     "contents[0].parts[0].functionCall.args", "TYPE_MESSAGE"),
    (user({"functionResponse": {"response": {}}}), "contents[0].parts[0].functionResponse.name", "name"),
    ({"contents": HELLO, "systemInstruction": {"parts": [{"inlineData": {}}]}},
     "systemInstruction.parts[0]", "only text"),
    ({"contents": HELLO, "cachedContent": "cachedContents/abc"}, "cachedContent", "not supported"),
    ({"contents": HELLO, "tools": [{"urlContext": {}}]}, "tools[0].urlContext", "cannot fetch"),
    ({"contents": HELLO, "tools": [{"codeExecution": {}}]}, "tools[0].codeExecution", "code"),
    ({"contents": HELLO, "tools": [{"functionDeclarations": [{"description": "no name"}]}]},
     "tools[0].functionDeclarations[0].name", "empty"),
    ({"contents": HELLO, "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "a"}]}]},
     "tools[0].functionDeclarations[1].name", "Duplicate"),
    ({"contents": HELLO, "tools": [{"functionDeclarations": [{"name": "a", "parameters": "x"}]}]},
     "tools[0].functionDeclarations[0].parameters", "TYPE_MESSAGE"),
    ({"contents": HELLO, "tools": [{"functionDeclarations": [{"name": "a"}]}],
      "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}}},
     "toolConfig.functionCallingConfig.allowedFunctionNames[0]", "not among"),
    ({"contents": HELLO, "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
     "toolConfig.functionCallingConfig.mode", "unknown mode"),
    ({"contents": HELLO, "generationConfig": {"candidateCount": 2}},
     "generationConfig.candidateCount", "one candidate"),
    ({"contents": HELLO, "generationConfig": {"maxOutputTokens": "lots"}},
     "generationConfig.maxOutputTokens", "TYPE_INT32"),
    ({"contents": HELLO, "generationConfig": {"maxOutputTokens": 0}},
     "generationConfig.maxOutputTokens", "positive"),
    ({"contents": HELLO, "generationConfig": {"temperature": "hot"}},
     "generationConfig.temperature", "TYPE_FLOAT"),
    ({"contents": HELLO, "generationConfig": {"stopSequences": [1]}},
     "generationConfig.stopSequences[0]", "TYPE_STRING"),
    ({"contents": HELLO, "generationConfig": {"responseMimeType": "text/x.enum"}},
     "generationConfig.responseMimeType", "text/x.enum"),
    ({"contents": HELLO, "generationConfig": {"responseModalities": ["IMAGE"]}},
     "generationConfig.responseModalities", "TEXT"),
    ({"contents": HELLO, "generationConfig": {"thinkingConfig": {"thinkingBudget": 10, "thinkingLevel": "LOW"}}},
     "generationConfig.thinkingConfig", "together"),
    ({"contents": HELLO, "generationConfig": {"thinkingConfig": {"thinkingLevel": "EXTREME"}}},
     "generationConfig.thinkingConfig.thinkingLevel", "EXTREME"),
    ({"contents": HELLO, "generationConfig": {"thinkingConfig": {"includeThoughts": "yes"}}},
     "generationConfig.thinkingConfig.includeThoughts", "TYPE_BOOL"),
])
def test_bad_fields_are_named(body, param, words):
    """Each bad field comes back as a 400 whose param is its JSON path."""
    err = rejected(body)
    assert err.param == param
    assert words in err.message
    assert param in err.message


def test_count_tokens_rejects_unknown_fields():
    """countTokens takes contents or generateContentRequest only."""
    with pytest.raises(ProxyError) as info:
        parse_count_tokens({"contents": HELLO, "tools": []}, "m")
    assert info.value.param == "tools"
