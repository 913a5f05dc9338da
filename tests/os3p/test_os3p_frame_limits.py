"""OS3P frames at their limits: nesting depth and size are refused before parsing, with the protocol's
own error, and what is within the limits still parses."""

import pytest

from bridge.os3p import errors, framing
from bridge.os3p.framing import MAX_DEPTH, MAX_FRAME, Call, FrameError


def nested(levels, head='[2,"abc","Reset",'):
    """A CALL whose payload position holds `levels` nested arrays (plus the frame's own one)."""
    return head + "[" * levels + "]" * levels + "]"


# --- 15: a CALL nested 100k deep ----------------------------------------------------------------------
@pytest.mark.parametrize("levels", [MAX_DEPTH, 1000, 100000])
def test_finding_15_deep_call_gets_a_formation_violation(levels):
    with pytest.raises(FrameError) as e:
        framing.parse(nested(levels))
    assert (e.value.id, e.value.code) == ("abc", errors.FORMATION_VIOLATION)
    assert "deeper" in e.value.description


def test_finding_15_deep_results_and_errors_are_ignored():
    assert framing.parse(nested(100000, '[3,"abc",')) is None
    assert framing.parse('[4,"abc","GenericError","x",' + "{\"a\":" * 50000 + "1" + "}" * 50000 + "]") is None


def test_finding_15_nesting_up_to_the_limit_parses():
    payload = '{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    msg = framing.parse('[2,"abc","Reset",%s]' % payload)
    assert isinstance(msg, Call) and msg.id == "abc"


def test_finding_15_brackets_inside_strings_do_not_count():
    text = '[2,"abc","DataTransfer",{"data":"%s"}]' % ("[{" * 10000)
    assert framing.parse(text) == Call("abc", "DataTransfer", {"data": "[{" * 10000})


def test_frame_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(FrameError) as e:
        framing.parse('[2,"big","DataTransfer",{"data":"%s"}]' % ("x" * MAX_FRAME))
    assert (e.value.id, e.value.code) == ("big", errors.FORMATION_VIOLATION)
    assert framing.parse('[3,"big",{"data":"%s"}]' % ("x" * MAX_FRAME)) is None
