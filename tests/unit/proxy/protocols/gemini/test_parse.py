"""Tests for the Gemini request parser: real Gemini CLI / SDK captures and request options."""
import pytest

from proxy.chat import (ImagePart, ResponseFormat, TextPart, Thinking, ThinkingPart, Tool,
                        ToolCallPart, ToolChoice, ToolResultPart, WebSearch)
from proxy.protocols.gemini.parse import parse, parse_count_tokens
from tests.unit.proxy.protocols.gemini.conftest import load_capture

HELLO = [{"role": "user", "parts": [{"text": "hi"}]}]


def body(**fields) -> dict:
    """A minimal valid GenerateContentRequest; keyword arguments add or replace fields."""
    data = {"contents": HELLO}
    data.update(fields)
    return data


def config(**generation) -> dict:
    """A body with the given generationConfig."""
    return body(generationConfig=generation)


# ------------------------------------------------------------------ captures

def test_cli_router_call_converts_upper_case_schema_and_thinking_level():
    """The router's classifier call: two user turns, OBJECT schema, thinkingLevel HIGH."""
    chat = parse(load_capture("gemini-cli", "0023")["body"], "gemini-3.5-flash-lite")
    assert chat.model == "gemini-3.5-flash-lite" and chat.stream is False
    assert [m.role for m in chat.messages] == ["user", "user"]
    assert chat.messages[1].parts == [TextPart("say hello")]
    assert chat.system.startswith("\nYou are a specialized Task Routing AI.")
    assert chat.response_format == ResponseFormat(type="json_schema", name="response", schema={
        "type": "object", "properties": {
            "complexity_reasoning": {"type": "string", "description": "Brief explanation for the score."},
            "complexity_score": {"type": "integer", "description": "Complexity score from 1-100."}},
        "required": ["complexity_reasoning", "complexity_score"]})
    assert chat.thinking == Thinking(mode="adaptive", effort="high", include=True)
    assert chat.tools == [] and chat.session_key is None
    assert (chat.temperature, chat.top_p) == (1.0, 0.95)


def test_cli_streamed_hello_without_yolo_has_eight_tools():
    """The read-only tool set of a plain `gemini -p` run, thinkingBudget 8192."""
    chat = parse(load_capture("gemini-cli", "0032")["body"], "gemini-2.5-flash", stream=True)
    assert chat.stream is True
    assert [t.name for t in chat.tools] == ["update_topic", "list_directory", "read_file",
                                            "grep_search", "glob", "google_web_search",
                                            "enter_plan_mode", "invoke_agent"]
    assert chat.thinking == Thinking(mode="enabled", budget_tokens=8192, include=True)
    assert chat.web_search is None  # google_web_search is a client function, not googleSearch
    assert chat.messages[0].parts[1] == TextPart("say hello")
    assert all(t.schema.get("type") == "object" for t in chat.tools)


@pytest.mark.parametrize("seq,model,tools", [("0026", "gemini-2.5-flash", 16),
                                             ("0031", "gemini-3.8-flash", 15)])
def test_cli_tool_round_trip_pairs_call_and_result(seq, model, tools):
    """The second turn of a tool run: the CLI's invented id pairs the call and the result."""
    capture = load_capture("gemini-cli", seq)["body"]
    chat = parse(capture, model, stream=True)
    assert len(chat.tools) == tools
    shell = next(t for t in chat.tools if t.name == "run_shell_command")
    assert shell.schema["required"] == ["command"]
    call_msg, result_msg = chat.messages[1], chat.messages[2]
    call_id = capture["contents"][1]["parts"][0]["functionCall"]["id"]
    assert call_msg.role == "assistant" and result_msg.role == "user"
    assert call_msg.parts == [ToolCallPart(id=call_id, name="run_shell_command", arguments={
        "command": "echo rtok_capture | tr a-z A-Z", "description": "Run the requested command"})]
    [result] = result_msg.parts
    assert isinstance(result, ToolResultPart) and result.call_id == call_id
    assert result.content.startswith("<untrusted_context>\nOutput: RTOK_CAPTURE\n")
    assert result.is_error is False


@pytest.mark.parametrize("seq", ["0024", "0025", "0027", "0028", "0029", "0030"])
def test_every_other_cli_capture_parses(seq):
    """The remaining Gemini CLI captures parse without error and keep their turns."""
    capture = load_capture("gemini-cli", seq)
    chat = parse(capture["body"], "gemini-x")
    assert len(chat.messages) == len(capture["body"]["contents"])
    assert chat.thinking is not None and chat.thinking.include is True


