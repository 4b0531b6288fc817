"""Tests for tests/fake_kiro/auth_routes.py: social + IdC refresh, rotation, device/PKCE flows."""
from urllib.parse import parse_qs, urlparse

from tests.fake_kiro import bodies
from tests.unit.fake_kiro.helpers import chat_body, post_chat

INVALID_GRANT = {"error": "invalid_grant", "error_description": "Invalid refresh token provided"}


def refresh(client, token):
    """POST /refreshToken."""
    return client.post("/refreshToken", json={"refreshToken": token})


def test_social_refresh_returns_working_tokens_and_rotates(client, account, state):
    resp = refresh(client, account["refresh_token"])
    body = resp.get_json()
    assert resp.status_code == 200 and set(body) == {"accessToken", "refreshToken", "profileArn", "expiresIn"}
    assert body["accessToken"].startswith("aoa") and body["refreshToken"].startswith("aor")
    assert body["refreshToken"] != account["refresh_token"] and body["expiresIn"] == 3600
    assert body["profileArn"] == account["profile_arn"]
    assert post_chat(client, body["accessToken"], chat_body()).status_code == 200
    old = refresh(client, account["refresh_token"])
    assert (old.status_code, old.get_json()) == (400, INVALID_GRANT)
    assert refresh(client, body["refreshToken"]).status_code == 200
    stats = client.get("/__fake/stats").get_json()
    assert stats["accounts"][account["account_id"]]["refreshes"] == 2 and stats["totals"]["refreshes"] == 2


def test_rotation_and_expiry_are_configurable(client, account):
    client.post("/__fake/config", json={"rotate_refresh_tokens": False, "expires_in": 5})
    body = refresh(client, account["refresh_token"]).get_json()
    assert (body["refreshToken"], body["expiresIn"]) == (account["refresh_token"], 5)
    client.post("/__fake/config", json={"rotate_refresh_tokens": True, "invalidate_old_refresh_tokens": False})
    new = refresh(client, account["refresh_token"]).get_json()["refreshToken"]
    assert new != account["refresh_token"]
    assert refresh(client, account["refresh_token"]).status_code == 200


def test_unknown_or_missing_refresh_token(client):
    assert (refresh(client, "aorUnknown").status_code, refresh(client, "aorUnknown").get_json()) == \
        (400, INVALID_GRANT)
    assert client.post("/refreshToken", json={}).get_json()["error"] == "invalid_request"


def test_idc_refresh_checks_client_and_json(client, idc_account):
    good = {"clientId": idc_account["client_id"], "clientSecret": idc_account["client_secret"],
            "grantType": "refresh_token", "refreshToken": idc_account["refresh_token"]}
    resp = client.post("/token", json=good)
    body = resp.get_json()
    assert resp.status_code == 200 and body["tokenType"] == "Bearer" and "profileArn" not in body
    assert post_chat(client, body["accessToken"], chat_body()).status_code == 200
    stale = client.post("/token", json=good)
    assert (stale.status_code, stale.get_json()) == (400, INVALID_GRANT)
    wrong = client.post("/token", json={**good, "refreshToken": body["refreshToken"], "clientSecret": "x"})
    assert (wrong.status_code, wrong.get_json()) == (400, bodies.INVALID_CLIENT)
    form = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": body["refreshToken"]})
    assert (form.status_code, form.get_json()["error"]) == (400, "invalid_request")
    snake = client.post("/token", json={"grant_type": "refresh_token"})
    assert snake.get_json()["error"] == "invalid_request"


def test_social_token_is_not_an_idc_token(client, account):
    resp = client.post("/token", json={"clientId": "a", "clientSecret": "b", "grantType": "refresh_token",
                                       "refreshToken": account["refresh_token"]})
    assert resp.get_json() == INVALID_GRANT


