"""Tests for tests/fake_kiro/tokens.py: look-alike tokens, registration, refresh and rotation."""
import re

import pytest

from tests.fake_kiro.tokens import (BUILDER_ID_PROFILE_ARN, SOCIAL_PROFILE_ARN, AccountBook, AccountError, mask,
                                    mint_token)

TOKEN_SHAPE = re.compile(r"^ao[ar]AAAAAG[A-Za-z0-9_-]{78}:MGUCMQ[A-Za-z0-9+/]{136}$")


def test_minted_tokens_look_like_kiro_tokens():
    access, refresh = mint_token("access"), mint_token("refresh")
    assert access.startswith("aoa") and refresh.startswith("aor")
    assert TOKEN_SHAPE.match(access) and TOKEN_SHAPE.match(refresh)
    assert len(access) == 230 and access != mint_token("access")


def test_mask_keeps_only_head_and_tail():
    token = mint_token("access")
    assert mask(token) == token[:8] + "…" + token[-4:]
    assert mask("short") == "***" and mask("") == ""


def test_register_defaults_per_auth_method():
    book = AccountBook()
    social = book.register("social", refresh_token="aorSeed")
    idc = book.register("idc")
    assert (social.account_id, social.profile_arn, social.client_id) == ("acc-1", SOCIAL_PROFILE_ARN, None)
    assert idc.profile_arn == BUILDER_ID_PROFILE_ARN and idc.client_id and idc.client_secret.startswith("eyJ")
    assert book.by_refresh("aorSeed") is social


def test_register_rejects_duplicates_and_unknown_methods():
    book = AccountBook()
    book.register("social", refresh_token="aorSeed")
    with pytest.raises(AccountError):
        book.register("social", refresh_token="aorSeed")
    with pytest.raises(AccountError):
        book.register("api_key")


def test_rotation_invalidates_old_refresh_token():
    book = AccountBook()
    account = book.register("social", refresh_token="aorOld")
    access, new_refresh = book.refresh(account, 3600, rotate=True, invalidate_old=True)
    assert new_refresh != "aorOld" and book.by_refresh("aorOld") is None
    assert book.by_refresh(new_refresh) is account and book.by_access(access) is account
    assert book.find("aorOld") is account  # faults can still name the account by an old token
    assert account.refreshes == 1


def test_rotation_can_keep_old_refresh_token_valid():
    book = AccountBook()
    account = book.register("social", refresh_token="aorOld")
    _, new_refresh = book.refresh(account, 3600, rotate=True, invalidate_old=False)
    assert book.by_refresh("aorOld") is account and book.by_refresh(new_refresh) is account


def test_no_rotation_returns_same_refresh_token():
    book = AccountBook()
    account = book.register("social", refresh_token="aorOld")
    assert book.refresh(account, 3600, rotate=False, invalidate_old=True)[1] == "aorOld"


def test_access_tokens_expire():
    book = AccountBook()
    account = book.register("social")
    token = book.issue_access(account, 10)
    assert book.by_access(token) is account
    assert book.by_access(token, now=account.access_tokens[token] + 1) is None
    assert book.expire_access_tokens(account) == 1 and book.by_access(token) is None
    assert book.by_access("aoaUnknown") is None
