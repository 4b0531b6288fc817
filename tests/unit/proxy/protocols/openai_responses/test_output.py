"""Tests for the Responses output items and events: exact event sequences for scripted StreamEvents."""
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from proxy.chat import (Ping, ServerToolCall, ServerToolResult, Stop, StreamError, TextDelta, ThinkingDelta,
                        ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses.context import ResponseContext
from proxy.protocols.openai_responses.render import ResponsesAdapter

STREAM_EVENT = TypeAdapter(ResponseStreamEvent)
USAGE = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=30)
USAGE_OBJECT = {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 0},
                "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 120}


def response(status, output, usage=None, **fields):
    """The Response object the fixtures' reply and an empty echo give."""
    return {"id": "resp_r1", "object": "response", "created_at": 1700000000, "status": status, "background": False,
            "error": None, "incomplete_details": None, "instructions": None, "max_output_tokens": None,
            "model": "gpt-5.5", "output": output, "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "service_tier": "default", "store": False,
            "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
            "top_p": 1.0, "truncation": "disabled", "usage": usage, "user": None, "metadata": {}, **fields}


NO_USAGE = {"input_tokens": 7, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 7}
START = [{"type": "response.created", "response": response("in_progress", [])},
         {"type": "response.in_progress", "response": response("in_progress", [])}]


def text_item(index, text, status="completed"):
    """The events of one whole message item with one text delta."""
    ref = {"item_id": f"msg_r1_{index}", "output_index": index}
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return [
        {"type": "response.output_item.added", "output_index": index, "item": {
            "id": f"msg_r1_{index}", "type": "message", "status": "in_progress", "role": "assistant", "content": []}},
        {"type": "response.content_part.added", **ref, "content_index": 0, "part": {**part, "text": ""}},
        {"type": "response.output_text.delta", **ref, "content_index": 0, "delta": text, "logprobs": []},
        {"type": "response.output_text.done", **ref, "content_index": 0, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **ref, "content_index": 0, "part": part},
        {"type": "response.output_item.done", "output_index": index, "item": message(index, text, status)},
    ]


