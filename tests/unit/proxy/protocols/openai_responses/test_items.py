"""Tests for Responses input items -> neutral turns (messages, tool calls and outputs, reasoning)."""
import pytest

from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.errors import ProxyError
from proxy.protocols.openai_responses import parse

PNG = "iVBORw0KGgo="


def chat_of(*items, tools=None):
    """The Chat parsed from a request with these input items."""
    request = {"model": "gpt-5.5", "input": list(items)}
    if tools is not None:
        request["tools"] = tools
    return parse(request).chat


def refused(*items, tools=None) -> ProxyError:
    """The error a request with these input items is refused with."""
    with pytest.raises(ProxyError) as info:
        chat_of(*items, tools=tools)
    return info.value


USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}


def test_messages_of_both_roles_and_short_form():
    chat = chat_of(
        {"role": "user", "content": "hi"},
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Hello", "annotations": []},
            {"type": "refusal", "refusal": "but no"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]},
    )
    assert chat.messages == [
        Message("user", [TextPart("hi")]),
        Message("assistant", [TextPart("Hello"), TextPart("but no")]),
        Message("user", [TextPart("a"), TextPart("b")]),
    ]


def test_data_url_image():
    chat = chat_of({"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"}]})
    assert chat.messages[0].parts == [TextPart("what is this?"), ImagePart("image/png", PNG)]


def test_function_call_and_output_pair_up():
    chat = chat_of(
        USER,
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}],
         "encrypted_content": "opaque"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Running it."}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command",
         "arguments": '{"cmd": "ls"}', "status": "completed"},
        {"type": "function_call", "call_id": "call_2", "name": "spawn_agent", "namespace": "multi_agent_v1",
         "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
        {"type": "function_call_output", "call_id": "call_2", "output": [
            {"type": "input_text", "text": "spawned"},
            {"type": "input_image", "image_url": f"data:image/jpeg;base64,{PNG}"}]},
    )
    assert chat.messages[1:] == [
        Message("assistant", [ThinkingPart("plan"), TextPart("Running it."),
                              ToolCallPart("call_1", "exec_command", {"cmd": "ls"}),
                              ToolCallPart("call_2", "multi_agent_v1__spawn_agent", {})]),
        Message("user", [ToolResultPart("call_1", "a.txt"),
                         ToolResultPart("call_2", "spawned", images=[ImagePart("image/jpeg", PNG)])]),
    ]


def test_custom_tool_call_and_output():
    chat = chat_of(
        USER,
        {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch\n"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done!"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "exec", "namespace": "functions", "input": "text(1)"},
        {"type": "custom_tool_call_output", "call_id": "c2",
         "output": [{"type": "input_text", "text": "one"}, {"type": "input_text", "text": "two"}]},
    )
    assert chat.messages[1:] == [
        Message("assistant", [ToolCallPart("c1", "apply_patch", {"input": "*** Begin Patch\n"})]),
        Message("user", [ToolResultPart("c1", "Done!")]),
        Message("assistant", [ToolCallPart("c2", "functions__exec", {"input": "text(1)"})]),
        Message("user", [ToolResultPart("c2", "one\ntwo")]),
    ]


def test_local_shell_call_and_output():
    chat = chat_of(
        USER,
        {"type": "local_shell_call", "id": "lsh_1", "call_id": "call_9", "status": "completed",
         "action": {"type": "exec", "command": ["ls", "-la"], "working_directory": "/tmp", "timeout_ms": 5000,
                    "env": {}}},
        {"type": "local_shell_call_output", "id": "call_9", "output": '{"output": "x"}'},
        tools=[{"type": "local_shell"}],
    )
    assert chat.messages[1:] == [
        Message("assistant", [ToolCallPart("call_9", "local_shell",
                                           {"command": ["ls", "-la"], "workdir": "/tmp", "timeout_ms": 5000})]),
        Message("user", [ToolResultPart("call_9", '{"output": "x"}')]),
    ]


def test_tool_search_output_loads_the_tools_it_found():
    deferred = {"type": "function", "name": "calendar_create", "defer_loading": True, "parameters": {}}
    parsed = parse({"model": "m", "tools": [{"type": "tool_search", "execution": "client"}, deferred], "input": [
        USER,
        {"type": "tool_search_call", "call_id": "ts1", "execution": "client", "arguments": {"query": "calendar"}},
        {"type": "tool_search_output", "call_id": "ts1", "execution": "client", "tools": [
            {"type": "function", "name": "calendar_create", "parameters": {"type": "object"}},
            {"type": "namespace", "name": "mail", "description": "", "tools": [
                {"type": "function", "name": "send", "parameters": {"type": "object"}}]}]},
    ]})
    chat = parsed.chat
    assert chat.messages[1:] == [
        Message("assistant", [ToolCallPart("ts1", "tool_search", {"query": "calendar"})]),
        Message("user", [ToolResultPart("ts1", "Tools now available: calendar_create, mail__send")]),
    ]
    assert [t.name for t in chat.tools] == ["tool_search", "calendar_create", "mail__send"]


def test_deferred_tools_wait_until_used():
    deferred = {"type": "function", "name": "rare", "defer_loading": True}
    assert [t.name for t in chat_of(USER, tools=[deferred]).tools] == []
    used = chat_of(USER, {"type": "function_call", "call_id": "c", "name": "rare", "arguments": "{}"},
                   {"type": "function_call_output", "call_id": "c", "output": "ok"}, tools=[deferred])
    assert [t.name for t in used.tools] == ["rare"]


