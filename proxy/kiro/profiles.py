"""The profile ARN an account sends with its calls (kiro-upstream.md §2.2-10, §5.2, §7.4-10).

Social refreshes return the ARN; Builder ID / IAM Identity Center refreshes never do, and
Kiro answers `profileArn is required for this request` to a body without one (every auth
type on its newer hosts, social tokens everywhere). So an account imported without an ARN
gets one here: social accounts share Kiro's well-known profile, IdC accounts ask
ListAvailableProfiles in each of Kiro's API regions, as the official AWS client does.
"""
from __future__ import annotations

import json
from typing import Optional

import requests

from proxy.account import SOCIAL_PROFILE_ARN, Account
from proxy.kiro.client import ide_headers
from proxy.kiro.errors import KiroError, classify
from proxy.settings import Settings

PROFILE_REGIONS = ("us-east-1", "eu-central-1")  # where Kiro's API lives (§1.1)


def known_profile_arn(account: Account) -> Optional[str]:
    """The ARN an account without one can use without asking Kiro, if there is one."""
    return SOCIAL_PROFILE_ARN if account.auth_method == "social" else None


def list_profile_arns(account: Account, settings: Settings, session: requests.Session) -> list[str]:
    """The profile ARNs Kiro lists for the account's access token, first region that has any.

    Every failure is a KiroError (the caller decides whether it matters).
    """
    urls = dict.fromkeys(settings.url("usage", region) + "/ListAvailableProfiles" for region in PROFILE_REGIONS)
    last: Optional[KiroError] = None
    for url in urls:  # one base URL for every region (KIRO_UPSTREAM_URL) is asked once
        try:
            resp = session.get(url, headers=ide_headers(account, settings),
                               timeout=(settings.connect_timeout, settings.refresh_timeout))
        except requests.RequestException as e:
            last = KiroError.network(e)
            continue
        if resp.status_code != 200:
            last = classify(resp.status_code, resp.content, resp.headers)
            continue
        arns = parse_profiles(resp.content)
        if arns:
            return arns
    if last is not None:
        raise last
    return []


def parse_profiles(raw: bytes) -> list[str]:
    """`profiles[].arn` of a ListAvailableProfiles answer; anything unreadable gives none."""
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    profiles = data.get("profiles") if isinstance(data, dict) else None
    return [p["arn"] for p in profiles or [] if isinstance(p, dict) and isinstance(p.get("arn"), str)
            and p["arn"].startswith("arn:aws:codewhisperer:")]
