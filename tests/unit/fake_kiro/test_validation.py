"""Tests for tests/fake_kiro/validation.py: each §2.2 rule -> the exact 400 body."""
import copy

import pytest

from tests.fake_kiro import bodies
from tests.fake_kiro.config import FakeConfig
from tests.fake_kiro.validation import Rejected, check_chat, estimate_tokens
from tests.unit.fake_kiro.helpers import (assistant, chat_body, raw, result, tool_spec, tool_turn_body, use,
                                          user)

MALFORMED = (400, bodies.IMPROPERLY_FORMED)
BAD_TOOL_USE = (400, bodies.INVALID_TOOL_USE)


def rejection(body, config=None):
    """(status, body) of the rejection; fails the test if the body is accepted."""
    with pytest.raises(Rejected) as info:
        check_chat(body if isinstance(body, bytes) else raw(body), config or FakeConfig())
    return info.value.status, info.value.body


def mutated(base, path, value):
    """A deep copy of base with the value at `path` (tuple of keys/indexes) replaced or deleted."""
    body = copy.deepcopy(base)
    node = body
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


DELETE = object()
CURRENT = ("conversationState", "currentMessage", "userInputMessage")
TOOL0 = CURRENT + ("userInputMessageContext", "tools", 0, "toolSpecification")


def test_valid_bodies_pass():
    chat = check_chat(raw(tool_turn_body()), FakeConfig())
    assert chat.model_id == "claude-sonnet-4.5" and chat.window == 200_000
    assert chat.tool_results[0]["toolUseId"] == "tooluse_A"
    assert check_chat(raw(chat_body()), FakeConfig()).content == "hi"


def test_empty_arrays_are_accepted_unless_strict():
    body = chat_body("go", history=[user("a"), assistant("b", uses=[])], tools=[])
    assert check_chat(raw(body), FakeConfig()).content == "go"
    assert rejection(body, FakeConfig(reject_empty_tool_uses=True)) == MALFORMED


@pytest.mark.parametrize("path, value", [
    (("conversationState", "chatTriggerType"), "AUTO"),
    (("conversationState", "chatTriggerType"), DELETE),
    (("conversationState", "conversationId"), ""),
    (("conversationState", "conversationId"), DELETE),
    (("conversationState", "currentMessage"), DELETE),
    (CURRENT + ("content",), ""),
    (CURRENT + ("content",), None),
    (("profileArn",), "arn:aws:codewhisperer:us-east-1:..."),
    (("conversationState",), []),
])
def test_structural_rules(path, value):
    assert rejection(mutated(chat_body(), path, value)) == MALFORMED


def test_body_not_json_or_not_object():
    assert rejection(b"{nope") == MALFORMED
    assert rejection(b"[]") == MALFORMED


def test_history_must_start_with_user():
    assert rejection(chat_body(history=[assistant("a"), user("b"), assistant("c")])) == MALFORMED


def test_history_must_alternate():
    assert rejection(chat_body(history=[user("a"), assistant("b"), assistant("c")])) == MALFORMED
    assert rejection(chat_body(history=[user("a"), user("b"), assistant("c")])) == MALFORMED


def test_history_must_end_with_assistant():
    assert rejection(chat_body(history=[user("a")])) == MALFORMED


def test_history_entry_needs_exactly_one_role():
    assert rejection(chat_body(history=[{"userInputMessage": {"content": "a"},
                                         "assistantResponseMessage": {"content": "b"}}])) == MALFORMED


def test_empty_content_rejected_except_on_tool_turns():
    assert rejection(chat_body(history=[user(""), assistant("b")])) == MALFORMED
    assert rejection(chat_body(history=[user("a"), assistant(" ")])) == MALFORMED
    tool_turns = chat_body("", history=[user("a"), assistant("", [use()])], tools=[tool_spec()], results=[result()])
    assert check_chat(raw(tool_turns), FakeConfig()).content == ""


def test_tool_use_without_result_is_rejected():
    body = chat_body("next", history=[user("a"), assistant("b", [use()])], tools=[tool_spec()])
    assert rejection(body) == MALFORMED


def test_result_without_tool_use_is_rejected():
    assert rejection(chat_body("x", tools=[tool_spec()], results=[result()])) == MALFORMED
    body = chat_body("x", history=[user("a"), assistant("b", [use("tooluse_A")])], tools=[tool_spec()],
                     results=[result("tooluse_A"), result("tooluse_B")])
    assert rejection(body) == MALFORMED


def test_result_must_answer_the_immediately_preceding_turn():
    history = [user("a"), assistant("b", [use("tooluse_A")]), user("", [result("tooluse_A")]),
               assistant("c")]
    assert check_chat(raw(chat_body("d", history=history, tools=[tool_spec()])), FakeConfig())
    late = [user("a"), assistant("b", [use("tooluse_A")]), user("x"), assistant("c")]
    assert rejection(chat_body("d", history=late, tools=[tool_spec()])) == MALFORMED


