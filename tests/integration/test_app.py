"""The app's own answers, in-process: unknown routes and unreadable bodies in each protocol's shape."""
from __future__ import annotations

import pytest

from tests.integration.helpers import ANTHROPIC_HEADERS

pytestmark = pytest.mark.integration

GEMINI_GENERATE = "/v1beta/models/gemini-2.5-pro:generateContent"


def test_unknown_anthropic_route_is_an_anthropic_404(client):
    resp = client.post("/v1/messages/nope", json={}, headers=ANTHROPIC_HEADERS)
    assert resp.status_code == 404
    assert resp.get_json() == {"type": "error", "error": {"type": "not_found_error",
                                                          "message": "POST /v1/messages/nope: Not Found."}}


def test_unknown_route_with_anthropic_version_header_is_an_anthropic_404(client):
    resp = client.get("/v1/whatever", headers=ANTHROPIC_HEADERS)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["type"] == "not_found_error"


def test_unknown_openai_route_is_an_openai_404(client):
    resp = client.post("/v1/chat/nope", json={})
    assert resp.status_code == 404
    assert resp.get_json() == {"error": {"message": "POST /v1/chat/nope: Not Found.",
                                         "type": "invalid_request_error", "param": None, "code": "not_found"}}


def test_unknown_gemini_route_is_a_google_404(client):
    resp = client.get("/v1beta/nope")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": {"code": 404, "message": "GET /v1beta/nope: Not Found.",
                                         "status": "NOT_FOUND"}}


def test_the_bare_v1beta_path_is_a_google_404(client):
    # regression: "/v1beta" (no trailing slash) answered in OpenAI's shape
    resp = client.get("/v1beta")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["status"] == "NOT_FOUND"


def test_wrong_method_is_a_404_in_the_protocol_shape(client):
    resp = client.get("/v1/messages", headers=ANTHROPIC_HEADERS)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["type"] == "not_found_error"


def test_unknown_route_outside_the_api_is_plain_json(client):
    resp = client.get("/nope")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/chat/completions",
                                  "/v1/responses", GEMINI_GENERATE])
def test_malformed_json_is_a_400_that_says_so(client, fake_kiro, path):
    resp = client.post(path, data=b'{"model": "x", "messages": [', headers=ANTHROPIC_HEADERS,
                       content_type="application/json")
    assert resp.status_code == 400
    assert "not valid JSON" in resp.get_json()["error"]["message"]
    assert fake_kiro.stats()["totals"]["chat_requests"] == 0


def test_malformed_json_shapes_differ_per_protocol(client):
    bad = dict(data=b"{nope", content_type="application/json")
    anthropic = client.post("/v1/messages", headers=ANTHROPIC_HEADERS, **bad).get_json()
    openai = client.post("/v1/chat/completions", **bad).get_json()
    responses = client.post("/v1/responses", **bad).get_json()
    gemini = client.post(GEMINI_GENERATE, **bad).get_json()
    assert anthropic["type"] == "error" and anthropic["error"]["type"] == "invalid_request_error"
    assert openai["error"]["type"] == responses["error"]["type"] == "invalid_request_error"
    assert openai["error"]["code"] is None
    assert gemini["error"]["code"] == 400 and gemini["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/chat/completions",
                                  "/v1/responses", GEMINI_GENERATE])
@pytest.mark.parametrize("raw", [b"[" * 5000 + b"]" * 5000, b'{"model": "x", "temperature": NaN}'])
def test_deep_nesting_and_nan_are_400s_not_500s(client, fake_kiro, path, raw):
    # regression: deep nesting raised RecursionError (a 500); NaN was accepted and echoed back
    resp = client.post(path, data=raw, headers=ANTHROPIC_HEADERS, content_type="application/json")
    assert resp.status_code == 400
    assert fake_kiro.stats()["totals"]["chat_requests"] == 0


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions", "/v1/responses", GEMINI_GENERATE])
def test_empty_body_is_a_400(client, path):
    resp = client.post(path, data=b"", content_type="application/json")
    assert resp.status_code == 400
    assert "empty" in resp.get_data(as_text=True)


def test_missing_field_is_a_400_naming_it(client):
    resp = client.post("/v1/messages", json={"model": "claude-sonnet-4-6", "max_tokens": 10},
                       headers=ANTHROPIC_HEADERS)
    assert resp.status_code == 400
    assert "messages" in resp.get_json()["error"]["message"]
