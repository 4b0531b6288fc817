"""Tests for Chat Completions `messages` -> system text and neutral turns, and their exact 400s."""
import pytest

from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_chat.messages import parse_messages

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="


def test_tool_round_trip_conversation():
    system, messages = parse_messages([
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Use tools."},
                                          {"type": "text", "text": "Never guess."}]},
        {"role": "user", "content": "weather in Paris and Lyon?", "name": "ann"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": ""}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "20C"},
                                                              {"type": "text", "text": "sunny"}]},
        {"role": "user", "content": "thanks"},
        {"role": "system", "content": ""},
        {"role": "assistant", "content": "You're welcome.", "reasoning_content": "polite"},
    ])
    assert system == "Be brief.\n\nUse tools.\nNever guess."
    assert messages == [
        Message("user", [TextPart("weather in Paris and Lyon?")]),
        Message("assistant", [ToolCallPart("call_1", "weather", {"city": "Paris"}),
                              ToolCallPart("call_2", "weather", {})]),
        Message("user", [ToolResultPart("call_1", "18C"), ToolResultPart("call_2", "20C\nsunny")]),
        Message("user", [TextPart("thanks")]),
        Message("assistant", [ThinkingPart("polite"), TextPart("You're welcome.")]),
    ]


def test_tool_messages_separated_by_another_turn_make_separate_user_turns():
    assert parse_messages([
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "assistant", "content": "ok"},
        {"role": "tool", "tool_call_id": "b", "content": None},
    ]) == ("", [Message("user", [ToolResultPart("a", "1")]), Message("assistant", [TextPart("ok")]),
                Message("user", [ToolResultPart("b", "")])])


def test_content_parts_with_data_url_images():
    _, messages = parse_messages([{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}", "detail": "low"}},
        {"type": "image_url", "image_url": f"DATA:image/JPG;base64,{PNG_1PX[:20]}\n{PNG_1PX[20:]}"},
    ]}])
    assert messages[0].parts == [TextPart("what is this?"), ImagePart("image/png", PNG_1PX),
                                 ImagePart("image/jpeg", PNG_1PX)]


def test_tool_result_with_image_part():
    _, messages = parse_messages([{"role": "tool", "tool_call_id": "c", "content": [
        {"type": "text", "text": "screenshot"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}}]}])
    assert messages == [Message("user", [ToolResultPart("c", "screenshot",
                                                        images=[ImagePart("image/png", PNG_1PX)])])]


def test_assistant_refusal_part_and_dict_arguments_are_tolerated():
    _, messages = parse_messages([{"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}],
                                   "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": {"a": 1}}}]}])
    assert messages == [Message("assistant", [TextPart("no"), ToolCallPart("x", "f", {"a": 1})])]


REMOTE = "Remote image URLs are not supported: only data URLs ('data:image/png;base64,...') are accepted."
PART = "messages[0].content[0]"


def image_message(url) -> list:
    """A messages array with one user image part pointing at `url`."""
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]


def assistant_call(**call) -> list:
    """A messages array with one assistant turn holding one tool call built from `call`."""
    return [{"role": "assistant", "tool_calls": [call]}]


ARGS = "messages[0].tool_calls[0].function.arguments"


