"""Tests for the Chat Completions request parser: captures, options, and exact 400s."""
import pytest

from proxy.chat import Chat, Message, ResponseFormat, TextPart, Thinking, Tool, ToolChoice, WebSearch
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_chat.parse import StreamOptions, parse

# Request bodies of /work/shared/fixtures/clients/sdk-openai/0036… and 0037… (openai-python 3.57).
CAPTURE_0036 = {"model": "gpt-x", "messages": [{"role": "user", "content": "say hello"}]}
CAPTURE_0037 = {
    "model": "gpt-x", "stream": True,
    "messages": [{"role": "user", "content": "RUN_TOOL: echo hi"}],
    "stream_options": {"include_usage": True},
    "tools": [{"type": "function", "function": {"name": "shell", "parameters": {
        "type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}}],
}


def make_body(**overrides) -> dict:
    """A minimal valid request body; keyword arguments replace or add top-level fields."""
    body = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}
    body.update(overrides)
    return body


def parse_chat(**overrides) -> Chat:
    """The Chat of `make_body(**overrides)`."""
    return parse(make_body(**overrides))[0]


def test_capture_0036_plain_request():
    assert parse(CAPTURE_0036) == (Chat(model="gpt-x", messages=[Message("user", [TextPart("say hello")])]),
                                   StreamOptions(include_usage=False))


def test_capture_0037_stream_with_tools_and_usage():
    chat, options = parse(CAPTURE_0037)
    assert chat == Chat(
        model="gpt-x", stream=True,
        messages=[Message("user", [TextPart("RUN_TOOL: echo hi")])],
        tools=[Tool("shell", "", CAPTURE_0037["tools"][0]["function"]["parameters"])],
    )
    assert options == StreamOptions(include_usage=True)


def test_options_map_onto_the_chat():
    chat, options = parse(make_body(
        tools=[{"type": "function", "function": {"name": "f", "description": "does f", "strict": True}}],
        tool_choice={"type": "function", "function": {"name": "f"}},
        parallel_tool_calls=False, max_tokens=50, temperature=0.5, top_p=1, stop="END", stream=False,
        stream_options={"include_usage": True}, reasoning_effort="xhigh", seed=1, metadata={"a": "b"},
        store=False, frequency_penalty=0.1, presence_penalty=0.2, logit_bias={"50256": -100}, logprobs=False,
        n=1, user="u-1", response_format={"type": "json_object"}, web_search_options={},
    ))
    assert chat == Chat(
        model="gpt-x", messages=[Message("user", [TextPart("hi")])],
        tools=[Tool("f", "does f", {"type": "object", "properties": {}})], tool_choice=ToolChoice("tool", "f"),
        max_tokens=50, temperature=0.5, top_p=1.0, stop_sequences=["END"],
        thinking=Thinking("adaptive", effort="max"), response_format=ResponseFormat("json_object"),
        web_search=WebSearch(), session_key="u-1",
    )
    assert options == StreamOptions(include_usage=True)


@pytest.mark.parametrize("raw, expected", [
    ("none", ToolChoice("none")), ("auto", ToolChoice("auto")), ("required", ToolChoice("any")),
    (None, ToolChoice("auto")),
])
def test_tool_choice_modes(raw, expected):
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert parse_chat(tools=tools, tool_choice=raw).tool_choice == expected


def test_max_completion_tokens_wins_over_max_tokens():
    assert parse_chat(max_tokens=10, max_completion_tokens=20).max_tokens == 20
    assert parse_chat(max_tokens=10).max_tokens == 10


def test_stop_list_drops_empty_strings():
    assert parse_chat(stop=["a", "", "b"]).stop_sequences == ["a", "b"]
    assert parse_chat(stop="").stop_sequences == []


@pytest.mark.parametrize("effort, expected", [
    ("none", None), ("minimal", None), ("low", Thinking("adaptive", effort="low")),
    ("medium", Thinking("adaptive", effort="medium")), ("high", Thinking("adaptive", effort="high")),
])
def test_reasoning_effort(effort, expected):
    assert parse_chat(reasoning_effort=effort).thinking == expected


@pytest.mark.parametrize("raw, expected", [
    ({"type": "text"}, None),
    ({"type": "json_schema", "json_schema": {"name": "pt", "strict": True, "schema": {"type": "object"}}},
     ResponseFormat("json_schema", schema={"type": "object"}, name="pt")),
])
def test_response_format(raw, expected):
    assert parse_chat(response_format=raw).response_format == expected


@pytest.mark.parametrize("fields, expected", [
    ({"user": "u", "prompt_cache_key": "p", "safety_identifier": "s"}, "p"),
    ({"user": "u", "safety_identifier": "s"}, "u"),
    ({"safety_identifier": "s"}, "s"),
    ({}, None),
])
def test_session_key_prefers_the_most_specific_field(fields, expected):
    assert parse_chat(**fields).session_key == expected


@pytest.mark.parametrize("body, message, param", [
    ([], "The request body must be a JSON object.", None),
    ({"messages": []}, "Missing required parameter: 'model'.", "model"),
    ({"model": "m"}, "Missing required parameter: 'messages'.", "messages"),
    (make_body(model=3), "Invalid type for 'model': expected a string, but got an integer instead.", "model"),
    (make_body(messages={}), "Invalid type for 'messages': expected an array, but got an object instead.",
     "messages"),
    (make_body(messages=[]), "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                             "but got an empty array instead.", "messages"),
    (make_body(n=2), "n > 1 is not supported.", "n"),
    (make_body(n=0), "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.", "n"),
    (make_body(logprobs=True), "logprobs are not supported.", "logprobs"),
    (make_body(modalities=["text", "audio"]), "Only text output is supported; audio output is not.", "modalities"),
    (make_body(functions=[{"name": "f"}]), "The legacy 'functions' parameter is not supported; use 'tools'.",
     "functions"),
    (make_body(function_call="auto"), "The legacy 'function_call' parameter is not supported; use 'tool_choice'.",
     "function_call"),
    (make_body(tools=[{"type": "custom", "custom": {"name": "x"}}]),
     "Invalid value: 'custom'. Supported values are: 'function'.", "tools[0].type"),
    (make_body(tools=[{"type": "function", "function": {}}]),
     "Missing required parameter: 'tools[0].function.name'.", "tools[0].function.name"),
    (make_body(tools=[{"type": "function", "function": {"name": "f", "parameters": "{}"}}]),
     "Invalid type for 'tools[0].function.parameters': expected an object, but got a string instead.",
     "tools[0].function.parameters"),
    (make_body(tool_choice="any"), "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.",
     "tool_choice"),
    (make_body(tool_choice="required"),
     "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice"),
    (make_body(tools=[{"type": "function", "function": {"name": "f"}}],
               tool_choice={"type": "function", "function": {"name": "g"}}),
     "Invalid value for 'tool_choice': no function named 'g' is defined in 'tools'.", "tool_choice.function.name"),
    (make_body(tool_choice=1), "Invalid type for 'tool_choice': expected a string or an object, but got an integer "
                               "instead.", "tool_choice"),
    (make_body(max_tokens=0), "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got "
                              "0 instead.", "max_tokens"),
    (make_body(max_completion_tokens="5"), "Invalid type for 'max_completion_tokens': expected an integer, but got "
                                           "a string instead.", "max_completion_tokens"),
    (make_body(max_tokens=True), "Invalid type for 'max_tokens': expected an integer, but got a boolean instead.",
     "max_tokens"),
    (make_body(temperature=3), "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 "
                               "instead.", "temperature"),
    (make_body(top_p=-0.5), "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.5 "
                            "instead.", "top_p"),
    (make_body(temperature="hot"), "Invalid type for 'temperature': expected a decimal, but got a string instead.",
     "temperature"),
    (make_body(stop=["a", "b", "c", "d", "e"]), "Invalid 'stop': array too long. Expected an array with maximum "
                                                "length 4, but got an array with length 5 instead.", "stop"),
    (make_body(stop=[1]), "Invalid type for 'stop[0]': expected a string, but got an integer instead.", "stop[0]"),
    (make_body(stream="yes"), "Invalid type for 'stream': expected a boolean, but got a string instead.", "stream"),
    (make_body(stream_options={"include_usage": 1}),
     "Invalid type for 'stream_options.include_usage': expected a boolean, but got an integer instead.",
     "stream_options.include_usage"),
    (make_body(reasoning_effort="max"), "Invalid value: 'max'. Supported values are: 'none', 'minimal', 'low', "
                                        "'medium', 'high', and 'xhigh'.", "reasoning_effort"),
    (make_body(response_format={"type": "yaml"}), "Invalid value: 'yaml'. Supported values are: 'text', "
                                                  "'json_object', and 'json_schema'.", "response_format.type"),
    (make_body(response_format={"type": "json_schema"}),
     "Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema"),
    (make_body(user=7), "Invalid type for 'user': expected a string, but got an integer instead.", "user"),
])
def test_bad_requests_name_the_field(body, message, param):
    with pytest.raises(ProxyError) as info:
        parse(body)
    assert (info.value.kind, info.value.message, info.value.param) == (ErrorKind.INVALID_REQUEST, message, param)
