"""Tests for tests/fake_kiro/service_routes.py: usage, models, profiles, MCP."""
import datetime as dt
import json

from tests.fake_kiro import bodies
from tests.fake_kiro.service_routes import usage_body
from tests.fake_kiro.tokens import AccountBook
from tests.unit.fake_kiro.helpers import chat_body, post_chat


def auth(account):
    """Bearer header for an account."""
    return {"authorization": f"Bearer {account['access_token']}"}


def test_usage_limits_shape_and_counting(client, account):
    post_chat(client, account["access_token"], chat_body())
    resp = client.get("/getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST&isEmailRequired=true",
                      headers=auth(account))
    body = resp.get_json()
    [item] = body["usageBreakdownList"]
    assert (item["resourceType"], item["currentUsageWithPrecision"], item["usageLimitWithPrecision"]) == \
        ("CREDIT", 0.25, 1000.0)
    assert body["userInfo"] == {"email": account["email"], "userId": account["user_id"]}
    assert body["subscriptionInfo"]["subscriptionTitle"] == "KIRO PRO"
    assert body["overageConfiguration"] == {"overageStatus": "DISABLED"}


def test_usage_reset_date_is_next_month():
    account = AccountBook().register("social")
    body = usage_body(account, now=dt.datetime(2026, 12, 20, 12, tzinfo=dt.timezone.utc))
    assert body["nextDateReset"] == int(dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    assert body["daysUntilReset"] == 12


def test_usage_needs_a_valid_bearer(client):
    resp = client.get("/getUsageLimits", headers={"authorization": "Bearer aoaNope"})
    assert (resp.status_code, resp.get_json()) == (403, bodies.BEARER_INVALID)


def test_usage_over_aws_json(client, account):
    resp = client.post("/", json={"origin": "AI_EDITOR"},
                       headers={**auth(account), "x-amz-target": "AmazonCodeWhispererService.GetUsageLimits"})
    assert resp.get_json()["usageBreakdownList"][0]["usageLimit"] == 1000


def test_models_paging(client, account):
    first = client.get("/ListAvailableModels?origin=AI_EDITOR&maxResults=3", headers=auth(account)).get_json()
    assert [m["modelId"] for m in first["models"]] == ["auto", "claude-sonnet-4", "claude-sonnet-4.5"]
    assert first["defaultModel"]["modelId"] == "auto" and first["nextToken"] == "3"
    every = client.get("/ListAvailableModels", headers=auth(account)).get_json()
    assert "nextToken" not in every and len(every["models"]) > 10
    assert every["models"][2]["tokenLimits"] == {"maxInputTokens": 200000, "maxOutputTokens": 64000}


def test_profiles(client, account):
    body = client.get("/ListAvailableProfiles", headers=auth(account)).get_json()
    assert body == {"profiles": [{"arn": account["profile_arn"], "profileName": "KiroProfile-us-east-1"}]}


def mcp(client, account, payload):
    """POST /mcp with a JSON-RPC payload (dict) or raw text."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post("/mcp", data=data, headers={**auth(account), "content-type": "application/json"})


def test_mcp_web_search(client, account):
    call = {"id": "web_search_tooluse_x_1_abcd1234", "jsonrpc": "2.0", "method": "tools/call",
            "params": {"name": "web_search", "arguments": {"query": "rust 1.80 release notes"}}}
    body = mcp(client, account, call).get_json()
    assert body["id"] == call["id"] and body["result"]["isError"] is False
    results = json.loads(body["result"]["content"][0]["text"])
    assert results["query"] == "rust 1.80 release notes" and results["totalResults"] == 3
    assert all("rust 1.80 release notes" in r["title"] for r in results["results"])
    assert mcp(client, account, call).get_json() == body  # deterministic


def test_mcp_errors(client, account):
    assert mcp(client, account, "{nope").status_code == 400
    assert mcp(client, account, "{nope").get_json()["error"]["code"] == -32700
    assert mcp(client, account, {"method": "tools/call"}).get_json()["error"]["code"] == -32600
    assert mcp(client, account, {"jsonrpc": "2.0", "id": 1, "method": "x"}).get_json()["error"]["code"] == -32601
    no_query = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "web_search", "arguments": {}}}
    assert mcp(client, account, no_query).get_json()["error"]["code"] == -32602
    listed = mcp(client, account, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).get_json()
    assert listed["result"]["tools"][0]["name"] == "web_search"