def message(index, text, status="completed"):
    """A done message item."""
    return {"id": f"msg_r1_{index}", "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}


@pytest.fixture
def stream(reply, context, decode_sse):
    """Render scripted events; returns the decoded events after checking sequence numbers and SDK shapes."""
    def run(events, ctx: ResponseContext = None):
        raw = b"".join(ResponsesAdapter(ctx or context).render_stream(iter(events), reply))
        decoded = decode_sse(raw)
        for event in decoded:
            if event["type"] != "response.failed":  # failure codes Codex reads are outside the SDK's Literal
                STREAM_EVENT.validate_python(event)
        assert [e.pop("sequence_number") for e in decoded] == list(range(len(decoded)))
        return decoded
    return run


def test_text(stream):
    events = stream([TextDelta("Hel"), TextDelta("lo"), USAGE, Stop("end_turn")])
    ref = {"item_id": "msg_r1_0", "output_index": 0}
    assert events == START + [
        {"type": "response.output_item.added", "output_index": 0, "item": {
            "id": "msg_r1_0", "type": "message", "status": "in_progress", "role": "assistant", "content": []}},
        {"type": "response.content_part.added", **ref, "content_index": 0,
         "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}},
        {"type": "response.output_text.delta", **ref, "content_index": 0, "delta": "Hel", "logprobs": []},
        {"type": "response.output_text.delta", **ref, "content_index": 0, "delta": "lo", "logprobs": []},
        {"type": "response.output_text.done", **ref, "content_index": 0, "text": "Hello", "logprobs": []},
        {"type": "response.content_part.done", **ref, "content_index": 0,
         "part": {"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}},
        {"type": "response.output_item.done", "output_index": 0, "item": message(0, "Hello")},
        {"type": "response.completed", "response": response("completed", [message(0, "Hello")], USAGE_OBJECT)},
    ]


def test_pings_are_comments_between_events(reply, context):
    raw = b"".join(ResponsesAdapter(context).render_stream(iter([Ping(), TextDelta("a"), Ping(), Stop("end_turn")]),
                                                           reply))
    blocks = raw.split(b"\n\n")
    assert blocks[2] == b": ping"  # after created and in_progress
    assert blocks[6] == b": ping"  # inside the open message, between its delta and its done events
    assert blocks[5].startswith(b"event: response.output_text.delta\n")


def test_reasoning_then_text(stream):
    events = stream([ThinkingDelta("Let me "), ThinkingDelta("think."), ThinkingDelta(signature="sig"),
                     TextDelta("Hi"), USAGE, Stop("end_turn")])
    ref = {"item_id": "rs_r1_0", "output_index": 0, "summary_index": 0}
    reasoning = {"id": "rs_r1_0", "type": "reasoning",
                 "summary": [{"type": "summary_text", "text": "Let me think."}]}
    assert events == START + [
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"id": "rs_r1_0", "type": "reasoning", "summary": []}},
        {"type": "response.reasoning_summary_part.added", **ref, "part": {"type": "summary_text", "text": ""}},
        {"type": "response.reasoning_summary_text.delta", **ref, "delta": "Let me "},
        {"type": "response.reasoning_summary_text.delta", **ref, "delta": "think."},
        {"type": "response.reasoning_summary_text.done", **ref, "text": "Let me think."},
        {"type": "response.reasoning_summary_part.done", **ref,
         "part": {"type": "summary_text", "text": "Let me think."}},
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning},
        *text_item(1, "Hi"),
        {"type": "response.completed", "response": response("completed", [reasoning, message(1, "Hi")],
                                                             USAGE_OBJECT)},
    ]


def test_hidden_reasoning_is_left_out(stream):
    events = stream([ThinkingDelta("secret"), TextDelta("Hi"), Stop("end_turn")],
                    ResponseContext(show_reasoning=False))
    assert [e["type"] for e in events].count("response.reasoning_summary_text.delta") == 0
    assert events[2]["item"]["type"] == "message"


def test_function_call_with_fragments(stream):
    events = stream([TextDelta("Checking."), ToolCallStart("tooluse_1", "exec_command"),
                     ToolCallDelta("tooluse_1", '{"cmd":'), ToolCallDelta("tooluse_1", ' "ls"}'),
                     ToolCallEnd("tooluse_1", {"cmd": "ls"}), USAGE, Stop("tool_use")])
    ref = {"item_id": "fc_r1_1", "output_index": 1}
    call = {"id": "fc_r1_1", "type": "function_call", "status": "completed", "call_id": "tooluse_1",
            "name": "exec_command", "arguments": '{"cmd": "ls"}'}
    assert events == START + text_item(0, "Checking.") + [
        {"type": "response.output_item.added", "output_index": 1, "item": {**call, "status": "in_progress",
                                                                           "arguments": ""}},
        {"type": "response.function_call_arguments.delta", **ref, "delta": '{"cmd":'},
        {"type": "response.function_call_arguments.delta", **ref, "delta": ' "ls"}'},
        {"type": "response.function_call_arguments.done", **ref, "arguments": '{"cmd": "ls"}'},
        {"type": "response.output_item.done", "output_index": 1, "item": call},
        {"type": "response.completed", "response": response("completed", [message(0, "Checking."), call],
                                                             USAGE_OBJECT)},
    ]


def test_function_call_sent_whole_gets_one_delta(stream):
    events = stream([ToolCallStart("t", "exec_command"), ToolCallEnd("t", {"cmd": "pwd"}), Stop("tool_use")])
    assert events[3:5] == [
        {"type": "response.function_call_arguments.delta", "item_id": "fc_r1_0", "output_index": 0,
         "delta": '{"cmd": "pwd"}'},
        {"type": "response.function_call_arguments.done", "item_id": "fc_r1_0", "output_index": 0,
         "arguments": '{"cmd": "pwd"}'},
    ]


def test_namespaced_function_call_names_its_namespace(stream):
    events = stream([ToolCallStart("t", "multi_agent_v1__spawn_agent"), ToolCallEnd("t", {}), Stop("tool_use")])
    assert events[-2]["item"] == {"id": "fc_r1_0", "type": "function_call", "status": "completed", "call_id": "t",
                                  "name": "spawn_agent", "namespace": "multi_agent_v1", "arguments": "{}"}


def test_custom_apply_patch_call(stream):
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
    events = stream([ToolCallStart("t", "apply_patch"), ToolCallDelta("t", '{"input": "*** Begin'),
                     ToolCallDelta("t", ' Patch\\n*** Add File: a.txt\\n+hi\\n*** End Patch\\n"}'),
                     ToolCallEnd("t", {"input": patch}), USAGE, Stop("tool_use")])
    ref = {"item_id": "ctc_r1_0", "output_index": 0}
    call = {"id": "ctc_r1_0", "type": "custom_tool_call", "status": "completed", "call_id": "t",
            "name": "apply_patch", "input": patch}
    assert events == START + [
        {"type": "response.output_item.added", "output_index": 0, "item": {**call, "status": "in_progress",
                                                                           "input": ""}},
        {"type": "response.custom_tool_call_input.delta", **ref, "delta": patch},
        {"type": "response.custom_tool_call_input.done", **ref, "input": patch},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": response("completed", [call], USAGE_OBJECT)},
    ]


def test_code_mode_exec_call_keeps_its_namespace(stream):
    script = 'const r = await tools.exec_command({cmd: "ls"});\ntext(r);\n'
    events = stream([ToolCallStart("t", "functions__exec"), ToolCallEnd("t", {"input": script}), Stop("tool_use")])
    call = {"id": "ctc_r1_0", "type": "custom_tool_call", "status": "completed", "call_id": "t", "name": "exec",
            "namespace": "functions", "input": script}
    ref = {"item_id": "ctc_r1_0", "output_index": 0}
    assert events == START + [
        {"type": "response.output_item.added", "output_index": 0, "item": {**call, "status": "in_progress",
                                                                           "input": ""}},
        {"type": "response.custom_tool_call_input.delta", **ref, "delta": script},
        {"type": "response.custom_tool_call_input.done", **ref, "input": script},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": response("completed", [call], NO_USAGE)},
    ]


def test_custom_call_with_another_lone_string_argument(stream):
    events = stream([ToolCallStart("t", "apply_patch"), ToolCallEnd("t", {"patch": "P"}), Stop("tool_use")])
    assert events[-2]["item"]["input"] == "P"


def test_local_shell_call(stream):
    events = stream([ToolCallStart("t", "local_shell"),
                     ToolCallDelta("t", '{"command": ["ls", "-la"], "workdir": "/w", "timeout_ms": 900}'),
                     ToolCallEnd("t", {"command": ["ls", "-la"], "workdir": "/w", "timeout_ms": 900}),
                     Stop("tool_use")])
    call = {"id": "lsh_r1_0", "type": "local_shell_call", "status": "completed", "call_id": "t",
            "action": {"type": "exec", "command": ["ls", "-la"], "env": {}, "timeout_ms": 900, "user": None,
                       "working_directory": "/w"}}
    assert events[2:] == [
        {"type": "response.output_item.added", "output_index": 0, "item": {**call, "status": "in_progress"}},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": response("completed", [call], NO_USAGE)},
    ]


def test_local_shell_string_command_runs_in_bash(stream):
    events = stream([ToolCallStart("t", "local_shell"), ToolCallEnd("t", {"command": "ls | wc -l"}),
                     Stop("tool_use")])
    assert events[-2]["item"]["action"]["command"] == ["bash", "-lc", "ls | wc -l"]


def test_tool_search_call(stream):
    events = stream([ToolCallStart("t", "tool_search"), ToolCallEnd("t", {"query": "calendar", "limit": 2}),
                     Stop("tool_use")])
    call = {"id": "ts_r1_0", "type": "tool_search_call", "status": "completed", "call_id": "t",
            "execution": "client", "arguments": {"query": "calendar", "limit": 2}}
    assert events[2:4] == [
        {"type": "response.output_item.added", "output_index": 0, "item": {**call, "status": "in_progress"}},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
    ]


def test_undeclared_tool_renders_as_a_function_call(stream):
    events = stream([ToolCallStart("t", "mcp__docs__search"), ToolCallEnd("t", {"q": 1}), Stop("tool_use")])
    assert events[-2]["item"]["name"] == "mcp__docs__search" and "namespace" not in events[-2]["item"]


def test_web_search(stream):
    events = stream([
        ServerToolCall("srv_1", "web_search", {"query": "kiro proxy"}),
        ServerToolResult("srv_1", "web_search", [{"title": "Kiro", "url": "https://kiro.dev", "snippet": "..."},
                                                 {"title": "No URL"}]),
        TextDelta("Found."), USAGE, Stop("end_turn")])
    ref = {"item_id": "ws_r1_0", "output_index": 0}
    search = {"id": "ws_r1_0", "type": "web_search_call", "status": "completed",
              "action": {"type": "search", "query": "kiro proxy", "sources": [{"type": "url",
                                                                               "url": "https://kiro.dev"}]}}
    assert events == START + [
        {"type": "response.output_item.added", "output_index": 0, "item": {
            "id": "ws_r1_0", "type": "web_search_call", "status": "in_progress",
            "action": {"type": "search", "query": "kiro proxy"}}},
        {"type": "response.web_search_call.in_progress", **ref},
        {"type": "response.web_search_call.searching", **ref},
        {"type": "response.web_search_call.completed", **ref},
        {"type": "response.output_item.done", "output_index": 0, "item": search},
        *text_item(1, "Found."),
        {"type": "response.completed", "response": response("completed", [search, message(1, "Found.")],
                                                             USAGE_OBJECT)},
    ]


def test_failed_web_search(stream):
    events = stream([ServerToolCall("s", "web_search", {"query": "q"}),
                     ServerToolResult("s", "web_search", [], error="MCP unavailable"), Stop("end_turn")])
    assert events[5] == {"type": "response.output_item.done", "output_index": 0, "item": {
        "id": "ws_r1_0", "type": "web_search_call", "status": "failed", "action": {"type": "search", "query": "q"}}}


def test_max_tokens_ends_incomplete(stream):
    events = stream([TextDelta("Half"), USAGE, Stop("max_tokens")])
    assert events == START + text_item(0, "Half", status="incomplete") + [
        {"type": "response.incomplete", "response": response(
            "incomplete", [message(0, "Half", "incomplete")], USAGE_OBJECT,
            incomplete_details={"reason": "max_output_tokens"})},
    ]


def test_a_function_call_cut_by_max_tokens_is_never_finished(stream):
    # Codex runs every function_call `.done` item, whatever its status: a truncated call (even one
    # whose fragments happen to parse) must never get one
    events = stream([ToolCallStart("a", "exec_command"), ToolCallDelta("a", '{"cmd": "rm -r build"}'),
                     Stop("max_tokens")])
    added = {"id": "fc_r1_0", "type": "function_call", "status": "in_progress", "call_id": "a",
             "name": "exec_command", "arguments": ""}
    assert events[2:] == [
        {"type": "response.output_item.added", "output_index": 0, "item": added},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_r1_0", "output_index": 0,
         "delta": '{"cmd": "rm -r build"}'},
        {"type": "response.incomplete", "response": response(
            "incomplete", [], NO_USAGE, incomplete_details={"reason": "max_output_tokens"})},
    ]


