"""Relay with a scripted Kiro client: what a broken or empty 200 stream means before and after
the first event (kiro-upstream §3.5/§3.6), without the fake Kiro."""
from __future__ import annotations

import json

import pytest

from proxy.account import Account
from proxy.chat import Chat, Message, Stop, StreamError, TextDelta, TextPart
from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.tokens import TokenManager
from proxy.pool import Pool
from proxy.relay import Relay
from proxy.settings import Settings
from store.accounts import AccountStore
from tests.fake_kiro.eventstream import event_frame

NOW_PLUS = 10 ** 10  # access tokens that never need a refresh here


class Response:
    """Stands in for the requests.Response the client returns."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks
        self.closed = False

    def close(self) -> None:
        self.closed = True


class ScriptedClient:
    """A KiroClient whose every stream plays the next script (a list of body chunks)."""

    def __init__(self, *scripts: list[bytes]):
        self.scripts = list(scripts)
        self.opened: list[tuple[str, Response]] = []

    def open_stream(self, account: Account, body: bytes) -> Response:
        response = Response(self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0])
        self.opened.append((account.id, response))
        return response

    @staticmethod
    def iter_body(response: Response):
        yield from response.chunks

    def web_search(self, account, query):  # pragma: no cover - not used here
        raise AssertionError("no search expected")


@pytest.fixture
def store(tmp_path):
    s = AccountStore(tmp_path / "accounts.json")
    yield s
    s.close()


def relay_over(store: AccountStore, client: ScriptedClient, accounts: int = 2, **changes) -> Relay:
    for i in range(accounts):
        store.add(Account(id=f"acc{i}", refresh_token="aor" + "R" * 120 + str(i), access_token=f"aoa{i}",
                          expires_at=NOW_PLUS, created_at=1_000_000.0 + i,
                          profile_arn="arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"))
    settings = Settings(retry_backoff=0.0, **changes)
    return Relay(settings, TokenManager(store, settings, session=None), client, Pool(store, settings),
                 sleep=lambda s: None)


def hello() -> Chat:
    return Chat(model="claude-sonnet-4.5", messages=[Message("user", [TextPart("hi")])])


GOOD = [event_frame("assistantResponseEvent", {"content": "Hello"}),
        event_frame("meteringEvent", {"unit": "credit", "usage": 0.1}),
        event_frame("contextUsageEvent", {"contextUsagePercentage": 1.0})]


def test_an_empty_200_stream_fails_over_instead_of_answering_nothing(store):
    client = ScriptedClient([], GOOD)
    events = list(relay_over(store, client).start(hello()))
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("Hello")]
    assert [account for account, _ in client.opened] == ["acc0", "acc1"]
    assert all(response.closed for _, response in client.opened)


def test_an_empty_200_stream_everywhere_is_an_upstream_error_not_an_empty_answer(store):
    client = ScriptedClient([])
    with pytest.raises(ProxyError) as info:
        relay_over(store, client, retry_attempts=2).start(hello())
    assert info.value.kind is ErrorKind.UPSTREAM


def test_a_frame_cut_off_by_eof_after_the_answer_began_is_a_stream_error(store):
    frame = event_frame("assistantResponseEvent", {"content": " world"})
    client = ScriptedClient([GOOD[0] + frame[:10]])
    events = list(relay_over(store, client).start(hello()))
    assert events[0] == TextDelta("Hello")
    assert isinstance(events[-1], StreamError) and not any(isinstance(e, Stop) for e in events)
    assert client.opened[0][1].closed


def test_a_frame_cut_off_before_any_event_fails_over(store):
    client = ScriptedClient([GOOD[0][:20]], GOOD)
    events = list(relay_over(store, client).start(hello()))
    assert TextDelta("Hello") in events and isinstance(events[-1], Stop)
    assert [account for account, _ in client.opened] == ["acc0", "acc1"]


def test_an_answer_closed_before_it_was_read_still_frees_the_stream(store):
    """The WSGI server closes the body iterable without reading it when the response dies
    before its first chunk (a failing after-request hook, a client gone): closing an unstarted
    generator runs none of its `finally`, so the upstream and its stream slot would leak."""
    client = ScriptedClient(GOOD)
    relay = relay_over(store, client, accounts=1)
    events = relay.start(hello())
    assert relay.pool.limiter.streams() == 1
    events.close()
    assert relay.pool.limiter.streams() == 0
    assert client.opened[0][1].closed


def test_an_answer_read_to_the_end_frees_the_stream_once(store):
    client = ScriptedClient(GOOD)
    relay = relay_over(store, client, accounts=1)
    events = relay.start(hello())
    assert isinstance(list(events)[-1], Stop)
    assert relay.pool.limiter.streams() == 0
    events.close()
    assert relay.pool.limiter.streams() == 0


def test_a_request_is_estimated_and_built_once_even_across_failover(store, monkeypatch):
    """History's measuring build becomes each attempt's body, and its token estimate the parser's
    fallback: nothing is estimated or built twice (the bodies are exactly build_request's)."""
    import proxy.estimate as estimate
    import proxy.history.costs as costs
    import proxy.kiro.request as request
    counts = {"fixed_tokens": 0, "build_request": 0}

    def counted(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)
    counted(estimate, "fixed_tokens")
    counted(costs, "build_request")
    bodies = []
    client = ScriptedClient([], GOOD)
    client.open_stream = lambda account, body, opened=client.open_stream: bodies.append(body) or opened(account, body)
    relay = relay_over(store, client)
    chat = hello()
    events = list(relay.start(chat))
    assert isinstance(events[-1], Stop) and len(bodies) == 2
    assert counts == {"fixed_tokens": 1, "build_request": 1}
    for body in bodies:  # what building it for the account gives, save the fresh continuation id
        payload = request.build_request(chat, model_id="claude-sonnet-4.5", conversation_id="x",
                                        profile_arn="arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
                                        ).payload
        sent = json.loads(body)
        for key in ("conversationId", "agentContinuationId"):
            payload["conversationState"][key] = sent["conversationState"][key]
        assert body == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    counts.update(fixed_tokens=0, build_request=0)
    list(relay.start(chat, raw_estimate=estimate.estimate_tokens(chat)))
    assert counts == {"fixed_tokens": 1, "build_request": 1}  # only the caller's own estimate
