"""The stats job: write per-account stats to the data dir, forgetting removed accounts."""
from __future__ import annotations

from proxy.stats import Stats
from store.accounts import AccountStore


def save_stats(stats: Stats, accounts: AccountStore) -> bool:
    """Prune records of deleted accounts, then save; False when nothing could be written."""
    stats.prune(a.id for a in accounts.list())
    return stats.save()
