"""Tests for tests/fake_kiro/bodies.py: the exact §4 strings."""
from tests.fake_kiro import bodies


def test_bodies_serialise_exactly_like_kiro():
    assert bodies.dumps(bodies.IMPROPERLY_FORMED) == '{"message":"Improperly formed request.","reason":null}'
    assert bodies.dumps(bodies.INPUT_TOO_LONG) == \
        '{"message":"Input is too long.","reason":"CONTENT_LENGTH_EXCEEDS_THRESHOLD"}'
    assert bodies.dumps(bodies.BEARER_INVALID) == \
        '{"message":"The bearer token included in the request is invalid.","reason":null}'
    assert bodies.dumps(bodies.PROFILE_ARN_REQUIRED) == \
        '{"message":"profileArn is required for this request.","reason":null}'


def test_account_specific_bodies_name_the_user():
    assert "(d-1.abc) temporarily is suspended" in bodies.suspended("d-1.abc")["message"]
    assert bodies.suspended("x")["reason"] == "TEMPORARILY_SUSPENDED"
    assert "account (d-1.abc) can send" in bodies.suspicious("d-1.abc")["message"]
    assert bodies.suspicious("x")["reason"] is None
