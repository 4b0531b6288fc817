"""Serving: open the stores, build the app, start the jobs and run gevent's WSGI server.

Called by app.py after gevent has patched the process; nothing here patches.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import signal
import socket
import sys

import gevent
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from jobs import build_scheduler
from proxy.app import create_app
from proxy.settings import Settings
from store import ServerLockHeld, StoreError, open_stores
from store.lock import acquire_server_lock

log = logging.getLogger(__name__)


EXIT_ERROR, EXIT_IN_USE = 1, 2


def serve(settings: Settings) -> int:
    """Run the proxy until SIGTERM/SIGINT; returns the exit code (a start that fails says why on stderr)."""
    try:
        lock = acquire_server_lock(settings.data_dir)
    except ServerLockHeld as e:
        _fail(f"{e}; stop it first, or give this one another --data-dir")
        return EXIT_IN_USE
    except OSError as e:
        _fail(f"cannot use the data dir {settings.data_dir}: {e.strerror or e}")
        return EXIT_ERROR
    try:
        stores = open_stores(settings.data_dir)
    except (StoreError, OSError) as e:  # a corrupt data file: refuse to start rather than overwrite it
        lock.release()
        _fail(str(e) if isinstance(e, StoreError) else f"cannot open the data files: {e}")
        return EXIT_ERROR
    try:
        app = create_app(settings, stores)
        scheduler = build_scheduler(app.extensions["kiro_proxy"])
        server = WSGIServer((settings.host, settings.port), app, spawn=Pool(settings.max_connections),
                            log=None, error_log=wsgi_error_log())
        # serve_forever's own stop() reads this: streams get this long to finish on shutdown
        server.stop_timeout = settings.shutdown_grace
        try:
            server.init_socket()
            # pywsgi writes headers and the first SSE chunk in two sends; with Nagle on, a keep-alive
            # client's delayed ACK holds the first chunk ~40 ms. Accepted sockets inherit this.
            server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            _fail(f"cannot listen on {settings.host}:{settings.port}: {e.strerror or e}")
            return EXIT_ERROR

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
        if not is_loopback(host) and not settings.api_keys:
            log.warning("listening on %s without KIRO_PROXY_API_KEYS: anyone who can reach it can use "
                        "your Kiro accounts", host)
        if not stores.accounts.list():
            log.warning("no Kiro accounts yet: requests get 503 until one is added (stop the proxy, "
                        "then `app.py accounts import FILE` or `app.py accounts add`)")
        server.serve_forever()
    finally:
        stores.close()
        lock.release()
    return 0


# A client key in a query string (`?key=`, Gemini clients) or an Authorization value in text.
_KEY_IN_TEXT = re.compile(r"(?i)([?&](?:key|api_key|access_token)=)[^&\s'\"]+|(bearer\s+)[^\s'\",]+")


def redact(text: str) -> str:
    """`text` with client keys blanked out."""
    return _KEY_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class _Redact(logging.Filter):
    """Blank out client keys: pywsgi logs a malformed request's raw request line, query included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def wsgi_error_log() -> logging.Logger:
    """The logger pywsgi reports client errors to, with client keys redacted."""
    logger = logging.getLogger("wsgi")
    if not any(isinstance(f, _Redact) for f in logger.filters):
        logger.addFilter(_Redact())
    return logger


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: assume others can reach it


def _fail(message: str) -> None:
    """Why the server did not start, on stderr (no traceback: nothing here is a bug)."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def configure_logging(level: str = "INFO") -> None:
    """Plain stderr logging; tokens never reach the log (modules log ids, not secrets)."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(stream=sys.stderr, level=numeric,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if numeric > logging.DEBUG:
        # APScheduler logs every job run at INFO (four jobs, every few minutes): keep it to problems
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
