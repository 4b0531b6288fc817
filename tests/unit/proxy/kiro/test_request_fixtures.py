"""Built requests checked by the fake Kiro's validator, and a real Claude Code request rebuilt by hand."""
import json
import re
from pathlib import Path

import pytest

from proxy.chat import (Chat, ImagePart, Message, ResponseFormat, TextPart, Thinking,
                        ThinkingPart, Tool, ToolCallPart, ToolChoice, ToolResultPart, WebSearch)
from proxy.errors import ProxyError
from proxy.history.costs import measuring_build
from proxy.kiro.request import MEASURING_ARN, MEASURING_ID, build_request, for_account

validation = pytest.importorskip("tests.fake_kiro.validation")
FakeConfig = pytest.importorskip("tests.fake_kiro.config").FakeConfig

ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
from tests.support import CAPTURES as _ALL_CAPTURES

CAPTURES = _ALL_CAPTURES / "claude-code"
TOOL_TURN = CAPTURES / "0005_claude-tool-thinking_POST_v1_messages.json"
WEATHER = Tool("get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}})
PNG = ImagePart("image/png", "iVBORw0KGgo=")


def user(*parts) -> Message:
    """A user message; strings become text parts."""
    return Message("user", [TextPart(p) if isinstance(p, str) else p for p in parts])


def assistant(*parts) -> Message:
    """An assistant message; strings become text parts."""
    return Message("assistant", [TextPart(p) if isinstance(p, str) else p for p in parts])


def call(call_id: str, name: str = "get_weather") -> ToolCallPart:
    """A tool call with small arguments."""
    return ToolCallPart(call_id, name, {"city": "Paris"})


def result(call_id: str) -> ToolResultPart:
    """A tool result answering `call_id`."""
    return ToolResultPart(call_id, "18C")


HARD_CHATS = {
    "empty": Chat("m", []),
    "assistant_first": Chat("m", [assistant("Hi"), user("Hello")]),
    "trailing_tool_call": Chat("m", [user("go"), assistant(call("t1"))], tools=[WEATHER]),
    "orphan_result_first": Chat("m", [user(result("t0"))]),
    "orphans_everywhere": Chat("m", [user(result("t0")), assistant(call("t1"), call("t2")),
                                     user(result("t2"), result("t3")), assistant("ok"),
                                     user(result("t1"))], tools=[WEATHER]),
    "tools_only_in_history": Chat("m", [user("go"), assistant(call("t1", "Gone")), user(result("t1"))]),
    "reused_ids": Chat("m", [user("a"), assistant(call("call_0")), user(result("call_0")),
                             assistant(call("call_0")), user(result("call_0"))], tools=[WEATHER]),
    "cursor_ids": Chat("m", [user("a"), assistant(call("call_x\nfc_" + "y" * 80)),
                             user(result("call_x\nfc_" + "y" * 80))], tools=[WEATHER]),
    "duplicates": Chat("m", [user("a"), assistant(call("t1"), call("t1")), assistant(call("t1")),
                             user(result("t1"), result("t1"))], tools=[WEATHER]),
    "empty_everything": Chat("m", [user(""), assistant(""), user(PNG), assistant(ThinkingPart("x")),
                                   user(" ")], tools=[Tool("t", "", {"properties": None})]),
    "options": Chat("m", [user("q")], system="sys", tools=[WEATHER], web_search=WebSearch(),
                    tool_choice=ToolChoice("tool", "get_weather"), thinking=Thinking("enabled"),
                    response_format=ResponseFormat("json_object")),
}


@pytest.mark.parametrize("name", sorted(HARD_CHATS))
def test_fake_kiro_accepts_every_built_request(name):
    built = build_request(HARD_CHATS[name], model_id="claude-sonnet-4.5", profile_arn=ARN,
                          conversation_id="conv")
    validation.check_chat(built.body, FakeConfig())


def _captures_with_tools() -> list[Path]:
    """Claude Code captures whose body declares tools."""
    paths = sorted(CAPTURES.glob("*.json")) if CAPTURES.exists() else []
    return [p for p in paths if isinstance(json.loads(p.read_text()).get("body"), dict)
            and json.loads(p.read_text())["body"].get("tools")]


@pytest.mark.parametrize("path", _captures_with_tools(), ids=lambda p: p.name[:4])
def test_real_claude_code_tool_sets_are_accepted(path):
    tools = [Tool(t["name"], t.get("description", ""), t.get("input_schema"))
             for t in json.loads(path.read_text())["body"]["tools"]]
    built = build_request(Chat("m", [user("hi")], tools=tools), model_id="claude-sonnet-4.5",
                          profile_arn=ARN, conversation_id="conv")
    validation.check_chat(built.body, FakeConfig())
    assert "$schema" not in built.body.decode()


def _claude_code_chat(capture: dict) -> Chat:
    """Capture 0005 as the Anthropic adapter would give it: done by hand, block by block."""
    body = capture["body"]
    first, system_turn, answer, results = body["messages"]
    thinking, text, tool_use = answer["content"]
    tool_result = results["content"][0]
    return Chat(
        model=body["model"],
        system="\n".join(block["text"] for block in body["system"]),
        messages=[
            user(*(block["text"] for block in first["content"]), system_turn["content"]),
            assistant(ThinkingPart(thinking["thinking"], thinking["signature"]), text["text"],
                      ToolCallPart(tool_use["id"], tool_use["name"], tool_use["input"])),
            user(ToolResultPart(tool_result["tool_use_id"], tool_result["content"],
                                is_error=tool_result["is_error"])),
        ],
        tools=[Tool(t["name"], t["description"], t["input_schema"]) for t in body["tools"]],
        thinking=Thinking("adaptive", effort=body["output_config"]["effort"],
                          include=body["thinking"].get("display") != "omitted"),
        max_tokens=body["max_tokens"], stream=True)


@pytest.mark.skipif(not TOOL_TURN.exists(), reason="client captures not available")
def test_claude_code_tool_turn():
    capture = json.loads(TOOL_TURN.read_text())
    chat = _claude_code_chat(capture)
    built = build_request(chat, model_id="claude-opus-4.8", profile_arn=ARN, conversation_id="conv")
    validation.check_chat(built.body, FakeConfig())

    conversation = built.payload["conversationState"]
    first, answer = conversation["history"]
    content = first["userInputMessage"]["content"]
    assert content.startswith("x-anthropic-billing-header: cc_version=2.1.332.785; cc_entrypoint=sdk-cli;"
                              "\n<system>\nYou are a Claude agent")
    assert "<thinking_mode>" not in content  # display: omitted -> no visible reasoning asked for
    # the user's text, then the mid-conversation system turn folded into the same user turn
    assert content.index("</system>") < content.index("RUN_TOOL: echo rtok_capture") < content.rindex("# Environment")
    assert answer == {"assistantResponseMessage": {
        "content": "<thinking>Stub thinking.</thinking>\n\nRunning the command.",
        "toolUses": [{"toolUseId": "toolu_70e586f2ff8347238939e669", "name": "Bash",
                      "input": {"command": "echo rtok_capture | tr a-z A-Z",
                                "description": "Run the requested command"}}]}}
    current = conversation["currentMessage"]["userInputMessage"]
    assert current["content"] == "Tool results provided."
    context = current["userInputMessageContext"]
    assert context["toolResults"] == [{"toolUseId": "toolu_70e586f2ff8347238939e669",
                                       "content": [{"text": "RTOK_CAPTURE"}], "status": "success"}]
    names = [t["toolSpecification"]["name"] for t in context["tools"]]
    assert names == [t.name for t in chat.tools]
    assert built.tool_names == {n: n for n in names}
    assert not re.search(r'"\$schema"|"defer_loading"', json.dumps(context["tools"]))
    assert len(built.body) < 600_000


# ---------------------------------------------------------------- one build per request

def _for_account_chats() -> dict:
    chats = dict(HARD_CHATS)
    chats["unicode"] = Chat("m", [user('quote " \\ \u2028 中文 😀 ' + MEASURING_ID), assistant(MEASURING_ARN),
                                  user("end")], system=MEASURING_ARN)
    if TOOL_TURN.exists():
        chats["claude code"] = _claude_code_chat(json.loads(TOOL_TURN.read_text()))
    return chats


@pytest.mark.parametrize("name", sorted(_for_account_chats()))
@pytest.mark.parametrize("arn", [ARN, None, "", 'arn:"odd"\\é', MEASURING_ARN])
def test_for_account_is_build_request_byte_for_byte(name, arn):
    """The relay turns history's measuring build into each account's body; it must be exactly
    what building for that account gives (payload, bytes, names, flags)."""
    chat = _for_account_chats()[name]
    measured = measuring_build(chat, "claude-sonnet-4.5", 10_000)
    for conversation, continuation in (("3f2a6c1e-0000-4000-8000-123456789abc", "c0ffee00-1111-4222-8333-444455556666"),
                                       (MEASURING_ID, MEASURING_ID), ('odd "id"', "x")):
        ids = dict(profile_arn=arn, conversation_id=conversation, continuation_id=continuation)
        fast = for_account(measured, max_body_bytes=10 ** 9, **ids)
        built = build_request(chat, model_id="claude-sonnet-4.5", max_body_bytes=10 ** 9, max_tool_description=10_000,
                              **ids)
        assert fast.body == built.body
        assert (fast.payload, fast.tool_names, fast.thinking_tags, fast.web_search_tool) == \
            (built.payload, built.tool_names, built.thinking_tags, built.web_search_tool)
        assert json.loads(fast.body) == fast.payload


def test_for_account_checks_the_size_and_draws_a_continuation_id():
    chat = HARD_CHATS["options"]
    measured = measuring_build(chat, "claude-sonnet-4.5", 10_000)
    one = for_account(measured, profile_arn=ARN, conversation_id="c")
    two = for_account(measured, profile_arn=ARN, conversation_id="c")
    assert one.payload["conversationState"]["agentContinuationId"] != two.payload["conversationState"]["agentContinuationId"]
    limit = len(one.body) - 1
    with pytest.raises(ProxyError) as refused:
        for_account(measured, profile_arn=ARN, conversation_id="c", max_body_bytes=limit)
    with pytest.raises(ProxyError) as built_refused:
        build_request(chat, model_id="claude-sonnet-4.5", profile_arn=ARN, conversation_id="c",
                      continuation_id=one.payload["conversationState"]["agentContinuationId"], max_body_bytes=limit)
    assert (refused.value.code, refused.value.message) == (built_refused.value.code, built_refused.value.message)


def test_for_account_refuses_a_body_not_built_with_the_measuring_ids():
    built = build_request(HARD_CHATS["options"], model_id="m", profile_arn=ARN, conversation_id="c")
    assert for_account(built, profile_arn=ARN, conversation_id="c") is None
