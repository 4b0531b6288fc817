"""Messages shaped into alternating Kiro turns with every tool call paired."""
from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.kiro.naming import safe_tool_use_id
from proxy.kiro.turns import AssistantTurn, UserTurn, shape_turns

PNG = ImagePart("image/png", "iVBORw0KGgo=")


def user(*parts) -> Message:
    """A user message; strings become text parts."""
    return Message("user", [TextPart(p) if isinstance(p, str) else p for p in parts])


def assistant(*parts) -> Message:
    """An assistant message; strings become text parts."""
    return Message("assistant", [TextPart(p) if isinstance(p, str) else p for p in parts])


def call(call_id="t1", name="get_weather", **arguments) -> ToolCallPart:
    """A tool call part."""
    return ToolCallPart(call_id, name, arguments or {"city": "Paris"})


def result(call_id="t1", content="18C", **kwargs) -> ToolResultPart:
    """A tool result part."""
    return ToolResultPart(call_id, content, **kwargs)


def test_single_user_message():
    assert shape_turns([user("Hi")]) == [UserTurn("Hi")]


def test_text_blocks_are_joined_with_blank_lines():
    assert shape_turns([user("<reminder>\n", "Run it")]) == [UserTurn("<reminder>\n\n\nRun it")]


def test_no_messages_gives_continue():
    assert shape_turns([]) == [UserTurn("Continue")]


def test_tool_round_trip_is_kept():
    turns = shape_turns([user("Weather?"), assistant("Checking.", call()), user(result())])
    assert turns == [UserTurn("Weather?"), AssistantTurn("Checking.", calls=[call()]),
                     UserTurn("Tool results provided.", results=[result()])]


def test_consecutive_same_role_turns_are_merged():
    turns = shape_turns([user("a"), user("b"), assistant("c"), assistant("d"), user("e")])
    assert turns == [UserTurn("a\n\nb"), AssistantTurn("c\n\nd"), UserTurn("e")]


def test_retried_assistant_turn_with_the_same_call_is_merged_once():
    turns = shape_turns([user("go"), assistant(call()), assistant(call()), user(result())])
    assert turns[1] == AssistantTurn(" ", calls=[call()])
    assert turns[2].results == [result()]


def test_history_starting_with_assistant_gets_a_user_turn_first():
    turns = shape_turns([assistant("Hello"), user("Hi")])
    assert turns == [UserTurn("(empty)"), AssistantTurn("Hello"), UserTurn("Hi")]


def test_trailing_assistant_prefill_is_followed_by_continue():
    turns = shape_turns([user("Say hi"), assistant("Hi")])
    assert turns == [UserTurn("Say hi"), AssistantTurn("Hi"), UserTurn("Continue")]


def test_trailing_assistant_tool_call_becomes_text():
    turns = shape_turns([user("go"), assistant("ok", call())])
    assert turns[1] == AssistantTurn('ok\n\n[Called get_weather with args: {"city": "Paris"}]')
    assert turns[2] == UserTurn("Continue")


def test_orphan_result_becomes_text_with_the_tool_name_when_known():
    turns = shape_turns([user("go"), assistant("a", call("t1")), user(result("t1")),
                         assistant("b"), user(result("t1", "again"), "next")])
    assert turns[4] == UserTurn("[Tool result for get_weather]: again\n\nnext")


def test_orphan_result_without_any_call_uses_the_id():
    turns = shape_turns([user(result("lost", "boom", is_error=True))])
    assert turns == [UserTurn("[Tool error for lost]: boom")]


def test_unanswered_call_becomes_text_and_answered_one_stays():
    turns = shape_turns([user("go"), assistant(call("t1"), call("t2", "read", path="/x")),
                         user(result("t1"))])
    assert turns[1] == AssistantTurn('[Called read with args: {"path": "/x"}]', calls=[call("t1")])
    assert turns[2].results == [result("t1")]


def test_call_answered_two_turns_later_is_text_on_both_sides():
    turns = shape_turns([user("go"), assistant(call()), user("wait"), assistant("ok"),
                         user(result())])
    assert turns[1] == AssistantTurn('[Called get_weather with args: {"city": "Paris"}]')
    assert turns[4] == UserTurn("[Tool result for get_weather]: 18C")


def test_duplicate_results_keep_the_first():
    turns = shape_turns([user("go"), assistant(call()), user(result(), result(content="dup"))])
    assert turns[2].results == [result()]


def test_ids_are_sanitised_the_same_on_both_sides():
    odd = "call_abc\nfc_" + "9" * 70
    turns = shape_turns([user("go"), assistant(call(odd)), user(result(odd))])
    safe = safe_tool_use_id(odd)
    assert turns[1].calls[0].id == safe and turns[2].results[0].call_id == safe


def test_ids_reused_by_a_later_turn_are_renamed_with_their_result():
    turns = shape_turns([user("go"), assistant(call("call_0")), user(result("call_0", "one")),
                         assistant(call("call_0", city="Rome")), user(result("call_0", "two"))])
    assert turns[1].calls[0].id == "call_0" and turns[2].results[0].call_id == "call_0"
    assert turns[3].calls[0].id == "call_0_3" and turns[4].results[0].call_id == "call_0_3"


def test_thinking_is_replayed_before_the_text():
    turns = shape_turns([user("q"), assistant(ThinkingPart("hmm", "sig"), "answer"), user("more")])
    assert turns[1].content() == "<thinking>hmm</thinking>\n\nanswer"


def test_thinking_only_with_tool_call_has_no_trailing_blank():
    turns = shape_turns([user("q"), assistant(ThinkingPart("hmm"), call()), user(result())])
    assert turns[1].content() == "<thinking>hmm</thinking>"


def test_empty_turns_are_dropped_and_neighbours_merged():
    turns = shape_turns([user("a"), assistant(""), user("b")])
    assert turns == [UserTurn("a\n\nb")]


def test_image_only_user_turn_gets_placeholder():
    assert shape_turns([user(PNG)]) == [UserTurn("(empty)", images=[PNG])]


def test_tool_result_images_move_to_the_user_turn():
    turns = shape_turns([user("shot"), assistant(call()), user(result(images=[PNG]), "see", PNG)])
    assert turns[2].images == [PNG, PNG]
    assert turns[2].text == "see"


def test_unsupported_images_become_notes():
    bmp = ImagePart("image/bmp", "Qk0=")
    turns = shape_turns([user("look", bmp), assistant(call()), user(result(images=[bmp]))])
    assert turns[0] == UserTurn("look\n\n[image of unsupported type image/bmp omitted]")
    assert turns[2].results[0].content == "18C\n\n[image of unsupported type image/bmp omitted]"
    assert turns[2].images == []


def test_parts_in_the_wrong_role_become_text():
    turns = shape_turns([user("go", call("x", "Bash", command="ls")),
                         assistant("a", result("y", "out"), PNG)])
    assert turns[0].text == 'go\n\n[Called Bash with args: {"command": "ls"}]'
    assert turns[1].text == "a\n\n[Tool result for y]: out\n\n[image omitted]"


def test_non_object_arguments_are_wrapped():
    turns = shape_turns([user("go"), assistant(ToolCallPart("t1", "f", "raw")),  # type: ignore[arg-type]
                         user(result())])
    assert turns[1].calls[0].arguments == {"value": "raw"}


def test_messages_are_not_modified():
    odd = "a.b"
    messages = [user("go"), assistant(call(odd)), user(result(odd))]
    shape_turns(messages)
    assert messages[1].parts[0].id == odd and messages[2].parts[0].call_id == odd
