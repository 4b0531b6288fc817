"""The only HTTP I/O with Kiro's API host: chat streams and MCP web search, with IDE-style headers."""
from __future__ import annotations

import json
import logging
import os
import platform
import secrets
import uuid
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from proxy.account import Account
from proxy.kiro.errors import KiroError, classify
from proxy.settings import Settings

log = logging.getLogger(__name__)

SDK_VERSION = "1.0.34"  # aws-sdk-js version the Kiro IDE 0.11.x ships (kiro-upstream.md §1.2)
NODE_VERSION = "22.22.0"
READ_SIZE = 65536
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class EnvironmentOnce(requests.Session):
    """A Session that takes the environment's proxy and CA settings once per host.

    With `trust_env`, requests looks through os.environ for *_PROXY / NO_PROXY and the CA bundle,
    and for a ~/.netrc, on every request. Here `trust_env` is off and this class supplies the same
    settings instead: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY resolved by requests' own
    `get_environ_proxies` the first time a scheme and host are seen, REQUESTS_CA_BUNDLE /
    CURL_CA_BUNDLE read when the session is made. So the environment counts as it was at start-up.
    Not kept: ~/.netrc credentials, which would have replaced an account's Bearer token, and env
    proxies for the target of a redirect (Kiro's endpoints do not redirect).
    """
    MAX_HOSTS = 256

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.ca_bundle: Optional[str] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._host_proxies: dict[tuple[str, str], dict] = {}

    def environment_proxies(self, url: str) -> dict:
        """The environment's proxies for `url` ({} when NO_PROXY covers its host), per scheme and host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._host_proxies.get(key)
        if found is None:
            found = get_environ_proxies(url)
            if len(self._host_proxies) >= self.MAX_HOSTS:
                self._host_proxies.clear()
            self._host_proxies[key] = found
        return found

    def merge_environment_settings(self, url: str, proxies: Optional[dict], stream: Any, verify: Any,
                                   cert: Any) -> dict:
        """What requests' own method does with `trust_env` on, from the settings taken once."""
        if proxies is not None:
            no_proxy = proxies.get("no_proxy")
            env = self.environment_proxies(url) if no_proxy is None else get_environ_proxies(url, no_proxy)
            for key, value in env.items():
                proxies.setdefault(key, value)
        if verify is True or verify is None:
            verify = self.ca_bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def new_session(settings: Settings) -> requests.Session:
    """A Session whose pool holds as many connections as we allow concurrent upstream streams."""
    session = EnvironmentOnce()
    # pool_block=False: a full pool opens an extra connection instead of parking the greenlet
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(10, settings.max_upstream_streams),
                          pool_block=False, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _os_token() -> str:
    """Node's `platform#release` as the IDE reports it."""
    system = {"Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "linux")
    return f"{system}#{platform.release()}"


def ide_headers(account: Account, settings: Settings) -> dict[str, str]:
    """Headers the Kiro IDE sends with every API call, with this account's stable machine id."""
    tail = f"KiroIDE-{settings.kiro_version}-{account.machine_id}"
    return {
        "content-type": "application/json",
        "accept": "application/json",
        "authorization": f"Bearer {account.access_token}",
        "x-amzn-codewhisperer-optout": "true",
        "x-amzn-kiro-agent-mode": "vibe",
        "x-amz-user-agent": f"aws-sdk-js/{SDK_VERSION} {tail}",
        "user-agent": (f"aws-sdk-js/{SDK_VERSION} ua/2.1 os/{_os_token()} lang/js md/nodejs#{NODE_VERSION} "
                       f"api/codewhispererstreaming#{SDK_VERSION} m/E {tail}"),
        "amz-sdk-invocation-id": str(uuid.uuid4()),
        "amz-sdk-request": "attempt=1; max=1",
    }


class KiroClient:
    """Opens chat streams and runs MCP calls for an account; every failure is a KiroError."""

    def __init__(self, settings: Settings, session: requests.Session):
        self.settings = settings
        self.session = session

    def open_stream(self, account: Account, body: bytes) -> requests.Response:
        """POST generateAssistantResponse; returns the 200 response with its body unread."""
        url = self.settings.url("api", account.api_region) + "/generateAssistantResponse"
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            resp = self.session.post(url, data=body, headers=ide_headers(account, self.settings),
                                     stream=True, timeout=timeout)
        except requests.RequestException as e:
            raise KiroError.network(e) from e
        if resp.status_code != 200:
            try:
                error_body = resp.content
            except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
                error_body = b""
                log.debug("could not read error body: %s", type(e).__name__)
            finally:
                resp.close()
            raise classify(resp.status_code, error_body, resp.headers)
        return resp

    @staticmethod
    def iter_body(resp: requests.Response) -> Iterator[bytes]:
        """Raw body bytes as they arrive (read1: no waiting for a full buffer)."""
        try:
            while True:
                data = resp.raw.read1(READ_SIZE, decode_content=True)
                if not data:
                    return
                yield data
        # read1 bypasses requests' exception mapping, so urllib3 errors arrive raw
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            raise KiroError.network(e) from e

    def web_search(self, account: Account, query: str) -> list[dict]:
        """Run Kiro's MCP web_search; returns result dicts (title, url, snippet, published)."""
        url = self.settings.url("mcp", account.api_region) + "/mcp"
        call_id = (f"web_search_tooluse_{''.join(secrets.choice(_BASE62) for _ in range(22))}"
                   f"_{uuid.uuid4().int % 10**13}_{secrets.token_hex(4)}")
        rpc = {"id": call_id, "jsonrpc": "2.0", "method": "tools/call",
               "params": {"name": "web_search", "arguments": {"query": query}}}
        headers = ide_headers(account, self.settings)
        if account.profile_arn:
            headers["x-amzn-kiro-profile-arn"] = account.profile_arn
        try:
            resp = self.session.post(url, data=json.dumps(rpc).encode(), headers=headers,
                                     timeout=(self.settings.connect_timeout, 60))
        except requests.RequestException as e:
            raise KiroError.network(e) from e
        if resp.status_code != 200:
            raise classify(resp.status_code, resp.content, resp.headers)
        return parse_mcp_search(resp.content)


def parse_mcp_search(raw: bytes) -> list[dict]:
    """Results from an MCP tools/call answer; `result.content[0].text` is itself a JSON string."""
    try:
        answer = json.loads(raw)
        if answer.get("error"):
            raise ValueError(answer["error"].get("message", "MCP error"))
        text = answer["result"]["content"][0]["text"]
        found = json.loads(text)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise KiroError.network(ValueError(f"bad web_search answer: {e}")) from e
    results = []
    for item in found.get("results") or []:
        if isinstance(item, dict):
            results.append({"title": item.get("title") or "", "url": item.get("url") or "",
                            "snippet": item.get("snippet") or "",
                            "published": item.get("publishedDate")})
    return results
