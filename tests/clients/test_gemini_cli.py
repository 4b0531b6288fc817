"""The real Gemini CLI (`gemini -p`) through the proxy and the fake Kiro, with `-m` and with its model router."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import cli_path

pytestmark = pytest.mark.clients

HELLO = "Hello! This is the fake Kiro."
# what Gemini CLI's router asks for in its classifier call (see docs/clients.md)
ROUTER_FIELD = "complexity_score"


def gemini_home(env: dict) -> None:
    """settings.json for offline use: API-key auth (else GOOGLE_GEMINI_BASE_URL picks an auth type the
    CLI itself rejects), no usage statistics or telemetry, no update checks."""
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False}}
    folder = Path(env["HOME"]) / ".gemini"
    folder.mkdir(exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(settings))


def run_gemini(proxy, env: dict, workdir, prompt: str, *flags: str) -> subprocess.CompletedProcess:
    """One `gemini -p` run against the proxy; stdin closed so it never waits for input."""
    gemini_home(env)
    env = {**env, "GOOGLE_GEMINI_BASE_URL": proxy.url, "GEMINI_API_KEY": "gemini-test-key"}
    return subprocess.run([str(cli_path("gemini")), "--skip-trust", *flags, "-p", prompt], cwd=workdir,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
                          check=False)


def router_calls(sent: list) -> list:
    """The chat requests that were Gemini CLI's router asking for its JSON verdict."""
    return [r for r in sent if r.get("directive") == "response_format"
            and ROUTER_FIELD in r["body"]["conversationState"]["currentMessage"]["userInputMessage"]["content"]]


def assert_clean(result: subprocess.CompletedProcess) -> None:
    """Exit 0, and none of the CLI's complaints about our answers on stderr."""
    assert result.returncode == 0, result.stdout + result.stderr
    for complaint in ("ZodError", "greater than or equal to 1", "without a finish reason",
                      "unexpected critical error", "Invalid JSON"):
        assert complaint not in result.stderr, result.stderr


@pytest.mark.parametrize("model", ["gemini-2.5-flash", None], ids=["with-m", "router"])
def test_gemini_cli_says_hello(proxy_server, fake_kiro, cli_env, workdir, model):
    flags = ["-m", model] if model else []
    result = run_gemini(proxy_server, cli_env, workdir, "say hello", *flags)
    assert_clean(result)
    # printed once: without a finishReason the CLI retries and prints the text four times
    assert result.stdout.count(HELLO) == 1, result.stdout
    sent = fake_kiro.requests()
    if model:
        assert len(sent) == 1 and router_calls(sent) == []
    else:
        # the router's classifier call, then the answer
        assert len(sent) == 2 and router_calls(sent) == [sent[0]]


@pytest.mark.parametrize("model", ["gemini-2.5-flash", None], ids=["with-m", "router"])
def test_gemini_cli_finishes_a_shell_round_trip(proxy_server, fake_kiro, cli_env, workdir, model):
    flags = ["--yolo", *(["-m", model] if model else [])]
    result = run_gemini(proxy_server, cli_env, workdir, "RUN_TOOL: echo kiro-proxy-ok | tr a-z A-Z", *flags)
    assert_clean(result)
    # the fake quotes the tool result back: proof the command really ran in run_shell_command
    assert "TOOL_RESULT_SEEN:" in result.stdout, result.stdout
    assert "KIRO-PROXY-OK" in result.stdout, result.stdout
    sent = fake_kiro.requests()
    answers = [r for r in sent if r not in router_calls(sent)]
    assert len(answers) == 2  # the call, then the answer to its result
    assert len(router_calls(sent)) == (0 if model else 1)
    call = answers[1]["body"]["conversationState"]["currentMessage"]["userInputMessage"]
    assert "KIRO-PROXY-OK" in json.dumps(call["userInputMessageContext"]["toolResults"])
