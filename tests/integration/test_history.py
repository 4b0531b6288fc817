"""Long conversations through the whole app and the fake Kiro: sessions that grow to more than
ten times the fake's input limit keep getting answers, in all three protocols."""
from __future__ import annotations

import json
import threading

import anthropic
import openai
import pytest
import requests
from werkzeug.serving import make_server

from proxy.history import History
from tests.support import CAPTURES

pytestmark = pytest.mark.integration

LIMIT = 20_000  # the fake's input limit in its tokens (body bytes / 4)
RULE = "RULE: never edit files under vendor/, and answer in English."
CLAUDE_CODE = json.loads((CAPTURES / "claude-code" / "0002_claude-tool_POST_v1_messages.json").read_text())


def tool_output(i: int, chars: int) -> str:
    """A file listing as a tool would print it."""
    return (f"# src/file_{i}.py\n" + f"def function_{i}(x):  # line\n    return x * {i}\n" * chars)[:chars]


@pytest.fixture
def served(app, fake_kiro):
    """The app on a real local socket (for the SDKs), history wired, the fake's limit lowered."""
    fake_kiro.configure(input_limit_tokens=LIMIT, text_chunk_chars=2000)
    history = app.extensions["kiro_proxy"].relay.history
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", history
    server.shutdown()
    thread.join(timeout=10)


def figures(fake_kiro, history: History, turns: int, sent_chars: int) -> dict:
    """What the session cost: requests Kiro saw, summaries made, cache hits."""
    totals = fake_kiro.stats()["totals"]
    stats = history.stats()
    return {"client_turns": turns, "conversation_x_limit": round(sent_chars / 4 / LIMIT, 1),
            "kiro_requests": totals["chat_requests"], "kiro_too_long": totals["chat_errors"],
            "summary_calls": stats.get("summary_calls", 0), "cache_hits": stats.get("summary_cache_hits", 0),
            "cache_misses": stats.get("summary_cache_misses", 0), "retries": stats.get("retries", 0)}


def check(fake_kiro, numbers: dict) -> None:
    """The session kept working past ten times the limit, and the cache cut summary calls."""
    print("\nhistory figures:", numbers)
    assert numbers["conversation_x_limit"] >= 10
    assert numbers["kiro_requests"] == numbers["client_turns"] + numbers["summary_calls"] + numbers["kiro_too_long"]
    assert numbers["kiro_too_long"] <= 4
    assert 0 < numbers["summary_calls"] < numbers["client_turns"] / 2 and numbers["cache_hits"] > 0
    last = fake_kiro.requests(limit=1)[0]["body"]["conversationState"]
    first_turn = last["history"][0]["userInputMessage"]["content"]
    assert RULE in first_turn and "<conversation_summary>" in first_turn  # the task's rules survive


def test_claude_code_session_through_the_anthropic_sdk(served, fake_kiro):
    url, history = served
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0, timeout=120)
    body = CLAUDE_CODE["body"]
    session = json.loads(body["metadata"]["user_id"])["session_id"]
    messages: list = [{"role": "user", "content": [{"type": "text", "text": f"Refactor the parser. {RULE}"}]}]
    turns = sent = 0
    for i in range(1, 70):
        messages.append({"role": "user", "content": f"Step {i}. RUN_TOOL: cat src/file_{i}.py"})
        if messages[-2]["role"] == "user":  # the first prompt: fold the two user turns into one
            messages[-2:] = [{"role": "user", "content": messages[-2]["content"] + [
                {"type": "text", "text": messages[-1]["content"]}]}]
        for _ in range(2):  # the tool call, then the answer to its result
            reply = client.messages.create(
                model=body["model"], max_tokens=1024, system=body["system"], tools=body["tools"],
                thinking=body["thinking"], metadata=body["metadata"], messages=messages,
                extra_headers={"X-Claude-Code-Session-Id": session})
            turns += 1
            sent = max(sent, len(json.dumps(messages)))
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in reply.content]})
            if reply.stop_reason == "tool_use":
                call = next(b for b in reply.content if b.type == "tool_use")
                assert call.name == "Bash" and call.input["command"] == f"cat src/file_{i}.py"
                messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                                              "content": tool_output(i, 8000)}]})
            else:
                text = "".join(b.text for b in reply.content if b.type == "text")
                assert text.startswith(f"TOOL_RESULT_SEEN: # src/file_{i}.py")
        assert messages[-1]["role"] == "assistant"
    check(fake_kiro, figures(fake_kiro, history, turns, sent))


def test_openai_chat_session(served, fake_kiro):
    url, history = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0, timeout=120)
    tools = [{"type": "function", "function": {"name": "Bash", "description": "Run a shell command",
                                               "parameters": {"type": "object",
                                                              "properties": {"command": {"type": "string"}},
                                                              "required": ["command"]}}}]
    messages: list = [{"role": "system", "content": "You are a coding agent."}]
    turns = sent = 0
    for i in range(1, 70):
        prompt = f"Step {i}. RUN_TOOL: cat src/file_{i}.py"
        messages.append({"role": "user", "content": f"Refactor the parser. {RULE}\n{prompt}" if i == 1 else prompt})
        reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, user="oa-session")
        [call] = reply.choices[0].message.tool_calls
        messages.append(reply.choices[0].message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": tool_output(i, 8000)})
        answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, user="oa-session")
        assert answer.choices[0].message.content.startswith(f"TOOL_RESULT_SEEN: # src/file_{i}.py")
        messages.append({"role": "assistant", "content": answer.choices[0].message.content})
        turns += 2
        sent = max(sent, len(json.dumps(messages)))
    check(fake_kiro, figures(fake_kiro, history, turns, sent))


def test_gemini_session(served, fake_kiro):
    url, history = served
    endpoint = f"{url}/v1beta/models/gemini-2.5-pro:generateContent"
    tools = [{"functionDeclarations": [{"name": "Bash", "description": "Run a shell command",
                                        "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                                                       "required": ["command"]}}]}]
    contents: list = []
    turns = sent = 0

    def generate() -> dict:
        resp = requests.post(endpoint, json={"contents": contents, "tools": tools,
                                             "systemInstruction": {"parts": [{"text": "You are a coding agent."}]}},
                             headers={"x-goog-api-key": "k"}, timeout=120)
        assert resp.status_code == 200, resp.text
        return resp.json()["candidates"][0]["content"]

    for i in range(1, 70):
        prompt = f"Step {i}. RUN_TOOL: cat src/file_{i}.py"
        contents.append({"role": "user", "parts": [{"text": f"Refactor the parser. {RULE}\n{prompt}" if i == 1
                                                    else prompt}]})
        model_turn = generate()
        call = next(p["functionCall"] for p in model_turn["parts"] if "functionCall" in p)
        contents.append(model_turn)
        contents.append({"role": "user", "parts": [{"functionResponse": {
            "id": call.get("id"), "name": call["name"], "response": {"output": tool_output(i, 8000)}}}]})
        answer = generate()
        assert "TOOL_RESULT_SEEN" in answer["parts"][0]["text"]
        contents.append(answer)
        turns += 2
        sent = max(sent, len(json.dumps(contents)))
    check(fake_kiro, figures(fake_kiro, history, turns, sent))