def test_sdk_snake_case_parameters_json_schema():
    """google-genai (Python) sends parameters_json_schema in snake_case."""
    chat = parse(load_capture("sdk-genai", "0042")["body"], "gemini-2.5-flash", stream=True)
    assert chat.tools == [Tool("run_shell_command", "", {
        "type": "object", "properties": {"command": {"type": "string"}}})]
    assert chat.thinking is None and chat.response_format is None


def test_sdk_json_schema_response():
    """responseMimeType application/json + responseJsonSchema -> json_schema."""
    chat = parse(load_capture("sdk-genai", "0043")["body"], "gemini-2.5-flash")
    assert chat.response_format.type == "json_schema"
    assert chat.response_format.schema["properties"]["next_speaker"] == {
        "type": "string", "enum": ["model", "user"]}


def test_sdk_plain_generate_and_count_tokens():
    """The SDK's hello and countTokens bodies."""
    chat = parse(load_capture("sdk-genai", "0041")["body"], "gemini-2.5-flash")
    assert chat.messages[0].parts == [TextPart("say hello")] and chat.system == ""
    counted = parse_count_tokens(load_capture("sdk-genai", "0044")["body"], "gemini-2.5-flash")
    assert counted.messages[0].parts == [TextPart("hello")]


def test_count_tokens_accepts_a_whole_generate_content_request():
    """countTokens with generateContentRequest parses the inner request (its model is ignored)."""
    chat = parse_count_tokens({"generateContentRequest": {
        "model": "models/x", "contents": HELLO, "systemInstruction": "be brief"}}, "m")
    assert chat.model == "m" and chat.system == "be brief"


# ------------------------------------------------------------------ contents

def test_roles_and_system_instruction_forms():
    """model -> assistant, function -> user; systemInstruction as Content or plain string."""
    chat = parse(body(contents=[{"parts": [{"text": "a"}]}, {"role": "model", "parts": [{"text": "b"}]},
                                {"role": "function", "parts": [{"text": "c"}]}],
                      system_instruction={"role": "system", "parts": [{"text": "x"}, {"text": "y"}]}), "m")
    assert [m.role for m in chat.messages] == ["user", "assistant", "user"]
    assert chat.system == "x\ny"
    assert parse(body(systemInstruction="plain"), "m").system == "plain"


def test_images_thoughts_and_signature_only_parts():
    """inlineData images (URL-safe base64 normalised), thought parts merged, bare signatures dropped."""
    chat = parse(body(contents=[
        {"role": "user", "parts": [{"inline_data": {"mime_type": "image/jpg", "data": "-_8="}},
                                   {"text": "what?", "thought": True}]},
        {"role": "model", "parts": [{"text": "Let me ", "thought": True},
                                    {"text": "see.", "thought": True, "thoughtSignature": "c2ln"},
                                    {"text": "A cat."}, {"text": "", "thoughtSignature": "eA=="}]}]), "m")
    assert chat.messages[0].parts == [ImagePart("image/jpeg", "+/8=")]
    assert chat.messages[1].parts == [ThinkingPart("Let me see.", "c2ln"), TextPart("A cat.")]


def test_function_calls_without_ids_pair_by_name_and_order():
    """No ids anywhere: deterministic ids from position, results matched by name in order."""
    contents = [
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "read", "args": {"p": "a"}}},
                                    {"functionCall": {"name": "read", "args": {"p": "b"}}},
                                    {"functionCall": {"name": "ls"}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "ls", "response": {"output": "x"}}},
                                   {"functionResponse": {"name": "read", "response": {"content": {"n": 1}}}},
                                   {"functionResponse": {"name": "read", "response": {"error": "boom"}}}]}]
    chat = parse(body(contents=contents), "m")
    calls, results = chat.messages[1].parts, chat.messages[2].parts
    assert [c.id for c in calls] == ["call_1_0_read", "call_1_1_read", "call_1_2_ls"]
    assert calls[2].arguments == {}
    assert results == [ToolResultPart("call_1_2_ls", "x"), ToolResultPart("call_1_0_read", '{"n": 1}'),
                       ToolResultPart("call_1_1_read", "boom", is_error=True)]
    assert parse(body(contents=contents), "m") == chat  # deterministic


def test_ids_pair_by_id_and_the_cli_name_prefix_is_undone():
    """Our id comes back as `<name>__<id>` from Gemini CLI; both sides get the original back."""
    chat = parse(body(contents=[
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [{"functionCall": {"id": "run__tooluse_A", "name": "run", "args": {}}},
                                    {"functionCall": {"id": "run__tooluse_B", "name": "run", "args": {}}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"id": "run__tooluse_B", "name": "run", "response": {"output": "b"}}},
            {"functionResponse": {"id": "unknown", "name": "run", "response": {"k": 1}}}]}]), "m")
    assert [c.id for c in chat.messages[1].parts] == ["tooluse_A", "tooluse_B"]
    assert chat.messages[2].parts == [ToolResultPart("tooluse_B", "b"),
                                      ToolResultPart("tooluse_A", '{"k": 1}')]


