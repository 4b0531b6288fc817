"""Tests for TokenManager: when it refreshes, what it saves, and single-flight per account."""
import json
import threading
import time

import pytest
import requests

from proxy.account import Account
from proxy.kiro.auth import AuthError
from proxy.kiro.tokens import AccountUnavailable, RefreshFailed, TokenManager
from proxy.settings import Settings
from store.accounts import AccountStore

REFRESH = "aorAAAAAG" + "R" * 200 + ":MGQ1"
ROTATED = "aorAAAAAG" + "N" * 200 + ":MGQ2"
OLD_ACCESS = "aoaAAAAAG" + "O" * 200
NEW_ACCESS = "aoaAAAAAG" + "A" * 200
NOW = 1_800_000_000.0
ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"


def make_response(status: int, body) -> requests.Response:
    """A real requests.Response carrying a JSON body."""
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


def ok(access=NEW_ACCESS, refresh=ROTATED, **extra) -> requests.Response:
    """A successful refresh answer."""
    return make_response(200, {"accessToken": access, "refreshToken": refresh, "expiresIn": 3600,
                               **extra})


class FakeSession:
    """Counts post() calls; each call plays the next answer (the last one repeats)."""

    def __init__(self, *answers, delay: float = 0.0, profiles=None):
        self.answers = list(answers)
        self.delay = delay
        self.calls = []
        self.gets = []  # ListAvailableProfiles calls: (url, bearer)
        self.profiles = profiles if profiles is not None else make_response(200, {"profiles": []})
        self._lock = threading.Lock()

    def get(self, url, headers=None, timeout=None):
        """ListAvailableProfiles: record the URL and bearer, answer `profiles`."""
        self.gets.append((url, headers["authorization"]))
        if isinstance(self.profiles, BaseException):
            raise self.profiles
        return self.profiles

    def post(self, url, json=None, headers=None, timeout=None):
        """Record, wait `delay` (to widen races), answer."""
        with self._lock:
            self.calls.append({"url": url, "json": json})
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        time.sleep(self.delay)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def store(tmp_path):
    """An empty account store."""
    s = AccountStore(tmp_path / "accounts.json")
    yield s
    s.close()


def add(store, **overrides) -> Account:
    """Store a social account (no access token unless given)."""
    return store.add(Account(**{"id": "", "refresh_token": REFRESH, **overrides}))


def manager(store, session, **settings) -> TokenManager:
    """A TokenManager on a fixed clock."""
    return TokenManager(store, Settings(**settings), session, clock=lambda: NOW)


def test_refreshes_when_token_missing_and_saves_rotation(store):
    account = add(store)
    session = FakeSession(ok(profileArn=ARN))
    fresh = manager(store, session).fresh(account.id)
    assert (fresh.access_token, fresh.refresh_token, fresh.expires_at) == (NEW_ACCESS, ROTATED,
                                                                           NOW + 3600)
    assert fresh.profile_arn == ARN and fresh.last_refresh_at == NOW
    assert store.get(account.id) == fresh  # saved before returning
    assert session.calls[0]["json"] == {"refreshToken": REFRESH}


def test_refreshes_near_expiry(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW + 899)
    session = FakeSession(ok())
    assert manager(store, session, refresh_before_seconds=900).fresh(account.id).access_token \
        == NEW_ACCESS
    assert len(session.calls) == 1


def test_no_refresh_when_fresh(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW + 901, profile_arn=ARN)
    session = FakeSession(ok())
    assert manager(store, session, refresh_before_seconds=900).fresh(account.id) == account
    assert session.calls == []


def test_keeps_profile_arn_when_answer_has_none(store):
    account = add(store, profile_arn=ARN)
    assert manager(store, FakeSession(ok())).fresh(account.id).profile_arn == ARN


def test_next_refresh_uses_rotated_token(store):
    account = add(store)
    session = FakeSession(ok(refresh=ROTATED), ok(refresh=ROTATED))
    tokens = manager(store, session)
    tokens.fresh(account.id)
    tokens.force_refresh(account.id, NEW_ACCESS)
    assert [c["json"]["refreshToken"] for c in session.calls] == [REFRESH, ROTATED]


def test_idc_body_shape_exact(store):
    account = add(store, auth_method="idc", client_id="cid", client_secret="cs",
                  region="us-west-2")
    session = FakeSession(ok())
    manager(store, session).fresh(account.id)
    assert session.calls == [{"url": "https://oidc.us-west-2.amazonaws.com/token",
                              "json": {"clientId": "cid", "clientSecret": "cs",
                                       "grantType": "refresh_token", "refreshToken": REFRESH}}]


def test_permanent_failure_marks_needs_login(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW - 1)
    session = FakeSession(make_response(400, {"error": "invalid_grant",
                                              "error_description": "Invalid refresh token"}))
    tokens = manager(store, session)
    with pytest.raises(AccountUnavailable) as info:
        tokens.fresh(account.id)
    assert info.value.account_id == account.id
    assert isinstance(info.value.__cause__, AuthError)
    stored = store.get(account.id)
    assert stored.status == "needs_login"
    assert "invalid_grant" in stored.status_reason
    assert stored.access_token == "" and stored.refresh_token == REFRESH
    # Asking again does not hit the auth service with a token it already refused.
    with pytest.raises(AccountUnavailable):
        tokens.fresh(account.id)
    assert len(session.calls) == 1


