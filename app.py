"""Entry point: `python app.py [serve] [-p PORT] [--host H]` and `python app.py accounts …`.

Keep this module import-light: gevent must patch the process before anything imports
socket, ssl, requests or urllib3.
"""
from __future__ import annotations

import argparse
import sys

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
        target.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS,
                            help="DEBUG, INFO, WARNING or ERROR (default INFO)")
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

    import logging

    from proxy.server import configure_logging, serve
    from proxy.settings import load_settings, suggest_env_name, unknown_env_names
    from store import StoreError
    from store.settings import read_settings_file

    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "INFO"))
    for name in unknown_env_names():
        hint = suggest_env_name(name)
        logging.getLogger("kiro_proxy").warning("%s is not a setting and is ignored%s", name,
                                                f" (did you mean {hint}?)" if hint else "")
    flags = {"data_dir": args.data_dir, "port": getattr(args, "port", None), "host": getattr(args, "host", None)}
    try:
        base = load_settings(flags={"data_dir": args.data_dir})
        settings = load_settings(file_values=read_settings_file(base.settings_path), flags=flags)
    except StoreError as e:  # settings.json is not readable JSON
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"error: bad setting: {e}", file=sys.stderr)
        return 2
    if args.command == "accounts":
        from proxy.accounts_cli import run_accounts_command
        return run_accounts_command(args, settings)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
