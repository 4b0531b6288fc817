"""Factories for fake-Kiro tests: request bodies, tool specs, stream decoding."""
from __future__ import annotations

import json
from typing import Optional

from tests.fake_kiro.eventstream import decode_events

PROFILE_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
MODEL = "claude-sonnet-4.5"


def tool_spec(name: str = "get_weather", schema: Optional[dict] = None, description: str = "A tool.") -> dict:
    """A `tools[]` entry."""
    if schema is None:
        schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    return {"toolSpecification": {"name": name, "description": description, "inputSchema": {"json": schema}}}


def user(content: str = "Hello", results: Optional[list] = None, **extra) -> dict:
    """A history user turn."""
    message = {"content": content, "modelId": MODEL, "origin": "AI_EDITOR", **extra}
    if results is not None:
        message["userInputMessageContext"] = {"toolResults": results}
    return {"userInputMessage": message}


def assistant(content: str = "OK", uses: Optional[list] = None) -> dict:
    """A history assistant turn."""
    message: dict = {"content": content}
    if uses is not None:
        message["toolUses"] = uses
    return {"assistantResponseMessage": message}


def use(tool_use_id: str = "tooluse_A", name: str = "get_weather", tool_input: Optional[dict] = None) -> dict:
    """A toolUses entry."""
    return {"toolUseId": tool_use_id, "name": name, "input": tool_input if tool_input is not None else {"city": "Paris"}}


def result(tool_use_id: str = "tooluse_A", text: str = "18C, cloudy", status: str = "success") -> dict:
    """A toolResults entry."""
    return {"toolUseId": tool_use_id, "content": [{"text": text}], "status": status}


def chat_body(content: str = "hi", history: Optional[list] = None, tools: Optional[list] = None,
              results: Optional[list] = None, model: str = MODEL, profile_arn: Optional[str] = PROFILE_ARN,
              **root) -> dict:
    """A valid GenerateAssistantResponse body; keyword args add root fields."""
    message: dict = {"content": content, "modelId": model, "origin": "AI_EDITOR"}
    context: dict = {}
    if tools is not None:
        context["tools"] = tools
    if results is not None:
        context["toolResults"] = results
    if context:
        message["userInputMessageContext"] = context
    state: dict = {"chatTriggerType": "MANUAL", "conversationId": "3b2b8c1e-51f7-4c79-a6a0-7a0a3f0f7c11",
                   "currentMessage": {"userInputMessage": message}}
    if history is not None:
        state["history"] = history
    body: dict = {"conversationState": state, **root}
    if profile_arn is not None:
        body["profileArn"] = profile_arn
    return body


def tool_turn_body(**kw) -> dict:
    """The §8 example: one get_weather call answered in currentMessage."""
    return chat_body("Tool results provided.", history=[user("What's the weather?"),
                                                        assistant("Let me check.", [use()])],
                     tools=[tool_spec()], results=[result()], **kw)


def raw(body: dict) -> bytes:
    """A body as the bytes a proxy would send."""
    return json.dumps(body).encode()


def post_chat(client, token: str, body: dict, path: str = "/generateAssistantResponse", **headers):
    """POST a chat body with a bearer token."""
    return client.post(path, data=raw(body), headers={"authorization": f"Bearer {token}",
                                                      "content-type": "application/json", **headers})


def events(response) -> list:
    """Decoded (type, payload) pairs of a streamed response."""
    return decode_events(response.get_data())


def text_of(evts: list) -> str:
    """The concatenated assistant text."""
    return "".join(p["content"] for t, p in evts if t == "assistantResponseEvent")


def tool_calls(evts: list) -> list:
    """Completed tool calls as (name, toolUseId, parsed input), reassembled like a careful proxy."""
    buffers: dict = {}
    names: dict = {}
    done = []
    for kind, payload in evts:
        if kind != "toolUseEvent":
            continue
        tid = payload["toolUseId"]
        names[tid] = payload["name"]
        buffers.setdefault(tid, "")
        buffers[tid] += payload.get("input", "")
        if payload.get("stop"):
            done.append((names[tid], tid, json.loads(buffers[tid] or "{}")))
    return done