def test_truncated_freeform_call_is_never_sent(stream):
    events = stream([TextDelta("Patching."), ToolCallStart("p", "apply_patch"),
                     ToolCallDelta("p", '{"input": "*** Begin Patch\\n*** Delete File: important'),
                     Stop("max_tokens")])
    assert [e["type"] for e in events if e["type"].startswith("response.custom_tool_call")] == []
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["output"] == [message(0, "Patching.")]


def test_mid_stream_error_fails_the_response(stream):
    error = ProxyError(ErrorKind.RATE_LIMITED, "All accounts are busy.", retry_after=3)
    events = stream([TextDelta("Hel"), StreamError(error), TextDelta("ignored")])
    assert [e["type"] for e in events] == ["response.created", "response.in_progress",
                                           "response.output_item.added", "response.content_part.added",
                                           "response.output_text.delta", "response.failed"]
    assert events[-1] == {"type": "response.failed", "response": response("failed", [], error={
        "code": "rate_limit_exceeded", "message": "All accounts are busy. Please try again in 3s."})}


@pytest.mark.parametrize("error, code, message", [
    (ProxyError(ErrorKind.CONTEXT_TOO_LONG, "Input is too long."), "context_length_exceeded",
     "This model's maximum context length was exceeded: Input is too long."),
    (ProxyError(ErrorKind.QUOTA_EXHAUSTED, "Every account is out of credits."), "insufficient_quota",
     "Every account is out of credits."),
    (ProxyError(ErrorKind.UPSTREAM, "Kiro hung up."), "server_error", "Kiro hung up."),
    (ProxyError(ErrorKind.OVERLOADED, "High traffic."), "server_error", "High traffic."),
    (ProxyError(ErrorKind.INVALID_REQUEST, "Improperly formed request."), "invalid_prompt",
     "Improperly formed request."),
    (ConnectionResetError("reset by peer"), "server_error", "reset by peer"),
])
def test_failure_codes(stream, error, code, message):
    events = stream([StreamError(error)])
    assert events[-1]["response"]["error"] == {"code": code, "message": message}
    assert events[-1]["response"]["status"] == "failed"


