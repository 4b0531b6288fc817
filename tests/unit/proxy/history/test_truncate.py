"""Tests for proxy/history/truncate.py: shortening, cut points and the plan."""
from __future__ import annotations

import dataclasses

from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.history.costs import ZERO, Cost, message_cost, text_cost
from proxy.history.truncate import (CUT_MARK, IMAGE_REMOVED, Planner, Targets, cut_middle, head_end, lighten,
                                    valid_cuts)
from tests.unit.proxy.history.convo import FIRST_TASK, conversation, pairs_intact, tool_round


def planner_for(messages, keep_recent=4, limit=1000) -> Planner:
    """A planner with no fixed cost, so targets speak of the messages only."""
    return Planner(messages, fixed=ZERO, keep_recent=keep_recent, limit=limit)


def total(messages) -> Cost:
    """The summed cost of some messages."""
    return sum((message_cost(m) for m in messages), ZERO)


def test_cut_middle_keeps_head_and_tail_and_says_how_much_went():
    text = "A" * 100 + "B" * 800 + "C" * 100
    cut = cut_middle(text, 300)
    assert cut.startswith("A" * 100) and cut.endswith("C" * 100)
    assert CUT_MARK.format(n=700) in cut
    assert cut_middle("short", 300) == "short"


def test_lighten_removes_images_and_reasoning_and_cuts_tool_output():
    message = Message("user", [TextPart("x" * 5000), ImagePart("image/png", "AAAA"),
                               ToolResultPart("c1", "r" * 5000, images=[ImagePart("image/png", "BBBB")])])
    light, counts = lighten(message, 1000)
    text, image, result = light.parts
    assert text.text == "x" * 5000  # plain text is kept unless hard
    assert image == TextPart(IMAGE_REMOVED)
    assert isinstance(result, ToolResultPart) and result.call_id == "c1" and not result.images
    assert len(result.content) < 1200 and result.content.endswith(IMAGE_REMOVED)
    assert (counts.images, counts.tool_results) == (2, 1)
    assert message.parts[1] == ImagePart("image/png", "AAAA")  # the client's message is untouched


def test_lighten_cuts_long_tool_arguments_and_drops_thinking():
    message = Message("assistant", [ThinkingPart("deep thoughts"),
                                    ToolCallPart("c1", "Write", {"path": "a.py", "content": "y" * 9000,
                                                                 "nested": [{"more": "z" * 9000}]})])
    light, counts = lighten(message, 1000)
    [call] = light.parts
    assert call.id == "c1" and call.arguments["path"] == "a.py"
    assert len(call.arguments["content"]) < 1100 and len(call.arguments["nested"][0]["more"]) < 1100
    assert (counts.thinking, counts.tool_arguments) == (1, 1)


def test_lighten_hard_cuts_text_and_returns_the_same_object_when_nothing_changes():
    message = Message("user", [TextPart("x" * 5000)])
    assert lighten(message, 1000)[0] is message
    light, counts = lighten(message, 1000, texts=True)
    assert len(light.parts[0].text) < 1100 and counts.texts == 1


def test_head_is_the_first_user_turn():
    assert head_end([Message("assistant", [TextPart("hi")]), Message("user", [TextPart("task")])]) == 2
    assert head_end([Message("user", [TextPart("task")])]) == 1
    assert head_end([]) == 0


def test_valid_cuts_never_separate_a_call_from_its_result():
    messages = [Message("user", [TextPart("task")])] + tool_round(1) + tool_round(2)
    # 0 task | 1 prompt 2 call 3 result 4 answer | 5 prompt 6 call 7 result 8 answer
    assert valid_cuts(messages, 1) == [2, 4, 5, 6, 8]


def test_unchanged_when_under_every_target():
    chat = conversation(3)
    plan = planner_for(chat.messages).plan(Targets(tokens=10 ** 9, bytes=10 ** 9, messages=999, chars=10 ** 9),
                                           text_cost("note"))
    assert not plan.changed and plan.fits
    assert plan.assemble("note") == chat.messages


