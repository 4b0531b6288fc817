"""Reading Gemini request JSON: camelCase or snake_case keys, typed values, Google-style 400s.

Google's REST front end accepts both spellings of every field (proto JSON), and the Python SDK
sends some in snake_case, so every lookup here tries both. Error messages follow the shapes the
real API uses, and `param` names the offending field by its JSON path.
"""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from proxy.errors import ProxyError, bad_request

_MISSING = object()


def snake(name: str) -> str:
    """`maxOutputTokens` -> `max_output_tokens`."""
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def pick(obj: dict, name: str, default: Any = None) -> Any:
    """obj[name] in camelCase, else in snake_case, else `default`; a JSON null counts as absent."""
    value = obj.get(name, _MISSING)
    if value is _MISSING or value is None:
        value = obj.get(snake(name), _MISSING)
    return default if value is _MISSING or value is None else value


def has(obj: dict, name: str) -> bool:
    """Whether `name` (either spelling) is present and not null."""
    return pick(obj, name, _MISSING) is not _MISSING


def join(path: str, name: str) -> str:
    """A JSON path one level deeper."""
    return f"{path}.{name}" if path else name


def invalid(path: str, message: str) -> ProxyError:
    """A 400 in Google's field-violation style: `* GenerateContentRequest.<path>: <message>`."""
    return bad_request(f"* GenerateContentRequest.{path}: {message}", param=path)


def bad_value(path: str, proto_type: str, value: Any) -> ProxyError:
    """A 400 for a value of the wrong JSON type, as Google words it."""
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return bad_request(f"Invalid value at '{path}' ({proto_type}), {shown}", param=path)


def unknown_name(name: str, at: str = "") -> ProxyError:
    """A 400 for a field the API does not have."""
    where = f" at '{at}'" if at else ""
    return bad_request(f'Invalid JSON payload received. Unknown name "{name}"{where}: '
                       "Cannot find field.", param=join(at, name))


def obj_at(obj: dict, name: str, path: str) -> Optional[dict]:
    """An optional nested object."""
    value = pick(obj, name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_value(join(path, name), "TYPE_MESSAGE", value)
    return value


def list_at(obj: dict, name: str, path: str) -> list:
    """An optional repeated field (absent -> [])."""
    value = pick(obj, name, [])
    if not isinstance(value, list):
        raise bad_value(join(path, name), "TYPE_LIST", value)
    return value


def str_at(obj: dict, name: str, path: str) -> Optional[str]:
    """An optional string."""
    value = pick(obj, name)
    if value is not None and not isinstance(value, str):
        raise bad_value(join(path, name), "TYPE_STRING", value)
    return value


def bool_at(obj: dict, name: str, path: str) -> Optional[bool]:
    """An optional boolean."""
    value = pick(obj, name)
    if value is not None and not isinstance(value, bool):
        raise bad_value(join(path, name), "TYPE_BOOL", value)
    return value


def int_at(obj: dict, name: str, path: str) -> Optional[int]:
    """An optional integer; proto JSON also allows it as a decimal string."""
    value = pick(obj, name)
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_value(join(path, name), "TYPE_INT32", value)
    return value


def float_at(obj: dict, name: str, path: str) -> Optional[float]:
    """An optional number; proto JSON also allows it as a string."""
    value = pick(obj, name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as e:
            raise bad_value(join(path, name), "TYPE_FLOAT", value) from e
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_value(join(path, name), "TYPE_FLOAT", value)
    return float(value)
