"""Tests for the token refresh job: which accounts it refreshes, and that failures do not stop it."""
from jobs.refresh import refresh_expiring
from proxy.kiro.tokens import RefreshFailed
NOW = 1_800_000_000.0  # the clock fixture's time


class Tokens:
    """Counts fresh() calls; fails for the ids it is told to."""

    def __init__(self, failing=()):
        self.failing = set(failing)
        self.calls = []

    def fresh(self, account_id):
        self.calls.append(account_id)
        if account_id in self.failing:
            raise RefreshFailed(account_id, "auth down")


def test_refreshes_only_expiring_usable_accounts(store, clock, add_account):
    add_account("soon", expires_at=NOW + 60)
    add_account("later", expires_at=NOW + 7200)
    add_account("banned", expires_at=NOW + 60, status="banned")
    add_account("off", expires_at=NOW + 60, enabled=False)
    add_account("broken", expires_at=0.0)
    tokens = Tokens(failing={"broken"})
    counts = refresh_expiring(store, tokens, before_seconds=900, clock=clock)
    assert sorted(tokens.calls) == ["broken", "soon"]
    assert counts == {"refreshed": 1, "failed": 1, "skipped": 3}
