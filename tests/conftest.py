"""Shared fixtures: a fake Kiro per session, proxies per test, an in-process app."""
from __future__ import annotations

import pytest

from proxy.app import create_app
from proxy.settings import Settings
from store import open_stores
from tests.support import (FakeKiro, account_from_fake, seed_data_dir, start_fake_kiro, start_proxy, stop)


@pytest.fixture(scope="session")
def fake_kiro_server() -> FakeKiro:
    """One fake Kiro subprocess for the whole session."""
    fake = start_fake_kiro()
    yield fake
    stop(fake.proc)


@pytest.fixture
def fake_kiro(fake_kiro_server: FakeKiro) -> FakeKiro:
    """The session's fake Kiro, reset to a clean state for this test."""
    fake_kiro_server.reset()
    return fake_kiro_server


@pytest.fixture
def fake_account(fake_kiro: FakeKiro) -> dict:
    """Credentials of one social account registered at the fake."""
    return fake_kiro.add_account(auth_method="social")


@pytest.fixture
def settings(tmp_path, fake_kiro: FakeKiro) -> Settings:
    """Settings with a temp data dir and the fake as every Kiro host."""
    return Settings(data_dir=tmp_path / "data", upstream_url=fake_kiro.url, first_byte_timeout=10,
                    read_timeout=10)


@pytest.fixture
def app(settings: Settings, fake_account: dict):
    """The proxy app in-process (Flask test client), holding the fake's account."""
    stores = open_stores(settings.data_dir)
    stores.accounts.add(account_from_fake(fake_account))
    application = create_app(settings, stores)
    application.testing = True
    yield application
    stores.close()


@pytest.fixture
def client(app):
    """Flask test client of the in-process app."""
    return app.test_client()


@pytest.fixture
def proxy_server(tmp_path, fake_kiro: FakeKiro, fake_account: dict):
    """The real server (`python app.py serve`, gevent) with one fake account."""
    data_dir = tmp_path / "proxy-data"
    seed_data_dir(data_dir, [account_from_fake(fake_account)])
    server = start_proxy(data_dir, fake_kiro.url)
    yield server
    stop(server.proc)
