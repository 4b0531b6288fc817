"""Chat -> Kiro request body: exact payloads for representative chats, and the guards."""
import json
import uuid

import pytest

from proxy.chat import (Chat, ImagePart, Message, ResponseFormat, TextPart, Thinking,
                        ThinkingPart, Tool, ToolCallPart, ToolChoice, ToolResultPart, WebSearch)
from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.naming import hashed_name, safe_name
from proxy.kiro.request import BuiltRequest, build_request

MODEL = "claude-sonnet-4.5"
ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = Tool("get_weather", "Get current weather for a city", WEATHER_SCHEMA)
PNG = ImagePart("image/png", "iVBORw0KGgo=")


def user(*parts) -> Message:
    """A user message; strings become text parts."""
    return Message("user", [TextPart(p) if isinstance(p, str) else p for p in parts])


def assistant(*parts) -> Message:
    """An assistant message; strings become text parts."""
    return Message("assistant", [TextPart(p) if isinstance(p, str) else p for p in parts])


def make_chat(**overrides) -> Chat:
    """A one-line chat; keyword arguments replace any field."""
    values = dict(model="claude-sonnet-4-5", messages=[user("Hello")])
    values.update(overrides)
    return Chat(**values)


def build(chat: Chat, **overrides) -> BuiltRequest:
    """build_request with fixed ids so payloads compare exactly."""
    options = dict(model_id=MODEL, profile_arn=ARN, conversation_id="conv-1", continuation_id="cont-1")
    options.update(overrides)
    return build_request(chat, **options)


def u(content: str, **extra) -> dict:
    """An expected userInputMessage entry."""
    return {"userInputMessage": {"content": content, "modelId": MODEL, "origin": "AI_EDITOR", **extra}}


def a(content: str, **extra) -> dict:
    """An expected assistantResponseMessage entry."""
    return {"assistantResponseMessage": {"content": content, **extra}}


def state(current: dict, history: list | None = None) -> dict:
    """An expected payload around a current message and history."""
    conversation = {"chatTriggerType": "MANUAL", "conversationId": "conv-1",
                    "agentContinuationId": "cont-1", "agentTaskType": "vibe", "currentMessage": current}
    if history:
        conversation["history"] = history
    return {"conversationState": conversation, "profileArn": ARN}


def spec(name: str, description: str, schema: dict) -> dict:
    """An expected toolSpecification."""
    return {"toolSpecification": {"name": name, "description": description,
                                  "inputSchema": {"json": schema}}}


WEATHER_SPEC = spec("get_weather", "Get current weather for a city", WEATHER_SCHEMA)


# ------------------------------------------------------------------ exact payloads

def test_simple_chat_exact_payload_and_bytes():
    built = build(make_chat())
    assert built.payload == state(u("Hello"))
    assert built.body == (
        '{"conversationState":{"chatTriggerType":"MANUAL","conversationId":"conv-1",'
        '"agentContinuationId":"cont-1","agentTaskType":"vibe","currentMessage":{"userInputMessage":'
        '{"content":"Hello","modelId":"claude-sonnet-4.5","origin":"AI_EDITOR"}}},'
        f'"profileArn":"{ARN}"}}').encode()
    assert built.tool_names == {} and not built.thinking_tags and built.web_search_tool is None


def test_body_is_utf8_without_escapes():
    built = build(make_chat(messages=[user("18°C ☁ 雲")]))
    assert "18°C ☁ 雲".encode() in built.body
    assert json.loads(built.body) == built.payload


def test_system_and_enabled_thinking_prefix_the_first_user_turn():
    chat = make_chat(system="x-anthropic-billing-header: cc_version=2.1;\nYou are helpful.\n",
                     thinking=Thinking("enabled", budget_tokens=8000),
                     messages=[user("Hi"), assistant("Hello!"), user("How are you?")])
    built = build(chat)
    prefix = ("x-anthropic-billing-header: cc_version=2.1;\n"
              "<thinking_mode>enabled</thinking_mode><max_thinking_length>8000</max_thinking_length>\n"
              "<system>\nYou are helpful.\n</system>\n\n")
    assert built.payload == state(u("How are you?"), [u(prefix + "Hi"), a("Hello!")])
    assert built.thinking_tags


