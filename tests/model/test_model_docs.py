"""docs/parameters.md: its tables are what the model's rows say (regenerate: python -m bridge.model.docs --docs)."""

from bridge.config import KEYS, VENDOR
from bridge.model import docs, rows


def test_the_parameter_page_is_what_the_rows_say():
    with open(docs.PAGE, encoding="utf-8") as f:
        text = f.read()
    assert docs.page_text(text) == text, "docs/parameters.md is stale: python -m bridge.model.docs --docs"
    for row in rows.registry().rows():
        assert "`%s`" % row.path in text


def test_every_key_with_a_tr069_path_is_one_row_of_the_model():
    model_rows = [r for r in rows.ROWS if getattr(r, "binding", ("",))[0] == "uci"]
    assert sorted(r.binding[1] for r in model_rows) == sorted(k.name for k in KEYS.values() if k.tr069)
    for r in model_rows:
        key = KEYS[r.binding[1]]
        assert r.path == key.tr069 and r.writable == (not key.readonly) and r.secret == key.secret
        if key.type is bool:
            assert r.type.name == "boolean"
        elif key.type is int:
            assert r.type.name in ("unsignedInt", "int")
            for bad in (r.type.lo - 1, r.type.hi + 1):  # the model's range is the validator's
                try:
                    key.parse(bad)
                except ValueError:
                    continue
                raise AssertionError("%s: %d passes the validator but not the model's type" % (key.name, bad))
            key.parse(r.type.lo)
            key.parse(r.type.hi)
        else:
            assert r.type.name == "string"


def test_vendor_names_carry_the_one_prefix():
    assert VENDOR.startswith("X_") and VENDOR.endswith("_")
    assert all(c.isupper() or c.isdigit() or c == "-" for c in VENDOR[2:-1])
    for row in rows.registry().rows():
        for seg in row.path.rstrip(".").split("."):
            assert not seg.startswith("X_") or seg.startswith(VENDOR), row.path
