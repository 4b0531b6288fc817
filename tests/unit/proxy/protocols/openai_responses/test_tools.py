"""Tests for Responses tools and tool_choice -> neutral Tools, ToolChoice and the client-tool registry."""
import pytest

from proxy.chat import Tool, ToolChoice, WebSearch
from proxy.errors import ProxyError
from proxy.protocols.openai_responses import parse
from proxy.protocols.openai_responses.context import ClientTool
from proxy.protocols.openai_responses.tools import (LOCAL_SHELL_DESCRIPTION, LOCAL_SHELL_SCHEMA,
                                                    TOOL_SEARCH_SCHEMA, freeform_schema)

FUNCTION = {"type": "function", "name": "get_weather", "description": "Weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": True}


def parsed_with(tools, tool_choice=None):
    """The ParsedRequest of a one-message request offering `tools`."""
    request = {"model": "m", "input": "hi", "tools": tools}
    if tool_choice is not None:
        request["tool_choice"] = tool_choice
    return parse(request)


def refused(tools, tool_choice=None) -> ProxyError:
    """The error a request with these tools is refused with."""
    with pytest.raises(ProxyError) as info:
        parsed_with(tools, tool_choice)
    return info.value


def test_function_tool_keeps_its_schema():
    parsed = parsed_with([FUNCTION, {"type": "function", "name": "ping"}])
    assert parsed.chat.tools == [
        Tool("get_weather", "Weather for a city.", FUNCTION["parameters"]),
        Tool("ping", "", {"type": "object", "properties": {}}),
    ]
    assert parsed.context.tools["get_weather"] == ClientTool("function", "get_weather")


def test_custom_text_tool():
    parsed = parsed_with([{"type": "custom", "name": "note", "description": "Write a note.",
                           "format": {"type": "text"}}])
    assert parsed.chat.tools == [Tool(
        "note",
        "Write a note.\n\nThis is a freeform tool: pass its raw input text as the string argument `input` "
        "(the text itself is not JSON).",
        {"type": "object", "properties": {"input": {"type": "string",
                                                    "description": "The raw input text for this tool."}},
         "required": ["input"]})]
    assert parsed.context.tools["note"] == ClientTool("custom", "note")


def test_custom_grammar_tool():
    tool = parsed_with([{"type": "custom", "name": "calc",
                         "format": {"type": "grammar", "syntax": "regex", "definition": "\\d+\n"}}]).chat.tools[0]
    assert tool.description == (
        "This is a freeform tool: pass its raw input text as the string argument `input` (the text itself is "
        "not JSON). The text must match this regex grammar:\n```\n\\d+\n```")
    assert tool.schema == freeform_schema(
        "The raw input text; it must match the regex grammar in the tool description.")


def test_local_shell_and_tool_search():
    parsed = parsed_with([{"type": "local_shell"}, {"type": "tool_search", "execution": "client"}])
    assert parsed.chat.tools[0] == Tool("local_shell", LOCAL_SHELL_DESCRIPTION, LOCAL_SHELL_SCHEMA)
    assert parsed.chat.tools[1].name == "tool_search" and parsed.chat.tools[1].schema == TOOL_SEARCH_SCHEMA
    assert parsed.context.tools == {"local_shell": ClientTool("local_shell", "local_shell"),
                                    "tool_search": ClientTool("tool_search", "tool_search")}


def test_namespace_is_flattened():
    parsed = parsed_with([{"type": "namespace", "name": "crm", "description": "CRM tools", "tools": [
        {"type": "function", "name": "lookup", "parameters": {"type": "object"}},
        {"type": "custom", "name": "script"}]}])
    assert [t.name for t in parsed.chat.tools] == ["crm__lookup", "crm__script"]
    assert parsed.context.tools == {"crm__lookup": ClientTool("function", "lookup", "crm"),
                                    "crm__script": ClientTool("custom", "script", "crm")}


@pytest.mark.parametrize("tool", [
    {"type": "web_search"},
    {"type": "web_search", "external_web_access": False, "search_content_types": ["text", "image"]},
    {"type": "web_search_preview", "search_context_size": "low"},
    {"type": "web_search_2025_08_26"},
])
def test_any_web_search_variant_offers_web_search(tool):
    parsed = parsed_with([tool])
    assert parsed.chat.web_search == WebSearch("web_search")
    assert parsed.chat.tools == []