def test_system_goes_into_current_message_when_there_is_no_history():
    built = build(make_chat(system="Be brief."))
    assert built.payload == state(u("<system>\nBe brief.\n</system>\n\nHello"))


@pytest.mark.parametrize("thinking, tags", [
    (Thinking("enabled"), "<thinking_mode>enabled</thinking_mode><max_thinking_length>20000</max_thinking_length>"),
    (Thinking("enabled", budget_tokens=100), "<thinking_mode>enabled</thinking_mode><max_thinking_length>1024</max_thinking_length>"),
    (Thinking("enabled", budget_tokens=31999), "<thinking_mode>enabled</thinking_mode><max_thinking_length>24576</max_thinking_length>"),
    (Thinking("adaptive"), "<thinking_mode>adaptive</thinking_mode><thinking_effort>high</thinking_effort>"),
    (Thinking("adaptive", effort="medium"), "<thinking_mode>adaptive</thinking_mode><thinking_effort>medium</thinking_effort>"),
    (Thinking("adaptive", effort="max"), "<thinking_mode>adaptive</thinking_mode><thinking_effort>high</thinking_effort>"),
])
def test_thinking_tags(thinking, tags):
    built = build(make_chat(thinking=thinking))
    assert built.payload == state(u(tags + "\n\nHello"))
    assert built.thinking_tags


def test_thinking_not_included_sends_no_tags():
    built = build(make_chat(thinking=Thinking("adaptive", include=False)))
    assert built.payload == state(u("Hello")) and not built.thinking_tags


def test_tool_round_trip_like_the_spec_example():
    chat = make_chat(system="You are a helpful assistant.", tools=[WEATHER], messages=[
        user("What's the weather in Paris?"),
        assistant("Let me check.", ToolCallPart("tooluse_q1Fh7tPb2mKx9sLd0RwZuA", "get_weather",
                                                {"city": "Paris"})),
        user(ToolResultPart("tooluse_q1Fh7tPb2mKx9sLd0RwZuA", "18°C, cloudy"))])
    built = build(chat)
    assert built.payload == state(
        u("Tool results provided.", userInputMessageContext={
            "tools": [WEATHER_SPEC],
            "toolResults": [{"toolUseId": "tooluse_q1Fh7tPb2mKx9sLd0RwZuA",
                             "content": [{"text": "18°C, cloudy"}], "status": "success"}]}),
        [u("<system>\nYou are a helpful assistant.\n</system>\n\nWhat's the weather in Paris?"),
         a("Let me check.", toolUses=[{"toolUseId": "tooluse_q1Fh7tPb2mKx9sLd0RwZuA",
                                       "name": "get_weather", "input": {"city": "Paris"}}])])
    assert built.tool_names == {"get_weather": "get_weather"}


