"""Tests for proxy/account.py: secrets stay out of every printable form of an account."""
from __future__ import annotations

import dataclasses

from proxy.account import Account

REFRESH = "aorAAAAAG" + "R" * 200 + "WXYZ"
ACCESS = "aoaAAAAAG" + "A" * 200 + "QRST"
SECRET = "eyJraWQiOi" + "S" * 50 + "LMNO"


def account() -> Account:
    return Account(id="acc1", refresh_token=REFRESH, access_token=ACCESS, client_secret=SECRET,
                   auth_method="idc", client_id="cid")


def test_repr_and_str_show_no_secret():
    # reprs reach logs and tracebacks (a Lease or Upstream holding the account, an f-string by mistake)
    for text in (repr(account()), str(account()), f"{account()}", repr([account()])):
        assert REFRESH not in text and ACCESS not in text and SECRET not in text
        assert "acc1" in text


def test_public_keeps_only_a_four_character_hint():
    public = account().public()
    assert public["refresh_token"] == "…WXYZ" and public["access_token"] == "…QRST"
    assert public["client_secret"] == "…LMNO"
    assert REFRESH not in str(public) and ACCESS not in str(public) and SECRET not in str(public)


def test_to_dict_still_holds_the_secrets_for_the_store():
    assert account().to_dict()["refresh_token"] == REFRESH
    assert dataclasses.replace(account(), name="x").access_token == ACCESS
