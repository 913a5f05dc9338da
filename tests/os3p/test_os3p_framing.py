"""OS3P framing and error mapping, pure (the same paths run over WebSockets in test_os3p_client.py)."""

import json

import pytest

from bridge import schema
from bridge.os3p import errors, framing
from bridge.os3p.framing import Call, CallErrorMessage, CallResult, FrameError


def test_encode_never_sends_null_payloads():
    assert json.loads(framing.call("1", "Heartbeat", None)) == [2, "1", "Heartbeat", {}]
    assert json.loads(framing.result("1", None)) == [3, "1", {}]
    assert json.loads(framing.error("1", "NotImplemented")) == [4, "1", "NotImplemented", "", {}]


def test_round_trip():
    assert framing.parse(framing.call("a", "Reset", {"type": "Hard"})) == Call("a", "Reset", {"type": "Hard"})
    assert framing.parse(framing.result("a", {"status": "Accepted"})) == CallResult("a", {"status": "Accepted"})
    assert framing.parse(framing.error("a", "GenericError", "x", {"k": 1})) == CallErrorMessage(
        "a", "GenericError", "x", {"k": 1})


@pytest.mark.parametrize("text", [
    '[5, "1", "Heartbeat", {}]', '[0, "1", {}]', '[7]', '[-1, "x"]',   # unknown type numbers: ignored
    '{"a": 1}', '[]', '["2", "1", "Heartbeat", {}]', '[true, "1", "Heartbeat", {}]', '"text"', '42',
    'garbage', '', '[2, 17, "Heartbeat", {}]', '[2, "", "Heartbeat", {}]', '[3, "1"]',
])
def test_ignored(text):
    assert framing.parse(text) is None


@pytest.mark.parametrize("text,id,code", [
    ('[2, "abc", "Reset", {', "abc", errors.FORMATION_VIOLATION),
    ('[2,"abc","Reset",{"type": Hard}]', "abc", errors.FORMATION_VIOLATION),
    ('[2, "abc", "Reset"]', "abc", errors.PROTOCOL_ERROR),
    ('[2, "abc"]', "abc", errors.PROTOCOL_ERROR),
    ('[2, "abc", "Reset", {}, {}]', "abc", errors.FORMATION_VIOLATION),
    ('[2, "abc", 5, {}]', "abc", errors.FORMATION_VIOLATION),
    ('[2, "abc", "Reset", [1]]', "abc", errors.FORMATION_VIOLATION),
    ('[2, "abc", "Reset", "x"]', "abc", errors.FORMATION_VIOLATION),
    ('[2, "%s", "Reset", {}]' % ("x" * 37), "x" * 37, errors.FORMATION_VIOLATION),
])
def test_malformed_call_with_an_id(text, id, code):
    with pytest.raises(FrameError) as e:
        framing.parse(text)
    assert (e.value.id, e.value.code) == (id, code)


def test_null_payload_read_as_empty_object():
    assert framing.parse('[2, "1", "Heartbeat", null]') == Call("1", "Heartbeat", {})
    assert framing.parse('[3, "1", null]') == CallResult("1", {})


def test_id_of_36_characters_is_fine():
    assert framing.parse('[2, "%s", "Reset", {}]' % ("x" * 36)).id == "x" * 36


def test_callerror_tolerates_missing_fields():
    assert framing.parse('[4, "1"]') == CallErrorMessage("1", "GenericError", "", {})


def test_ids_are_unique_and_short():
    ids = framing.IdSource()
    other = framing.IdSource()
    seen = {ids() for _ in range(1000)} | {other() for _ in range(1000)}
    assert len(seen) == 2000
    assert max(map(len, seen)) <= framing.MAX_ID


def test_error_codes_spelled_as_the_spec():
    assert errors.CODES == ("NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
                            "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
                            "TypeConstraintViolation", "GenericError")
    with pytest.raises(ValueError):
        errors.CallError("OccurrenceConstraintViolation")


@pytest.mark.parametrize("payload,code", [
    ({"key": "a"}, errors.OCCURENCE_CONSTRAINT_VIOLATION),
    ({"key": "a", "value": 1}, errors.TYPE_CONSTRAINT_VIOLATION),
    ({"key": "a", "value": "b", "x": 1}, errors.FORMATION_VIOLATION),
    ({"value": 1, "x": 1}, errors.FORMATION_VIOLATION),  # several failures: structure wins
])
def test_schema_failures_map_by_kind(payload, code):
    s = schema.load("os3p/ChangeConfiguration.req")
    assert errors.from_schema_errors(schema.errors(s, payload)).code == code


def test_value_failures_are_property_constraint_violations():
    s = schema.load("os3p/TriggerMessage.req")
    for payload in ({"requestedMessage": "Nope"}, {"requestedMessage": "Heartbeat", "contactorId": 9}):
        assert errors.from_schema_errors(schema.errors(s, payload)).code == errors.PROPERTY_CONSTRAINT_VIOLATION
    s = schema.load("os3p/UpdateFirmware.req")
    e = errors.from_schema_errors(schema.errors(s, {"location": "http://x/", "retrieveDate": "soon"}))
    assert e.code == errors.PROPERTY_CONSTRAINT_VIOLATION
    assert "/retrieveDate" in e.description
