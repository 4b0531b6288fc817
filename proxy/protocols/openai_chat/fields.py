"""Type-checked reads of request fields that fail with OpenAI-worded 400s naming the field.

OpenAI clients show the API's own wording (`Missing required parameter: 'messages'.`,
`Invalid type for 'x': expected a string, but got an integer instead.`), so we reuse it.
An explicit JSON null counts as "not given", as it does at OpenAI.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from proxy.errors import ProxyError, bad_request


def describe(value: Any) -> str:
    """The JSON type of `value` with its article, as OpenAI words it ("an integer")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def missing(param: str) -> ProxyError:
    """A 400 for an absent required field."""
    return bad_request(f"Missing required parameter: '{param}'.", param)


def invalid_type(param: str, expected: str, value: Any) -> ProxyError:
    """A 400 for a field of the wrong JSON type."""
    return bad_request(f"Invalid type for '{param}': expected {expected}, but got {describe(value)} instead.",
                       param)


def invalid_value(param: str, value: Any, supported: Sequence[str]) -> ProxyError:
    """A 400 for a value outside an enumeration, listing what is accepted."""
    quoted = [f"'{s}'" for s in supported]
    if len(quoted) <= 2:
        listing = " and ".join(quoted)
    else:
        listing = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    return bad_request(f"Invalid value: '{value}'. Supported values are: {listing}.", param)


def get_str(obj: dict, key: str, param: str, *, required: bool = False) -> Optional[str]:
    """obj[key] as a string, None when absent (or a 400 if required)."""
    value = obj.get(key)
    if value is None:
        if required:
            raise missing(param)
        return None
    if not isinstance(value, str):
        raise invalid_type(param, "a string", value)
    return value


def get_bool(obj: dict, key: str, param: str) -> Optional[bool]:
    """obj[key] as a boolean, None when absent."""
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise invalid_type(param, "a boolean", value)
    return value


def get_int(obj: dict, key: str, param: str, *, minimum: Optional[int] = None) -> Optional[int]:
    """obj[key] as an integer (bool excluded), None when absent; `minimum` is inclusive."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(param, "an integer", value)
    if minimum is not None and value < minimum:
        raise bad_request(f"Invalid '{param}': integer below minimum value. "
                          f"Expected a value >= {minimum}, but got {value} instead.", param)
    return value


def get_number(obj: dict, key: str, param: str, *, minimum: int, maximum: int) -> Optional[float]:
    """obj[key] as a number within [minimum, maximum], None when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_type(param, "a decimal", value)
    if value < minimum:
        raise bad_request(f"Invalid '{param}': decimal below minimum value. "
                          f"Expected a value >= {minimum}, but got {value} instead.", param)
    if value > maximum:
        raise bad_request(f"Invalid '{param}': decimal above maximum value. "
                          f"Expected a value <= {maximum}, but got {value} instead.", param)
    return float(value)


def get_object(obj: dict, key: str, param: str, *, required: bool = False) -> Optional[dict]:
    """obj[key] as a JSON object, None when absent (or a 400 if required)."""
    value = obj.get(key)
    if value is None:
        if required:
            raise missing(param)
        return None
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    return value


def get_list(obj: dict, key: str, param: str, *, required: bool = False) -> Optional[list]:
    """obj[key] as a JSON array, None when absent (or a 400 if required)."""
    value = obj.get(key)
    if value is None:
        if required:
            raise missing(param)
        return None
    if not isinstance(value, list):
        raise invalid_type(param, "an array", value)
    return value


def require_object(value: Any, param: str) -> dict:
    """`value` itself (an array item) as a JSON object."""
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    return value
