"""Benchmark: a streamed Anthropic answer through the proxy vs the same reply straight from the fake Kiro.

    .venv/bin/python -m tests.bench.stream_overhead [--rounds 10,5,3] [--concurrency 1,16,64]

Starts the fake Kiro and the proxy as subprocesses on 127.0.0.1, seeds accounts, then for each
concurrency level runs rounds of N simultaneous requests (threads, raw http.client) both ways:
  direct: POST the fake's /generateAssistantResponse with a Kiro payload the proxy sent (captured
          from the fake's request log) and a live access token;
  proxy:  POST the proxy's /v1/messages with stream=true.
and in two connection modes, rounds of both interleaved:
  new:        every request opens its own connection (and closes it);
  keep-alive: each client thread keeps one connection per target open across requests, as Claude
              Code and the SDKs do (this is the mode that showed Nagle's delayed-ACK stall).
Time to first byte (first body bytes) and total time (body end) are taken per request; medians
and p95 are printed per mode with the proxy/direct ratios, then the proxy's CPU per answer and
peak RSS (psutil, sampled every 20 ms) per mode. Not collected by pytest (no test_ prefix).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import psutil

from tests.support import FakeKiro, account_from_fake, seed_data_dir, start_fake_kiro, start_proxy, stop

PROMPT = "Write a long answer."
# ~2 KB of prose-like text: the reply both paths stream
REPLY_TEXT = ("The proxy relays every event as soon as Kiro sends it, so the client sees the answer "
              "grow word by word. ") * 20


@dataclass
class Sample:
    """One request's timings in seconds (None when it failed) and its body size."""
    ttfb: Optional[float] = None
    total: Optional[float] = None
    size: int = 0
    error: str = ""


@dataclass
class Target:
    """Where and what to POST for one path of the comparison."""
    name: str
    url: str
    path: str
    body: Callable[[int], bytes]  # request number -> body
    headers: dict = field(default_factory=dict)


def one_request(target: Target, number: int, start: Optional[threading.Barrier],
                conn: Optional[http.client.HTTPConnection] = None) -> Sample:
    """POST, read the body as it arrives, time the first bytes and the end. With `conn` (kept
    alive), the request goes on it and it stays open unless the response closes it."""
    parts = urllib.parse.urlsplit(target.url)
    kept = conn is not None
    conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=120.0)
    sample = Sample()
    reusable = False
    try:
        if start is not None:
            start.wait()
        began = time.perf_counter()
        conn.request("POST", target.path, body=target.body(number), headers=target.headers)
        resp = conn.getresponse()
        if resp.status != 200:
            sample.error = f"HTTP {resp.status}: {resp.read()[:200]!r}"
            return sample
        while True:
            data = resp.read1(65536)
            if not data:
                break
            if sample.ttfb is None:
                sample.ttfb = time.perf_counter() - began
            sample.size += len(data)
        sample.total = time.perf_counter() - began
        reusable = not resp.will_close
    except (OSError, http.client.HTTPException) as e:
        sample.error = f"{type(e).__name__}: {e}"
    finally:
        if not (kept and reusable):
            conn.close()  # a kept connection that failed reconnects on its next request
    return sample


def run_round(target: Target, concurrency: int) -> list[Sample]:
    """`concurrency` simultaneous requests, each on a new connection, released together by a barrier."""
    return _threads(concurrency, lambda i, barrier: [one_request(target, i, barrier)])


def run_session(target: Target, concurrency: int, count: int) -> list[Sample]:
    """`concurrency` client threads released together, each keeping one connection open for one
    untimed request and then `count` timed ones, each sent as soon as the previous answer ended
    (a client's turns back to back: what makes delayed ACKs and Nagle meet)."""
    def client(i: int, barrier: threading.Barrier) -> list[Sample]:
        parts = urllib.parse.urlsplit(target.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120.0)
        try:
            one_request(target, i, barrier, conn)  # connects
            return [one_request(target, i, None, conn) for _ in range(count)]
        finally:
            conn.close()
    return _threads(concurrency, client)


def _threads(concurrency: int, work: Callable[[int, threading.Barrier], list[Sample]]) -> list[Sample]:
    """Run `work(i, barrier)` in `concurrency` threads; their samples in thread order."""
    barrier = threading.Barrier(concurrency)
    results: list[list[Sample]] = [[] for _ in range(concurrency)]

    def run(i: int) -> None:
        results[i] = work(i, barrier)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [sample for samples in results for sample in samples]


