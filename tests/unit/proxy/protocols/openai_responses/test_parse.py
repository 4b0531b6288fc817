"""Tests for parsing whole Responses requests: the Codex captures, top-level options and their errors."""
import pytest

from proxy.chat import (ResponseFormat, TextPart, Thinking, ThinkingPart, ToolCallPart, ToolChoice,
                        ToolResultPart, WebSearch)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses import parse
from proxy.protocols.openai_responses.context import ClientTool
from proxy.protocols.openai_responses.tools import freeform_schema

GPT55_TOOLS = ["exec_command", "write_stdin", "request_user_input", "apply_patch", "view_image",
               "get_goal", "create_goal", "update_goal", "tool_search"]


def body(**fields):
    """A minimal valid request body, with overrides."""
    return {"model": "gpt-5.5", "input": "hi", **fields}


def refused(request, headers=None) -> ProxyError:
    """The ProxyError a request is refused with."""
    with pytest.raises(ProxyError) as info:
        parse(request, headers)
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    return info.value


# ---------------------------------------------------------------- captures

def test_hello_gpt55(capture):
    cap = capture("0013")
    parsed = parse(cap["body"], cap["headers"])
    chat = parsed.chat
    assert chat.model == "gpt-5.5" and chat.stream is True
    assert chat.system.startswith("You are Codex, a coding agent based on GPT-5.")
    assert "<skills_instructions>" in chat.system  # the second developer message, after the first
    assert chat.system.index("You are Codex") < chat.system.index("<skills_instructions>")
    assert [m.role for m in chat.messages] == ["user"]
    assert chat.messages[0].parts[0].text.startswith("<environment_context>")
    assert chat.messages[0].parts[1] == TextPart("say hello")
    assert [t.name for t in chat.tools] == GPT55_TOOLS
    assert chat.tool_choice == ToolChoice("auto")
    assert chat.web_search == WebSearch("web_search")
    assert chat.thinking == Thinking(mode="adaptive", effort="medium", include=True)
    assert chat.session_key == "01a21636-c35e-7152-8467-e89e07f63dc5"
    assert chat.response_format is None and chat.max_tokens is None
    assert parsed.warnings == []


def test_gpt55_tool_kinds_are_recorded(capture):
    parsed = parse(capture("0014")["body"])
    tools = parsed.context.tools
    assert tools["exec_command"] == ClientTool("function", "exec_command")
    assert tools["apply_patch"] == ClientTool("custom", "apply_patch")
    assert tools["tool_search"] == ClientTool("tool_search", "tool_search")
    exec_command = next(t for t in parsed.chat.tools if t.name == "exec_command")
    assert exec_command.schema["required"] == ["cmd"]


def test_gpt55_apply_patch_is_freeform_with_its_grammar(capture):
    apply_patch = next(t for t in parse(capture("0014")["body"]).chat.tools if t.name == "apply_patch")
    assert apply_patch.schema == freeform_schema(
        "The raw input text; it must match the lark grammar in the tool description.")
    assert apply_patch.description.startswith("The `apply_patch` tool can be used to edit files.")
    assert "pass its raw input text as the string argument `input`" in apply_patch.description
    assert 'begin_patch: "*** Begin Patch" LF' in apply_patch.description


def test_gpt55_tool_round_trip(capture):
    chat = parse(capture("0015")["body"]).chat
    assert [m.role for m in chat.messages] == ["user", "assistant", "user"]
    assert chat.messages[1].parts == [ToolCallPart("call_8446586344c54a148f6e20c2", "exec_command",
                                                   {"cmd": "echo rtok_capture | tr a-z A-Z"})]
    result = chat.messages[2].parts[0]
    assert isinstance(result, ToolResultPart) and result.call_id == "call_8446586344c54a148f6e20c2"
    assert result.content.endswith("Output:\nRTOK_CAPTURE\n")


def test_gpt55_reasoning_round_trip(capture):
    chat = parse(capture("0017")["body"]).chat
    assistant = chat.messages[1]
    assert assistant.parts[0] == ThinkingPart("**Stub reasoning**\n\nThinking briefly.")
    assert assistant.parts[1] == ToolCallPart("call_7df8c8dc6ef34c34af7403bc", "exec_command",
                                              {"cmd": "echo rtok_capture | tr a-z A-Z"})
    assert chat.messages[2].parts[0].call_id == "call_7df8c8dc6ef34c34af7403bc"