def test_duplicate_tool_use_ids():
    dup_results = tool_turn_body()
    dup_results["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"][
        "toolResults"].append(result())
    assert rejection(dup_results) == MALFORMED
    dup_uses = chat_body("r", history=[user("a"), assistant("b", [use(), use()])], tools=[tool_spec()],
                         results=[result()])
    assert rejection(dup_uses) == MALFORMED


def test_undeclared_tool_name_is_invalid_tool_use_but_case_insensitive_match_passes():
    body = tool_turn_body()
    body["conversationState"]["history"][1]["assistantResponseMessage"]["toolUses"][0]["name"] = "other"
    assert rejection(body) == BAD_TOOL_USE
    body["conversationState"]["history"][1]["assistantResponseMessage"]["toolUses"][0]["name"] = "GET_WEATHER"
    assert check_chat(raw(body), FakeConfig())


def test_tool_content_without_any_tools_is_malformed():
    body = tool_turn_body()
    del body["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]["tools"]
    assert rejection(body) == MALFORMED


@pytest.mark.parametrize("bad_id", ["call_1\nfc_2", "x" * 65, "", "tool use"])
def test_tool_use_id_charset_and_length(bad_id):
    body = chat_body("r", history=[user("a"), assistant("b", [use(bad_id)])], tools=[tool_spec()],
                     results=[result(bad_id)])
    assert rejection(body) == BAD_TOOL_USE


def test_tool_use_input_must_be_object():
    body = chat_body("r", history=[user("a"), assistant("b", [{"toolUseId": "tooluse_A", "name": "get_weather",
                                                                "input": "{}"}])],
                     tools=[tool_spec()], results=[result()])
    assert rejection(body) == MALFORMED


@pytest.mark.parametrize("path, value", [
    (TOOL0 + ("name",), "x" * 65),
    (TOOL0 + ("name",), "bad name"),
    (TOOL0 + ("description",), ""),
    (TOOL0 + ("description",), "d" * 10_001),
    (TOOL0 + ("inputSchema", "json"), "{}"),
    (TOOL0 + ("inputSchema", "json"), DELETE),
    (TOOL0 + ("inputSchema", "json", "required"), None),
    (TOOL0 + ("inputSchema", "json", "properties"), None),
    (TOOL0 + ("inputSchema", "json", "properties", "city"), {"type": "object", "properties": None}),
])
def test_tool_spec_rules(path, value):
    assert rejection(mutated(chat_body(tools=[tool_spec()]), path, value)) == MALFORMED


def test_tool_name_of_64_chars_and_long_description_pass():
    body = chat_body(tools=[tool_spec("a" * 64, description="d" * 10_000)])
    assert check_chat(raw(body), FakeConfig())


def test_unknown_model_id():
    assert rejection(chat_body(model="gpt-5")) == (400, bodies.INVALID_MODEL)


def test_profile_arn_required_unless_configured_off():
    assert rejection(chat_body(profile_arn=None)) == (400, bodies.PROFILE_ARN_REQUIRED)
    assert check_chat(raw(chat_body(profile_arn=None)), FakeConfig(require_profile_arn=False))


def test_body_over_max_bytes_is_improperly_formed_not_too_long():
    body = raw(chat_body("x" * 700_000))
    assert rejection(body) == MALFORMED
    assert check_chat(raw(chat_body("x" * 100)), FakeConfig(max_body_bytes=len(raw(chat_body("x" * 100)))))


def test_input_too_long_uses_body_length_over_four():
    body = raw(chat_body("x" * 4000))
    assert estimate_tokens(body) == len(body) // 4
    limit = len(body) // 4
    assert check_chat(body, FakeConfig(input_limit_tokens=limit)).input_tokens == limit
    assert rejection(body, FakeConfig(input_limit_tokens=limit - 1)) == (400, bodies.INPUT_TOO_LONG)


def test_images_need_known_format_and_bytes():
    ok = chat_body(history=[user("a", images=[{"format": "png", "source": {"bytes": "iVBOR"}}]), assistant("b")])
    assert check_chat(raw(ok), FakeConfig())
    bad = chat_body(history=[user("a", images=[{"format": "bmp", "source": {"bytes": "x"}}]), assistant("b")])
    assert rejection(bad) == MALFORMED


def test_additional_model_request_fields():
    ok = chat_body(additionalModelRequestFields={"thinking": {"type": "adaptive", "display": "summarized"},
                                                 "output_config": {"effort": "high"}})
    assert check_chat(raw(ok), FakeConfig())
    status, body = rejection(chat_body(additionalModelRequestFields={"reasoning": {}}))
    assert (status, body["message"]) == (
        400, "Invalid additionalModelRequestFields: property 'reasoning' is not defined in the schema")
    assert rejection(chat_body(additionalModelRequestFields={"thinking": {"type": "on"}})) == MALFORMED
