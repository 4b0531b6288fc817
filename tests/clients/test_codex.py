"""The real Codex CLI (`codex exec`, Responses API) through the proxy and the fake Kiro."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.clients.conftest import cli_path

pytestmark = pytest.mark.clients

CONFIG = """\
model = "{model}"
model_provider = "kiro"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.kiro]
name = "kiro"
base_url = "{base_url}"
env_key = "KIRO_PROXY_KEY"
wire_api = "responses"
request_max_retries = {request_retries}
stream_max_retries = 1
"""


def run_codex(proxy, env: dict, workdir: Path, prompt: str, *, model: str = "gpt-5.5",
              request_retries: int = 1, overrides: tuple[str, ...] = (), flags: tuple[str, ...] = (),
              timeout: float = 120) -> subprocess.CompletedProcess:
    """One `codex exec` against the proxy with a throwaway CODEX_HOME; stdin closed so it never waits."""
    home = workdir.parent / "codex-home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(CONFIG.format(model=model, base_url=proxy.url + "/v1",
                                                    request_retries=request_retries))
    env = {**env, "CODEX_HOME": str(home), "KIRO_PROXY_KEY": "sk-test"}
    # the sandbox is bypassed because bubblewrap may be unusable in CI containers; approvals are `never` anyway
    command = [str(cli_path("codex")), "exec", "--skip-git-repo-check", "--disable", "plugins",
               "--dangerously-bypass-approvals-and-sandbox", "--color", "never", *flags,
               *(arg for override in overrides for arg in ("-c", override)), prompt]
    return subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def kiro_requests(fake_kiro) -> list[dict]:
    """The chat requests the fake received (one per Codex model turn)."""
    return fake_kiro.requests()


def offered_tools(request: dict) -> list[str]:
    """Names of the tools one Kiro chat request offered."""
    context = request["body"]["conversationState"]["currentMessage"]["userInputMessage"].get(
        "userInputMessageContext", {})
    return [t["toolSpecification"]["name"] for t in context.get("tools", [])]


def test_codex_says_hello(proxy_server, fake_kiro, cli_env, workdir):
    result = run_codex(proxy_server, cli_env, workdir, "say hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hello! This is the fake Kiro." in result.stdout
    assert len(kiro_requests(fake_kiro)) == 1


# a known slug, and one Codex has no metadata for (its fallback tool set has a namespace and no apply_patch)
@pytest.mark.parametrize("model", ["gpt-5.5", "my-custom-model"])
def test_codex_finishes_a_shell_round_trip(proxy_server, fake_kiro, cli_env, workdir, model):
    result = run_codex(proxy_server, cli_env, workdir, "RUN_TOOL: echo kiro-proxy-ok | tr a-z A-Z", model=model)
    assert result.returncode == 0, result.stdout + result.stderr
    # the fake quotes the tool result back: proof the command really ran in Codex's exec_command tool
    assert "TOOL_RESULT_SEEN:" in result.stdout
    assert "KIRO-PROXY-OK" in result.stdout
    sent = kiro_requests(fake_kiro)
    assert len(sent) == 2
    assert "exec_command" in offered_tools(sent[0])


def test_codex_applies_a_patch(proxy_server, fake_kiro, cli_env, workdir):
    result = run_codex(proxy_server, cli_env, workdir, "APPLY_PATCH: hello.txt kiro-proxy-patched")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "hello.txt").read_text() == "kiro-proxy-patched\n"
    sent = kiro_requests(fake_kiro)
    assert "apply_patch" in offered_tools(sent[0])
    assert len(sent) == 2  # the patch result went back for a closing turn
    assert "TOOL_RESULT_SEEN:" in result.stdout


def test_codex_code_mode_model_runs_its_exec_tool(proxy_server, fake_kiro, cli_env, workdir):
    # gpt-6-sol sends no top-level tools: its one `exec` (JavaScript) tool comes in an additional_tools item
    result = run_codex(proxy_server, cli_env, workdir, "RUN_TOOL: echo kiro-proxy-ok | tr a-z A-Z",
                       model="gpt-6-sol")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TOOL_RESULT_SEEN:" in result.stdout
    assert "KIRO-PROXY-OK" in result.stdout
    sent = kiro_requests(fake_kiro)
    assert len(sent) == 2
    assert "functions__exec" in offered_tools(sent[0])  # the namespace, flattened for Kiro


def test_codex_waits_out_a_rate_limit_and_retries(proxy_server, fake_kiro, cli_env, workdir):
    # Codex retries a 429 only when it carries Retry-After. A plain request-rate 429 keeps Kiro's hint
    # (a suspicious-activity 429 rests the account for an hour instead, too long for a test)
    fake_kiro.fault("rate_429", count=1, retry_after=2)
    started = time.monotonic()
    result = run_codex(proxy_server, cli_env, workdir, "say hello", request_retries=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hello! This is the fake Kiro." in result.stdout
    sent = kiro_requests(fake_kiro)
    assert [r["status"] for r in sent] == [429, 200]
    assert time.monotonic() - started >= 2  # it honoured Retry-After instead of hammering


def test_codex_retries_a_stream_that_fails_midway(proxy_server, fake_kiro, cli_env, workdir):
    # the proxy turns Kiro's in-stream exception into response.failed; Codex reconnects and asks again
    # (no reasoning: with it the relay holds the first text back and retries Kiro itself, unseen by Codex)
    fake_kiro.fault("exception_frame", count=1)
    result = run_codex(proxy_server, cli_env, workdir, "say hello", overrides=('model_reasoning_effort="none"',))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Hello! This is the fake Kiro."
    assert "Reconnecting... 1/1" in result.stderr
    assert len(kiro_requests(fake_kiro)) == 2


def test_codex_stops_at_once_on_context_length_exceeded(proxy_server, fake_kiro, cli_env, workdir):
    fake_kiro.fault("too_long_400", count=-1)
    result = run_codex(proxy_server, cli_env, workdir, "say hello", request_retries=3)
    assert result.returncode != 0
    assert "context window" in (result.stdout + result.stderr)
    assert len(kiro_requests(fake_kiro)) == 1  # no retry: Codex read the error code


def test_codex_json_output_reports_usage(proxy_server, fake_kiro, cli_env, workdir):
    result = run_codex(proxy_server, cli_env, workdir, "say hello", flags=("--json",))
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    completed = [e for e in events if e.get("type") == "turn.completed"]
    assert len(completed) == 1
    assert completed[0]["usage"]["input_tokens"] > 0 and completed[0]["usage"]["output_tokens"] > 0
