"""Tests for proxy/app.py: the client-key gate on every route and the request-size cap."""
from __future__ import annotations

import io
import json
import re

import pytest

from proxy.app import PUBLIC_ENDPOINTS, create_app
from proxy.settings import Settings
from store import open_stores

KEY = "sk-proxy-client-key"
ANTHROPIC_BODY = {"model": "claude-sonnet-4.5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def make_app(tmp_path):
    """Factory: the real app with no accounts and an unreachable Kiro (nothing here may reach it)."""
    opened = []

    def build(**settings):
        stores = open_stores(tmp_path / "data")
        opened.append(stores)
        app = create_app(Settings(data_dir=tmp_path / "data", upstream_url="http://127.0.0.1:9", **settings),
                         stores)
        app.testing = True
        return app

    yield build
    for stores in opened:
        stores.close()


@pytest.fixture
def client(make_app):
    return make_app(api_keys=[KEY]).test_client()


def concrete(rule: str) -> str:
    """A path that matches a URL rule."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "gemini-2.5-pro" if m.group(1) in ("name", "target")
                  else "x", rule)


def test_every_route_but_health_needs_the_key_for_every_method(make_app):
    app = make_app(api_keys=[KEY])
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods:
            resp = client.open(concrete(rule.rule), method=method, json={})
            assert resp.status_code == 401, (method, rule.rule, resp.data)
            checked += 1
    assert checked >= 30  # the GET model lists, HEAD and OPTIONS included


def test_health_is_the_only_public_route_and_nothing_static_is_served(client):
    assert client.get("/health").status_code == 200
    assert client.get("/static/x").status_code == 404


@pytest.mark.parametrize("path", ["//v1/messages", "///v1/messages", "/v1//messages", "/v1/messages/",
                                  "/v1/./messages", "/%76%31/messages", "/v1%2Fmessages", "/v1/mess%61ges",
                                  "//v1beta/models/gemini-2.5-pro:generateContent",
                                  "/v1beta/models/gemini-2.5-pro%3AgenerateContent", "/v1", "/v1beta", "/v1/nothing"])
def test_path_tricks_never_reach_a_view_without_the_key(client, path):
    # PATH_INFO as a WSGI server hands it over (the test client would read "//v1" as a host name)
    resp = client.post("/", environ_overrides={"PATH_INFO": path.replace("%76%31", "v1").replace("%2F", "/")
                                               .replace("%61", "a").replace("%3A", ":")},
                       json=ANTHROPIC_BODY)
    assert resp.status_code == 401, (path, resp.status_code)


@pytest.mark.parametrize("headers, query", [({"x-api-key": KEY}, ""), ({"Authorization": f"Bearer {KEY}"}, ""),
                                            ({"x-goog-api-key": KEY}, ""), ({}, f"?key={KEY}")])
def test_the_right_key_opens_the_model_lists(client, headers, query):
    assert client.get("/v1/models" + query, headers=headers).status_code == 200
    assert client.get("/v1beta/models" + query, headers=headers).status_code == 200


def test_without_keys_configured_no_key_is_needed(make_app):
    assert make_app().test_client().get("/v1/models").status_code == 200


# ----------------------------------------------------------------- request size


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


@pytest.mark.parametrize("path, shape", [
    ("/v1/messages", lambda b: b["type"] == "error" and b["error"]["type"] == "request_too_large"),
    ("/v1/chat/completions", lambda b: b["error"]["type"] == "invalid_request_error"),
    ("/v1/responses", lambda b: b["error"]["type"] == "invalid_request_error"),
    ("/v1beta/models/gemini-2.5-pro:generateContent",
     lambda b: b["error"]["code"] == 413 and b["error"]["status"] == "INVALID_ARGUMENT"),
])
def test_declared_length_over_the_cap_is_a_413_in_the_protocol_shape_without_reading(make_app, path, shape):
    client = make_app(max_request_bytes=1000).test_client()
    resp = client.post(path, environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024),
                                                "CONTENT_TYPE": "application/json", "wsgi.input": Unreadable()})
    assert resp.status_code == 413
    body = resp.get_json()
    assert shape(body), body
    assert "1000 bytes" in json.dumps(body)


def test_chunked_body_over_the_cap_is_a_413_after_at_most_cap_plus_one_bytes(make_app):
    client = make_app(max_request_bytes=1000).test_client()
    reads = []

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            reads.append(len(buffer))
            buffer[:] = b"a" * len(buffer)
            return len(buffer)

    resp = client.post("/v1/messages", environ_overrides={"wsgi.input": Endless(), "wsgi.input_terminated": True,
                                                           "CONTENT_TYPE": "application/json"})
    assert resp.status_code == 413 and resp.get_json()["error"]["type"] == "request_too_large"
    assert sum(reads) == 1001  # stopped one byte past the cap, not at the (never reached) end


def test_bodies_under_the_cap_reach_the_parser(make_app):
    client = make_app(max_request_bytes=1000).test_client()
    small = client.post("/v1/messages", data=b"{not json", content_type="application/json")
    assert small.status_code == 400 and "not valid JSON" in small.get_json()["error"]["message"]
    chunked = client.post("/v1/messages", input_stream=io.BytesIO(json.dumps(ANTHROPIC_BODY).encode()),
                          content_type="application/json")
    assert chunked.status_code == 503  # parsed, then no account: the body arrived whole


def test_the_key_is_checked_before_the_size(make_app):
    client = make_app(api_keys=[KEY], max_request_bytes=10).test_client()
    resp = client.post("/v1/messages", environ_overrides={"CONTENT_LENGTH": "100000000", "wsgi.input": Unreadable()})
    assert resp.status_code == 401
