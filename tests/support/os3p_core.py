"""The OS3P protocol core with its collaborators in a temporary directory, a fake clock, and a central
system the test plays by hand: it reads the frames the core wants sent, answers them, and moves the clock."""

import json

from bridge.config import Config
from bridge.os3p.context import Context
from bridge.os3p.outbox import Outbox
from bridge.os3p.protocol import Connect, Protocol, Send
from bridge.os3p.settings import Settings
from bridge.os3p.state import State
from support.clock import FakeClock

FIELDS = {"vendor": "Acme", "model": "R1", "stationNumber": "", "serialNumber": "42", "firmwareVersion": "1.0",
          "iccid": "", "imsi": ""}
# the periodic session (the heartbeat deadline) is off unless a test turns it on: its own outputs
SETTINGS = {"os3p.call_timeout": 10, "os3p.connect_timeout": 5, "os3p.reconnect_min": 2,
            "os3p.reconnect_max": 60, "os3p.stable_after": 30, "os3p.ping_interval": 0,
            "acs.periodic_inform_enable": 0}


class Core:
    """A Protocol with its collaborators in a temporary directory, and a hand-played central system."""

    def __init__(self, tmp_path, rand=lambda: 1.0, state=None, **settings):
        self.config = Config(str(tmp_path / "tr069"))
        for name, value in dict(SETTINGS, **settings).items():
            self.config.override("%s=%s" % (name, value))
        self.clock = FakeClock()
        self.state = State(str(tmp_path / "state.json"))
        self.state.data.update(state or {})
        self.fields = dict(FIELDS)
        self.outbox = Outbox(str(tmp_path / "outbox"))
        self.p = Protocol(Settings(self.config), self.clock.daemon_clock(), self.state, self.outbox, lambda: dict(self.fields), rand=rand)
        self.p.context = Context(self.p, self.config, None, None, str(tmp_path))
        self.out = []

    def take(self):
        self.out += self.p.take()
        out, self.out = self.out, []
        return out

    def frames(self):
        """The frames sent since the last look, parsed; other outputs stay for take()."""
        got, rest = [], []
        for o in self.p.take():
            (got if type(o) is Send else rest).append(o)
        self.out += rest
        return [json.loads(o.text) for o in got]

    def calls(self):
        return [(f[1], f[2], f[3]) for f in self.frames() if f[0] == 2]

    def advance(self, seconds):
        """Move the clock, running every deadline due on the way, in order."""
        end = self.clock.now + seconds
        while True:
            when = self.p.deadline()
            if when is None or when > end:
                break
            self.clock.now = max(self.clock.now, when)
            self.p.tick()
        self.clock.now = end

    def next_deadline(self):
        return self.p.deadline() - self.clock.now

    def answer(self, id, payload):
        self.p.received(json.dumps([3, id, payload]))

    def connect(self, status="Accepted", interval=300):
        """start() or a pending reconnect, opened, and the BootNotification answered."""
        self.out += self.p.take()
        if Connect() not in self.out:
            self.advance(max(0.0, self.next_deadline()))
        assert Connect() in self.take()
        self.p.opened()
        boot = self.calls()
        if boot or self.p.registration != "Accepted":  # none when nothing changed since the last Accepted
            assert [c[1] for c in boot] == ["BootNotification"]
            self.answer(boot[0][0], {"status": status, "interval": interval,
                                     "currentTime": "2027-01-15T08:00:00Z"})
