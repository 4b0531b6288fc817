"""Inline images, the only kind Kiro takes: one decision for every protocol about what is an image.

These helpers only decide (a media type Kiro reads, base64 that decodes, a data URL's parts);
each parser words its own 400 in its protocol's style, naming its own field. Checking the
base64 here turns a corrupt image into a 400 that names the field, instead of a request Kiro
refuses with "Improperly formed request" and no hint of which part was wrong.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Optional

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)", re.S | re.I)
_SPACE = re.compile(r"\s+")


def media_type(raw: str) -> str:
    """A client's media type as Kiro's list spells it: lower case, `image/jpg` read as `image/jpeg`."""
    lowered = raw.strip().lower()
    return _ALIASES.get(lowered, lowered)


def base64_data(raw: str, *, urlsafe: bool = False) -> Optional[str]:
    """`raw` as standard, padded base64 without whitespace, or None when it does not decode.

    `urlsafe` also takes the URL-safe alphabet (`-`, `_`), which the google-genai SDK sends.
    """
    data = _SPACE.sub("", raw)
    if urlsafe:
        data = data.replace("-", "+").replace("_", "/")
    data += "=" * (-len(data) % 4)
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data or None


def data_url(url: str) -> Optional[tuple[str, str]]:
    """(media type, base64 data as given) of a `data:<type>[;…];base64,<data>` URL, or None."""
    match = _DATA_URL.fullmatch(url.strip())
    if not match:
        return None
    return media_type(match["type"]), match["data"]
