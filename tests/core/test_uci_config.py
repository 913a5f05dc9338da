"""UCI files and the config table."""

import os
import stat

import pytest

from bridge import uci
from bridge.config import KEYS, Config

SAMPLE = r"""
# comment
config acs 'acs'
	option url 'ws://127.0.0.1:9000/OS3P'   # trailing comment
	option identity "SUBS 001"
	option periodic_inform_interval 600
	list server 'a'
	list server 'b c'

config cpe 'cpe'
	option log_level 'debug'
	option note 'it'\''s'

config rule
	option name anonymous
"""


def test_parse():
    s = uci.parse(SAMPLE)
    assert [x[".name"] for x in s][:2] == ["acs", "cpe"]
    acs = uci.find(s, "acs")
    assert acs["url"] == "ws://127.0.0.1:9000/OS3P"
    assert acs["identity"] == "SUBS 001"
    assert acs["server"] == ["a", "b c"]
    assert uci.find(s, "cpe")["note"] == "it's"
    assert s[2][".anonymous"] is True and s[2][".type"] == "rule"


def test_round_trip():
    s = uci.parse(SAMPLE)
    assert uci.parse(uci.dump(s)) == s


@pytest.mark.parametrize("bad", ["option a b", "config", "config a b c d", "bogus x", "config a 'b", "\toption x"])
def test_bad_files_are_refused(bad):
    with pytest.raises(uci.UciError):
        uci.parse("config acs 'acs'\n" + bad if bad.startswith("bogus") else bad)


def test_defaults_without_a_file(tmp_path):
    c = Config(str(tmp_path / "nope"))
    for name, key in KEYS.items():
        assert c.get(name) == key.default


def test_values(tmp_path):
    p = tmp_path / "tr069"
    p.write_text("config acs 'acs'\n\toption periodic_inform_interval '600'\n\toption periodic_inform_enable 'no'\n"
                 "\toption url 'wss://cs.example/OS3P'\n")
    c = Config(str(p))  # invalid values: tests/core/test_config_check.py
    assert c.get("acs.periodic_inform_interval") == 600
    assert c.get("acs.periodic_inform_enable") is False
    assert c.get("acs.url") == "wss://cs.example/OS3P"


def test_set_validates_and_saves_with_mode_0600(tmp_path):
    path = tmp_path / "config" / "tr069"
    c = Config(str(path))
    with pytest.raises(ValueError):
        c.set("acs.periodic_inform_interval", "-5")
    with pytest.raises(ValueError):
        c.set("acs.periodic_inform_enable", "maybe")
    assert c.set("acs.periodic_inform_interval", "60") == 60
    c.set("acs.password", "s3cret")
    c.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = Config(str(path))
    assert again.get("acs.periodic_inform_interval") == 60
    assert again.describe("acs.password") == "********"


def test_tr069_paths():
    assert Config.by_tr069("Device.ManagementServer.URL").name == "acs.url"
    assert Config.by_tr069("InternetGatewayDevice.ManagementServer.PeriodicInformInterval").name == \
        "acs.periodic_inform_interval"
    assert Config.by_tr069("Device.Nothing") is None


def test_every_key_default_converts():
    for key in KEYS.values():
        assert Config.convert(key, key.default) == key.default, key.name
