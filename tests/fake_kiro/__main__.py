"""`python -m tests.fake_kiro --port N [--host H] [--account social:<rt>]...`: serve the fake with gevent.

Prints exactly one line, `fake-kiro listening on http://<host>:<port>`, once the socket listens.
"""
from __future__ import annotations

import argparse
import sys


def parse_account(spec: str) -> dict:
    """`social:<refresh_token>` or `idc:<client_id>:<client_secret>:<refresh_token>` -> register() fields.

    The refresh token comes last because look-alike tokens themselves contain a colon."""
    method, _, rest = spec.partition(":")
    if method == "social" and rest:
        return {"auth_method": "social", "refresh_token": rest}
    if method == "idc":
        parts = rest.split(":", 2)
        if len(parts) == 3 and all(parts):
            return {"auth_method": "idc", "client_id": parts[0], "client_secret": parts[1],
                    "refresh_token": parts[2]}
    raise argparse.ArgumentTypeError(
        f"bad --account {spec!r}; use social:<refresh_token> or idc:<client_id>:<client_secret>:<refresh_token>")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_kiro", description="Fake Kiro upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account", action="append", default=[], type=parse_account,
                        help="seed an account (repeatable)")
    parser.add_argument("--access-log", action="store_true", help="log each request to stderr")
    return parser


def main(argv: list | None = None) -> int:
    """Patch with gevent, build the app, listen, announce the port, serve until SIGINT/SIGTERM."""
    from gevent import monkey
    monkey.patch_all()  # first thing: everything below must see the patched socket/threading/time

    import signal
    import socket

    import gevent
    import gevent.event
    from gevent.pywsgi import WSGIHandler, WSGIServer

    from .app import create_fake_app
    from .chat import SOCKET_KEY
    from .config import FakeConfig

    args = build_parser().parse_args(argv)

    class Handler(WSGIHandler):
        """Exposes the client socket to the app so reset_midstream can cut the connection."""

        def get_environ(self):
            """The WSGI environ plus the raw socket."""
            env = super().get_environ()
            env[SOCKET_KEY] = self.socket
            return env

    app = create_fake_app(FakeConfig(seed_accounts=args.account))
    server = WSGIServer((args.host, args.port), app, handler_class=Handler,
                        log=sys.stderr if args.access_log else None, error_log=sys.stderr)
    server.init_socket()
    # like the proxy: frames are small separate writes, Nagle would hold them for the client's ACK
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.start()
    print(f"fake-kiro listening on http://{args.host}:{server.server_port}", flush=True)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    server.stop(timeout=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
