"""Kiro's getUsageLimits (kiro-upstream.md §6.1): one account's credits used, limit and reset date.

`parse_usage` is pure (JSON in, `Usage` out); `fetch_usage` is the one HTTP call. Balance
follows §6.1: the plan's limit plus an active free trial and active bonuses.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any, Optional

import requests

from proxy.account import Account
from proxy.kiro.client import SDK_VERSION, ide_headers
from proxy.kiro.errors import KiroError, classify
from proxy.settings import Settings

RUNTIME_SDK = "api/codewhispererruntime#1.0.0 m/N,E"  # the IDE's user agent for this call
_RESOURCE_TYPES = ("CREDIT", "AGENTIC_REQUEST")  # select by type, never by list index


class UsageParseError(ValueError):
    """The usage answer is not the §6.1 shape."""


@dataclass(frozen=True)
class Usage:
    """One account's quota as Kiro reports it."""
    used: float
    limit: float
    reset_at: Optional[float]  # unix seconds of the next reset; None when not reported
    overage: bool = False  # overage enabled: using past the limit is allowed (and billed)
    subscription: str = ""
    email: str = ""

    @property
    def remaining(self) -> float:
        """Credits left before the limit (never negative)."""
        return max(0.0, self.limit - self.used)

    @property
    def percentage(self) -> float:
        """Share of the limit used, 0..100 (100 when the limit is 0)."""
        if self.limit <= 0:
            return 100.0
        return round(min(100.0, self.used / self.limit * 100), 2)

    @property
    def exhausted(self) -> bool:
        """No credit left and no overage to fall back on."""
        return self.used >= self.limit and not self.overage

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (with the derived fields) for stats and the admin panel."""
        return {**asdict(self), "remaining": self.remaining, "percentage": self.percentage,
                "exhausted": self.exhausted}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Usage":
        """Back from `to_dict` (derived fields are recomputed)."""
        return cls(used=float(data["used"]), limit=float(data["limit"]), reset_at=data.get("reset_at"),
                   overage=bool(data.get("overage")), subscription=data.get("subscription") or "",
                   email=data.get("email") or "")


def parse_usage(data: Any) -> Usage:
    """A getUsageLimits JSON answer as `Usage`; UsageParseError when no breakdown fits."""
    if not isinstance(data, dict):
        raise UsageParseError("the usage answer is not a JSON object")
    breakdowns = [b for b in _list(data.get("usageBreakdownList")) if isinstance(b, dict)]
    chosen = next((b for kind in _RESOURCE_TYPES for b in breakdowns if b.get("resourceType") == kind), None)
    if chosen is None:
        raise UsageParseError("no CREDIT or AGENTIC_REQUEST entry in usageBreakdownList")
    used = _number(chosen, "currentUsageWithPrecision", "currentUsage")
    limit = _number(chosen, "usageLimitWithPrecision", "usageLimit")
    if used is None or limit is None:
        raise UsageParseError("the usage entry has no currentUsage / usageLimit")
    trial = chosen.get("freeTrialInfo")
    if isinstance(trial, dict) and str(trial.get("freeTrialStatus", "")).upper() == "ACTIVE":
        used += _number(trial, "currentUsageWithPrecision", "currentUsage") or 0.0
        limit += _number(trial, "usageLimitWithPrecision", "usageLimit") or 0.0
    for bonus in _list(chosen.get("bonuses")):
        if isinstance(bonus, dict) and str(bonus.get("status", "")).upper() == "ACTIVE":
            used += _number(bonus, "currentUsage") or 0.0
            limit += _number(bonus, "usageLimit") or 0.0
    overage = _dict(data.get("overageConfiguration"))
    enabled = str(overage.get("overageStatus", "")).upper() == "ENABLED" or overage.get("overageEnabled") is True
    subscription = _dict(data.get("subscriptionInfo")).get("subscriptionTitle") or ""
    email = _dict(data.get("userInfo")).get("email") or ""
    reset = _timestamp(chosen.get("nextDateReset")) or _timestamp(data.get("nextDateReset"))
    return Usage(used=used, limit=limit, reset_at=reset, overage=enabled, subscription=str(subscription),
                 email=str(email))


def next_month_utc(now: float) -> float:
    """00:00 UTC on the 1st of the month after `now`: the reset when Kiro names none (§4)."""
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))


def usage_url(account: Account, settings: Settings) -> str:
    """The REST getUsageLimits URL for this account (profileArn sent whenever known)."""
    query = {"origin": "AI_EDITOR", "resourceType": "AGENTIC_REQUEST", "isEmailRequired": "true"}
    if account.profile_arn:
        query["profileArn"] = account.profile_arn
    return settings.url("usage", account.api_region) + "/getUsageLimits?" + urllib.parse.urlencode(query)


def fetch_usage(account: Account, settings: Settings, session: requests.Session,
                timeout: float = 30.0) -> Usage:
    """Call getUsageLimits with the account's access token; every failure is a KiroError."""
    headers = ide_headers(account, settings)
    headers["user-agent"] = headers["user-agent"].replace(f"api/codewhispererstreaming#{SDK_VERSION} m/E", RUNTIME_SDK)
    try:
        resp = session.get(usage_url(account, settings), headers=headers,
                           timeout=(settings.connect_timeout, timeout))
    except requests.RequestException as e:
        raise KiroError.network(e) from e
    if resp.status_code != 200:
        raise classify(resp.status_code, resp.content, resp.headers)
    try:
        return parse_usage(json.loads(resp.content))
    except (ValueError, UsageParseError) as e:
        raise KiroError.network(ValueError(f"bad getUsageLimits answer: {e}")) from e


def _dict(value: Any) -> dict:
    """An optional object of the answer; anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    """An optional array of the answer; anything else counts as absent."""
    return value if isinstance(value, list) else []


def _number(data: dict, *keys: str) -> Optional[float]:
    """The first of `keys` holding a number (bools are not numbers here)."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _timestamp(value: Any) -> Optional[float]:
    """Epoch seconds from epoch seconds (JSON API) or an ISO date (web portal)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    if isinstance(value, str) and value:
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return when.timestamp()
    return None
