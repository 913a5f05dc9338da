"""The run-time validator (bridge/schema.py) agrees with the jsonschema package on every schema here."""

import glob
import json
import os
import random

import jsonschema
import pytest

from bridge import schema
from support.paths import ROOT
FILES = sorted(glob.glob(os.path.join(ROOT, "schemas", "**", "*.json"), recursive=True))


def targets():
    """(id, root schema, JSON pointer) for every schema to cross-check."""
    out = []
    for path in FILES:
        rel = os.path.relpath(path, os.path.join(ROOT, "schemas"))[:-5]
        root = schema.load(rel)
        if rel == "tr069":
            for method in root["properties"]:
                for part in root["properties"][method]["properties"]:
                    out.append(("%s.%s.%s" % (rel, method, part), root, "#/properties/%s/properties/%s" % (method, part)))
        else:
            out.append((rel, root, "#"))
    return out


TARGETS = targets()
STRINGS = ["", "a", "1 BOOT", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00+01:00", "2026-13-45T99:00:00Z",
           "Accepted", "Rejected", "Pending", "x" * 37, "http://example.com/fw.bin", "N/A", "up"]


def sample(rng, sub, root, depth=0):
    """A value that often fits sub and often breaks it in one place."""
    if "$ref" in sub:
        sub = schema._resolve(root, sub["$ref"])
    if rng.random() < 0.08 or depth > 6:
        return rng.choice([None, True, 3, -1, 2.5, "s", [], {}])
    if "enum" in sub and rng.random() < 0.8:
        return rng.choice(sub["enum"])
    t = sub.get("type")
    t = rng.choice(t) if isinstance(t, list) else t
    if t == "object" or "properties" in sub:
        out = {}
        for name, prop in sub.get("properties", {}).items():
            if name in sub.get("required", []) and rng.random() < 0.95 or rng.random() < 0.5:
                out[name] = sample(rng, prop, root, depth + 1)
        if rng.random() < 0.1:
            out["unexpected"] = 1
        return out
    if t == "array":
        items = sub.get("items", {})
        return [sample(rng, items, root, depth + 1) for _ in range(rng.choice([0, 1, 2, 3]))]
    if t == "string":
        return rng.choice(STRINGS)
    if t == "integer":
        return rng.choice([0, 1, -1, 5, 300, 2**31, 1.0])
    if t == "number":
        return rng.choice([0, 0.5, -3.25, 10, 1e9])
    if t == "boolean":
        return rng.choice([True, False])
    return rng.choice([None, 1, "x", {}, []])


def reference(root, pointer):
    sub = schema._resolve(root, pointer)
    wrapped = dict(sub)
    for key in ("definitions", "$defs"):
        if key in root:
            wrapped[key] = root[key]
    if pointer != "#":
        wrapped = json.loads(json.dumps(wrapped).replace('"#/definitions', '"#/definitions'))
    return jsonschema.Draft7Validator(wrapped, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("name,root,pointer", TARGETS, ids=[t[0] for t in TARGETS])
def test_agrees_with_jsonschema(name, root, pointer):
    rng = random.Random(name)
    ref = reference(root, pointer)
    sub = schema._resolve(root, pointer)
    valid = invalid = 0
    for _ in range(400):
        value = sample(rng, sub, root)
        expected = ref.is_valid(value)
        got = not schema.errors_at(root, pointer, value)
        assert got == expected, (name, value, list(ref.iter_errors(value))[:1], schema.errors_at(root, pointer, value))
        valid += expected
        invalid += not expected
    assert invalid > 0  # the generator really exercised failures
    if "enum" not in sub:
        assert valid > 0 or sub.get("required"), name


def test_refuses_keywords_it_does_not_implement(tmp_path):
    for bad in ({"type": "string", "contentEncoding": "base64"}, {"if": {}, "then": {}},
                {"properties": {"a": {"patternProperties": {}}}}, {"$ref": "http://x/y.json"}):
        with pytest.raises(schema.SchemaError):
            schema.check(bad)


def test_error_kinds():
    s = {"type": "object", "required": ["a"], "additionalProperties": False,
         "properties": {"a": {"type": "string", "maxLength": 2}, "b": {"enum": ["x"]},
                        "c": {"type": "string", "format": "date-time"}, "d": {"type": "integer", "minimum": 0}}}
    kinds = lambda v: sorted(k for k, _, _ in schema.errors(s, v))
    assert kinds({}) == ["required"]
    assert kinds({"a": 1}) == ["type"]
    assert kinds({"a": "abc"}) == ["range"]
    assert kinds({"a": "a", "b": "y"}) == ["enum"]
    assert kinds({"a": "a", "c": "yesterday"}) == ["format"]
    assert kinds({"a": "a", "d": -1}) == ["range"]
    assert kinds({"a": "a", "z": 1}) == ["additional"]
    assert kinds({"a": "a", "d": True}) == ["type"]  # a boolean is not an integer
