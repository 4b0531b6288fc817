"""Tool input schemas cleaned into the shape Kiro accepts (`inputSchema.json`).

Policy (kiro-upstream §2.3, §7.4-8): change as little as possible and remove only what is
known or suspected to make Kiro answer `Improperly formed request`:
- the root must be an object schema with `type: "object"` and a `properties` object;
- `null` keyword values (MCP servers send `required: null`, `properties: null`) — the proven 400;
- empty `required: []` and empty `anyOf/allOf/oneOf` lists;
- document annotations (`$schema`, `$id`, `$comment`, …) and vendor keys (`defer_loading`,
  `cache_control`) that are not JSON Schema;
- `$ref` (suspected): local references are inlined, with their `$defs` dropped; a reference
  we cannot inline (remote, cyclic, too deep) becomes an unconstrained schema.
`additionalProperties` and empty `properties` stay: kiro.rs sends both and reports success.
"""
from __future__ import annotations

from typing import Any, Union

# Keywords holding one subschema (or, for `items` in old drafts, a list of them).
_ONE = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames", "if",
                  "then", "else", "additionalItems", "unevaluatedItems", "unevaluatedProperties",
                  "contentSchema"})
_LIST = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})  # lists of subschemas
_MAP = frozenset({"properties", "patternProperties", "dependentSchemas"})  # name -> subschema
# Not constraints on the data: dropping them cannot change what the model may send.
_DROP = frozenset({"$schema", "$id", "$comment", "$anchor", "$dynamicAnchor", "$dynamicRef",
                   "$vocabulary", "$defs", "definitions", "defer_loading", "cache_control"})

MAX_REF_DEPTH = 8  # nested $ref expansions; deeper (or cyclic) references become `{}`
MAX_NESTING = 64  # schema depth; beyond it subschemas become `{}` rather than recurse forever

EMPTY_OBJECT_SCHEMA = {"type": "object", "properties": {}}

Schema = Union[dict, bool]


def clean_schema(schema: Any) -> dict:
    """A copy of `schema` that Kiro accepts as a tool's `inputSchema.json`."""
    if not isinstance(schema, dict):
        return dict(EMPTY_OBJECT_SCHEMA, properties={})
    cleaned = _clean(schema, schema, (), 0)
    assert isinstance(cleaned, dict)
    kind = cleaned.get("type")
    if kind is None:
        cleaned = {"type": "object", **cleaned}
    elif kind != "object":
        if not (isinstance(kind, list) and "object" in kind):
            # a non-object root cannot describe named arguments; accept any object instead
            return dict(EMPTY_OBJECT_SCHEMA, properties={})
        cleaned["type"] = "object"
    if not isinstance(cleaned.get("properties"), dict):
        cleaned["properties"] = {}
    return cleaned


def _clean(node: Any, root: dict, refs: tuple[str, ...], depth: int) -> Schema:
    """One subschema cleaned; `refs` are the $refs being expanded on the way here."""
    if isinstance(node, bool):
        return node  # `true` / `false` are valid schemas
    if not isinstance(node, dict) or depth > MAX_NESTING:
        return {}
    out: dict = {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        out.update(_inline(ref, root, refs, depth))
    for key, value in node.items():
        if key in _DROP or key == "$ref" or value is None:
            continue
        if key in _MAP:
            if isinstance(value, dict):
                out[key] = {name: _clean(sub, root, refs, depth + 1) for name, sub in value.items()}
        elif key in _LIST:
            if isinstance(value, list) and value:
                out[key] = [_clean(sub, root, refs, depth + 1) for sub in value]
        elif key in _ONE:
            if isinstance(value, list):
                out[key] = [_clean(sub, root, refs, depth + 1) for sub in value]
            else:
                out[key] = _clean(value, root, refs, depth + 1)
        elif key == "required":
            names = _required(value)
            if names:
                out[key] = names
        else:
            out[key] = value
    return out


def _inline(ref: str, root: dict, refs: tuple[str, ...], depth: int) -> dict:
    """The cleaned target of a local `$ref`, or `{}` when it cannot be inlined safely."""
    if ref in refs or len(refs) >= MAX_REF_DEPTH:
        return {}
    target = _resolve(ref, root)
    if target is None:
        return {}
    inlined = _clean(target, root, refs + (ref,), depth + 1)
    return inlined if isinstance(inlined, dict) else {}


def _resolve(ref: str, root: dict) -> Any:
    """The node a local JSON pointer (`#/$defs/X`) points to, or None."""
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None  # remote references are never fetched
    node: Any = root
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _required(value: Any) -> list:
    """`required` as a list of distinct names; anything else becomes empty (and is dropped)."""
    if not isinstance(value, list):
        return []
    names: list = []
    for name in value:
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names
