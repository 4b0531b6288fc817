"""Background jobs, run by APScheduler's GeventScheduler inside the server process.

Each job is a plain function (tests call them directly, with their own clock); this module
only schedules them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.gevent import GeventScheduler

from jobs.health import check_health, refresh_quota, usage_fetcher
from jobs.refresh import refresh_expiring
from jobs.stats import save_stats

REFRESH_EVERY_MINUTES = 5


def build_scheduler(services) -> GeventScheduler:
    """A scheduler with the project's jobs added (not started)."""
    settings = services.settings
    pool = services.pool
    fetch = usage_fetcher(settings, services.session)
    # a VPS may be suspended or its loop stall: a 1 s misfire grace (the default) would drop runs
    scheduler = GeventScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": 120})
    now = datetime.now(timezone.utc)
    scheduler.add_job(refresh_expiring, "interval", minutes=REFRESH_EVERY_MINUTES, id="refresh_tokens",
                      replace_existing=True, next_run_time=now + timedelta(seconds=5), jitter=10,
                      kwargs={"accounts": services.stores.accounts, "tokens": services.tokens,
                              "before_seconds": settings.refresh_before_seconds})
    scheduler.add_job(check_health, "interval", minutes=settings.health_check_minutes, id="health_check",
                      replace_existing=True, next_run_time=now + timedelta(seconds=30), jitter=10,
                      misfire_grace_time=300, kwargs={"pool": pool, "tokens": services.tokens, "fetch": fetch})
    # the quota job skips accounts whose usage the health check has just read
    scheduler.add_job(refresh_quota, "interval", minutes=settings.quota_refresh_minutes, id="refresh_quota",
                      replace_existing=True, next_run_time=now + timedelta(seconds=60), jitter=30,
                      misfire_grace_time=300,
                      kwargs={"pool": pool, "tokens": services.tokens, "fetch": fetch,
                              "max_age": settings.quota_refresh_minutes * 60 / 2})
    scheduler.add_job(save_stats, "interval", seconds=settings.stats_save_seconds, id="save_stats",
                      replace_existing=True, kwargs={"stats": pool.stats, "accounts": services.stores.accounts})
    return scheduler