def test_failed_response_keeps_finished_items_and_usage(stream):
    events = stream([TextDelta("A"), ToolCallStart("t", "exec_command"), USAGE,
                     StreamError(ProxyError(ErrorKind.UPSTREAM, "cut"))])
    assert events[-1]["response"]["output"] == [message(0, "A")]
    assert events[-1]["response"]["usage"] == USAGE_OBJECT


def test_events_ending_without_stop_fail(stream):
    events = stream([TextDelta("A")])
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"] == {"code": "server_error",
                                               "message": "The upstream ended the answer before it was complete."}


def test_a_raising_event_source_fails_cleanly(stream, reply, context, decode_sse):
    def events():
        yield TextDelta("A")
        raise ProxyError(ErrorKind.TIMEOUT, "Kiro went quiet.")
    decoded = decode_sse(b"".join(ResponsesAdapter(context).render_stream(events(), reply)))
    assert decoded[-1]["type"] == "response.failed"
    assert decoded[-1]["response"]["error"] == {"code": "server_error", "message": "Kiro went quiet."}


def test_nothing_follows_the_terminal_event(stream):
    events = stream([TextDelta("A"), Stop("end_turn"), TextDelta("B"), Stop("end_turn")])
    assert [e["type"] for e in events].count("response.completed") == 1
    assert events[-1]["type"] == "response.completed"


def test_echoed_request_fields(stream):
    echo = {"instructions": "Be brief.", "max_output_tokens": 99, "parallel_tool_calls": False,
            "reasoning": {"effort": "medium"}, "temperature": 0.5, "text": {"verbosity": "low"},
            "tool_choice": "required", "tools": [{"type": "function", "name": "f", "parameters": {}}],
            "top_p": 0.9, "truncation": "auto", "metadata": {"k": "v"}, "user": "u", "service_tier": "flex",
            "prompt_cache_key": "thread-1"}
    events = stream([TextDelta("A"), Stop("end_turn")], ResponseContext(echo=echo))
    created = events[0]["response"]
    assert {k: created[k] for k in echo} == echo
    assert created["store"] is False


def test_refusal_ends_incomplete_as_content_filter(stream):
    events = stream([TextDelta("I can't help with that."), Stop("refusal")])
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}
