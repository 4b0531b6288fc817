"""Tests for the Anthropic request parser: real Claude Code / SDK captures, options, and 400s."""
import json
from pathlib import Path

import pytest

from proxy.chat import ResponseFormat, Thinking, Tool, ToolChoice, WebSearch
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic.parse import parse_count_tokens_request, parse_messages_request

from tests.support import CAPTURES


def captures(client: str, path: str) -> list[Path]:
    """Capture files of `client` whose request went to `path` (empty when the dir is absent)."""
    files = sorted((CAPTURES / client).glob("*.json")) if (CAPTURES / client).is_dir() else []
    return [f for f in files if json.loads(f.read_text())["path"] == path]


def load(name: str) -> dict:
    """One capture by file name prefix, e.g. "claude-code/0003"."""
    client, prefix = name.split("/")
    found = sorted((CAPTURES / client).glob(prefix + "_*.json"))
    if not found:
        pytest.skip(f"capture {name} not available under {CAPTURES}")
    return json.loads(found[0].read_text())


def body(**overrides) -> dict:
    """A minimal valid Messages body; keyword arguments replace or add fields (None removes)."""
    data = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def parse(headers=None, **overrides):
    """parse_messages_request on `body(**overrides)`."""
    return parse_messages_request(body(**overrides), headers or {})


def rejects(data, headers=None) -> ProxyError:
    """The ProxyError the parser raises for `data` (fails the test if it parses)."""
    with pytest.raises(ProxyError) as caught:
        parse_messages_request(data, headers or {})
    assert caught.value.kind is ErrorKind.INVALID_REQUEST
    return caught.value


# ---------------------------------------------------------------- real captures

MESSAGE_CAPTURES = captures("claude-code", "/v1/messages") + captures("sdk-anthropic", "/v1/messages")


@pytest.mark.skipif(not MESSAGE_CAPTURES, reason="client captures not available")
@pytest.mark.parametrize("path", MESSAGE_CAPTURES, ids=lambda p: p.name)
def test_every_capture_parses(path):
    capture = json.loads(path.read_text())
    chat = parse_messages_request(capture["body"], capture["headers"])
    assert chat.model == capture["body"]["model"]
    assert chat.max_tokens == capture["body"]["max_tokens"]
    assert chat.stream is capture["body"].get("stream", False)
    assert chat.messages[0].role == "user"
    assert all(m.role in ("user", "assistant") for m in chat.messages)


def test_claude_code_hello_capture():
    capture = load("claude-code/0001")
    chat = parse_messages_request(capture["body"], capture["headers"])
    assert chat.system.split("\n")[0] == ("x-anthropic-billing-header: cc_version=2.1.332.1c9; "
                                          "cc_entrypoint=sdk-cli;")
    assert "You are a Claude agent, built on Anthropic's Claude Agent SDK." in chat.system
    # the in-messages system turn is folded into the (only) user turn, after its own text
    assert len(chat.messages) == 1
    folded = chat.messages[0].parts[-1].text
    assert folded.startswith("<system-reminder>\n# Environment\n")
    assert folded.endswith("\n</system-reminder>")
    assert len(chat.tools) == 12
    assert chat.tools[1].name == "Bash" and chat.tools[1].schema["required"] == ["command"]
    assert chat.thinking == Thinking(mode="adaptive", effort="medium", include=False)
    assert chat.session_key == "f93933da-8a96-48f9-929b-91c3766782e2"
    assert chat.web_search is None and chat.tool_choice == ToolChoice()


def test_claude_code_tool_round_trip_capture():
    capture = load("claude-code/0005")
    chat = parse_messages_request(capture["body"], capture["headers"])
    user, assistant, result = chat.messages
    assert [m.role for m in chat.messages] == ["user", "assistant", "user"]
    assert user.parts[-1].text.startswith("<system-reminder>\n# Environment")  # string system turn
    thinking, text, call = assistant.parts
    assert (thinking.text, thinking.signature) == ("Stub thinking.",
                                                   "stubsig_419873c3b87a45f7958d8b80d748ad3f")
    assert text.text == "Running the command."
    assert (call.id, call.name, call.arguments["command"]) == (
        "toolu_70e586f2ff8347238939e669", "Bash", "echo rtok_capture | tr a-z A-Z")
    (tool_result,) = result.parts
    assert (tool_result.call_id, tool_result.content, tool_result.is_error) == (
        "toolu_70e586f2ff8347238939e669", "RTOK_CAPTURE", False)


