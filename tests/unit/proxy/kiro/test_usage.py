"""Tests for the getUsageLimits client: parsing the §6.1 shape, the request, and failures."""
import calendar
import json

import pytest
import requests

from proxy.account import Account
from proxy.kiro.errors import KiroError, KiroErrorKind
from proxy.kiro.usage import Usage, UsageParseError, fetch_usage, next_month_utc, parse_usage, usage_url
from proxy.settings import Settings

ARN = "arn:aws:codewhisperer:eu-central-1:699475941385:profile/EHGA3GRVQMUK"
RESET = 1785542400


def breakdown(**overrides) -> dict:
    """One CREDIT entry as Kiro sends it."""
    entry = {"resourceType": "CREDIT", "currentUsage": 50, "currentUsageWithPrecision": 50.25,
             "usageLimit": 100, "usageLimitWithPrecision": 100.0, "nextDateReset": RESET}
    entry.update(overrides)
    return entry


def answer(*entries, **top) -> dict:
    """A getUsageLimits body around the given entries."""
    body = {"daysUntilReset": 9, "nextDateReset": RESET,
            "subscriptionInfo": {"subscriptionTitle": "KIRO PRO"},
            "overageConfiguration": {"overageStatus": "DISABLED"},
            "usageBreakdownList": list(entries) or [breakdown()],
            "userInfo": {"email": "user@example.com", "userId": "d-1"}}
    body.update(top)
    return body


def test_parses_used_limit_reset_and_plan():
    usage = parse_usage(answer())
    assert usage == Usage(used=50.25, limit=100.0, reset_at=float(RESET), overage=False,
                          subscription="KIRO PRO", email="user@example.com")
    assert usage.remaining == 49.75
    assert usage.percentage == 50.25
    assert not usage.exhausted


def test_picks_the_credit_entry_by_type_not_position():
    usage = parse_usage(answer({"resourceType": "OTHER", "currentUsage": 1, "usageLimit": 2},
                               breakdown(currentUsageWithPrecision=7.0)))
    assert usage.used == 7.0


def test_agentic_request_entry_is_accepted():
    usage = parse_usage(answer(breakdown(resourceType="AGENTIC_REQUEST")))
    assert usage.limit == 100.0


def test_falls_back_to_integer_fields():
    entry = {"resourceType": "CREDIT", "currentUsage": 3, "usageLimit": 50}
    usage = parse_usage(answer(entry))
    assert (usage.used, usage.limit) == (3.0, 50.0)
    assert usage.reset_at == float(RESET)  # from the top level when the entry has none


def test_active_free_trial_and_bonuses_add_to_the_balance():
    entry = breakdown(freeTrialInfo={"freeTrialStatus": "ACTIVE", "currentUsageWithPrecision": 100.0,
                                     "usageLimitWithPrecision": 500.0},
                      bonuses=[{"currentUsage": 0.0, "usageLimit": 100.0, "status": "ACTIVE"},
                               {"currentUsage": 5.0, "usageLimit": 10.0, "status": "EXPIRED"}])
    usage = parse_usage(answer(entry))
    assert (usage.used, usage.limit) == (150.25, 700.0)


def test_expired_trial_is_ignored():
    entry = breakdown(freeTrialInfo={"freeTrialStatus": "EXPIRED", "currentUsage": 500, "usageLimit": 500})
    assert parse_usage(answer(entry)).limit == 100.0


def test_exhausted_unless_overage_is_enabled():
    used_up = breakdown(currentUsageWithPrecision=100.0)
    assert parse_usage(answer(used_up)).exhausted
    with_overage = parse_usage(answer(used_up, overageConfiguration={"overageStatus": "ENABLED"}))
    assert with_overage.overage and not with_overage.exhausted
    assert parse_usage(answer(used_up, overageConfiguration={"overageEnabled": True})).overage


def test_iso_reset_dates_from_the_web_portal():
    usage = parse_usage(answer(breakdown(nextDateReset="2026-08-01T00:00:00Z")))
    assert usage.reset_at == calendar.timegm((2026, 8, 1, 0, 0, 0))


def test_percentage_of_a_zero_limit_is_full():
    assert Usage(used=0, limit=0, reset_at=None).percentage == 100.0


