"""The real Claude Code CLI (`claude -p`) through the proxy and the fake Kiro."""
from __future__ import annotations

import subprocess

import pytest

from tests.clients.conftest import cli_path

pytestmark = pytest.mark.clients


def run_claude(proxy, env: dict, workdir, prompt: str, *flags: str) -> subprocess.CompletedProcess:
    """One `claude -p` run against the proxy; stdin closed so it never waits for input."""
    env = {**env, "ANTHROPIC_BASE_URL": proxy.url, "ANTHROPIC_API_KEY": "sk-ant-test",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
           "CLAUDE_CODE_MAX_RETRIES": "1"}
    return subprocess.run([str(cli_path("claude")), "-p", prompt, "--max-turns", "4", *flags], cwd=workdir,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)


def test_claude_code_says_hello(proxy_server, fake_kiro, cli_env, workdir):
    result = run_claude(proxy_server, cli_env, workdir, "say hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hello! This is the fake Kiro." in result.stdout
    assert fake_kiro.stats()["totals"]["chat_requests"] == 1


def test_claude_code_finishes_a_bash_round_trip(proxy_server, fake_kiro, cli_env, workdir):
    result = run_claude(proxy_server, cli_env, workdir, "RUN_TOOL: echo kiro-proxy-ok | tr a-z A-Z",
                        "--allowedTools", "Bash")
    assert result.returncode == 0, result.stdout + result.stderr
    # the fake quotes the tool result back: proof the command really ran in Claude Code's Bash tool
    assert "TOOL_RESULT_SEEN:" in result.stdout
    assert "KIRO-PROXY-OK" in result.stdout
    sent = fake_kiro.requests()
    assert len(sent) == 2
