"""Fixtures for the fake Kiro's unit tests (Flask test client, no sockets)."""
from __future__ import annotations

import pytest

from tests.fake_kiro.app import create_fake_app
from tests.fake_kiro.config import FakeConfig


@pytest.fixture
def fake_app():
    """A fresh fake Kiro app with default config."""
    return create_fake_app(FakeConfig())


@pytest.fixture
def client(fake_app):
    """Flask test client for the fake."""
    return fake_app.test_client()


@pytest.fixture
def state(fake_app):
    """The fake's FakeState."""
    return fake_app.extensions["fake_kiro"]


@pytest.fixture
def account(client):
    """A registered social account's credentials (incl. a live access token)."""
    resp = client.post("/__fake/accounts", json={"auth_method": "social"})
    assert resp.status_code == 201
    return resp.get_json()


@pytest.fixture
def idc_account(client):
    """A registered IdC account's credentials."""
    resp = client.post("/__fake/accounts", json={"auth_method": "idc"})
    assert resp.status_code == 201
    return resp.get_json()
