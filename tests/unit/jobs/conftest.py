"""Job fixtures: a pool over a temp account store, a settable clock and a stub token manager."""
from __future__ import annotations

import pytest

from proxy.account import Account
from proxy.pool import Pool
from proxy.settings import Settings
from proxy.stats import Stats
from store.accounts import AccountStore

from tests.support import FIXED_NOW as NOW, Clock


class StubTokens:
    """TokenManager's interface: hands out the stored account, counts forced refreshes."""

    def __init__(self, store: AccountStore):
        self.store = store
        self.forced = []

    def fresh(self, account_id: str) -> Account:
        """The stored account as is."""
        return self.store.get(account_id)

    def force_refresh(self, account_id: str, stale_token: str) -> Account:
        """Pretend a refresh happened."""
        self.forced.append(account_id)
        return self.store.update(account_id, access_token=f"{stale_token}-new")


@pytest.fixture
def store(tmp_path):
    """An empty account store."""
    s = AccountStore(tmp_path / "accounts.json")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    """A clock fixed at NOW."""
    return Clock()


@pytest.fixture
def pool(store, clock) -> Pool:
    """A pool over the store, on the clock."""
    return Pool(store, Settings(queue_wait=0.0), stats=Stats(), clock=clock)


@pytest.fixture
def tokens(store) -> StubTokens:
    """The stub token manager."""
    return StubTokens(store)


@pytest.fixture
def add_account(store):
    """Factory: store an account with a live-looking token; keyword arguments set fields."""
    def add(name: str, **fields) -> Account:
        values = {"access_token": f"aoa-{name}", "expires_at": NOW + 3600, **fields}
        return store.add(Account(id=name, refresh_token=f"aor-{name}", **values))
    return add
