"""What the `openai` SDK client tests share: the client, request pieces and checks on what Kiro got."""
from __future__ import annotations

import base64

import openai

# a 1x1 PNG: the smallest image Kiro accepts
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()
DATA_URL = f"data:image/png;base64,{PNG}"
HELLO = "Hello! This is the fake Kiro."
MODEL = "gpt-5.5"

EXEC_SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string", "description": "The command"}},
               "required": ["cmd"], "additionalProperties": False}
CHAT_TOOL = {"type": "function", "function": {"name": "exec_command", "description": "Run a shell command",
                                              "parameters": EXEC_SCHEMA}}
RESPONSES_TOOL = {"type": "function", "name": "exec_command", "description": "Run a shell command",
                  "parameters": EXEC_SCHEMA, "strict": False}
PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 3},
                                           "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
          "required": ["name", "age", "tags"], "additionalProperties": False}


def sdk(proxy, **options) -> openai.OpenAI:
    """A client pointed at the proxy that does not retry, so each error is seen as it is."""
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=options.pop("api_key", "sk-test"),
                         max_retries=0, timeout=60, **options)


def hello(**extra) -> dict:
    """Chat Completions arguments for a one-line hello."""
    return dict(model=MODEL, messages=[{"role": "user", "content": "say hello"}], **extra)


def sent_to_kiro(fake_kiro) -> dict:
    """The userInputMessage of the last chat request the fake received."""
    return fake_kiro.requests(limit=1)[-1]["body"]["conversationState"]["currentMessage"]["userInputMessage"]


def fits_person(value: dict) -> bool:
    """True when `value` validates against PERSON (checked by hand: no jsonschema dependency)."""
    return (set(value) == {"name", "age", "tags"} and isinstance(value["name"], str)
            and isinstance(value["age"], int) and value["age"] >= 3
            and isinstance(value["tags"], list) and len(value["tags"]) >= 1
            and all(isinstance(t, str) for t in value["tags"]))