def test_round_trip_through_a_dict():
    usage = parse_usage(answer())
    data = usage.to_dict()
    assert data["remaining"] == 49.75 and data["percentage"] == 50.25 and data["exhausted"] is False
    assert Usage.from_dict(json.loads(json.dumps(data))) == usage


@pytest.mark.parametrize("body", [[], {"usageBreakdownList": []},
                                  {"usageBreakdownList": [{"resourceType": "CREDIT"}]}])
def test_shapes_without_a_usable_entry_are_refused(body):
    with pytest.raises(UsageParseError):
        parse_usage(body)


def test_next_month_utc():
    assert next_month_utc(calendar.timegm((2026, 7, 15, 12, 0, 0))) == calendar.timegm((2026, 8, 1, 0, 0, 0))
    assert next_month_utc(calendar.timegm((2026, 12, 31, 23, 59, 0))) == calendar.timegm((2027, 1, 1, 0, 0, 0))


def test_url_uses_the_profile_region_and_sends_the_arn():
    account = Account(id="a", refresh_token="r", profile_arn=ARN)
    url = usage_url(account, Settings())
    assert url.startswith("https://q.eu-central-1.amazonaws.com/getUsageLimits?origin=AI_EDITOR"
                          "&resourceType=AGENTIC_REQUEST&isEmailRequired=true&profileArn=arn%3Aaws")
    assert "profileArn" not in usage_url(Account(id="b", refresh_token="r"), Settings())
    assert usage_url(account, Settings(upstream_url="http://fake:1/")).startswith("http://fake:1/getUsageLimits?")


class FakeSession:
    """Answers every GET with one response (or raises); records the calls."""

    def __init__(self, status: int = 200, body=None, error: Exception = None):
        self.status, self.body, self.error = status, body, error
        self.calls = []

    def get(self, url, headers=None, timeout=None):
        """Record and answer."""
        self.calls.append({"url": url, "headers": headers, "timeout": timeout})
        if self.error:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response._content = json.dumps(self.body).encode() if not isinstance(self.body, bytes) else self.body
        return response


def test_fetch_sends_the_bearer_and_runtime_user_agent():
    session = FakeSession(body=answer())
    account = Account(id="a", refresh_token="r", access_token="aoa-token", profile_arn=ARN)
    usage = fetch_usage(account, Settings(), session, timeout=7)
    assert usage.limit == 100.0
    call = session.calls[0]
    assert call["headers"]["authorization"] == "Bearer aoa-token"
    assert "api/codewhispererruntime#1.0.0 m/N,E" in call["headers"]["user-agent"]
    assert call["timeout"] == (10.0, 7)


def test_fetch_classifies_kiro_errors():
    body = {"message": "Your User ID temporarily is suspended. We've locked your account.",
            "reason": "TEMPORARILY_SUSPENDED"}
    with pytest.raises(KiroError) as caught:
        fetch_usage(Account(id="a", refresh_token="r"), Settings(), FakeSession(403, body))
    assert caught.value.kind is KiroErrorKind.SUSPENDED


def test_fetch_network_failure_and_bad_json_are_network_errors():
    with pytest.raises(KiroError) as caught:
        fetch_usage(Account(id="a", refresh_token="r"), Settings(),
                    FakeSession(error=requests.ConnectionError("refused")))
    assert caught.value.kind is KiroErrorKind.NETWORK
    with pytest.raises(KiroError) as caught:
        fetch_usage(Account(id="a", refresh_token="r"), Settings(), FakeSession(body=b"<html>"))
    assert caught.value.kind is KiroErrorKind.NETWORK and "getUsageLimits" in caught.value.message


@pytest.mark.parametrize("top", [
    {"overageConfiguration": "DISABLED"}, {"subscriptionInfo": ["KIRO PRO"]}, {"userInfo": "someone"},
    {"usageBreakdownList": {"resourceType": "CREDIT"}},
])
def test_odd_shapes_of_the_optional_parts_never_crash_the_parser(top):
    """A crash here (AttributeError) escapes fetch_usage's KiroError contract and stops the
    health job for every account after this one."""
    try:
        usage = parse_usage(answer(**top))
    except UsageParseError:
        return
    assert usage.limit == 100.0 and not usage.overage
