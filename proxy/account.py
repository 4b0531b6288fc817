"""The Kiro account record: credentials, where they refresh, and what the proxy knows of it."""
from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

AuthMethod = Literal["social", "idc"]
Status = Literal["active", "needs_login", "banned", "exhausted", "cooldown", "disabled"]

# Kiro's well-known profile for social (Google/GitHub) accounts (kiro-upstream.md §2.2-10).
SOCIAL_PROFILE_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"

SECRET_FIELDS = ("refresh_token", "access_token", "client_secret")


def usable_token(token: str) -> bool:
    """True for a token that can travel in an HTTP header: printable ASCII without spaces (Kiro's
    are base64url plus `:`, `/`, `+`, `=`). Anything else would make requests refuse the header
    with an error message that quotes it, token and all."""
    return bool(token) and all("!" <= ch <= "~" for ch in token)


@dataclass
class Account:
    """One Kiro login. Secrets never leave through `public()`."""
    id: str
    refresh_token: str = field(repr=False)  # secrets stay out of repr: reprs end up in logs and tracebacks
    name: str = ""
    auth_method: AuthMethod = "social"
    provider: str = ""  # Google, Github, BuilderId, Enterprise
    region: str = "us-east-1"  # SSO/auth region (refresh); the API region comes from profile_arn
    client_id: str = ""  # IdC only
    client_secret: str = field(default="", repr=False)  # IdC only
    profile_arn: str = ""
    access_token: str = field(default="", repr=False)
    expires_at: float = 0.0  # unix seconds; 0 = unknown, refresh before use
    machine_id: str = ""  # 64 hex, stable per account
    enabled: bool = True
    status: Status = "active"
    status_reason: str = ""
    created_at: float = field(default_factory=time.time)
    last_refresh_at: float = 0.0

    def __post_init__(self) -> None:
        if not self.machine_id:
            # Stable per account, never shared: one id across many accounts is a suspected ban signal.
            self.machine_id = hashlib.sha256(f"kiro-proxy/{self.id}".encode()).hexdigest()

    @property
    def api_region(self) -> str:
        """The region inside the profile ARN, which is where the chat API lives."""
        parts = self.profile_arn.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else "us-east-1"

    def needs_refresh(self, now: float, before_seconds: float) -> bool:
        """True when there is no access token or it expires within `before_seconds`."""
        return not self.access_token or self.expires_at - now <= before_seconds

    def to_dict(self) -> dict[str, Any]:
        """All fields, secrets included: for the store only."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Account":
        """Build from a stored dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, Any]:
        """Fields safe to print or send to the panel: secrets replaced by a short hint."""
        out = self.to_dict()
        for key in SECRET_FIELDS:
            value: Optional[str] = out.get(key)
            out[key] = f"…{value[-4:]}" if value else ""
        return out
