"""Minimal JSON values that validate against a JSON Schema (also OpenAPI/Gemini upper-case types).

Used for `<response_format>` replies and to fill required tool arguments. Covers type, enum,
const, required properties, nested objects/arrays, numeric and length bounds, local $ref,
anyOf/oneOf/allOf and nullable; patterns are not solved.
"""
from __future__ import annotations

import math
from typing import Any, Optional

_FORMATS = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "time": "00:00:00Z",
            "email": "user@example.com", "uri": "https://example.com", "url": "https://example.com",
            "uuid": "00000000-0000-4000-8000-000000000000", "hostname": "example.com",
            "ipv4": "127.0.0.1"}
_MAX_DEPTH = 12


def _types(schema: dict) -> list[str]:
    """Declared types, lower-cased; inferred from properties/items when absent."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared.lower()]
    if isinstance(declared, list):
        return [str(t).lower() for t in declared]
    if "properties" in schema or "required" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    if "enum" in schema or "const" in schema:
        return []
    return ["string"]


def _resolve(ref: str, root: dict) -> dict:
    """Follow a local `#/…` reference."""
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if not part:
            continue
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _string(schema: dict, hint: Optional[str]) -> str:
    """A non-empty string within minLength/maxLength, honouring well-known formats."""
    value = _FORMATS.get(str(schema.get("format", "")).lower(), hint or "example")
    min_len = int(schema.get("minLength", 0) or 0)
    max_len = schema.get("maxLength")
    if len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    if isinstance(max_len, int):
        value = value[:max_len]
    return value


def _number(schema: dict, integer: bool) -> Any:
    """The minimum (or just above an exclusive one), else 1, kept within the maximum."""
    step = 1 if integer else 0.5

    def bound(key: str) -> Optional[float]:
        value = schema.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    # 1, not 0, when unbounded below: clients often check "a score from 1-100" themselves
    # without saying so in the schema (Gemini CLI's router rejects 0 with a ZodError)
    value: float = 1
    low, low_excl = bound("minimum"), bound("exclusiveMinimum")
    if low is not None:
        value = low + (step if schema.get("exclusiveMinimum") is True else 0)  # draft-4 boolean form
    if low_excl is not None:
        value = low_excl + step if low is None else max(value, low_excl + step)
    if integer:
        value = math.ceil(value)  # a fractional minimum stays satisfied
    high, high_excl = bound("maximum"), bound("exclusiveMaximum")
    if high is not None and value > high:
        value = math.floor(high) if integer else high
    if high_excl is not None and value >= high_excl:
        value = math.ceil(high_excl) - 1 if integer else high_excl - step
    return int(value) if integer else value


def example_for(schema: Any, root: Optional[dict] = None, hint: Optional[str] = None, depth: int = 0) -> Any:
    """A minimal value that fits `schema`; `hint` (the property name) seeds string values."""
    if not isinstance(schema, dict):
        return "example"
    root = root if root is not None else schema
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return example_for(_resolve(schema["$ref"], root), root, hint, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict)]
        non_null = [o for o in options if _types(o) != ["null"]]
        if options:
            return example_for((non_null or options)[0], root, hint, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part["$ref"], root) if isinstance(part, dict) and "$ref" in part else part
            if isinstance(part, dict):
                merged.setdefault("properties", {}).update(part.get("properties") or {})
                merged["required"] = list(merged.get("required") or []) + list(part.get("required") or [])
                for k, v in part.items():
                    merged.setdefault(k, v)
        return example_for(merged, root, hint, depth + 1)
    types = [t for t in _types(schema) if t != "null"] or ["null"]
    kind = types[0]
    if kind == "object":
        return fit_object(schema, {}, root, depth)
    if kind == "array":
        count = int(schema.get("minItems", 0) or 0)
        return [example_for(schema.get("items") or {}, root, hint, depth + 1) for _ in range(count)]
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string(schema, hint)


def fit_object(schema: dict, given: dict, root: Optional[dict] = None, depth: int = 0) -> dict:
    """`given` completed with minimal values for every other required property of `schema`."""
    root = root if root is not None else schema
    props = schema.get("properties") or {}
    out = dict(given)
    for name in schema.get("required") or []:
        if name not in out:
            out[name] = example_for(props.get(name, {}), root, hint=name, depth=depth + 1)
    min_props = int(schema.get("minProperties", 0) or 0)
    for name, sub in props.items():
        if len(out) >= min_props:
            break
        out.setdefault(name, example_for(sub, root, hint=name, depth=depth + 1))
    return out
