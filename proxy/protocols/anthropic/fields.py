"""Field checks that word their 400s the way Anthropic's API does: `<path>: <reason>`.

Every error names the field twice: in the message (clients show it) and as `param`.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from proxy.errors import ProxyError, bad_request


def fail(path: str, reason: str) -> ProxyError:
    """A 400 for the field at `path`."""
    return bad_request(f"{path}: {reason}", path)


def expected(values: Iterable[str]) -> str:
    """`'a', 'b' or 'c'`, the way pydantic lists allowed literals."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def tag_error(path: str, tag: Any, allowed: Iterable[str]) -> ProxyError:
    """A 400 for a `type` value outside the allowed tags."""
    listed = ", ".join(f"'{t}'" for t in allowed)
    return fail(path, f"Input tag '{tag}' found using 'type' does not match any of the "
                      f"expected tags: {listed}")


def required(obj: Mapping, key: str, path: str) -> Any:
    """obj[key]; a missing or null value is a 400 ("Field required")."""
    value = obj.get(key)
    if value is None:
        raise fail(path, "Field required")
    return value


def as_dict(value: Any, path: str) -> dict:
    """`value` if it is a JSON object."""
    if not isinstance(value, dict):
        raise fail(path, "Input should be a valid dictionary")
    return value


def as_list(value: Any, path: str) -> list:
    """`value` if it is a JSON array."""
    if not isinstance(value, list):
        raise fail(path, "Input should be a valid list")
    return value


def as_str(value: Any, path: str) -> str:
    """`value` if it is a string."""
    if not isinstance(value, str):
        raise fail(path, "Input should be a valid string")
    return value


def as_bool(value: Any, path: str) -> bool:
    """`value` if it is true or false."""
    if not isinstance(value, bool):
        raise fail(path, "Input should be a valid boolean")
    return value


def as_int(value: Any, path: str, minimum: Optional[int] = None) -> int:
    """`value` as an int (integral floats such as 100.0 count), at least `minimum`."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, "Input should be a valid integer")
    if minimum is not None and value < minimum:
        raise fail(path, f"Input should be greater than or equal to {minimum}")
    return value


def as_number(value: Any, path: str, low: float, high: float) -> float:
    """`value` as a float within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(path, "Input should be a valid number")
    if value < low:
        raise fail(path, f"Input should be greater than or equal to {low:g}")
    if value > high:
        raise fail(path, f"Input should be less than or equal to {high:g}")
    return float(value)