def test_previous_thinking_is_replayed_and_error_results_keep_status():
    chat = make_chat(tools=[WEATHER], messages=[
        user("Weather?"),
        assistant(ThinkingPart("Need the tool.", "sig"), "Checking.", ToolCallPart("t1", "get_weather", {"city": "Oslo"})),
        user(ToolResultPart("t1", "service down", is_error=True), "Try again?")])
    built = build(chat)
    assert built.payload == state(
        u("Try again?", userInputMessageContext={"tools": [WEATHER_SPEC], "toolResults": [
            {"toolUseId": "t1", "content": [{"text": "service down"}], "status": "error"}]}),
        [u("Weather?"), a("<thinking>Need the tool.</thinking>\n\nChecking.",
                          toolUses=[{"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}])])


def test_images_in_user_and_tool_result_turns():
    jpeg = ImagePart("image/jpeg", "/9j/4AAQ")
    chat = make_chat(tools=[WEATHER], messages=[
        user("What is this?", PNG), assistant(ToolCallPart("t1", "get_weather", {"city": "X"})),
        user(ToolResultPart("t1", "", images=[jpeg]))])
    built = build(chat)
    assert built.payload == state(
        u("Tool results provided.", images=[{"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}],
          userInputMessageContext={"tools": [WEATHER_SPEC], "toolResults": [
              {"toolUseId": "t1", "content": [{"text": "(empty)"}], "status": "success"}]}),
        [u("What is this?", images=[{"format": "png", "source": {"bytes": "iVBORw0KGgo="}}]),
         a(" ", toolUses=[{"toolUseId": "t1", "name": "get_weather", "input": {"city": "X"}}])])


def test_data_url_images_are_reduced_to_base64():
    built = build(make_chat(messages=[user("see", ImagePart("image/webp", "data:image/webp;base64,UklGRg=="))]))
    assert built.payload == state(u("see", images=[{"format": "webp", "source": {"bytes": "UklGRg=="}}]))


def test_orphans_on_both_sides_become_text():
    chat = make_chat(tools=[WEATHER], messages=[
        user(ToolResultPart("gone", "stale output"), "Start"),
        assistant("Sure.", ToolCallPart("t1", "get_weather", {"city": "Rome"})),
        user("never mind")])
    built = build(chat)
    assert built.payload == state(
        u("never mind", userInputMessageContext={"tools": [WEATHER_SPEC]}),
        [u("[Tool result for gone]: stale output\n\nStart"),
         a('Sure.\n\n[Called get_weather with args: {"city": "Rome"}]')])


def test_consecutive_assistants_are_merged():
    chat = make_chat(messages=[user("Hi"), assistant("Hel"), assistant("lo"), user("again")])
    assert build(chat).payload == state(u("again"), [u("Hi"), a("Hel\n\nlo")])


def test_trailing_assistant_moves_to_history_with_continue():
    chat = make_chat(messages=[user("Write a haiku"), assistant("Autumn")])
    assert build(chat).payload == state(u("Continue"), [u("Write a haiku"), a("Autumn")])


def test_long_and_odd_tool_names_are_shortened_and_restored():
    long_name = "mcp__some_server__" + "very_long_tool_name_" * 4
    dotted = "files.read"
    chat = make_chat(tools=[Tool(long_name, "Long", {"type": "object"}), Tool(dotted, "Read", {})],
                     messages=[user("go"), assistant(ToolCallPart("t1", long_name, {})),
                               user(ToolResultPart("t1", "done"))])
    built = build(chat)
    short, safe_dotted = safe_name(long_name), safe_name(dotted)
    assert len(short) == 64 and safe_dotted == hashed_name(dotted)
    assert built.tool_names == {short: long_name, safe_dotted: dotted}
    context = built.payload["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]
    assert [t["toolSpecification"]["name"] for t in context["tools"]] == [short, safe_dotted]
    history = built.payload["conversationState"]["history"]
    assert history[1] == a(" ", toolUses=[{"toolUseId": "t1", "name": short, "input": {}}])


def test_schemas_are_cleaned():
    tools = [Tool("mcp_tool", "An MCP tool", {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                              "type": "object", "properties": None, "required": None}),
             Tool("Deferred", "Loaded later", {"type": "object", "properties": {}, "defer_loading": True}),
             Tool("plain", "Plain", {"type": "object", "properties": {"a": {"type": "string"}},
                                     "required": []})]
    context = build(make_chat(tools=tools)).payload["conversationState"]["currentMessage"][
        "userInputMessage"]["userInputMessageContext"]
    assert context == {"tools": [
        spec("mcp_tool", "An MCP tool", {"type": "object", "properties": {}}),
        spec("Deferred", "Loaded later", {"type": "object", "properties": {}}),
        spec("plain", "Plain", {"type": "object", "properties": {"a": {"type": "string"}}})]}


def test_descriptions_get_placeholder_and_are_truncated():
    tools = [Tool("empty", "  ", {}), Tool("long", "x" * 50, {})]
    context = build(make_chat(tools=tools), max_tool_description=20).payload[
        "conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]
    descriptions = [t["toolSpecification"]["description"] for t in context["tools"]]
    assert descriptions == ["No description provided.", "x" * 17 + "..."]


def test_history_tools_no_longer_declared_get_placeholder_specs():
    chat = make_chat(messages=[user("go"), assistant(ToolCallPart("t1", "OldTool", {"a": 1})),
                               user(ToolResultPart("t1", "ok"))])
    built = build(chat)
    message = built.payload["conversationState"]["currentMessage"]["userInputMessage"]
    assert message["userInputMessageContext"]["tools"] == [
        spec("OldTool", "Tool used in conversation history.", {"type": "object", "properties": {}})]
    assert built.tool_names == {"OldTool": "OldTool"}


def test_history_tool_matching_a_declared_one_case_insensitively_adds_no_placeholder():
    chat = make_chat(tools=[Tool("Read", "Read a file", {})],
                     messages=[user("go"), assistant(ToolCallPart("t1", "read", {})),
                               user(ToolResultPart("t1", "ok"))])
    context = build(chat).payload["conversationState"]["currentMessage"]["userInputMessage"][
        "userInputMessageContext"]
    assert [t["toolSpecification"]["name"] for t in context["tools"]] == ["Read"]


def test_repeated_tool_declarations_are_sent_once():
    context = build(make_chat(tools=[WEATHER, WEATHER])).payload["conversationState"][
        "currentMessage"]["userInputMessage"]["userInputMessageContext"]
    assert context == {"tools": [WEATHER_SPEC]}


# ------------------------------------------------------------------ prompt options

def test_response_format_json_object_exact_text():
    built = build(make_chat(response_format=ResponseFormat("json_object")))
    assert built.payload == state(u(
        'Hello\n\n<response_format>\nAnswer with one JSON object only, no prose and no code fence. '
        'It must validate against this JSON Schema:\n{"type": "object"}\n</response_format>'))


def test_response_format_json_schema_is_sorted_and_last():
    schema = {"type": "object", "required": ["é"], "properties": {"é": {"type": "string"}}}
    chat = make_chat(response_format=ResponseFormat("json_schema", schema=schema, name="x"),
                     tools=[WEATHER], tool_choice=ToolChoice("none"))
    content = build(chat).payload["conversationState"]["currentMessage"]["userInputMessage"]["content"]
    assert content == (
        "Hello\n\n<tool_choice>\nDo not call any tools in this reply; answer with text only.\n</tool_choice>"
        '\n\n<response_format>\nAnswer with one JSON object only, no prose and no code fence. '
        'It must validate against this JSON Schema:\n'
        '{"properties": {"é": {"type": "string"}}, "required": ["é"], "type": "object"}\n</response_format>')


@pytest.mark.parametrize("choice, instruction", [
    (ToolChoice("auto"), None),
    (ToolChoice("none"), "Do not call any tools in this reply; answer with text only."),
    (ToolChoice("any"), "You must call at least one of the available tools in this reply."),
    (ToolChoice("tool", "get_weather"), "You must call the tool `get_weather` in this reply."),
])
def test_tool_choice_instructions(choice, instruction):
    built = build(make_chat(tools=[WEATHER], tool_choice=choice))
    message = built.payload["conversationState"]["currentMessage"]["userInputMessage"]
    expected = "Hello" if instruction is None else f"Hello\n\n<tool_choice>\n{instruction}\n</tool_choice>"
    assert message["content"] == expected
    assert message["userInputMessageContext"] == {"tools": [WEATHER_SPEC]}  # none keeps specs


def test_tool_choice_uses_the_kiro_name():
    chat = make_chat(tools=[Tool("a.b", "d", {})], tool_choice=ToolChoice("tool", "a.b"))
    content = build(chat).payload["conversationState"]["currentMessage"]["userInputMessage"]["content"]
    assert content.endswith(f"You must call the tool `{safe_name('a.b')}` in this reply.\n</tool_choice>")


def test_tool_choice_without_tools_says_nothing():
    built = build(make_chat(tool_choice=ToolChoice("any")))
    assert built.payload == state(u("Hello"))


def test_tool_choice_naming_an_undeclared_tool_is_a_client_error():
    with pytest.raises(ProxyError) as err:
        build(make_chat(tools=[WEATHER], tool_choice=ToolChoice("tool", "nope")))
    assert err.value.kind is ErrorKind.INVALID_REQUEST and err.value.param == "tool_choice"


def test_web_search_declares_the_proxy_tool():
    built = build(make_chat(tools=[WEATHER], web_search=WebSearch()))
    context = built.payload["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]
    assert context["tools"] == [WEATHER_SPEC, spec(
        "web_search", "Search the web for current information. Returns a list of results, each "
                      "with a title, url and snippet.",
        {"type": "object", "properties": {"query": {"type": "string", "description": "The search query."}},
         "required": ["query"]})]
    assert built.web_search_tool == "web_search"
    assert "web_search" not in built.tool_names


def test_client_function_named_web_search_is_renamed_when_the_proxy_needs_the_name():
    client_tool = Tool("web_search", "Client's own search", {})
    built = build(make_chat(tools=[client_tool], web_search=WebSearch(tool_name="web_search"),
                            tool_choice=ToolChoice("tool", "web_search")))
    names = [t["toolSpecification"]["name"] for t in built.payload["conversationState"]["currentMessage"]
             ["userInputMessage"]["userInputMessageContext"]["tools"]]
    assert names == [hashed_name("web_search"), "web_search"]
    assert built.tool_names == {hashed_name("web_search"): "web_search"}
    content = built.payload["conversationState"]["currentMessage"]["userInputMessage"]["content"]
    assert "`web_search`" in content  # forcing the server search tool


def test_client_function_named_web_search_is_kept_without_web_search():
    built = build(make_chat(tools=[Tool("web_search", "Client's own search", {})]))
    assert built.tool_names == {"web_search": "web_search"} and built.web_search_tool is None


# ------------------------------------------------------------------ envelope and size

def test_profile_arn_omitted_when_absent_and_continuation_is_a_fresh_uuid():
    built = build_request(make_chat(), model_id=MODEL, profile_arn=None, conversation_id="c",
                          origin="KIRO_CLI")
    assert "profileArn" not in built.payload
    conversation = built.payload["conversationState"]
    uuid.UUID(conversation["agentContinuationId"])
    assert conversation["currentMessage"]["userInputMessage"]["origin"] == "KIRO_CLI"
    other = build_request(make_chat(), model_id=MODEL, profile_arn=None, conversation_id="c")
    assert other.payload["conversationState"]["agentContinuationId"] != conversation["agentContinuationId"]


def test_too_large_body_raises_context_too_long():
    chat = make_chat(messages=[user("x" * 700_000)])
    with pytest.raises(ProxyError) as err:
        build(chat)
    assert err.value.kind is ErrorKind.CONTEXT_TOO_LONG
    assert err.value.code == "BODY_TOO_LARGE"
    assert err.value.message.startswith("prompt is too long: ")


def test_body_limit_is_exact():
    size = len(build(make_chat()).body)
    assert build(make_chat(), max_body_bytes=size).body
    with pytest.raises(ProxyError):
        build(make_chat(), max_body_bytes=size - 1)


def test_chat_is_not_modified():
    messages = [user("go"), assistant(ToolCallPart("a.b", "x.y", {})), user(ToolResultPart("a.b", "r"))]
    chat = make_chat(messages=messages, tools=[Tool("x.y", "", {"$schema": "s"})])
    build(chat)
    assert chat.messages[1].parts[0].id == "a.b" and chat.tools[0].schema == {"$schema": "s"}
