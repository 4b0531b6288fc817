"""Account-level operations: getUsageLimits (§6.1), ListAvailableModels (§6.2), profiles, MCP web search (§2.7)."""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import math
from typing import Optional

from flask import Blueprint, request

from . import bodies
from .catalog import listed_models, model_entry
from .tokens import FakeAccount
from .web import fake_state, guarded

service = Blueprint("fake_kiro_service", __name__)
SEARCH_RESULTS = 3


def _next_reset(now: dt.datetime) -> dt.datetime:
    """00:00 UTC on the first day of next month."""
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def usage_body(account: FakeAccount, now: Optional[dt.datetime] = None) -> dict:
    """The getUsageLimits response for an account (no free trial, no bonuses)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    reset = _next_reset(now)
    reset_epoch = calendar.timegm(reset.timetuple())
    used = round(account.usage, 6)
    return {
        "daysUntilReset": max(0, math.ceil((reset - now).total_seconds() / 86400)),
        "nextDateReset": reset_epoch,
        "subscriptionInfo": {"subscriptionTitle": account.subscription_title,
                             "type": "Q_DEVELOPER_STANDALONE_PRO", "overageCapability": "OVERAGE_INCAPABLE",
                             "upgradeCapability": "UPGRADE_CAPABLE", "subscriptionManagementTarget": "PURCHASE"},
        "overageConfiguration": {"overageStatus": "DISABLED"},
        "usageBreakdownList": [{
            "resourceType": "CREDIT", "displayName": "Credit", "displayNamePlural": "Credits",
            "unit": "INVOCATIONS", "currency": "USD",
            "currentUsage": int(used), "currentUsageWithPrecision": used,
            "usageLimit": int(account.usage_limit), "usageLimitWithPrecision": float(account.usage_limit),
            "currentOverages": 0, "currentOveragesWithPrecision": 0.0,
            "overageCap": 10000, "overageCapWithPrecision": 10000.0, "overageRate": 0.04,
            "overageCharges": 0.0, "nextDateReset": reset_epoch}],
        "limits": [],
        "userInfo": {"email": account.email, "userId": account.user_id},
    }


@service.get("/getUsageLimits")
def get_usage_limits():
    """Usage and limit of the bearer's account."""
    account, early = guarded("usage")
    return early or bodies.json_response(usage_body(account))


def models_body(max_results: int, next_token: Optional[str]) -> dict:
    """One page of the model catalogue; `nextToken` is the offset of the next page."""
    models = listed_models(fake_state().config.models)
    start = int(next_token) if next_token and next_token.isdigit() else 0
    page = models[start:start + max(1, max_results)]
    body = {"models": page, "defaultModel": model_entry("auto")}
    if start + len(page) < len(models):
        body["nextToken"] = str(start + len(page))
    return body


@service.get("/ListAvailableModels")
def list_models():
    """ListAvailableModels with maxResults/nextToken paging."""
    account, early = guarded("models")
    if early:
        return early
    max_results = request.args.get("maxResults", "50")
    return bodies.json_response(models_body(int(max_results) if max_results.isdigit() else 50,
                                            request.args.get("nextToken")))


@service.route("/ListAvailableProfiles", methods=["GET", "POST"])
def list_profiles():
    """The bearer's profile ARN."""
    account, early = guarded("models")
    if early:
        return early
    region = account.profile_arn.split(":")[3]
    return bodies.json_response({"profiles": [{"arn": account.profile_arn,
                                               "profileName": f"KiroProfile-{region}"}]})


def search_results(query: str) -> dict:
    """Deterministic fake web-search results that mention the query."""
    slug = "-".join(query.lower().split())[:60] or "query"
    results = []
    for n in range(1, SEARCH_RESULTS + 1):
        digest = hashlib.sha256(f"{query}|{n}".encode()).hexdigest()
        results.append({"title": f"Result {n} for {query}", "url": f"https://example.com/{slug}/{n}",
                        "snippet": f"Fake search result {n} about {query}.",
                        "publishedDate": 1718000000000 + n * 86400000, "id": digest[:16],
                        "domain": "example.com", "maxVerbatimWordLimit": 30, "publicDomain": False})
    return {"results": results, "totalResults": len(results), "query": query}


def _rpc_error(request_id, code: int, message: str, status: int = 200):
    """A JSON-RPC error response."""
    return bodies.json_response({"id": request_id, "jsonrpc": "2.0",
                                 "error": {"code": code, "message": message}}, status)


@service.post("/mcp")
def mcp():
    """JSON-RPC over HTTP: tools/list and tools/call web_search."""
    account, early = guarded("mcp")
    if early:
        return early
    try:
        call = json.loads(request.get_data(cache=True))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _rpc_error(None, -32700, "Parse error", 400)
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0" or not isinstance(call.get("method"), str):
        return _rpc_error(call.get("id") if isinstance(call, dict) else None, -32600, "Invalid Request", 400)
    rpc_id = call.get("id")
    if call["method"] == "tools/list":
        return bodies.json_response({"id": rpc_id, "jsonrpc": "2.0", "result": {"tools": [{
            "name": "web_search", "description": "Search the web.",
            "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}},
                            "required": ["query"]}}]}})
    if call["method"] != "tools/call":
        return _rpc_error(rpc_id, -32601, f"Method not found: {call['method']}")
    params = call.get("params") if isinstance(call.get("params"), dict) else {}
    if params.get("name") != "web_search":
        return _rpc_error(rpc_id, -32602, f"Unknown tool: {params.get('name')}")
    query = (params.get("arguments") or {}).get("query") if isinstance(params.get("arguments"), dict) else None
    if not isinstance(query, str) or not query.strip():
        return _rpc_error(rpc_id, -32602, "Invalid params: arguments.query is required")
    text = json.dumps(search_results(query.strip()), separators=(",", ":"))
    return bodies.json_response({"id": rpc_id, "jsonrpc": "2.0",
                                 "result": {"content": [{"type": "text", "text": text}], "isError": False}})
