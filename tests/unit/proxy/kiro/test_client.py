"""The upstream Session: the environment's proxy and CA settings, taken once per host, must be the
ones requests itself would take on every request with `trust_env` on."""
import http.server
import threading

import pytest
import requests

from proxy.kiro import client as client_module
from proxy.kiro.client import EnvironmentOnce, new_session
from proxy.settings import Settings

ENV_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
             "REQUEST_METHOD")
URLS = ["https://q.us-east-1.amazonaws.com/generateAssistantResponse", "https://q.eu-central-1.amazonaws.com/mcp",
        "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken", "http://127.0.0.1:8123/x",
        "http://10.1.2.3/x", "https://localhost:8443/y"]
ENVIRONMENTS = {
    "none": {},
    "https proxy": {"HTTPS_PROXY": "http://proxy.corp:3128"},
    "lower case": {"https_proxy": "http://lower.corp:3128", "http_proxy": "http://lower.corp:3129"},
    "http and https": {"HTTP_PROXY": "http://p1:1", "HTTPS_PROXY": "http://p2:2"},
    "all proxy": {"ALL_PROXY": "socks5://p3:1080"},
    "no_proxy host": {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "q.us-east-1.amazonaws.com,localhost"},
    "no_proxy suffix": {"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://p:1", "no_proxy": ".amazonaws.com"},
    "no_proxy star": {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"},
    "no_proxy port": {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1:8123"},
    "no_proxy cidr": {"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"},
    "ca bundle": {"REQUESTS_CA_BUNDLE": "/etc/custom-ca.pem"},
    "curl ca bundle": {"CURL_CA_BUNDLE": "/etc/curl-ca.pem"},
    "both bundles": {"REQUESTS_CA_BUNDLE": "/etc/a.pem", "CURL_CA_BUNDLE": "/etc/b.pem"},
    "everything": {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost", "REQUESTS_CA_BUNDLE": "/etc/a.pem"},
}


@pytest.fixture
def environment(monkeypatch):
    """Clears every proxy and CA variable; returns a setter."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return lambda values: [monkeypatch.setenv(k, v) for k, v in values.items()]


@pytest.mark.parametrize("values", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_settings_equal_requests_own_with_trust_env(environment, values):
    environment(values)
    ours, theirs = EnvironmentOnce(), requests.Session()
    assert not ours.trust_env and theirs.trust_env
    for url in URLS:
        for verify in (None, True, False, "/explicit.pem"):
            for _ in range(2):  # the second time comes from the per-host cache
                for proxies in ({}, {"https": "http://explicit:9"}, {"no_proxy": "amazonaws.com"}):
                    assert ours.merge_environment_settings(url, dict(proxies), None, verify, None) == \
                        theirs.merge_environment_settings(url, dict(proxies), None, verify, None), (url, verify)


def test_environment_is_resolved_once_per_scheme_and_host(environment, monkeypatch):
    environment({"HTTPS_PROXY": "http://p:1"})
    calls = []
    original = client_module.get_environ_proxies
    monkeypatch.setattr(client_module, "get_environ_proxies", lambda url, *a: calls.append(url) or original(url, *a))
    session = new_session(Settings())
    assert isinstance(session, EnvironmentOnce)
    for _ in range(3):
        session.merge_environment_settings(URLS[0], {}, None, None, None)
        session.merge_environment_settings(URLS[0].replace("generateAssistantResponse", "mcp"), {}, None, None, None)
    session.merge_environment_settings(URLS[1], {}, None, None, None)
    assert calls == [URLS[0], URLS[1]]


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 200 and records the request line's target (absolute when it came as a proxy)."""
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append(self.path)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    """Start recording HTTP servers on 127.0.0.1; returns a factory giving (server, port)."""
    servers = []

    def start():
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        server.seen = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, server.server_address[1]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_http_proxy_and_no_proxy_are_used_on_the_wire(environment, recorder):
    """The proxy named in the environment gets the request; a NO_PROXY host is reached directly."""
    relay, relay_port = recorder()
    target, target_port = recorder()
    url = f"http://127.0.0.1:{target_port}/generateAssistantResponse"
    environment({"HTTP_PROXY": f"http://127.0.0.1:{relay_port}"})
    assert new_session(Settings()).post(url, data=b"{}", timeout=5).status_code == 200
    assert relay.seen == [url] and target.seen == []
    environment({"NO_PROXY": "127.0.0.1"})
    assert new_session(Settings()).post(url, data=b"{}", timeout=5).status_code == 200
    assert relay.seen == [url] and target.seen == ["/generateAssistantResponse"]


def test_ca_bundle_from_the_environment_is_what_requests_verifies_with(environment):
    environment({"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem"})
    session = new_session(Settings())
    with pytest.raises(OSError, match="invalid path: /nonexistent/ca.pem"):
        session.post("https://127.0.0.1:1/x", data=b"{}", timeout=1)