def test_hosted_and_unknown_tools_are_ignored_with_warnings():
    parsed = parsed_with([{"type": "file_search", "vector_store_ids": ["vs"]}, {"type": "image_generation"},
                          {"type": "mcp", "server_label": "x"}, {"type": "hologram"}, FUNCTION])
    assert [t.name for t in parsed.chat.tools] == ["get_weather"]
    assert parsed.warnings == [
        "tools[0]: the hosted tool 'file_search' is not available through this proxy; ignored.",
        "tools[1]: the hosted tool 'image_generation' is not available through this proxy; ignored.",
        "tools[2]: the hosted tool 'mcp' is not available through this proxy; ignored.",
        "tools[3]: unknown tool type 'hologram'; ignored.",
    ]


def test_repeated_tools_are_declared_once():
    assert [t.name for t in parsed_with([FUNCTION, FUNCTION]).chat.tools] == ["get_weather"]


@pytest.mark.parametrize("choice, expected", [
    (None, ToolChoice("auto")),
    ("auto", ToolChoice("auto")),
    ("none", ToolChoice("none")),
    ("required", ToolChoice("any")),
    ({"type": "function", "name": "get_weather"}, ToolChoice("tool", "get_weather")),
    ({"type": "custom", "name": "script"}, ToolChoice("tool", "crm__script")),
    ({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]},
     ToolChoice("any")),
    ({"type": "web_search_preview"}, ToolChoice("tool", "web_search")),
])
def test_tool_choice(choice, expected):
    tools = [FUNCTION, {"type": "web_search"},
             {"type": "namespace", "name": "crm", "description": "", "tools": [{"type": "custom", "name": "script"}]}]
    assert parsed_with(tools, choice).chat.tool_choice == expected


@pytest.mark.parametrize("tools, choice, message, param", [
    ([FUNCTION], "sometimes", "tool_choice must be 'auto', 'none', 'required' or an object.", "tool_choice"),
    ([], "required", "tool_choice is 'required' but the request offers no tools.", "tool_choice"),
    ([FUNCTION], {"type": "function", "name": "nope"},
     "tool_choice names the tool 'nope', which is not among the request's tools.", "tool_choice.name"),
    ([FUNCTION], {"type": "function"}, "tool_choice.name is required and must be a string.", "tool_choice.name"),
    ([FUNCTION], {"type": "file_search"}, "tool_choice of type 'file_search' is not supported here (the tool is "
                                          "not offered or not available through this proxy).", "tool_choice.type"),
    ([FUNCTION], {"type": "allowed_tools", "mode": "sometimes"}, "tool_choice.mode must be 'auto' or 'required'.",
     "tool_choice.mode"),
    ({}, None, "tools must be an array of tools.", "tools"),
    (["x"], None, "tools[0] must be an object.", "tools[0]"),
    ([{"name": "f"}], None, "tools[0].type is required and must be a string.", "tools[0].type"),
    ([{"type": "function"}], None, "tools[0].name is required and must be a non-empty string.", "tools[0].name"),
    ([{"type": "function", "name": "f", "parameters": "x"}], None,
     "tools[0].parameters must be a JSON Schema object.", "tools[0].parameters"),
    ([{"type": "function", "name": "f", "description": 1}], None, "tools[0].description must be a string.",
     "tools[0].description"),
    ([{"type": "custom", "name": "c", "format": "lark"}], None, "tools[0].format must be an object.",
     "tools[0].format"),
    ([{"type": "custom", "name": "c", "format": {"type": "grammar", "syntax": "lark"}}], None,
     "tools[0].format.definition is required for a grammar format.", "tools[0].format.definition"),
    ([{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}], None,
     "tools[0].tools[0]: a namespace may hold only function and custom tools, not 'web_search'.",
     "tools[0].tools[0].type"),
])
def test_bad_tools_name_the_field(tools, choice, message, param):
    err = refused(tools, choice)
    assert (err.message, err.param) == (message, param)
