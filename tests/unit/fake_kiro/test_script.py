"""Tests for tests/fake_kiro/script.py: which reply each directive produces."""
import json

import pytest

from tests.fake_kiro.config import FakeConfig
from tests.fake_kiro.script import plan_reply, response_schema
from tests.fake_kiro.validation import check_chat
from tests.unit.fake_kiro.helpers import assistant, chat_body, raw, result, tool_spec, tool_turn_body, use, user

HELLO = "Hello! This is the fake Kiro."
BASH = {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"},
                                         "description": {"type": "string"}}, "required": ["command"]}
EXEC_COMMAND = {"type": "object", "properties": {"cmd": {"type": "string"}, "workdir": {"type": "string"}},
                "required": ["cmd"], "additionalProperties": False}
SHELL = {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}},
                                          "workdir": {"type": "string"}}, "required": ["command"]}
GEMINI_SHELL = {"type": "object", "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
                "required": ["command", "description"]}
FREEFORM = {"type": "object", "properties": {"input": {"type": "string"}}}


def plan_for(body):
    """The reply plan for a body (validated first, like the real server)."""
    return plan_reply(check_chat(raw(body), FakeConfig()), HELLO)


def test_plain_prompt_gets_hello():
    plan = plan_for(chat_body("hi"))
    assert (plan.text, plan.tool_calls, plan.directive) == (HELLO, [], "hello")


def test_tool_result_is_echoed_trimmed():
    body = chat_body("", history=[user("a"), assistant("", [use()])], tools=[tool_spec()],
                     results=[result(text="  hi there\n")])
    assert plan_for(body).text == "TOOL_RESULT_SEEN: hi there"


def test_json_tool_result_content():
    body = tool_turn_body()
    body["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]["toolResults"][0][
        "content"] = [{"json": {"a": 1}}]
    assert plan_for(body).text == 'TOOL_RESULT_SEEN: {"a":1}'


@pytest.mark.parametrize("name, schema, expected", [
    ("Bash", BASH, {"command": "ls -la"}),
    ("exec_command", EXEC_COMMAND, {"cmd": "ls -la"}),
    ("shell", SHELL, {"command": ["bash", "-lc", "ls -la"]}),
    ("local_shell", SHELL, {"command": ["bash", "-lc", "ls -la"]}),
    ("run_shell_command", GEMINI_SHELL, {"command": "ls -la", "description": "Run the requested shell command"}),
    ("exec", FREEFORM, {"input": 'const r = await tools.exec_command({cmd: "ls -la"}); text(r);'}),
])
def test_run_tool_calls_the_declared_shell_tool(name, schema, expected):
    body = chat_body("System text.\n\nPlease RUN_TOOL: ls -la\nthanks", tools=[tool_spec("Read"),
                                                                              tool_spec(name, schema)])
    plan = plan_for(body)
    assert plan.directive == "run_tool"
    assert [(c.name, c.input) for c in plan.tool_calls] == [(name, expected)]


def test_run_tool_prefers_bash_and_fills_other_required_strings():
    schema = {"type": "object", "properties": {"cmd": {"type": "string"}, "why": {"type": "string"}},
              "required": ["cmd", "why"]}
    plan = plan_for(chat_body("RUN_TOOL: pwd", tools=[tool_spec("exec_command", schema), tool_spec("bash", BASH)]))
    assert plan.tool_calls[0].name == "bash"
    plan = plan_for(chat_body("RUN_TOOL: pwd", tools=[tool_spec("exec_command", schema)]))
    assert plan.tool_calls[0].input == {"cmd": "pwd", "why": "why"}


def test_code_mode_exec_escapes_the_command():
    plan = plan_for(chat_body('RUN_TOOL: echo "hi"', tools=[tool_spec("exec", FREEFORM)]))
    assert plan.tool_calls[0].input["input"] == \
        'const r = await tools.exec_command({cmd: "echo \\"hi\\""}); text(r);'


