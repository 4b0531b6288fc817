"""Tests for proxy/server.py helpers: which binds are local, and keys kept out of pywsgi's log."""
from __future__ import annotations

import logging

import pytest

from proxy.server import is_loopback, redact, wsgi_error_log


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                         ("localhost", True), ("0.0.0.0", False), ("::", False),
                                         ("192.168.1.5", False), ("example.com", False)])
def test_is_loopback(host, local):
    assert is_loopback(host) is local


def test_redact_blanks_query_keys_and_bearer_values():
    assert redact("GET /v1beta/models?alt=sse&key=abc123 HTTP/9") == "GET /v1beta/models?alt=sse&key=… HTTP/9"
    assert redact("'GET /v1/models?KEY=abc HTTP/1.1'") == "'GET /v1/models?KEY=… HTTP/1.1'"
    assert redact("Authorization: Bearer sk-1, next") == "Authorization: Bearer …, next"
    assert redact("nothing secret here: monkey=1") == "nothing secret here: monkey=1"


def test_wsgi_error_log_redacts(caplog):
    with caplog.at_level(logging.ERROR, logger="wsgi"):
        wsgi_error_log().error("Invalid http version: %r", "GET /x?key=sk-secret HTTP/9")
        wsgi_error_log().error("again: GET /x?key=sk-secret")  # the filter is added once, works each time
    assert "sk-secret" not in caplog.text and caplog.text.count("key=…") == 2
    assert sum(1 for f in logging.getLogger("wsgi").filters if type(f).__name__ == "_Redact") == 1
