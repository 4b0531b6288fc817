"""Tests for proxy/meta_routes.py: GET /v1/models serves Anthropic/OpenAI clients and Gemini clients."""
from __future__ import annotations

import pytest

from proxy.app import create_app
from proxy.settings import Settings
from store import open_stores

GEMINI = {"x-goog-api-key": "k", "x-goog-api-client": "google-genai-sdk/1.30.0 gl-python/3.12"}


@pytest.fixture
def make_client(tmp_path):
    """Factory: a test client of the real app (no accounts; model routes never reach Kiro)."""
    opened = []

    def build(**settings):
        stores = open_stores(tmp_path / "data")
        opened.append(stores)
        app = create_app(Settings(data_dir=tmp_path / "data", upstream_url="http://127.0.0.1:9",
                                  **settings), stores)
        app.testing = True
        return app.test_client()

    yield build
    for stores in opened:
        stores.close()


def test_openai_and_anthropic_clients_get_the_union_list(make_client):
    body = make_client().get("/v1/models", headers={"Authorization": "Bearer k"}).get_json()
    assert body["object"] == "list" and body["has_more"] is False
    first = body["data"][0]
    assert {"id", "type", "display_name", "object", "owned_by"} <= set(first)
    assert "models" not in body


@pytest.mark.parametrize("how", [{"headers": {"x-goog-api-key": "k"}},
                                 {"headers": {"x-goog-api-client": "google-genai-sdk/1.30.0"}},
                                 {"query_string": {"key": "k"}}])
def test_gemini_clients_get_the_gemini_list(make_client, how):
    body = make_client().get("/v1/models", **how).get_json()
    assert set(body) == {"models"}
    names = [m["name"] for m in body["models"]]
    assert "models/gemini-2.5-flash" in names
    assert body["models"][0]["supportedGenerationMethods"] == ["generateContent", "streamGenerateContent",
                                                               "countTokens"]


def test_gemini_get_one_model_under_v1(make_client):
    resp = make_client().get("/v1/models/gemini-2.5-pro", headers=GEMINI)
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "models/gemini-2.5-pro"


def test_gemini_unknown_model_is_a_google_404(make_client):
    resp = make_client().get("/v1/models/nope-1", headers=GEMINI)
    assert resp.status_code == 404
    assert resp.get_json() == {"error": {
        "code": 404, "status": "NOT_FOUND",
        "message": "models/nope-1 is not found for API version v1. Call ListModels to see the list "
                   "of available models."}}


def test_openai_unknown_model_keeps_the_openai_404(make_client):
    resp = make_client().get("/v1/models/nope-1", headers={"Authorization": "Bearer k"})
    assert resp.status_code == 404
    error = resp.get_json()["error"]
    assert "status" not in error and error["code"] == "model_not_found"


def test_openai_client_gets_a_kiro_model_by_id(make_client):
    client = make_client()
    first = client.get("/v1/models").get_json()["data"][0]["id"]
    assert client.get(f"/v1/models/{first}").get_json()["id"] == first


def test_wrong_gemini_key_on_the_model_list_is_a_google_401(make_client):
    resp = make_client(api_keys=["good"]).get("/v1/models", headers={"x-goog-api-key": "bad"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["status"] == "UNAUTHENTICATED"
    ok = make_client(api_keys=["good"]).get("/v1/models", headers={"x-goog-api-key": "good"})
    assert ok.status_code == 200 and "models" in ok.get_json()


def test_wrong_query_key_on_the_model_list_is_a_google_401(make_client):
    # regression: `?key=` made the list answer in Gemini's shape but its errors in OpenAI's
    resp = make_client(api_keys=["good"]).get("/v1/models", query_string={"key": "bad"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["status"] == "UNAUTHENTICATED"
    ok = make_client(api_keys=["good"]).get("/v1/models", query_string={"key": "good"})
    assert ok.status_code == 200 and "models" in ok.get_json()