def test_namespaced_code_mode_exec_is_a_shell_tool():
    # a proxy flattens Codex's `functions` namespace into `functions__exec`
    tools = [tool_spec("functions__wait"), tool_spec("functions__exec", FREEFORM)]
    plan = plan_for(chat_body("RUN_TOOL: ls", tools=tools))
    assert [(c.name, c.input) for c in plan.tool_calls] == [
        ("functions__exec", {"input": 'const r = await tools.exec_command({cmd: "ls"}); text(r);'})]


def test_exact_shell_tool_name_wins_over_a_namespaced_one():
    plan = plan_for(chat_body("RUN_TOOL: ls", tools=[tool_spec("ns__exec_command", EXEC_COMMAND),
                                                      tool_spec("exec_command", EXEC_COMMAND)]))
    assert plan.tool_calls[0].name == "exec_command"


def test_run_tool_without_shell_tool_falls_through_to_hello():
    assert plan_for(chat_body("RUN_TOOL: ls", tools=[tool_spec("Read")])).text == HELLO
    assert plan_for(chat_body("RUN_TOOL: ls")).text == HELLO


def test_apply_patch_builds_an_add_file_envelope():
    plan = plan_for(chat_body("APPLY_PATCH: notes/a.txt hello world", tools=[tool_spec("apply_patch", FREEFORM)]))
    assert plan.tool_calls[0].input == {
        "input": "*** Begin Patch\n*** Add File: notes/a.txt\n+hello world\n*** End Patch"}


def test_web_search_directive():
    schema = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    plan = plan_for(chat_body("WEB_SEARCH: rust 1.80 release", tools=[tool_spec("web_search", schema)]))
    assert [(c.name, c.input) for c in plan.tool_calls] == [("web_search", {"query": "rust 1.80 release"})]


def response_format(schema: dict) -> str:
    """The exact block a proxy puts in the prompt for structured output."""
    return ("<response_format>\nAnswer with one JSON object only, no prose and no code fence. "
            f"It must validate against this JSON Schema:\n{json.dumps(schema)}\n</response_format>")


SCHEMA = {"type": "object", "required": ["answer", "score", "kind"],
          "properties": {"answer": {"type": "string"}, "score": {"type": "integer", "minimum": 1},
                         "kind": {"enum": ["a", "b"]}}}


def test_response_format_gets_minimal_json():
    plan = plan_for(chat_body(f"Question?\n\n{response_format(SCHEMA)}"))
    assert json.loads(plan.text) == {"answer": "answer", "score": 1, "kind": "a"}
    assert plan.directive == "response_format"


def test_response_format_in_history_system_prompt_is_found():
    body = chat_body("and now?", history=[user(response_format(SCHEMA)), assistant("ok")])
    assert response_schema(check_chat(raw(body), FakeConfig())) == SCHEMA


def test_response_format_wins_over_tool_result_echo():
    body = chat_body("", history=[user(response_format(SCHEMA)), assistant("", [use()])], tools=[tool_spec()],
                     results=[result()])
    assert json.loads(plan_for(body).text)["score"] == 1


def test_thinking_mode_tags_add_a_thinking_prefix():
    plan = plan_for(chat_body("<thinking_mode>enabled</thinking_mode><max_thinking_length>200</max_thinking_length>hi"))
    assert plan.text.startswith("<thinking>") and plan.text.endswith("</thinking>\n\n" + HELLO)
    assert plan_for(chat_body("<thinking_mode>disabled</thinking_mode>hi")).text == HELLO


def test_adaptive_thinking_field_turns_on_reasoning():
    plan = plan_for(chat_body(additionalModelRequestFields={"thinking": {"type": "adaptive"}}))
    assert plan.reasoning and plan.text == HELLO
    assert plan_for(chat_body(additionalModelRequestFields={"thinking": {"type": "disabled"}})).reasoning is None