@pytest.mark.parametrize("raw, message, param", [
    (["hi"], "Invalid type for 'messages[0]': expected an object, but got a string instead.", "messages[0]"),
    ([{"content": "x"}], "Missing required parameter: 'messages[0].role'.", "messages[0].role"),
    ([{"role": "user", "content": "x"}, {"role": "bot", "content": "x"}],
     "Invalid value: 'bot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and "
     "'developer'.", "messages[1].role"),
    ([{"role": "user", "content": 5}],
     "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer "
     "instead.", "messages[0].content"),
    ([{"role": "user"}], "Missing required parameter: 'messages[0].content'.", "messages[0].content"),
    ([{"role": "user", "content": [{"type": "text"}]}], f"Missing required parameter: '{PART}.text'.",
     f"{PART}.text"),
    ([{"role": "user", "content": [{"text": "x"}]}], f"Missing required parameter: '{PART}.type'.", f"{PART}.type"),
    ([{"role": "user", "content": [{"type": "video"}]}],
     "Invalid value: 'video'. Supported values are: 'text', 'image_url', 'input_audio', and 'file'.",
     f"{PART}.type"),
    ([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
     "Content parts of type 'input_audio' are not supported; send text or images as data URLs.", f"{PART}.type"),
    ([{"role": "user", "content": [{"type": "file", "file": {}}]}],
     "Content parts of type 'file' are not supported; send text or images as data URLs.", f"{PART}.type"),
    (image_message("https://example.com/cat.png"), REMOTE, f"{PART}.image_url.url"),
    (image_message("HTTP://example.com/cat.png"), REMOTE, f"{PART}.image_url.url"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": "https://example.com/cat.png"}]}], REMOTE,
     f"{PART}.image_url"),
    ([{"role": "user", "content": [{"type": "image_url"}]}], f"Missing required parameter: '{PART}.image_url'.",
     f"{PART}.image_url"),
    (image_message("data:image/png,abc"),
     "Invalid image URL: expected a base64 data URL ('data:image/png;base64,...').", f"{PART}.image_url.url"),
    (image_message(f"data:image/tiff;base64,{PNG_1PX}"),
     "Unsupported image type 'image/tiff'. Supported types are: image/png, image/jpeg, image/gif, image/webp.",
     f"{PART}.image_url.url"),
    (image_message("data:image/png;base64,@@@"),
     "Invalid image data: the data URL is not valid base64.",
     f"{PART}.image_url.url"),
    ([{"role": "system", "content": [{"type": "image_url"}]}],
     "Invalid value: 'image_url'. Supported values are: 'text'.", f"{PART}.type"),
    ([{"role": "function", "name": "f", "content": "x"}],
     "The legacy 'function' role is not supported; send tool results as 'tool' messages with a 'tool_call_id'.",
     "messages[0].role"),
    ([{"role": "tool", "content": "x"}], "Missing required parameter: 'messages[0].tool_call_id'.",
     "messages[0].tool_call_id"),
    ([{"role": "tool", "tool_call_id": "c", "content": [{"type": "file"}]}],
     "Content parts of type 'file' are not supported; send text or images as data URLs.", f"{PART}.type"),
    ([{"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}],
     "The legacy 'function_call' field is not supported; use 'tool_calls'.", "messages[0].function_call"),
    ([{"role": "assistant", "content": [{"type": "image_url"}]}],
     "Invalid value: 'image_url'. Supported values are: 'text' and 'refusal'.", f"{PART}.type"),
    ([{"role": "assistant", "tool_calls": {}}],
     "Invalid type for 'messages[0].tool_calls': expected an array, but got an object instead.",
     "messages[0].tool_calls"),
    (assistant_call(id="c", function={"name": "f", "arguments": "{oops"}),
     f"Invalid '{ARGS}': not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
     f"(char 1)).", ARGS),
    (assistant_call(id="c", function={"name": "f", "arguments": "[1]"}),
     f"Invalid '{ARGS}': a JSON object is required.", ARGS),
    (assistant_call(id="c", function={"name": "f", "arguments": 5}),
     f"Invalid type for '{ARGS}': expected a string, but got an integer instead.", ARGS),
    (assistant_call(function={"name": "f"}), "Missing required parameter: 'messages[0].tool_calls[0].id'.",
     "messages[0].tool_calls[0].id"),
    (assistant_call(id="c"), "Missing required parameter: 'messages[0].tool_calls[0].function'.",
     "messages[0].tool_calls[0].function"),
    (assistant_call(id="c", type="custom", function={"name": "f"}),
     "Invalid value: 'custom'. Supported values are: 'function'.", "messages[0].tool_calls[0].type"),
])
def test_bad_messages_name_the_field(raw, message, param):
    with pytest.raises(ProxyError) as info:
        parse_messages(raw)
    assert (info.value.kind, info.value.message, info.value.param) == (ErrorKind.INVALID_REQUEST, message, param)
