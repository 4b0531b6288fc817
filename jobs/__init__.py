"""Background jobs, run by APScheduler's GeventScheduler inside the server process."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.gevent import GeventScheduler

from jobs.refresh import refresh_expiring

REFRESH_EVERY_MINUTES = 5


def build_scheduler(services) -> GeventScheduler:
    """A scheduler with the project's jobs added (not started)."""
    # a VPS may be suspended or its loop stall: a 1 s misfire grace (the default) would drop runs
    scheduler = GeventScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": 120})
    now = datetime.now(timezone.utc)
    scheduler.add_job(refresh_expiring, "interval", minutes=REFRESH_EVERY_MINUTES, id="refresh_tokens",
                      replace_existing=True, next_run_time=now + timedelta(seconds=5), jitter=10,
                      kwargs={"accounts": services.stores.accounts, "tokens": services.tokens,
                              "before_seconds": services.settings.refresh_before_seconds})
    return scheduler