def test_claude_code_sonnet_capture_has_budget_thinking_and_no_system_turn():
    capture = load("claude-code/0008")
    chat = parse_messages_request(capture["body"], capture["headers"])
    assert chat.thinking == Thinking(mode="enabled", budget_tokens=31999)
    assert len(chat.tools) == 25 and len(chat.messages) == 1
    assert len(chat.messages[0].parts) == len(capture["body"]["messages"][0]["content"])  # nothing folded


def test_claude_code_non_streaming_fallback_capture():
    capture = load("claude-code/0012")
    chat = parse_messages_request(capture["body"], capture["headers"])
    assert chat.stream is False and chat.max_tokens == 64000


def test_sdk_captures():
    plain = load("sdk-anthropic/0033")
    chat = parse_messages_request(plain["body"], plain["headers"])
    assert (chat.system, chat.session_key, chat.thinking, chat.stream) == ("", None, None, False)
    assert chat.messages[0].text() == "say hello"
    tools = load("sdk-anthropic/0034")
    chat = parse_messages_request(tools["body"], tools["headers"])
    assert chat.tools == [Tool("Bash", "run", {"type": "object", "properties": {
        "command": {"type": "string"}}, "required": ["command"]})]
    assert chat.stream is True


def test_sdk_count_tokens_capture():
    capture = load("sdk-anthropic/0035")
    chat = parse_count_tokens_request(capture["body"])
    assert (chat.model, chat.max_tokens, chat.messages[0].text()) == ("x", None, "hi")


# ---------------------------------------------------------------- top-level options

