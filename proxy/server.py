"""Serving: open the stores, build the app, start the jobs and run gevent's WSGI server.

Called by app.py after gevent has patched the process; nothing here patches.
"""
from __future__ import annotations

import logging
import signal
import sys

import gevent
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from jobs import build_scheduler
from proxy.app import create_app
from proxy.settings import Settings
from store import open_stores
from store.lock import acquire_server_lock

log = logging.getLogger(__name__)


def serve(settings: Settings) -> int:
    """Run the proxy until SIGTERM/SIGINT; returns the exit code."""
    lock = acquire_server_lock(settings.data_dir)
    stores = open_stores(settings.data_dir)
    try:
        app = create_app(settings, stores)
        scheduler = build_scheduler(app.extensions["kiro_proxy"])
        server = WSGIServer((settings.host, settings.port), app, spawn=Pool(settings.max_connections),
                            log=None, error_log=logging.getLogger("wsgi"))
        # serve_forever's own stop() reads this: streams get this long to finish on shutdown
        server.stop_timeout = settings.shutdown_grace
        server.init_socket()

        def shutdown() -> None:
            log.info("shutting down")
            scheduler.shutdown(wait=False)
            app.extensions["kiro_proxy"].pool.stats.save()  # the periodic job may be up to a minute behind
            server.close()

        gevent.signal_handler(signal.SIGTERM, shutdown)
        gevent.signal_handler(signal.SIGINT, shutdown)
        scheduler.start()
        host, port = server.address[:2]
        # one line tests and scripts wait for; the port matters when 0 was asked for
        print(f"kiro-proxy listening on http://{host}:{port}", flush=True)
        if host not in ("127.0.0.1", "::1", "localhost") and not settings.api_keys:
            log.warning("listening on %s without KIRO_PROXY_API_KEYS: anyone who can reach it can use "
                        "your Kiro accounts", host)
        server.serve_forever()
    finally:
        stores.close()
        lock.release()
    return 0


def configure_logging(level: str = "INFO") -> None:
    """Plain stderr logging; tokens never reach the log (modules log ids, not secrets)."""
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
