"""Tests for tests/fake_kiro/state.py: log helpers and counters."""
from werkzeug.datastructures import Headers

from tests.fake_kiro.state import FakeState, logged_body, logged_headers


def test_logged_headers_keep_selected_and_mask_bearer():
    token = "aoa" + "x" * 200 + "TAIL"
    headers = Headers({"Authorization": f"Bearer {token}", "x-amz-user-agent": "aws-sdk-js/1.0.34 KiroIDE",
                       "Cookie": "secret"})
    assert logged_headers(headers) == {"x-amz-user-agent": "aws-sdk-js/1.0.34 KiroIDE",
                                       "authorization": "Bearer aoaxxxxx…TAIL"}


def test_logged_body_masks_secrets_and_cuts_huge_bodies():
    body = logged_body(b'{"clientSecret":"eyJabcdefghijklmnopqrstuvwxyz","grantType":"refresh_token"}', True)
    assert body == {"clientSecret": "eyJabcde…wxyz", "grantType": "refresh_token"}
    huge = logged_body(b"{" + b" " * 300_000 + b"}", True)
    assert huge["_truncated"] is True and huge["bytes"] == 300_002
    assert logged_body(b"plain", False) == "plain"


def test_log_size_bounds_the_log():
    state = FakeState()
    state.set_config({"log_size": 2})
    for n in range(3):
        state.record({"path": f"/{n}"})
    assert [e["path"] for e in state.recent(10)] == ["/1", "/2"]
    assert state.recent(0) == []
