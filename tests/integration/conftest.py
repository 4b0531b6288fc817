"""Integration fixtures: in-process apps with several fake accounts, and account factories."""
from __future__ import annotations

import pytest

from proxy.app import create_app
from store import open_stores
from tests.integration.helpers import ready_account
from tests.support import FakeKiro, ProxyServer, seed_data_dir, start_proxy, stop


@pytest.fixture
def two_fake_accounts(fake_kiro: FakeKiro) -> list[dict]:
    """Credentials of two social accounts at the fake: A (tried first) and B."""
    return [fake_kiro.add_account(auth_method="social") for _ in range(2)]


@pytest.fixture
def make_app(settings):
    """Factory: an in-process app (testing mode) holding the given accounts; stores closed after."""
    opened = []

    def build(accounts: list, **setting_changes):
        for name, value in setting_changes.items():
            setattr(settings, name, value)
        stores = open_stores(settings.data_dir)
        opened.append(stores)
        for account in accounts:
            stores.accounts.add(account)
        application = create_app(settings, stores)
        application.testing = True
        return application

    yield build
    for stores in opened:
        stores.close()


@pytest.fixture
def pair_app(make_app, two_fake_accounts):
    """An app over the two fake accounts, A before B, both with live access tokens."""
    return make_app([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)])


@pytest.fixture
def serve(tmp_path, fake_kiro: FakeKiro):
    """Factory: the real server (`python app.py serve`) over the given fake accounts and env settings."""
    servers = []

    def start(accounts: list, **env) -> ProxyServer:
        data_dir = tmp_path / f"proxy-data-{len(servers)}"
        seed_data_dir(data_dir, accounts)
        server = start_proxy(data_dir, fake_kiro.url, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop(server.proc)