def test_function_response_image_parts():
    """A multimodal function response keeps its images."""
    chat = parse(body(contents=[
        {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "shot"}}]},
        {"role": "user", "parts": [{"functionResponse": {
            "id": "c1", "name": "shot", "response": {},
            "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}}]}]), "m")
    assert chat.messages[1].parts == [ToolResultPart("c1", "", images=[ImagePart("image/png", "AA==")])]


# ------------------------------------------------------------------ tools and options

def test_openapi_parameters_are_converted_and_google_search_is_web_search():
    """`parameters` (OpenAPI style) -> JSON Schema; googleSearch (either spelling) -> web search."""
    chat = parse(body(tools=[{"functionDeclarations": [{"name": "f", "description": "d", "parameters": {
        "type": "OBJECT", "properties": {"x": {"type": "STRING", "nullable": True}}}}, {"name": "g"}]},
        {"google_search": {}}]), "m")
    assert chat.tools == [Tool("f", "d", {"type": "object", "properties": {"x": {"type": ["string", "null"]}}}),
                          Tool("g", "", {"type": "object", "properties": {}})]
    assert chat.web_search == WebSearch(tool_name="google_search")
    assert parse(body(tools=[{"googleSearchRetrieval": {}}]), "m").web_search is not None


@pytest.mark.parametrize("calling,choice,names", [
    ({"mode": "AUTO"}, ToolChoice("auto"), ["a", "b"]),
    ({"mode": "VALIDATED"}, ToolChoice("auto"), ["a", "b"]),
    ({"mode": "NONE"}, ToolChoice("none"), ["a", "b"]),
    ({"mode": "ANY"}, ToolChoice("any"), ["a", "b"]),
    ({"mode": "ANY", "allowedFunctionNames": ["b"]}, ToolChoice("tool", "b"), ["b"]),
    ({"mode": "any", "allowed_function_names": ["a", "b"]}, ToolChoice("any"), ["a", "b"]),
])
def test_function_calling_config(calling, choice, names):
    """Modes map to ToolChoice; allowed names filter the tool list."""
    chat = parse(body(tools=[{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}],
                      toolConfig={"functionCallingConfig": calling}), "m")
    assert chat.tool_choice == choice
    assert [t.name for t in chat.tools] == names


def test_generation_config_limits_and_stops():
    """maxOutputTokens, temperature, topP (topK ignored), stopSequences, snake_case too."""
    chat = parse(config(max_output_tokens="256", temperature=0, topP=0.5, topK=40,
                        stopSequences=["END", ""], candidateCount=1, seed=3), "m")
    assert (chat.max_tokens, chat.temperature, chat.top_p) == (256, 0.0, 0.5)
    assert chat.stop_sequences == ["END"]


@pytest.mark.parametrize("thinking,expected", [
    ({"thinkingBudget": 0, "includeThoughts": True}, None),
    ({"thinkingBudget": -1}, Thinking(mode="adaptive", include=False)),
    ({"thinking_budget": 2048, "include_thoughts": True}, Thinking(mode="enabled", budget_tokens=2048)),
    ({"thinkingLevel": "LOW"}, Thinking(mode="adaptive", effort="low", include=False)),
    ({"thinkingLevel": "medium", "includeThoughts": True}, Thinking(mode="adaptive", effort="medium")),
    ({"thinkingLevel": "MINIMAL"}, Thinking(mode="adaptive", effort="low", include=False)),
    ({"includeThoughts": True}, Thinking(mode="adaptive")),
    ({"includeThoughts": False}, None),
    ({}, None),
])
def test_thinking_config(thinking, expected):
    """Budgets, levels and includeThoughts as the neutral Thinking."""
    assert parse(config(thinkingConfig=thinking), "m").thinking == expected


def test_response_formats():
    """application/json alone is json_object; responseSchema (OpenAPI) is converted; text/plain is none."""
    assert parse(config(responseMimeType="application/json"), "m").response_format == \
        ResponseFormat(type="json_object")
    fmt = parse(config(response_mime_type="application/json",
                       response_schema={"type": "ARRAY", "items": {"type": "STRING"}}), "m").response_format
    assert fmt == ResponseFormat(type="json_schema", name="response",
                                 schema={"type": "array", "items": {"type": "string"}})
    assert parse(config(responseMimeType="text/plain"), "m").response_format is None


def test_tolerated_fields():
    """safetySettings, labels, thoughtSignature, topK and friends are accepted and ignored."""
    chat = parse(body(safetySettings=[{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
                      labels={"a": "b"}, model="models/other"), "m")
    assert chat.model == "m"
