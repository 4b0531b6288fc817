"""Tests for proxy/serving.py on a bare Flask app: reading bodies and serving whole answers."""
import json
from types import SimpleNamespace

import pytest
from flask import Flask

from proxy.chat import Chat, Message, Stop, StreamError, TextDelta, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_chat import ADAPTER
from proxy.serving import MAX_JSON_DEPTH, error_response, read_json_body, serve_chat


class Relay:
    """Answers every chat with the scripted events."""

    def __init__(self, events):
        self.events = events

    def start(self, chat, raw_estimate=None):
        return iter(self.events)


def make_app(events=()) -> Flask:
    """An app with one echo route (the parsed body) and one chat route (the scripted answer)."""
    app = Flask(__name__)
    app.extensions["kiro_proxy"] = SimpleNamespace(relay=Relay(list(events)), estimate_tokens=lambda chat, raw=None: 5)
    app.register_error_handler(ProxyError, lambda e: error_response(ADAPTER, e))

    @app.post("/echo")
    def echo():
        return {"body": read_json_body()}

    @app.post("/chat")
    def chat():
        return serve_chat(ADAPTER, Chat(model="m", messages=[Message("user", [])]))

    return app


def post(path, data: bytes, events=()):
    return make_app(events).test_client().post(path, data=data, content_type="application/json")


def nested(depth: int) -> bytes:
    """An array nested `depth` levels deep."""
    return b"[" * depth + b"]" * depth


def test_a_json_body_is_read():
    assert post("/echo", b'{"a": [1, 2.5, null]}').get_json() == {"body": {"a": [1, 2.5, None]}}


def test_a_body_nested_up_to_the_limit_is_read():
    assert post("/echo", nested(MAX_JSON_DEPTH)).status_code == 200


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 100_000])
def test_a_body_nested_too_deeply_is_a_400_not_a_recursion_error(depth):
    # regression: ~1000 levels raised RecursionError in json.loads (or later in a parser): a 500
    resp = post("/echo", nested(depth))
    assert resp.status_code == 400
    assert "nested too deeply" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("raw", [b'{"temperature": NaN}', b'{"t": Infinity}', b'{"t": -Infinity}',
                                 b'{"t": 1e400}'])
def test_non_finite_numbers_are_not_json(raw):
    # regression: Python's parser took NaN / Infinity, which the Responses adapter then echoed back
    # as invalid JSON (and a NaN temperature passed every range check)
    resp = post("/echo", raw)
    assert resp.status_code == 400
    assert "not valid JSON" in resp.get_json()["error"]["message"]


def test_a_whole_answer_is_rendered():
    resp = post("/chat", b"{}", [TextDelta("hi"), Usage(5, 1), Stop("end_turn")])
    assert resp.status_code == 200
    assert resp.get_json()["choices"][0]["message"]["content"] == "hi"


def test_a_whole_answer_with_a_stream_error_is_that_error():
    resp = post("/chat", b"{}", [TextDelta("hi"), StreamError(ProxyError(ErrorKind.TIMEOUT, "quiet"))])
    assert resp.status_code == 504
    assert resp.get_json()["error"]["message"] == "quiet"


def test_a_whole_answer_whose_events_end_without_stop_is_an_error_like_the_stream():
    # regression: it was rendered as a complete answer (finish_reason "stop") while the streamed
    # form of the same events ends in an error
    resp = post("/chat", b"{}", [TextDelta("partial")])
    assert resp.status_code == 502
    assert json.loads(resp.data)["error"]["message"] == "The upstream ended the answer before it was complete."