def test_old_tool_output_is_shortened_before_any_turn_is_dropped():
    chat = conversation(10, result_chars=5000)
    full = total(chat.messages)
    plan = planner_for(chat.messages).plan(Targets(tokens=full.tokens - 2000), text_cost("note"))
    assert plan.fits and plan.dropped == 0
    counts = plan.counts()
    assert counts.tool_results >= 1
    # oldest first: the first round's result is cut, the newest rounds are untouched
    assert plan.messages[4] is not chat.messages[4]
    assert plan.messages[-6:] == chat.messages[-6:]


def test_whole_turns_go_oldest_first_keeping_the_first_turn_and_the_newest():
    chat = conversation(30, result_chars=3000)
    target = total(chat.messages).tokens // 4
    plan = planner_for(chat.messages).plan(Targets(tokens=target), text_cost("note"))
    sent = dataclasses.replace(chat, messages=plan.assemble("[dropped]"))
    assert plan.fits and plan.dropped > 0
    assert sent.messages[0].parts[0].text == FIRST_TASK
    assert sent.messages[1].parts[0].text == "[dropped]"
    assert sent.messages[-3:] == chat.messages[-3:]
    assert pairs_intact(sent)
    assert total(sent.messages).tokens <= target


def test_message_count_limit_drops_without_shortening():
    chat = conversation(10)
    plan = planner_for(chat.messages).plan(Targets(messages=12), text_cost("note"))
    sent = plan.assemble("note")
    assert plan.fits and len(sent) <= 12 and not plan.counts().any()
    assert pairs_intact(dataclasses.replace(chat, messages=sent))


def test_character_limit_counts_the_marker():
    chat = conversation(10, result_chars=2000)
    marker = "m" * 500
    plan = planner_for(chat.messages).plan(Targets(chars=8000), text_cost(marker))
    sent = plan.assemble(marker)
    assert plan.fits and sum(message_cost(m).chars for m in sent) <= 8000


def test_a_huge_newest_result_is_cut_instead_of_dropping_all_history():
    chat = conversation(5, result_chars=500)
    huge = Message("user", [ToolResultPart(chat.messages[-1].parts[0].call_id, "L" * 200_000)])
    messages = chat.messages[:-1] + [huge]
    plan = planner_for(messages, limit=4000).plan(Targets(tokens=total(chat.messages).tokens + 2000),
                                                  text_cost("note"))
    assert plan.fits and plan.dropped == 0
    assert len(plan.messages[-1].parts[0].content) < 5000


def test_images_in_old_turns_are_removed_first():
    chat = conversation(12, images_every=2)
    full = total(chat.messages)
    plan = planner_for(chat.messages).plan(Targets(bytes=full.bytes // 2), text_cost("note"))
    assert plan.fits
    sent = plan.assemble("note")
    assert plan.counts().images > 0
    assert sum(message_cost(m).bytes for m in sent) <= full.bytes // 2


def test_reports_not_fitting_when_even_the_minimum_is_too_big():
    chat = conversation(5)
    plan = planner_for(chat.messages).plan(Targets(tokens=10), text_cost("note"))
    assert not plan.fits
    assert pairs_intact(dataclasses.replace(chat, messages=plan.assemble("note")))


def test_valid_cuts_pair_a_reused_call_id_with_its_nearest_call():
    """Clients that number calls per turn send `call_0` in every round; each result answers the
    call just before it, so every round boundary is still a place to cut."""
    messages = [Message("user", [TextPart("task")])]
    for i in range(3):
        messages += [Message("assistant", [ToolCallPart("call_0", "Bash", {"command": f"ls {i}"})]),
                     Message("user", [ToolResultPart("call_0", f"out {i}")]),
                     Message("assistant", [TextPart(f"done {i}")]),
                     Message("user", [TextPart(f"next {i}")])]
    assert valid_cuts(messages, 1) == [3, 4, 5, 7, 8, 9, 11, 12]
