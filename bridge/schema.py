"""A small JSON-schema (draft-07 subset) validator for the schemas in schemas/.

Why not the jsonschema package at run time: importing it (with referencing,
rpds, attrs and the bundled meta-schemas) adds about 6.5 MiB of RSS to a
daemon whose whole budget is 20 MiB on a router. The schemas here use a small,
fixed set of keywords; this module implements exactly that set and refuses a
schema that uses anything else, so a keyword can never be silently ignored.
tests/core/test_schema.py checks that it agrees with jsonschema on every schema and
on generated instances.

errors() returns [(kind, path, message)]; kind is one of
  type, required, additional, enum, format, range
which the surfaces map to their own error codes (ubus INVALID_ARGUMENT, OS3P
TypeConstraintViolation / OccurenceConstraintViolation / ...).
"""

import json
import os
import re

INSTALLED_SCHEMA_DIR = "/usr/share/tr069-bridge/schemas"  # where the .ipk puts them
_SOURCE_SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
SCHEMA_DIR = os.environ.get("TR069_SCHEMA_DIR") or (
    _SOURCE_SCHEMA_DIR if os.path.isdir(_SOURCE_SCHEMA_DIR) else INSTALLED_SCHEMA_DIR)

_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default", "examples",
                "definitions", "$defs", "x-known-values", "x-ubus", "javaType", "tsEnumNames"}
_KEYWORDS = {"type", "properties", "required", "additionalProperties", "enum", "const",
             "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
             "minLength", "maxLength", "pattern", "format", "items", "minItems", "maxItems",
             "uniqueItems", "$ref", "anyOf", "oneOf", "minProperties", "maxProperties"}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}

_cache = {}


class SchemaError(Exception):
    """The schema itself uses something this validator does not implement."""


def load(name):
    """Load schemas/<name>.json (name may contain a sub-directory, e.g. 'os3p/Reset.req')."""
    if name not in _cache:
        path = os.path.join(SCHEMA_DIR, name if name.endswith(".json") else name + ".json")
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        check(schema)
        _cache[name] = schema
    return _cache[name]


def check(schema, _root=None):
    """Raise SchemaError when schema uses a keyword outside the implemented set."""
    root = schema if _root is None else _root
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError("schema must be an object: %r" % (schema,))
    unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
    if unknown:
        raise SchemaError("unsupported keywords: %s" % ", ".join(sorted(unknown)))
    for key in ("definitions", "$defs", "properties"):
        for sub in schema.get(key, {}).values():
            check(sub, root)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), (dict, bool)):
            check(schema[key], root)
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            check(sub, root)
    if "$ref" in schema:
        _resolve(root, schema["$ref"])


def _resolve(root, ref):
    if not ref.startswith("#"):
        raise SchemaError("only local $ref is supported: %s" % ref)
    node = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError("unresolvable $ref %s" % ref)
        node = node[part]
    return node


def _is_datetime(value):
    # RFC 3339 date-time, as jsonschema's format checker understands it
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value):
        return False
    from datetime import datetime  # only when a date-time is checked: it costs memory at import

    try:
        datetime.fromisoformat(value.replace("z", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_FORMATS = {"date-time": _is_datetime, "uri": lambda v: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", v))}


def errors(schema, instance, _path="", _root=None):
    """All the ways instance fails schema, as (kind, path, message); [] when valid."""
    root = schema if _root is None else _root
    if schema is True:
        return []
    if schema is False:
        return [("additional", _path or "/", "no value is allowed here")]
    out = []
    if "$ref" in schema:
        return errors(_resolve(root, schema["$ref"]), instance, _path, root)
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES[x](instance) for x in types):
            return [("type", _path or "/", "expected %s" % " or ".join(types))]
    if "enum" in schema and instance not in schema["enum"]:
        out.append(("enum", _path or "/", "must be one of %s" % ", ".join(map(str, schema["enum"]))))
    if "const" in schema and instance != schema["const"]:
        out.append(("enum", _path or "/", "must be %r" % (schema["const"],)))
    if isinstance(instance, dict):
        out += _object_errors(schema, instance, _path, root)
    elif isinstance(instance, list):
        if "minItems" in schema and len(instance) < schema["minItems"]:
            out.append(("range", _path or "/", "at least %d items" % schema["minItems"]))
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            out.append(("range", _path or "/", "at most %d items" % schema["maxItems"]))
        if isinstance(schema.get("items"), (dict, bool)):
            for i, item in enumerate(instance):
                out += errors(schema["items"], item, "%s/%d" % (_path, i), root)
        if schema.get("uniqueItems") and len({json.dumps(x, sort_keys=True) for x in instance}) < len(instance):
            out.append(("range", _path or "/", "items must be unique"))
    elif isinstance(instance, str):
        if "minLength" in schema and len(instance) < schema["minLength"]:
            out.append(("range", _path or "/", "at least %d characters" % schema["minLength"]))
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            out.append(("range", _path or "/", "at most %d characters" % schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            out.append(("format", _path or "/", "does not match %s" % schema["pattern"]))
        fmt = _FORMATS.get(schema.get("format"))
        if fmt and not fmt(instance):
            out.append(("format", _path or "/", "not a valid %s" % schema["format"]))
    elif _TYPES["number"](instance):
        out += _number_errors(schema, instance, _path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matches = sum(1 for sub in schema[key] if not errors(sub, instance, _path, root))
            if matches == 0 or (key == "oneOf" and matches > 1):
                out.append(("type", _path or "/", "does not match %s" % key))
    return out


def _object_errors(schema, instance, path, root):
    out = []
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in instance:
            out.append(("required", "%s/%s" % (path, name), "is required"))
    extra = schema.get("additionalProperties", True)
    for name, value in instance.items():
        sub = props.get(name)
        if sub is not None:
            out += errors(sub, value, "%s/%s" % (path, name), root)
        elif extra is False:
            out.append(("additional", "%s/%s" % (path, name), "is not allowed"))
        elif isinstance(extra, dict):
            out += errors(extra, value, "%s/%s" % (path, name), root)
    if "minProperties" in schema and len(instance) < schema["minProperties"]:
        out.append(("range", path or "/", "at least %d properties" % schema["minProperties"]))
    if "maxProperties" in schema and len(instance) > schema["maxProperties"]:
        out.append(("range", path or "/", "at most %d properties" % schema["maxProperties"]))
    return out


def _number_errors(schema, value, path):
    out = []
    p = path or "/"
    if "minimum" in schema and value < schema["minimum"]:
        out.append(("range", p, "must be >= %s" % schema["minimum"]))
    if "maximum" in schema and value > schema["maximum"]:
        out.append(("range", p, "must be <= %s" % schema["maximum"]))
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        out.append(("range", p, "must be > %s" % schema["exclusiveMinimum"]))
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        out.append(("range", p, "must be < %s" % schema["exclusiveMaximum"]))
    if "multipleOf" in schema:
        q = value / schema["multipleOf"]
        if abs(q - round(q)) > 1e-9:
            out.append(("range", p, "must be a multiple of %s" % schema["multipleOf"]))
    return out


def is_valid(schema, instance):
    return not errors(schema, instance)


def errors_at(root, pointer, instance):
    """errors() for the sub-schema at JSON pointer '#/...' of root, with $refs resolved against root."""
    return errors(_resolve(root, pointer), instance, "", root)