def test_code_mode_tools_come_from_additional_tools(capture):
    parsed = parse(capture("0018")["body"])
    chat = parsed.chat
    assert chat.model == "gpt-6-sol" and chat.web_search is None
    assert [t.name for t in chat.tools] == [
        "functions__exec", "functions__wait", "functions__request_user_input",
        "functions__request_user_input_async", "clock__sleep", "collaboration__followup_task",
        "collaboration__interrupt_agent", "collaboration__list_agents", "collaboration__send_message",
        "collaboration__spawn_agent", "collaboration__wait_agent"]
    assert parsed.context.tools["functions__exec"] == ClientTool("custom", "exec", "functions")
    assert parsed.context.tools["clock__sleep"] == ClientTool("function", "sleep", "clock")
    assert parsed.context.echo["tools"] == []  # no top-level tools: nothing to echo
    assert parsed.context.echo["parallel_tool_calls"] is False
    exec_tool = chat.tools[0]
    assert exec_tool.schema["required"] == ["input"]
    assert "PRAGMA_LINE" in exec_tool.description
    assert chat.thinking == Thinking(mode="adaptive", effort="medium", include=True)


def test_code_mode_round_trip(capture):
    chat = parse(capture("0019")["body"]).chat
    call = chat.messages[1].parts[0]
    assert call == ToolCallPart("call_4d5cdc5ac05c466cb6fa2dad", "functions__exec", {
        "input": 'const r = await tools.exec_command({cmd: "echo rtok_capture | tr a-z A-Z"});\ntext(r);\n'})
    result = chat.messages[2].parts[0]
    assert result.call_id == call.id
    assert result.content.startswith("Script completed\nWall time 0.1 seconds\nOutput:\n\n{")
    assert '"output":"RTOK_CAPTURE\\n"' in result.content


def test_unknown_model_flattens_namespace_and_reasons_at_default_effort(capture):
    parsed = parse(capture("0020")["body"])
    chat = parsed.chat
    assert chat.model == "my-custom-model"
    assert "multi_agent_v1__spawn_agent" in [t.name for t in chat.tools]
    assert "apply_patch" not in [t.name for t in chat.tools]
    assert parsed.context.tools["multi_agent_v1__spawn_agent"] == ClientTool("function", "spawn_agent",
                                                                             "multi_agent_v1")
    assert chat.thinking == Thinking(mode="adaptive", effort="medium", include=True)  # summary "auto"
    assert chat.web_search == WebSearch("web_search")


def test_full_access_web_search_variant(capture):
    chat = parse(capture("0022")["body"]).chat
    assert chat.web_search == WebSearch("web_search")  # external_web_access: true
    assert [m.role for m in chat.messages] == ["user", "assistant", "user"]


def test_every_capture_parses_without_warnings(capture):
    for prefix in ("0013", "0014", "0015", "0016", "0017", "0018", "0019", "0020", "0021", "0022"):
        cap = capture(prefix)
        parsed = parse(cap["body"], cap["headers"])
        assert parsed.warnings == [], prefix
        assert parsed.chat.session_key == cap["body"]["prompt_cache_key"]


# ---------------------------------------------------------------- options

def test_string_input_and_instructions():
    chat = parse(body(instructions="Be brief.", input="hello")).chat
    assert chat.system == "Be brief."
    assert [(m.role, m.parts) for m in chat.messages] == [("user", [TextPart("hello")])]


def test_instructions_come_before_developer_messages():
    chat = parse(body(instructions="A", input=[
        {"role": "developer", "content": "B"},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "input_text", "text": "C"}]},
    ])).chat
    assert chat.system == "A\n\nB\n\nC"


def test_sampling_and_limits():
    chat = parse(body(max_output_tokens=500, temperature=0.2, top_p=0.9, stream=False)).chat
    assert (chat.max_tokens, chat.temperature, chat.top_p, chat.stream) == (500, 0.2, 0.9, False)


def test_accepted_fields_have_no_effect():
    parsed = parse(body(store=True, include=["reasoning.encrypted_content"], parallel_tool_calls=False,
                        metadata={"a": "b"}, client_metadata={"x": "y"}, service_tier="flex",
                        truncation="auto", user="u1", text={"verbosity": "high"}, safety_identifier="s"))
    assert parsed.chat.response_format is None
    assert parsed.context.echo["metadata"] == {"a": "b"}
    assert parsed.context.echo["service_tier"] == "flex"


@pytest.mark.parametrize("reasoning, thinking", [
    ({"effort": "low"}, Thinking("adaptive", effort="low")),
    ({"effort": "high", "summary": "detailed"}, Thinking("adaptive", effort="high")),
    ({"effort": "xhigh"}, Thinking("adaptive", effort="max")),
    ({"effort": "medium", "summary": "none"}, Thinking("adaptive", effort="medium", include=False)),
    ({"summary": "auto"}, Thinking("adaptive", effort="medium")),
    ({"effort": "none"}, None),
    ({"effort": "minimal", "summary": "auto"}, None),
    (None, None),
])
def test_reasoning(reasoning, thinking):
    assert parse(body(reasoning=reasoning)).chat.thinking == thinking