def test_web_search_call_becomes_a_note():
    chat = chat_of(
        USER,
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "kiro"}},
        {"type": "web_search_call", "id": "ws_2", "status": "completed",
         "action": {"type": "open_page", "url": "https://example.com"}},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Found it."}]},
    )
    assert chat.messages[1] == Message("assistant", [
        TextPart("(Web search: kiro)"), TextPart("(Opened web page: https://example.com)"), TextPart("Found it.")])


def test_reasoning_without_readable_text_is_dropped():
    chat = chat_of(USER, {"type": "reasoning", "summary": [], "encrypted_content": "opaque"},
                   {"type": "message", "role": "assistant", "content": "ok"})
    assert chat.messages[1] == Message("assistant", [TextPart("ok")])


def test_reasoning_content_is_used_when_there_is_no_summary():
    chat = chat_of(USER, {"type": "reasoning", "summary": [],
                          "content": [{"type": "reasoning_text", "text": "step 1"}]})
    assert chat.messages[1] == Message("assistant", [ThinkingPart("step 1")])


def test_unparsable_arguments_are_kept_not_refused():
    chat = chat_of(USER, {"type": "function_call", "call_id": "c", "name": "exec_command", "arguments": '{"cmd": "l'})
    assert chat.messages[1].parts == [ToolCallPart("c", "exec_command", {"raw_arguments": '{"cmd": "l'})]


def test_compaction_and_unknown_items_are_skipped_with_a_warning():
    parsed = parse({"model": "m", "input": [
        {"type": "compaction", "encrypted_content": "blob"}, USER, {"type": "future_item", "x": 1}]})
    assert parsed.chat.messages == [Message("user", [TextPart("go")])]
    assert parsed.warnings == [
        "input[0]: 'compaction' items cannot be replayed through this proxy; skipped.",
        "input[2]: unknown input item type 'future_item'; skipped.",
    ]


@pytest.mark.parametrize("item, message, param", [
    ({"type": "item_reference", "id": "msg_1"},
     "item_reference is not supported: this proxy keeps no stored items; send the full item instead.",
     "input[1].type"),
    ("hello", "input[1] must be an object.", "input[1]"),
    ({"content": "x"}, "input[1].type is required and must be a string.", "input[1].type"),
    ({"role": "tool", "content": "x"}, "input[1].role must be one of user, assistant, system, developer.",
     "input[1].role"),
    ({"role": "user", "content": 5}, "input[1].content must be a string or an array of content parts.",
     "input[1].content"),
    ({"role": "user", "content": [{"type": "input_image", "image_url": "https://x.test/a.png"}]},
     "input[1].content[0].image_url: remote image URLs are not supported; send the image inline as a base64 "
     "data URL (data:image/png;base64,...).", "input[1].content[0].image_url"),
    ({"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]},
     "input[1].content[0].file_id: file references are not supported (this proxy stores no files); send the "
     "image as a base64 data URL in image_url.", "input[1].content[0].file_id"),
    ({"role": "user", "content": [{"type": "input_image", "image_url": "data:image/bmp;base64,AAAA"}]},
     "input[1].content[0].image_url: unsupported image type 'image/bmp'; use PNG, JPEG, GIF or WebP.",
     "input[1].content[0].image_url"),
    ({"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png,AAAA"}]},
     "input[1].content[0].image_url must be a base64 data URL (data:<media type>;base64,<data>).",
     "input[1].content[0].image_url"),
    ({"role": "assistant", "content": [{"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]},
     "input[1].content[0]: images are only supported in user messages.", "input[1].content[0].type"),
    ({"role": "user", "content": [{"type": "input_file", "file_data": "x"}]},
     "input[1].content[0]: input_file content is not supported by this proxy; send text or images.",
     "input[1].content[0].type"),
    ({"role": "user", "content": [{"type": "input_text", "text": 3}]},
     "input[1].content[0].text must be a string.", "input[1].content[0].text"),
    ({"role": "user", "content": [{"type": "video"}]},
     "input[1].content[0].type 'video' is not a supported content part type.", "input[1].content[0].type"),
    ({"type": "function_call", "name": "f", "arguments": "{}"},
     "input[1].call_id is required and must be a non-empty string.", "input[1].call_id"),
    ({"type": "function_call", "call_id": "c", "arguments": "{}"},
     "input[1].name is required and must be a non-empty string.", "input[1].name"),
    ({"type": "function_call", "call_id": "c", "name": "f", "arguments": 5},
     "input[1].arguments must be a JSON string.", "input[1].arguments"),
    ({"type": "custom_tool_call", "call_id": "c", "name": "f", "input": {"a": 1}},
     "input[1].input must be a string.", "input[1].input"),
    ({"type": "function_call_output", "call_id": "c", "output": 5},
     "input[1].output must be a string or an array of content parts.", "input[1].output"),
    ({"type": "function_call_output", "call_id": "c", "output": [{"type": "input_file", "file_id": "f"}]},
     "input[1].output[0].type 'input_file' is not supported in a tool output; send input_text or input_image "
     "parts.", "input[1].output[0].type"),
    ({"type": "local_shell_call", "call_id": "c", "action": {"type": "exec", "command": "ls"}},
     "input[1].action.command must be an array of strings.", "input[1].action.command"),
    ({"type": "additional_tools", "role": "developer", "tools": {}},
     "input[1].tools must be an array of tools.", "input[1].tools"),
])
def test_bad_items_name_the_field(item, message, param):
    err = refused(USER, item)
    assert (err.message, err.param) == (message, param)
