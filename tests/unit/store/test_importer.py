"""Tests for parsing account files: Kiro IDE, kiro-cli, our export."""
import json

import pytest

from proxy.account import Account
from store.importer import (EXPORT_KEY, AccountFileError, export_accounts, load_account_file,
                            parse_accounts, parse_expiry, validate_refresh_token)

REFRESH = "aorAAAAAG" + "Rk9vYmFy" * 11 + ":MGQCMHk" + "x" * 130  # 231 chars, like a real one
REFRESH_2 = REFRESH[:-4] + "ZZZZ"
ACCESS = "aoaAAAAAG" + "a" * 200
SOCIAL_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
CLIENT_HASH = "9b7accc909e1b8b5bc5fd05ee6c86fc891a78d53"


def social_token(**overrides) -> dict:
    """A Kiro IDE social token file's content (§5.3)."""
    data = {"accessToken": ACCESS, "refreshToken": REFRESH, "expiresAt": "2026-01-23T16:14:04.053Z",
            "authMethod": "social", "provider": "Google", "profileArn": SOCIAL_ARN}
    data.update(overrides)
    return data


def idc_token(**overrides) -> dict:
    """A Kiro IDE Builder ID token file's content (§5.3)."""
    data = {"accessToken": ACCESS, "refreshToken": REFRESH, "expiresAt": "2026-01-23T15:55:14.153Z",
            "authMethod": "IdC", "provider": "BuilderId", "clientIdHash": CLIENT_HASH,
            "region": "eu-west-1"}
    data.update(overrides)
    return data


def write(path, data):
    """Write JSON to path and return the path."""
    path.write_text(json.dumps(data))
    return path


def test_social_ide_file(tmp_path):
    [account] = load_account_file(write(tmp_path / "kiro-auth-token.json", social_token()))
    assert (account.auth_method, account.provider, account.region) == ("social", "Google",
                                                                       "us-east-1")
    assert account.refresh_token == REFRESH and account.access_token == ACCESS
    assert account.profile_arn == SOCIAL_ARN
    assert account.expires_at == 1769184844.053
    assert account.client_id == "" and account.client_secret == ""
    assert len(account.id) == 8
    assert account.machine_id == Account(id=account.id, refresh_token="x").machine_id


def test_idc_ide_file_reads_companion_client_file(tmp_path):
    write(tmp_path / f"{CLIENT_HASH}.json",
          {"clientId": "LkndlEtWf81u16m15VfmMnVzLWVhc3QtMQ", "clientSecret": "eyJraWQiOi-secret",
           "expiresAt": "2026-04-23T14:55:14.155Z"})
    [account] = load_account_file(write(tmp_path / "kiro-auth-token.json", idc_token()))
    assert (account.auth_method, account.provider, account.region) == ("idc", "BuilderId",
                                                                       "eu-west-1")
    assert account.client_id == "LkndlEtWf81u16m15VfmMnVzLWVhc3QtMQ"
    assert account.client_secret == "eyJraWQiOi-secret"
    assert account.expires_at == 1769183714.153  # the token's expiry, not the registration's


def test_idc_inline_client_fields_need_no_companion(tmp_path):
    [account] = load_account_file(write(tmp_path / "t.json", idc_token(
        clientId="cid", clientSecret="csecret", clientIdHash=None)))
    assert (account.client_id, account.client_secret) == ("cid", "csecret")


def test_idc_without_client_file_is_a_clear_error(tmp_path):
    with pytest.raises(AccountFileError, match=f"{CLIENT_HASH}.json"):
        load_account_file(write(tmp_path / "t.json", idc_token()))


def test_client_id_hash_cannot_escape_the_directory(tmp_path):
    with pytest.raises(AccountFileError, match="plain file name"):
        load_account_file(write(tmp_path / "t.json", idc_token(clientIdHash="../../etc/x")))


def test_kiro_cli_snake_case_social_and_idc():
    social, idc = parse_accounts([
        {"access_token": ACCESS, "refresh_token": REFRESH,
         "expires_at": "2026-01-23T16:14:04.123456789+00:00", "region": "us-east-1",
         "profile_arn": SOCIAL_ARN},
        {"access_token": ACCESS, "refresh_token": REFRESH_2, "expires_at": "2026-01-23T16:14:04Z",
         "region": "us-west-2", "start_url": "https://view.awsapps.com/start",
         "client_id": "cid", "client_secret": "cs", "scopes": ["codewhisperer:completions"]},
    ])
    assert social.auth_method == "social" and social.profile_arn == SOCIAL_ARN
    assert social.expires_at == pytest.approx(1769184844.123456)
    assert (idc.auth_method, idc.region, idc.client_id, idc.client_secret) == (
        "idc", "us-west-2", "cid", "cs")


