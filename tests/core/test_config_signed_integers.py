"""integer(low, high): one leading '-' exactly where the key's range holds negative values (dBm thresholds),
ASCII digits only otherwise; what a key accepts is what Config gives back."""

import pytest

from bridge.config import KEYS, Config, integer


@pytest.mark.parametrize("text,value", [("-110", -110), ("-156", -156), ("0", 0), ("-0", 0), ("-44", -44)])
def test_a_negative_range_takes_one_leading_minus(text, value):
    assert integer(-156, 0)(text) == value


@pytest.mark.parametrize("text", [
    "--110", "+110", "- 110", " -110", "-110 ", "-", "", "\u2212110",  # U+2212 MINUS SIGN
    "-\u0661\u0661\u0660",  # Arabic-Indic digits after the sign
    "-1_10", "-0x6e", "-110.0", "-157", "110", "1",  # out of range: the old unsigned spelling is refused
    "-" + "1" * 13,  # longer than any bound, refused before it is converted
])
def test_a_negative_range_refuses_anything_else(text):
    with pytest.raises(ValueError, match=r"expected an integer -156 to 0, got"):
        integer(-156, 0)(text)


@pytest.mark.parametrize("text", ["-1", "-0", "-5"])
def test_a_range_without_negative_values_takes_no_sign_at_all(text):
    with pytest.raises(ValueError, match=r"expected an integer 0-600, got"):
        integer(0, 600)(text)


def test_json_numbers_are_taken_as_they_are_within_the_range():
    assert integer(-156, 0)(-110) == -110
    with pytest.raises(ValueError):
        integer(-156, 0)(110)
    with pytest.raises(ValueError):
        integer(-156, 0)(True)


def test_the_reach_thresholds_are_written_with_their_sign(tmp_path):
    """reach.weak_signal_rsrp '-110': as a modem reports it; '110' (the sign left out) does not hold."""
    rsrp, rssi = KEYS["reach.weak_signal_rsrp"], KEYS["reach.weak_signal_rssi"]
    assert (rsrp.default, rssi.default) == (-110, -95)
    assert rsrp.parse("-118") == -118 and rssi.parse("-101") == -101 and rsrp.parse("0") == 0
    for bad in ("110", "+110", "-157"):
        with pytest.raises(ValueError, match="dBm with its sign, -156 to 0"):
            rsrp.parse(bad)
    cfg = tmp_path / "tr069"
    cfg.write_text("config reach 'reach'\n\toption weak_signal_rsrp '-118'\n\toption weak_signal_rssi '-101'\n")
    conf = Config(str(cfg))
    assert conf.get("reach.weak_signal_rsrp") == -118 and conf.get("reach.weak_signal_rssi") == -101