class RssSampler:
    """Samples a process's RSS in a background thread; `peak` is the highest seen, `recent` the
    highest since the last `reset_recent()`."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.recent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def reset_recent(self) -> None:
        self.recent = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            self.recent = max(self.recent, rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(samples: list[Sample], pick: Callable[[Sample], Optional[float]]) -> tuple[float, float]:
    """(median, p95) of one timing over the successful samples, in milliseconds."""
    values = [pick(s) * 1000 for s in samples if pick(s) is not None]
    if not values:
        return float("nan"), float("nan")
    return statistics.median(values), percentile(values, 95)


def setup(fake: FakeKiro, accounts: int, data_dir: Path, frame_delay: float, chunk_chars: int,
          max_streams: Optional[int]):
    """Configure the fake, register and seed `accounts` accounts, start the proxy; returns (proxy, creds)."""
    fake.configure(hello_text=REPLY_TEXT, frame_delay=frame_delay, text_chunk_chars=chunk_chars,
                   usage_limit=1_000_000.0)
    creds = [fake.add_account(auth_method="social") for _ in range(accounts)]
    seed_data_dir(data_dir, [account_from_fake(c, access_token=c["access_token"], expires_at=c["expires_at"])
                             for c in creds])
    settings = {} if max_streams is None else {"max_upstream_streams": str(max_streams)}
    proxy = start_proxy(data_dir, fake.url, **settings)
    return proxy, creds


def targets(fake: FakeKiro, proxy_url: str, creds: list[dict]) -> tuple[Target, Target]:
    """The proxy target, and the direct target built from the Kiro payload the proxy sent."""
    def body(number: int) -> bytes:
        # a different first turn per client: separate conversations, spread over the accounts
        return json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 4096, "stream": True,
                           "messages": [{"role": "user", "content": f"{PROMPT} (client {number})"}]}).encode()

    proxy = Target("proxy", proxy_url, "/v1/messages", body,
                   {"content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench"})
    # one answer per account (distinct conversations spread): proves each for the pool, warms connections
    failed = [s.error for s in run_round(proxy, len(creds)) if s.error]
    if failed:
        raise RuntimeError(f"warm-up through the proxy failed: {failed[0]}")
    logged = fake.requests(limit=1)[0]
    if logged["status"] != 200:
        raise RuntimeError(f"the fake refused the proxy's payload: {logged}")
    kiro_body = json.dumps(logged["body"]).encode()
    direct = Target("direct", fake.url, "/generateAssistantResponse", lambda number: kiro_body,
                    {"content-type": "application/json", "authorization": f"Bearer {creds[0]['access_token']}"})
    return proxy, direct


MODES = {"new": "a new connection per request; direct and proxy rounds alternate",
         "keep-alive": "each client thread keeps one connection and sends its requests back to back"}


@dataclass
class ModeCost:
    """The proxy's CPU (user + sys, seconds) while it served one mode's answers, their number, peak RSS."""
    cpu: float = 0.0
    answers: int = 0
    peak_rss: int = 0


def measure(proxy: Target, direct: Target, levels: list[int], rounds: list[int],
            process: psutil.Process, rss: RssSampler) -> tuple[dict[str, list[dict]], dict[str, ModeCost]]:
    """Per level: `count` rounds of new connections, direct and proxy alternating; then a keep-alive
    session of `count` requests per client thread, direct then proxy. Returns the rows of figures
    per mode and what the proxy spent per mode."""
    rows: dict[str, list[dict]] = {mode: [] for mode in MODES}
    costs = {mode: ModeCost() for mode in MODES}

    def on_proxy(mode: str, run: Callable[[], list[Sample]], answers: int) -> list[Sample]:
        cpu_before = sum(process.cpu_times()[:2])
        rss.reset_recent()
        samples = run()
        costs[mode].cpu += sum(process.cpu_times()[:2]) - cpu_before
        costs[mode].answers += answers
        costs[mode].peak_rss = max(costs[mode].peak_rss, rss.recent)
        return samples

    for concurrency, count in zip(levels, rounds):
        got = {mode: {"direct": [], "proxy": []} for mode in MODES}
        for _ in range(count):  # interleaved so drift hits both paths alike
            got["new"]["direct"] += run_round(direct, concurrency)
            got["new"]["proxy"] += on_proxy("new", lambda: run_round(proxy, concurrency), concurrency)
        got["keep-alive"]["direct"] += run_session(direct, concurrency, count)
        got["keep-alive"]["proxy"] += on_proxy("keep-alive", lambda: run_session(proxy, concurrency, count),
                                               concurrency * (count + 1))
        for mode in MODES:
            rows[mode].append(_row(concurrency, got[mode]))
    return rows, costs


def _row(concurrency: int, got: dict[str, list[Sample]]) -> dict:
    """One level's figures for one mode."""
    row = {"concurrency": concurrency, "requests": len(got["proxy"])}
    for name, samples in got.items():
        row[f"{name}_errors"] = sum(1 for s in samples if s.error)
        row[f"{name}_ttfb"] = summarize(samples, lambda s: s.ttfb)
        row[f"{name}_total"] = summarize(samples, lambda s: s.total)
        row[f"{name}_bytes"] = int(statistics.median([s.size for s in samples if not s.error] or [0]))
        first_error = next((s.error for s in samples if s.error), "")
        if first_error:
            row[f"{name}_first_error"] = first_error
    return row


