"""Tests for proxy/security.py: where a client key is read from, and how it is checked."""
from __future__ import annotations

import pytest
from flask import Flask, request

from proxy.errors import ErrorKind, ProxyError
from proxy.security import check_client_key, client_key

APP = Flask(__name__)


def key_of(headers=None, query="") -> str | None:
    with APP.test_request_context("/v1/messages" + query, headers=headers or {}):
        return client_key(request)


@pytest.mark.parametrize("headers, query", [
    ({"x-api-key": "k1"}, ""), ({"x-goog-api-key": "k1"}, ""), ({"Authorization": "Bearer k1"}, ""),
    ({"Authorization": "bearer   k1 "}, ""), ({}, "?key=k1"), ({"x-api-key": " k1 "}, ""),
])
def test_every_client_way_of_sending_the_key(headers, query):
    assert key_of(headers, query) == "k1"


def test_no_key_and_non_bearer_authorization():
    assert key_of() is None
    assert key_of({"Authorization": "Basic azE6"}) is None
    assert key_of({"Authorization": "Bearer "}) is None


def check(allowed, headers=None):
    with APP.test_request_context("/v1/messages", headers=headers or {}):
        check_client_key(request, allowed)


def test_no_keys_configured_lets_everyone_in():
    check([])


def test_right_key_passes_wrong_or_missing_key_is_refused():
    check(["other", "k1"], {"x-api-key": "k1"})
    for headers in ({"x-api-key": "k2"}, {"x-api-key": "k1x"}, {"x-api-key": "k"}, {}):
        with pytest.raises(ProxyError) as info:
            check(["k1"], headers)
        assert info.value.kind is ErrorKind.AUTHENTICATION
        assert "k1" not in info.value.message  # the error never echoes a configured key


def test_non_ascii_key_is_refused_not_crashing():
    with pytest.raises(ProxyError):
        check(["k1"], {"x-api-key": "kï".encode("utf-8").decode("latin-1")})