def test_kiro_cli_idc_without_client_is_a_clear_error():
    with pytest.raises(AccountFileError, match="client_id and client_secret"):
        parse_accounts({"refresh_token": REFRESH, "oauth_flow": "DeviceCode"})


def test_list_of_ide_tokens_in_one_file(tmp_path):
    accounts = load_account_file(write(tmp_path / "many.json", [
        social_token(), social_token(refreshToken=REFRESH_2, provider="Github")]))
    assert [a.provider for a in accounts] == ["Google", "Github"]
    assert len({a.id for a in accounts}) == 2


@pytest.mark.parametrize("token", [REFRESH[:99], REFRESH[:60] + "..." + REFRESH[-60:],
                                   REFRESH[:60] + "…" + REFRESH[-60:], "", None])
def test_truncated_refresh_tokens_are_rejected_without_echoing(token):
    with pytest.raises(AccountFileError) as info:
        parse_accounts(social_token(refreshToken=token))
    if token:
        assert token not in str(info.value)


def test_error_in_a_list_names_the_item():
    with pytest.raises(AccountFileError, match=r"\[1\]"):
        parse_accounts([social_token(), social_token(refreshToken="short")])


def test_external_idp_is_refused_clearly():
    with pytest.raises(AccountFileError, match="external-IdP"):
        parse_accounts(social_token(authMethod="external_idp"))


def test_bad_region_is_refused():
    with pytest.raises(AccountFileError, match="region"):
        parse_accounts(social_token(region="evil.example.com/x"))


def test_export_roundtrip_keeps_everything():
    original = [Account(id="abcd1234", refresh_token=REFRESH, name="main", auth_method="idc",
                        client_id="cid", client_secret="cs", status="needs_login",
                        expires_at=5.0, created_at=1.0)]
    exported = export_accounts(original)
    assert exported[EXPORT_KEY] == 1
    assert exported["accounts"] == [original[0].to_dict()]
    assert parse_accounts(json.loads(json.dumps(exported))) == original


def test_export_with_unknown_version_is_refused():
    with pytest.raises(AccountFileError, match="version"):
        parse_accounts({EXPORT_KEY: 2, "accounts": []})


@pytest.mark.parametrize("text", ["not json", ""])
def test_unreadable_files(tmp_path, text):
    (tmp_path / "f.json").write_text(text)
    with pytest.raises(AccountFileError, match="not a JSON file"):
        load_account_file(tmp_path / "f.json")


def test_missing_file(tmp_path):
    with pytest.raises(AccountFileError, match="no such file"):
        load_account_file(tmp_path / "none.json")


def test_object_without_token_is_refused():
    with pytest.raises(AccountFileError, match="refreshToken"):
        parse_accounts({"foo": 1})


@pytest.mark.parametrize("value, expected", [
    ("2026-01-23T16:14:04.053Z", 1769184844.053),
    ("2026-01-23T16:14:04.053123456+00:00", 1769184844.053123),
    ("2026-01-23T18:14:04+02:00", 1769184844.0),
    ("2026-01-23T16:14:04", 1769184844.0),  # naive: taken as UTC
    (1769184844, 1769184844.0),
    (1769184844053, 1769184844.053),  # milliseconds
    ("garbage", 0.0), (None, 0.0), (True, 0.0),
])
def test_parse_expiry_is_lenient(value, expected):
    assert parse_expiry(value) == pytest.approx(expected)


def test_validate_refresh_token_strips():
    assert validate_refresh_token(f"  {REFRESH}\n") == REFRESH


@pytest.mark.parametrize("token", [REFRESH[:100] + "\n" + REFRESH[100:], REFRESH[:100] + " " + REFRESH[100:],
                                   REFRESH[:100] + "\x00" + REFRESH[100:]])
def test_refresh_token_with_a_break_inside_is_refused_without_echoing(token):
    with pytest.raises(AccountFileError) as info:
        validate_refresh_token(token)
    assert "line breaks" in str(info.value) and REFRESH[:20] not in str(info.value)


def test_garbled_access_token_is_dropped_so_it_is_refreshed_first(tmp_path):
    # a header value with a line break makes requests raise an error that quotes the header
    [account] = load_account_file(write(tmp_path / "t.json", social_token(accessToken=ACCESS[:50] + "\n" + ACCESS[50:])))
    assert account.access_token == "" and account.refresh_token == REFRESH
    export = export_accounts([Account(id="a1", refresh_token=REFRESH, access_token="aoa bad", expires_at=5.0)])
    [again] = parse_accounts(export)
    assert (again.access_token, again.expires_at) == ("", 0.0)