@pytest.mark.parametrize("answer", [make_response(429, {}), make_response(502, {}),
                                    requests.ConnectionError("reset")])
def test_transient_failure_leaves_account_alone(store, answer):
    account = add(store)
    with pytest.raises(RefreshFailed) as info:
        manager(store, FakeSession(answer)).fresh(account.id)
    assert info.value.account_id == account.id
    assert isinstance(info.value.__cause__, AuthError)
    assert store.get(account.id) == account
    assert REFRESH not in str(info.value)


def test_force_refresh_skips_when_already_replaced(store):
    account = add(store, access_token=NEW_ACCESS, expires_at=NOW + 3000)
    session = FakeSession(ok())
    assert manager(store, session).force_refresh(account.id, OLD_ACCESS) == account
    assert session.calls == []


def test_force_refresh_refreshes_the_stale_token(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW + 3000)
    session = FakeSession(ok())
    assert manager(store, session).force_refresh(account.id, OLD_ACCESS).access_token == NEW_ACCESS
    assert len(session.calls) == 1


def test_twenty_threads_one_refresh(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW - 10)
    session = FakeSession(ok(), delay=0.2)
    tokens = manager(store, session)
    barrier = threading.Barrier(20)
    results, errors = [], []

    def call():
        """Wait for everyone, then ask for a fresh token."""
        barrier.wait()
        try:
            results.append(tokens.fresh(account.id).access_token)
        except Exception as e:  # collected so the assertion shows it
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == []
    assert results == [NEW_ACCESS] * 20
    assert len(session.calls) == 1


def test_different_accounts_refresh_in_parallel(store):
    first, second = add(store), add(store, refresh_token=ROTATED)
    session = FakeSession(ok(refresh=""), delay=0.3)
    tokens = manager(store, session)
    threads = [threading.Thread(target=tokens.fresh, args=(a.id,)) for a in (first, second)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(session.calls) == 2
    assert time.monotonic() - started < 0.55  # not serialised behind one lock


# ---------------------------------------------------------------- profile ARN (§2.2-10, §5.2)

IDC_ARN = "arn:aws:codewhisperer:eu-central-1:123456789012:profile/ENTERPRISE01"


def add_idc(store, **overrides) -> Account:
    return add(store, auth_method="idc", client_id="cid", client_secret="cs", region="ap-southeast-2",
               **overrides)


def test_social_account_without_arn_gets_the_well_known_profile_without_a_call(store):
    account = add(store, access_token=OLD_ACCESS, expires_at=NOW + 3600)
    session = FakeSession(ok())
    fresh = manager(store, session).fresh(account.id)
    assert fresh.profile_arn == ARN and store.get(account.id).profile_arn == ARN
    assert session.calls == [] and session.gets == []


def test_idc_account_without_arn_asks_kiro_for_its_profile_after_the_refresh(store):
    """IdC refreshes return no profileArn; without one Kiro refuses every chat call."""
    account = add_idc(store)
    session = FakeSession(ok(), profiles=make_response(200, {"profiles": [
        {"arn": IDC_ARN, "profileName": "KiroProfile-eu-central-1"}]}))
    fresh = manager(store, session).fresh(account.id)
    assert fresh.profile_arn == IDC_ARN and fresh.api_region == "eu-central-1"
    assert store.get(account.id).profile_arn == IDC_ARN
    # asked with the new token, at Kiro's API region (not the SSO region the account refreshes in)
    assert session.gets == [("https://q.us-east-1.amazonaws.com/ListAvailableProfiles", f"Bearer {NEW_ACCESS}")]
    manager(store, session).fresh(account.id)
    assert len(session.gets) == 1  # stored: never asked again


def test_idc_profile_is_looked_up_in_each_api_region_until_one_lists_it(store):
    account = add_idc(store, access_token=OLD_ACCESS, expires_at=NOW + 3600)
    session = FakeSession(ok())
    answers = [make_response(200, {"profiles": []}),
               make_response(200, {"profiles": [{"arn": IDC_ARN}]})]
    session.get = lambda url, headers=None, timeout=None: (session.gets.append(url), answers.pop(0))[1]
    assert manager(store, session).fresh(account.id).profile_arn == IDC_ARN
    assert session.gets == ["https://q.us-east-1.amazonaws.com/ListAvailableProfiles",
                            "https://q.eu-central-1.amazonaws.com/ListAvailableProfiles"]


@pytest.mark.parametrize("answer", [
    make_response(200, {"profiles": []}),
    make_response(403, {"message": "User is not authorized to make this call."}),
    requests.ConnectionError("down"),
])
def test_idc_profile_lookup_that_finds_nothing_is_harmless_and_not_repeated_at_once(store, answer):
    account = add_idc(store, access_token=OLD_ACCESS, expires_at=NOW + 3600)
    session = FakeSession(ok(), profiles=answer)
    clock = [NOW]
    tokens = TokenManager(store, Settings(), session, clock=lambda: clock[0])
    assert tokens.fresh(account.id).profile_arn == ""  # served without one: the q. host may take it
    assert tokens.fresh(account.id).profile_arn == ""
    asked = len(session.gets)
    assert asked >= 1 and session.calls == []
    clock[0] += 3600
    store.update(account.id, expires_at=clock[0] + 3600)
    tokens.fresh(account.id)
    assert len(session.gets) == 2 * asked  # asked again an hour later