def test_system_blocks_join_in_order_and_skip_empty():
    chat = parse(system=[{"type": "text", "text": "first line"},
                         {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
                         {"type": "text", "text": "second", "cache_control": {"type": "ephemeral"}}])
    assert chat.system == "first line\n\nsecond"
    assert parse(system="plain").system == "plain"


def test_sampling_and_stop_options():
    chat = parse(temperature=0.5, top_p=1, top_k=40, stop_sequences=["END", ""], stream=True)
    assert (chat.temperature, chat.top_p, chat.stop_sequences, chat.stream) == (0.5, 1.0, ["END"], True)


def test_integral_float_max_tokens_is_accepted():
    assert parse(max_tokens=100.0).max_tokens == 100


def test_tolerated_fields_are_ignored():
    chat = parse(context_management={"edits": []}, service_tier="auto", container="c",
                 mcp_servers=[{"type": "url", "url": "https://x", "name": "m"}],
                 metadata={"user_id": None}, output_config={"effort": "high"})
    assert chat.thinking is None and chat.session_key is None


@pytest.mark.parametrize("raw, expected", [
    ({"type": "enabled", "budget_tokens": 2048}, Thinking(mode="enabled", budget_tokens=2048)),
    ({"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
     Thinking(mode="enabled", budget_tokens=2048, include=False)),
    ({"type": "adaptive"}, Thinking(mode="adaptive")),
    ({"type": "adaptive", "display": "summarized"}, Thinking(mode="adaptive")),
    ({"type": "between_tools"}, Thinking(mode="adaptive")),
    ({"type": "disabled"}, None),
])
def test_thinking_modes(raw, expected):
    assert parse(thinking=raw).thinking == expected


def test_effort_goes_to_thinking():
    chat = parse(thinking={"type": "adaptive"}, output_config={"effort": "XHigh"})
    assert chat.thinking == Thinking(mode="adaptive", effort="xhigh")


@pytest.mark.parametrize("raw, expected", [
    (None, ToolChoice()),
    ({"type": "auto", "disable_parallel_tool_use": True}, ToolChoice()),
    ({"type": "any"}, ToolChoice(mode="any")),
    ({"type": "none"}, ToolChoice(mode="none")),
    ({"type": "tool", "name": "Bash"}, ToolChoice(mode="tool", name="Bash")),
])
def test_tool_choice(raw, expected):
    assert parse(tool_choice=raw).tool_choice == expected


def test_tools_tolerate_extra_keys_and_web_search_becomes_chat_web_search():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {}, "additionalProperties": False}
    chat = parse(tools=[
        {"name": "Deferred", "description": "d", "input_schema": schema, "defer_loading": True,
         "cache_control": {"type": "ephemeral"}, "strict": True},
        {"type": "custom", "name": "Custom", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ])
    assert chat.tools == [Tool("Deferred", "d", schema), Tool("Custom", "", {"type": "object"})]
    assert chat.web_search == WebSearch(tool_name="web_search", max_uses=5)


def test_newer_web_search_version_without_max_uses():
    chat = parse(tools=[{"type": "web_search_20260318", "name": "web_search",
                         "allowed_domains": ["example.com"]}])
    assert (chat.tools, chat.web_search) == ([], WebSearch())


def test_structured_output_from_output_config_or_output_format():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    expected = ResponseFormat(type="json_schema", schema=schema)
    assert parse(output_config={"format": {"type": "json_schema", "schema": schema}}).response_format == expected
    assert parse(output_format={"type": "json_schema", "schema": schema}).response_format == expected


@pytest.mark.parametrize("headers, metadata, expected", [
    ({"X-Claude-Code-Session-Id": "sess-h"}, {"user_id": '{"session_id":"sess-m"}'}, "sess-h"),
    ({}, {"user_id": '{"device_id":"d","account_uuid":"","session_id":"sess-m"}'}, "sess-m"),
    ({}, {"user_id": "user_ab12_account__session_0f3c6a3e-1b2c-4d5e-8f90-123456789abc"},
     "0f3c6a3e-1b2c-4d5e-8f90-123456789abc"),
    ({}, {"user_id": "customer-42"}, "customer-42"),
    ({}, {"user_id": "{not json"}, "{not json"),
    ({"x-claude-code-session-id": "  lower  "}, None, "lower"),
    ({}, None, None),
])
def test_session_key_sources(headers, metadata, expected):
    assert parse(headers, metadata=metadata).session_key == expected


def test_count_tokens_needs_no_max_tokens_and_never_streams():
    chat = parse_count_tokens_request({"model": "m", "stream": True,
                                       "messages": [{"role": "user", "content": "hi"}]})
    assert (chat.max_tokens, chat.stream) == (None, False)


def test_count_tokens_still_checks_max_tokens_when_given():
    with pytest.raises(ProxyError) as caught:
        parse_count_tokens_request({"model": "m", "max_tokens": "x",
                                    "messages": [{"role": "user", "content": "hi"}]})
    assert caught.value.message == "max_tokens: Input should be a valid integer"


# ---------------------------------------------------------------- top-level errors

@pytest.mark.parametrize("data, message, param", [
    (["not", "an", "object"], "body: Input should be a valid dictionary (a JSON object)", "body"),
    (body(model=None), "model: Field required", "model"),
    (body(model=5), "model: Input should be a valid string", "model"),
    (body(model=""), "model: String should have at least 1 character", "model"),
    (body(max_tokens=None), "max_tokens: Field required", "max_tokens"),
    (body(max_tokens="x"), "max_tokens: Input should be a valid integer", "max_tokens"),
    (body(max_tokens=True), "max_tokens: Input should be a valid integer", "max_tokens"),
    (body(max_tokens=0), "max_tokens: Input should be greater than or equal to 1", "max_tokens"),
    (body(messages=None), "messages: Field required", "messages"),
    (body(messages={"role": "user"}), "messages: Input should be a valid list", "messages"),
    (body(messages=[]), "messages: at least one message is required", "messages"),
    (body(stream="yes"), "stream: Input should be a valid boolean", "stream"),
    (body(temperature=1.5), "temperature: Input should be less than or equal to 1", "temperature"),
    (body(temperature="hot"), "temperature: Input should be a valid number", "temperature"),
    (body(top_p=-0.1), "top_p: Input should be greater than or equal to 0", "top_p"),
    (body(stop_sequences="END"), "stop_sequences: Input should be a valid list", "stop_sequences"),
    (body(stop_sequences=["a", 1]), "stop_sequences.1: Input should be a valid string", "stop_sequences.1"),
    (body(system=5), "system: Input should be a valid string or a list of text blocks", "system"),
    (body(system=[{"type": "image"}]), "system.0.type: Input should be 'text'", "system.0.type"),
    (body(metadata="m"), "metadata: Input should be a valid dictionary", "metadata"),
    (body(metadata={"user_id": 7}), "metadata.user_id: Input should be a valid string", "metadata.user_id"),
    (body(output_config=[]), "output_config: Input should be a valid dictionary", "output_config"),
])
def test_top_level_errors(data, message, param):
    err = rejects(data)
    assert (err.message, err.param) == (message, param)


@pytest.mark.parametrize("thinking, message, param", [
    ("on", "thinking: Input should be a valid dictionary", "thinking"),
    ({}, "thinking.type: Field required", "thinking.type"),
    ({"type": "maybe"}, "thinking.type: Input tag 'maybe' found using 'type' does not match any of "
                        "the expected tags: 'enabled', 'adaptive', 'disabled', 'between_tools'",
     "thinking.type"),
    ({"type": "enabled"}, "thinking.budget_tokens: Field required", "thinking.budget_tokens"),
    ({"type": "enabled", "budget_tokens": 0},
     "thinking.budget_tokens: Input should be greater than or equal to 1", "thinking.budget_tokens"),
    ({"type": "adaptive", "display": "full"},
     "thinking.display: Input should be 'summarized' or 'omitted'", "thinking.display"),
])
def test_thinking_errors(thinking, message, param):
    err = rejects(body(thinking=thinking))
    assert (err.message, err.param) == (message, param)


@pytest.mark.parametrize("tools, message, param", [
    ({"name": "x"}, "tools: Input should be a valid list", "tools"),
    (["Bash"], "tools.0: Input should be a valid dictionary", "tools.0"),
    ([{"input_schema": {}}], "tools.0.name: Field required", "tools.0.name"),
    ([{"name": "Bash"}], "tools.0.input_schema: Field required", "tools.0.input_schema"),
    ([{"name": "Bash", "input_schema": "{}"}], "tools.0.input_schema: Input should be a valid dictionary",
     "tools.0.input_schema"),
    ([{"name": "A", "input_schema": {}}, {"name": "A", "input_schema": {}}],
     "tools: Tool names must be unique.", "tools"),
    ([{"type": "bash_20250124", "name": "bash"}],
     "tools.0.type: the Anthropic-defined tool 'bash_20250124' is not supported by this proxy "
     "(only web_search is); define it as a custom tool with an input_schema instead", "tools.0.type"),
    ([{"type": "web_search_20250305", "name": "web_search", "max_uses": 0}],
     "tools.0.max_uses: Input should be greater than or equal to 1", "tools.0.max_uses"),
])
def test_tool_errors(tools, message, param):
    err = rejects(body(tools=tools))
    assert (err.message, err.param) == (message, param)


@pytest.mark.parametrize("choice, message, param", [
    ("auto", "tool_choice: Input should be a valid dictionary", "tool_choice"),
    ({"type": "required"}, "tool_choice.type: Input tag 'required' found using 'type' does not match "
                           "any of the expected tags: 'auto', 'any', 'tool', 'none'", "tool_choice.type"),
    ({"type": "tool"}, "tool_choice.name: Field required", "tool_choice.name"),
])
def test_tool_choice_errors(choice, message, param):
    err = rejects(body(tool_choice=choice))
    assert (err.message, err.param) == (message, param)


def test_output_format_errors():
    err = rejects(body(output_config={"format": {"type": "json_object"}}))
    assert (err.message, err.param) == (
        "output_config.format.type: Input tag 'json_object' found using 'type' does not match any of "
        "the expected tags: 'json_schema'", "output_config.format.type")
    err = rejects(body(output_format={"type": "json_schema"}))
    assert (err.message, err.param) == ("output_format.schema: Field required", "output_format.schema")
