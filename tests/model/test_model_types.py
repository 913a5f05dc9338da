"""TR-181 data types (bridge/model/types.py): what a caller may write, 9006 vs 9007, how values are shown."""

import pytest

from bridge.model.faults import Fault
from bridge.model.types import (BOOLEAN, DATETIME, DECIMAL, UNSIGNED_LONG, Base64, Int, List, String,
                                UnsignedInt)


def code(t, value):
    with pytest.raises(Fault) as e:
        t.parse(value)
    return e.value.code


@pytest.mark.parametrize("t, given, value", [
    (BOOLEAN, True, True), (BOOLEAN, "false", False), (BOOLEAN, "1", True), (BOOLEAN, 0, False),
    (BOOLEAN, " TRUE ", True),
    (UnsignedInt(), "42", 42), (UnsignedInt(), 42, 42), (UnsignedInt(), 42.0, 42), (UnsignedInt(1, 9), "9", 9),
    (Int(-1), "-1", -1), (Int(), "+5", 5),
    (UNSIGNED_LONG, str(2 ** 64 - 1), 2 ** 64 - 1),
    (String(5), "abc", "abc"), (String(), 12, "12"), (String(enum=("On", "Off", "")), "", ""),
    (DATETIME, "2026-01-29T09:02:48Z", "2026-01-29T09:02:48Z"),
    (DATETIME, "2026-01-29T10:02:48+01:00", "2026-01-29T10:02:48+01:00"),
    (DATETIME, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    (DECIMAL, "230.5", 230.5), (DECIMAL, 3, 3.0),
    (List(UnsignedInt()), "1, 2,3", "1,2,3"), (List(), ["a", "b"], "a,b"), (List(), "", ""),
    (Base64(4), "AAEC", "AAEC"),
])
def test_values_that_read(t, given, value):
    assert t.parse(given) == value


@pytest.mark.parametrize("t, given", [
    (BOOLEAN, "yes"), (BOOLEAN, 2), (UnsignedInt(), "-1"), (UnsignedInt(), "1e3"), (UnsignedInt(), "٣"),
    (UnsignedInt(1, 9), 10), (UnsignedInt(), str(2 ** 32)), (Int(), "twelve"), (String(2), "abc"),
    (String(enum=("On", "Off")), "on"), (DATETIME, "yesterday"), (DATETIME, "2026-13-01T00:00:00Z"),
    (DECIMAL, "nan"), (DECIMAL, "inf"), (DECIMAL, "x"), (List(UnsignedInt()), "1,x"), (Base64(1), "AAEC"),
    (Base64(), "!!"),
])
def test_the_right_kind_with_a_wrong_value_is_9007(t, given):
    assert code(t, given) == 9007


@pytest.mark.parametrize("t, given", [
    (BOOLEAN, [True]), (BOOLEAN, 1.5), (UnsignedInt(), True), (UnsignedInt(), 1.5), (UnsignedInt(), [1]),
    (String(), True), (String(), {"a": 1}), (String(), None), (DATETIME, 12), (DECIMAL, False), (List(), 3),
])
def test_a_value_the_type_cannot_hold_is_9006(t, given):
    assert code(t, given) == 9006


def test_declared_types():
    UnsignedInt().check_declared("xsd:unsignedInt")
    UnsignedInt().check_declared("unsignedInt")
    for nothing in (None, "", "None"):
        BOOLEAN.check_declared(nothing)
    with pytest.raises(Fault) as e:
        BOOLEAN.check_declared("xsd:string")
    assert e.value.code == 9006


def test_shown_as_cwmp_text_and_as_json():
    assert BOOLEAN.text(True) == "true" and BOOLEAN.json(False) is False
    assert DECIMAL.text(230.0) == "230" and DECIMAL.text(0.12345) == "0.1235" and DECIMAL.json(2.0) == 2
    assert UnsignedInt().text(7) == "7" and UnsignedInt().json(7) == 7


def test_described_for_the_docs():
    assert UnsignedInt(1, 604800).describe() == "unsignedInt[1:604800]"
    assert UnsignedInt(1).describe() == "unsignedInt[1:]" and Int(-1).describe() == "int[-1:]"
    assert String(64).describe() == "string(64)" and String(enum=("On", "")).describe() == 'string (On, "")'
