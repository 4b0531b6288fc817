"""Tests for the refresh calls, with a fake session (no network)."""
import json
import re

import pytest
import requests

from proxy.account import Account
from proxy.kiro.auth import AuthError, RefreshResult, refresh_access_token
from proxy.settings import Settings

REFRESH = "aorAAAAAG" + "R" * 200 + ":MGQ1"
NEW_REFRESH = "aorAAAAAG" + "N" * 200 + ":MGQ2"
ACCESS = "aoaAAAAAG" + "A" * 200
SECRET = "eyJraWQiOi" + "S" * 50
ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
NOW = 1_800_000_000.0


def make_response(status: int, body) -> requests.Response:
    """A real requests.Response carrying `body` (dict -> JSON, str -> raw text)."""
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    return response


class FakeSession:
    """Records post() calls; answers with scripted responses or raises scripted errors."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def post(self, url, json=None, headers=None, timeout=None, **kwargs):
        """Record the call and play the next answer."""
        self.calls.append({"url": url, "json": json, "headers": headers, "timeout": timeout,
                           "kwargs": kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def social(**overrides) -> Account:
    """A social account."""
    return Account(**{"id": "acc00001", "refresh_token": REFRESH, **overrides})


def idc(**overrides) -> Account:
    """A Builder ID account in eu-west-1."""
    return Account(**{"id": "acc00002", "refresh_token": REFRESH, "auth_method": "idc",
                      "client_id": "cid-123", "client_secret": SECRET, "region": "eu-west-1",
                      **overrides})


def refresh(account, session, settings=None):
    """Call refresh_access_token with a fixed clock."""
    return refresh_access_token(account, settings or Settings(), session, clock=lambda: NOW)


def test_social_request_and_result():
    session = FakeSession(make_response(200, {"accessToken": ACCESS, "refreshToken": NEW_REFRESH,
                                              "profileArn": ARN, "expiresIn": 3600}))
    account = social(region="eu-central-1")
    result = refresh(account, session, Settings(kiro_version="0.11.107", refresh_timeout=7.0))
    assert result == RefreshResult(access_token=ACCESS, refresh_token=NEW_REFRESH,
                                   expires_at=NOW + 3600, profile_arn=ARN)
    [call] = session.calls
    assert call["url"] == "https://prod.eu-central-1.auth.desktop.kiro.dev/refreshToken"
    assert call["json"] == {"refreshToken": REFRESH}
    assert call["headers"] == {
        "Content-Type": "application/json",
        "Accept": "application/json, text/plain, */*",
        "User-Agent": f"KiroIDE-0.11.107-{account.machine_id}",
    }
    assert call["timeout"] == 7.0


def test_idc_request_body_and_headers_exact():
    session = FakeSession(make_response(200, {"accessToken": ACCESS, "refreshToken": NEW_REFRESH,
                                              "expiresIn": 1800, "tokenType": "Bearer"}))
    result = refresh(idc(), session)
    assert result == RefreshResult(ACCESS, NEW_REFRESH, NOW + 1800, "")
    [call] = session.calls
    assert call["url"] == "https://oidc.eu-west-1.amazonaws.com/token"
    assert call["json"] == {"clientId": "cid-123", "clientSecret": SECRET,
                            "grantType": "refresh_token", "refreshToken": REFRESH}
    assert list(call["json"]) == ["clientId", "clientSecret", "grantType", "refreshToken"]
    assert "data" not in call["kwargs"]  # JSON, never form-encoded
    headers = call["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["x-amz-user-agent"] == "aws-sdk-js/3.980.0 KiroIDE"
    assert headers["user-agent"] == ("aws-sdk-js/3.980.0 ua/2.1 os/darwin#24.6.0 lang/js "
                                     "md/nodejs#22.22.0 api/sso-oidc#3.980.0 m/E KiroIDE")
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["amz-sdk-invocation-id"])
    assert headers["amz-sdk-request"] == "attempt=1; max=4"
    assert call["timeout"] == Settings().refresh_timeout


def test_upstream_url_setting_keeps_paths():
    settings = Settings(upstream_url="http://127.0.0.1:9999/")
    ok = {"accessToken": ACCESS, "expiresIn": 3600}
    session = FakeSession(make_response(200, ok), make_response(200, ok))
    refresh(social(), session, settings)
    refresh(idc(), session, settings)
    assert [c["url"] for c in session.calls] == ["http://127.0.0.1:9999/refreshToken",
                                                 "http://127.0.0.1:9999/token"]


def test_missing_refresh_token_in_answer_keeps_old_and_default_expiry():
    session = FakeSession(make_response(200, {"accessToken": ACCESS}))
    result = refresh(social(), session)
    assert (result.refresh_token, result.expires_at) == (REFRESH, NOW + 3600)


@pytest.mark.parametrize("status, body, permanent", [
    (400, {"error": "invalid_grant", "error_description": "Invalid refresh token provided"}, True),
    (400, {"error": "invalid_client"}, True),
    (400, {"error": "invalid_request"}, True),
    (401, {"message": "expired"}, True),
    (403, "", True),
    (400, "<html>oops</html>", False),
    (429, {"message": "throttled"}, False),
    (500, "", False),
    (503, {"message": "unavailable"}, False),
])
def test_status_errors_classified(status, body, permanent):
    with pytest.raises(AuthError) as info:
        refresh(social(), FakeSession(make_response(status, body)))
    assert info.value.permanent is permanent
    assert info.value.status == status
    assert f"HTTP {status}" in info.value.message


def test_error_message_names_code_and_never_a_secret():
    body = {"error": "invalid_grant", "error_description": f"bad token {REFRESH} / {SECRET}"}
    with pytest.raises(AuthError) as info:
        refresh(idc(), FakeSession(make_response(400, body)))
    message = str(info.value)
    assert info.value.code == "invalid_grant"
    assert "invalid_grant" in message and "idc refresh failed" in message
    assert REFRESH not in message and SECRET not in message
    assert REFRESH[-20:] not in message


@pytest.mark.parametrize("exc", [requests.ConnectTimeout("t"), requests.ReadTimeout("t"),
                                 requests.ConnectionError("reset")])
def test_network_errors_are_transient_and_chained(exc):
    with pytest.raises(AuthError) as info:
        refresh(social(), FakeSession(exc))
    assert info.value.permanent is False and info.value.status is None
    assert info.value.__cause__ is exc


@pytest.mark.parametrize("body", [{"refreshToken": NEW_REFRESH}, "not json", [1]])
def test_ok_without_access_token_is_transient(body):
    with pytest.raises(AuthError) as info:
        refresh(social(), FakeSession(make_response(200, body)))
    assert info.value.permanent is False and info.value.status == 200


def test_idc_without_client_is_permanent_and_makes_no_call():
    session = FakeSession()
    with pytest.raises(AuthError) as info:
        refresh(idc(client_secret=""), session)
    assert info.value.permanent is True
    assert session.calls == []


def test_refresh_result_repr_shows_no_token():
    result = refresh(social(), FakeSession(make_response(200, {"accessToken": ACCESS, "refreshToken": NEW_REFRESH,
                                                               "expiresIn": 3600})))
    assert ACCESS not in repr(result) and NEW_REFRESH not in repr(result)
    assert result.access_token == ACCESS  # still there, just not printed


def test_error_message_drops_a_cut_off_token_echo():
    body = {"error": "invalid_grant", "error_description": f"token {REFRESH[:60]}... was revoked"}
    with pytest.raises(AuthError) as info:
        refresh(social(), FakeSession(make_response(400, body)))
    assert REFRESH[:30] not in info.value.message and "was revoked" in info.value.message


@pytest.mark.parametrize("bad", ["aoaAAAAAG" + "A" * 50 + "\n" + "A" * 50, "aoa AAAA", "aoa\x7f"])
def test_access_token_that_cannot_be_a_header_is_a_transient_failure_not_stored(bad):
    with pytest.raises(AuthError) as info:
        refresh(social(), FakeSession(make_response(200, {"accessToken": bad, "refreshToken": NEW_REFRESH})))
    assert not info.value.permanent and "malformed access token" in info.value.message
    assert bad not in info.value.message


def test_whitespace_around_returned_tokens_is_stripped_and_a_bad_refresh_token_is_not_kept():
    result = refresh(social(), FakeSession(make_response(200, {"accessToken": f" {ACCESS}\n",
                                                               "refreshToken": "aor bad token"})))
    assert result.access_token == ACCESS and result.refresh_token == REFRESH