def table(rows: list[dict]) -> str:
    """The results as a Markdown table (milliseconds, median / p95)."""
    lines = ["| conc. | req. | TTFB direct | TTFB proxy | TTFB ratio | total direct | total proxy | total ratio |"
             " errors d/p |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        def pair(key: str) -> str:
            med, p95 = r[key]
            return f"{med:.1f} / {p95:.1f}"

        def ratio(what: str) -> str:
            (dm, d95), (pm, p95) = r[f"direct_{what}"], r[f"proxy_{what}"]
            return f"{pm / dm:.2f} / {p95 / d95:.2f}"

        lines.append(f"| {r['concurrency']} | {r['requests']} | {pair('direct_ttfb')} | {pair('proxy_ttfb')} | "
                     f"{ratio('ttfb')} | {pair('direct_total')} | {pair('proxy_total')} | {ratio('total')} | "
                     f"{r['direct_errors']}/{r['proxy_errors']} |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated levels (default 1,16,64)")
    parser.add_argument("--rounds", default="10,5,3", help="rounds per level, same order (default 10,5,3)")
    parser.add_argument("--accounts", type=int, default=4, help="accounts seeded in the proxy (default 4)")
    parser.add_argument("--frame-delay", type=float, default=0.01, help="fake's seconds between frames")
    parser.add_argument("--chunk-chars", type=int, default=16, help="fake's characters per text frame")
    parser.add_argument("--max-streams", type=int, default=None,
                        help="proxy's max_upstream_streams (default: the proxy's own default)")
    args = parser.parse_args(argv)
    levels = [int(v) for v in args.concurrency.split(",")]
    rounds = [int(v) for v in args.rounds.split(",")]
    if len(rounds) < len(levels):
        rounds += rounds[-1:] * (len(levels) - len(rounds))

    fake = start_fake_kiro()
    proxy_server = None
    try:
        with tempfile.TemporaryDirectory(prefix="kiro-bench-") as tmp:
            proxy_server, creds = setup(fake, args.accounts, Path(tmp) / "data", args.frame_delay,
                                         args.chunk_chars, args.max_streams)
            proxy, direct = targets(fake, proxy_server.url, creds)
            process = psutil.Process(proxy_server.proc.pid)
            idle_rss = process.memory_info().rss
            with RssSampler(proxy_server.proc.pid) as rss:
                rows, costs = measure(proxy, direct, levels, rounds, process, rss)
            stop(proxy_server.proc)
            proxy_server = None
    finally:
        if proxy_server is not None:
            stop(proxy_server.proc)
        stop(fake.proc)

    frames = -(-len(REPLY_TEXT) // args.chunk_chars)
    print(f"reply: {len(REPLY_TEXT)} characters in ~{frames} text frames, {args.frame_delay * 1000:.0f} ms apart; "
          f"{args.accounts} accounts; times in ms, median / p95; ratio = proxy / direct")
    for mode, description in MODES.items():
        print(f"\n{mode}: {description}\n")
        print(table(rows[mode]))
    print()
    for mode in MODES:
        cost = costs[mode]
        print(f"proxy, {mode}: CPU {cost.cpu:.1f} s user+sys for {cost.answers} streamed answers "
              f"({cost.cpu / max(1, cost.answers) * 1000:.1f} ms each); peak RSS {cost.peak_rss / 2**20:.1f} MiB")
    print(f"proxy RSS: idle {idle_rss / 2**20:.1f} MiB, peak {rss.peak / 2**20:.1f} MiB")
    for mode in MODES:
        for r in rows[mode]:
            for name in ("direct", "proxy"):
                if r.get(f"{name}_first_error"):
                    print(f"{mode} c={r['concurrency']} {name} first error: {r[f'{name}_first_error']}")
    first = rows["new"][0]
    print(f"median body bytes (c={first['concurrency']}): direct {first['direct_bytes']}, proxy {first['proxy_bytes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
