"""The subscriptions file: what passed the API's validator on the way in passes it again on the way back;
anything else is set aside and the daemon starts without it."""

import json
import os

from bridge.reach import camara
from bridge.reach.store import FILE, Store

ALLOW = camara.networks_check("loopback private")


def request():
    return camara.validate({"protocol": "HTTP", "sink": "http://127.0.0.1:9/s",
                            "types": [camara.PREFIX + "reachability-sms"],
                            "config": {"subscriptionDetail": {"device": {"phoneNumber": "+15550100001"}}}}, 0, ALLOW)


def test_what_is_saved_comes_back(tmp_path):
    s = Store(str(tmp_path), ALLOW)
    s.subscriptions["a-1"] = {"id": "a-1", "request": request(), "starts": 1.5, "events": 2}
    s.state = {"state": "sms", "since": 10.0}
    s.save()
    assert oct(os.stat(tmp_path / FILE).st_mode & 0o777) == "0o600"
    again = Store(str(tmp_path), ALLOW)
    assert again.subscriptions == s.subscriptions and again.state == s.state


def test_what_does_not_fit_is_set_aside(tmp_path):
    for doc in ("{torn", {"version": 1, "subscriptions": [{"id": "a-1", "request": dict(request(), protocol="MQTT3"),
                                                             "starts": 1, "events": 0}]},
                {"version": 1, "subscriptions": [], "state": {"state": "maybe", "since": 1}},
                {"version": 2, "subscriptions": []}):
        path = tmp_path / FILE
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        s = Store(str(tmp_path), ALLOW)
        assert (s.subscriptions, s.state) == ({}, None)
        assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reach.json.bad", "reach.json.bad.1", "reach.json.bad.2",
                                                          "reach.json.bad.3"]


LOADED = r"""
import sys
from bridge.config import Config
from bridge.loop import Loop
from bridge.reach.service import Reach

loop = Loop()
reach = Reach(loop, Config(sys.argv[1] + "/tr069"), sys.argv[1], "host")
reach.start()
loop.call_later(0.5, loop.stop)
loop.run()
print(type(sys.modules["bridge.reach.camara"]).__name__, "bridge.reach.delivery" in sys.modules)
"""


def test_a_station_nobody_subscribed_from_loads_no_subscription_code(tmp_path):
    """camara (validation, events) runs at its first use, the deliveries are made at the first notification
    (bridge/reach/__init__.py); -X importtime cannot see the first, so a fresh interpreter says."""
    import subprocess
    import sys

    from support.paths import ROOT

    r = subprocess.run([sys.executable, "-S", "-c", LOADED, str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, PYTHONPATH=ROOT))
    assert (r.returncode, r.stdout) == (0, "_LazyModule False\n"), r.stderr
    os.makedirs(tmp_path / "reach-outbox")
    (tmp_path / "reach-outbox" / "000000000001.json").write_text("{}")  # a notification the last run left
    r = subprocess.run([sys.executable, "-S", "-c", LOADED, str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, PYTHONPATH=ROOT))
    assert (r.returncode, r.stdout.split()[-1]) == (0, "True"), r.stderr  # made at start to resume it