def test_builder_id_device_flow(client):
    client.post("/__fake/config", json={"device_pending_polls": 1})
    reg = client.post("/client/register", json={"clientName": "Kiro IDE", "clientType": "public"}).get_json()
    creds = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"]}
    start = client.post("/device_authorization", json={**creds, "startUrl": "https://view.awsapps.com/start"})
    device = start.get_json()
    assert device["verificationUriComplete"].endswith(device["userCode"]) and device["interval"] == 1
    poll = {**creds, "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": device["deviceCode"]}
    assert client.post("/token", json=poll).get_json()["error"] == "authorization_pending"
    tokens = client.post("/token", json=poll).get_json()
    assert post_chat(client, tokens["accessToken"], chat_body()).status_code == 200
    assert client.post("/token", json=poll).get_json()["error"] == "expired_token"
    refreshed = client.post("/token", json={**creds, "grantType": "refresh_token",
                                            "refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200


def test_device_authorization_needs_a_registered_client(client):
    resp = client.post("/device_authorization", json={"clientId": "x", "clientSecret": "y"})
    assert (resp.status_code, resp.get_json()) == (400, bodies.INVALID_CLIENT)


def test_social_pkce_login(client):
    resp = client.get("/login?idp=Google&redirect_uri=kiro%3A%2F%2Fkiro.kiroAgent%2Fauthenticate-success&state=s1")
    location = urlparse(resp.headers["Location"])
    assert resp.status_code == 302 and location.scheme == "kiro" and parse_qs(location.query)["state"] == ["s1"]
    code = parse_qs(location.query)["code"][0]
    tokens = client.post("/oauth/token", json={"code": code, "code_verifier": "v",
                                               "redirect_uri": "kiro://kiro.kiroAgent/authenticate-success"})
    body = tokens.get_json()
    assert set(body) == {"accessToken", "refreshToken", "profileArn", "expiresIn"}
    assert refresh(client, body["refreshToken"]).status_code == 200
    assert client.post("/oauth/token", json={"code": ""}).status_code == 400


def test_social_device_flow(client):
    start = client.post("/oauth/device/authorization", json={"clientId": "kiro-cli", "loginProvider": "Google"})
    device = start.get_json()
    assert device["intervalInMilliseconds"] == 5000 and "login_provider=Google" in device["verificationUriComplete"]
    done = client.post("/oauth/device/poll", json={"clientId": "kiro-cli", "deviceCode": device["deviceCode"]})
    body = done.get_json()
    assert body["status"] == "success" and body["identityProvider"] == "Google"
    assert post_chat(client, body["accessToken"], chat_body()).status_code == 200


def test_refresh_endpoints_take_json_camelcase_only(client, account, idc_account):
    # §5.1/§5.2, §7.4-12: a form-encoded or snake_case refresh is refused even with valid values
    social_form = client.post("/refreshToken", data={"refreshToken": account["refresh_token"]})
    assert (social_form.status_code, social_form.get_json()["error"]) == (400, "invalid_request")
    social_snake = client.post("/refreshToken", json={"refresh_token": account["refresh_token"]})
    assert (social_snake.status_code, social_snake.get_json()["error"]) == (400, "invalid_request")
    camel = {"clientId": idc_account["client_id"], "clientSecret": idc_account["client_secret"],
             "grantType": "refresh_token", "refreshToken": idc_account["refresh_token"]}
    idc_form = client.post("/token", data=camel)
    assert (idc_form.status_code, idc_form.get_json()["error"]) == (400, "invalid_request")
    snake = {"client_id": camel["clientId"], "client_secret": camel["clientSecret"], "grant_type": "refresh_token",
             "refresh_token": camel["refreshToken"]}
    idc_snake = client.post("/token", json=snake)
    assert (idc_snake.status_code, idc_snake.get_json()["error"]) == (400, "invalid_request")
    # none of the refused calls used up the tokens: the proper calls still work
    assert client.post("/refreshToken", json={"refreshToken": account["refresh_token"]}).status_code == 200
    assert client.post("/token", json=camel).status_code == 200