def test_hidden_reasoning_is_not_shown():
    assert parse(body(reasoning={"effort": "low", "summary": "none"})).context.show_reasoning is False
    assert parse(body(reasoning={"effort": "low"})).context.show_reasoning is True


@pytest.mark.parametrize("fmt, expected", [
    ({"type": "text"}, None),
    ({"type": "json_object"}, ResponseFormat("json_object")),
    ({"type": "json_schema", "name": "answer", "strict": True,
      "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
     ResponseFormat("json_schema", {"type": "object", "properties": {"n": {"type": "integer"}}}, "answer")),
])
def test_text_format(fmt, expected):
    assert parse(body(text={"format": fmt, "verbosity": "low"})).chat.response_format == expected


def test_session_key_prefers_prompt_cache_key_then_header():
    assert parse(body(prompt_cache_key="k1"), {"session-id": "s1"}).chat.session_key == "k1"
    assert parse(body(), {"Session-Id": "s1"}).chat.session_key == "s1"
    assert parse(body()).chat.session_key is None


def test_max_tool_calls_caps_web_searches():
    chat = parse(body(tools=[{"type": "web_search"}], max_tool_calls=3)).chat
    assert chat.web_search == WebSearch("web_search", max_uses=3)


# ---------------------------------------------------------------- errors

def test_previous_response_id_is_refused():
    err = refused(body(previous_response_id="resp_123"))
    assert err.message == ("previous_response_id is not supported: this proxy keeps no response state; "
                           "send the full input")
    assert err.param == "previous_response_id"


def test_conversation_is_refused():
    err = refused(body(conversation="conv_1"))
    assert err.message == "conversation is not supported: this proxy keeps no response state; send the full input"
    assert err.param == "conversation"


@pytest.mark.parametrize("request_body, message, param", [
    ([], "The request body must be a JSON object.", None),
    ({"input": "hi"}, "model is required and must be a non-empty string.", "model"),
    (body(model=5), "model is required and must be a non-empty string.", "model"),
    ({"model": "m"}, "input is required: a string or an array of input items.", "input"),
    (body(input=5), "input must be a string or an array of input items.", "input"),
    (body(input=[]), "input holds no user or assistant content.", "input"),
    (body(input=""), "input holds no user or assistant content.", "input"),
    (body(input=[{"role": "developer", "content": "x"}]), "input holds no user or assistant content.", "input"),
    (body(background=True), "background is not supported: this proxy keeps no response state; "
                            "send the request without background.", "background"),
    (body(prompt={"id": "pmpt_1"}), "prompt (stored prompt templates) is not supported: this proxy keeps "
                                    "no response state; send the full input", "prompt"),
    (body(stream="yes"), "stream must be a boolean.", "stream"),
    (body(max_output_tokens=0), "max_output_tokens must be at least 1.", "max_output_tokens"),
    (body(max_output_tokens=1.5), "max_output_tokens must be an integer.", "max_output_tokens"),
    (body(max_output_tokens=True), "max_output_tokens must be an integer.", "max_output_tokens"),
    (body(temperature="hot"), "temperature must be a number.", "temperature"),
    (body(temperature=3), "temperature must be at most 2.", "temperature"),
    (body(top_p=-0.1), "top_p must be at least 0.", "top_p"),
    (body(instructions=["x"]), "instructions must be a string.", "instructions"),
    (body(include="all"), "include must be an array.", "include"),
    (body(include=[1]), "include must be an array of strings.", "include"),
    (body(metadata=[]), "metadata must be an object.", "metadata"),
    (body(prompt_cache_key=1), "prompt_cache_key must be a string.", "prompt_cache_key"),
    (body(reasoning="high"), "reasoning must be an object.", "reasoning"),
    (body(reasoning={"effort": "extreme"}),
     "reasoning.effort must be one of none, minimal, low, medium, high, xhigh, max.", "reasoning.effort"),
    (body(reasoning={"summary": "long"}),
     "reasoning.summary must be one of auto, concise, detailed, none.", "reasoning.summary"),
    (body(text="json"), "text must be an object.", "text"),
    (body(text={"verbosity": "loud"}), "text.verbosity must be one of low, medium, high.", "text.verbosity"),
    (body(text={"format": {"type": "xml"}}),
     "text.format.type must be one of text, json_object, json_schema.", "text.format.type"),
    (body(text={"format": {"type": "json_schema", "name": "x"}}),
     "text.format.schema is required and must be a JSON Schema object.", "text.format.schema"),
])
def test_bad_requests_name_the_field(request_body, message, param):
    err = refused(request_body)
    assert (err.message, err.param) == (message, param)
