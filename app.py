"""Entry point: `python app.py [serve] [-p PORT] [--host H]` and `python app.py accounts …`.

Keep this module import-light: gevent must patch the process before anything imports
socket, ssl, requests or urllib3.
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The command line: serve (the default) and the accounts commands."""
    from proxy.accounts_cli import add_accounts_parser

    parser = argparse.ArgumentParser(prog="app.py", description="Kiro Proxy: Anthropic, OpenAI and Gemini "
                                     "APIs served from a pool of Kiro accounts.")
    parser.add_argument("--data-dir", help="data directory (default $KIRO_PROXY_HOME or ~/.kiro-proxy)")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the proxy (the default command)")
    for target in (parser, serve):
        target.add_argument("-p", "--port", type=int, help="port to listen on (default 8080; 0 = any free port)")
        target.add_argument("--host", help="address to bind (default 127.0.0.1)")
        target.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    add_accounts_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Patch gevent first, then parse the command line and run the command."""
    from gevent import monkey
    monkey.patch_all()  # first statement on purpose: requests/urllib3/ssl must be imported after it

    import gevent.queue
    import urllib3.connectionpool
    # gevent#1957: the pool queue must be gevent's (already true for urllib3>=2.8; kept as a guard)
    urllib3.connectionpool.ConnectionPool.QueueCls = gevent.queue.LifoQueue

    from proxy.settings import load_settings
    from proxy.server import configure_logging, serve
    from store.settings import read_settings_file

    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "INFO"))
    flags = {"data_dir": args.data_dir, "port": getattr(args, "port", None), "host": getattr(args, "host", None)}
    base = load_settings(flags={"data_dir": args.data_dir})
    try:
        settings = load_settings(file_values=read_settings_file(base.settings_path), flags=flags)
    except ValueError as e:
        print(f"error: bad setting: {e}", file=sys.stderr)
        return 2
    if args.command == "accounts":
        from proxy.accounts_cli import run_accounts_command
        return run_accounts_command(args, settings)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
