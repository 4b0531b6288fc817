"""Gemini's OpenAPI-style `Schema` (upper-case types, `nullable`, `propertyOrdering`) to JSON Schema.

The same walk also serves the plain JSON Schema fields (`parametersJsonSchema`,
`responseJsonSchema`): Gemini CLI's router sends those with upper-case types too, and every
rewrite here is a no-op on a schema that is already JSON Schema. The walk follows the schema's
structure, so a property that happens to be named `type` or `nullable` is left alone.
"""
from __future__ import annotations

from typing import Any

# Gemini spells these in camelCase on the wire, the Python SDK sometimes in snake_case.
_SNAKE_KEYS = {
    "any_of": "anyOf", "one_of": "oneOf", "all_of": "allOf",
    "property_ordering": "propertyOrdering", "additional_properties": "additionalProperties",
    "min_items": "minItems", "max_items": "maxItems", "min_length": "minLength",
    "max_length": "maxLength", "min_properties": "minProperties",
    "max_properties": "maxProperties", "prefix_items": "prefixItems",
}
_ONE_SCHEMA = {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then",
               "else", "unevaluatedItems", "unevaluatedProperties"}
_SCHEMA_LISTS = {"anyOf", "oneOf", "allOf", "prefixItems"}
_SCHEMA_MAPS = {"$defs", "definitions", "patternProperties", "dependentSchemas"}
# proto int64 fields arrive as JSON strings ("1"); JSON Schema wants numbers
_INT_KEYS = {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"}


def to_json_schema(node: Any) -> Any:
    """A JSON Schema equivalent of a Gemini `Schema` (or of an already-JSON schema)."""
    if isinstance(node, list):  # a tuple-form `items`
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node  # `true` / `false` schemas and anything odd pass through for the builder to judge
    out: dict[str, Any] = {}
    ordering = node.get("propertyOrdering", node.get("property_ordering"))
    for raw_key, value in node.items():
        key = _SNAKE_KEYS.get(raw_key, raw_key)
        if key in ("propertyOrdering", "nullable"):
            continue  # no JSON Schema keyword; ordering is applied to `properties` below
        if key == "type":
            value = _type(value)
            if value is None:
                continue
        elif key == "format" and value == "enum":
            continue  # Gemini's marker for a string enum; `enum` itself carries the meaning
        elif key == "properties" and isinstance(value, dict):
            value = {name: to_json_schema(sub) for name, sub in _ordered(value, ordering)}
        elif key in _ONE_SCHEMA:
            value = to_json_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [to_json_schema(sub) for sub in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in _INT_KEYS and isinstance(value, str) and value.isdigit():
            value = int(value)
        elif key == "example":
            key, value = "examples", [value]
        out[key] = value
    if node.get("nullable") is True:
        _allow_null(out)
    return out


def _type(value: Any) -> Any:
    """Lower-case type names; drop TYPE_UNSPECIFIED (None)."""
    if isinstance(value, str):
        lowered = value.lower()
        return None if lowered == "type_unspecified" else lowered
    if isinstance(value, list):
        return [v.lower() if isinstance(v, str) else v for v in value]
    return value


def _ordered(properties: dict, ordering: Any) -> list[tuple[str, Any]]:
    """Properties in `propertyOrdering` order first, the rest as given."""
    if not isinstance(ordering, list):
        return list(properties.items())
    first = [(name, properties[name]) for name in ordering
             if isinstance(name, str) and name in properties]
    named = {name for name, _ in first}
    return first + [(name, sub) for name, sub in properties.items() if name not in named]


def _allow_null(schema: dict) -> None:
    """Make `schema` also accept null, the JSON Schema way of saying `nullable: true`."""
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    enum = schema.get("enum")
    if isinstance(enum, list) and None not in enum:
        schema["enum"] = [*enum, None]
