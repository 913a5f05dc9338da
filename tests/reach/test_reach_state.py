"""The reachability state's judgement, its debounce, the weak-signal hysteresis, and sink delivery, with a
fake clock and no sockets."""

from bridge.reach.delivery import Delivery, Notification
from bridge.reach.modem import ModemInfo
from bridge.reach.state import DATA, DISCONNECTED, SMS, ReachabilityState, WeakSignal, judge

REGISTERED = ModemInfo(registration="home", bearer=False)
SEARCHING = ModemInfo(registration="searching")


def test_judge():
    assert judge(True, REGISTERED, None) == DATA
    assert judge(True, None, True) == DATA
    assert judge(True, REGISTERED, False) == SMS  # the uplink is up but the central system does not answer
    assert judge(False, REGISTERED, True) == SMS
    assert judge(False, SEARCHING, None) == DISCONNECTED
    assert judge(True, SEARCHING, False) == DISCONNECTED
    assert judge(False, None, None) == DISCONNECTED


def test_first_observation_is_the_state_without_a_change():
    r = ReachabilityState(3)
    assert r.observe(DATA, 0.0, 1000.0) is None
    assert (r.state, r.since) == (DATA, 1000.0)


def test_a_change_that_lasts_is_one_change_carrying_its_first_observation():
    r = ReachabilityState(3, DATA, 900.0)
    assert r.observe(SMS, 10.0, 1010.0) is None
    assert r.deadline() == 13.0
    assert r.tick(12.9) is None
    assert r.observe(SMS, 12.0, 1012.0) is None  # the same candidate: its time stays
    change = r.tick(13.0)
    assert (change.old, change.new, change.time) == (DATA, SMS, 1010.0)
    assert (r.state, r.since, r.deadline()) == (SMS, 1010.0, None)


def flap(r, states, start=0.0, step=0.1):
    """Observe `states` every `step` seconds from `start`, ticking in between; the changes seen."""
    changes = []
    t = start
    for s in states:
        for c in (r.tick(t), r.observe(s, t, 1000.0 + t)):
            if c is not None:
                changes.append(c)
        t += step
    return changes, t


def test_ten_flaps_in_a_second_that_end_where_they_began_are_no_change():
    r = ReachabilityState(3, DATA, 0.0)
    changes, t = flap(r, [DISCONNECTED, DATA] * 5)
    assert changes == []
    assert r.tick(t + 10) is None and r.state == DATA


def test_ten_flaps_in_a_second_that_end_elsewhere_are_one_change_once_it_lasted():
    r = ReachabilityState(3, DATA, 0.0)
    changes, t = flap(r, [DISCONNECTED, DATA] * 5 + [DISCONNECTED])
    assert changes == []
    assert r.tick(t + 2.0) is None
    change = r.tick(t + 3.0)
    assert (change.old, change.new) == (DATA, DISCONNECTED)
    assert r.tick(t + 100) is None


def test_without_hold_every_change_is_at_once():
    r = ReachabilityState(0, DATA, 0.0)
    assert r.observe(SMS, 1.0, 1.0).new == SMS
    assert r.observe(DATA, 1.1, 1.1).new == DATA


def test_weak_signal_raised_once_and_cleared_with_hysteresis():
    w = WeakSignal(-110, -95, 5)
    seen = [w.update(ModemInfo(rsrp=v)) for v in (-100, -111, -114, -109, -106, -105, -120)]
    assert [s and s[0] for s in seen] == [None, True, None, None, None, False, True]
    assert w.update(None) is None and w.update(ModemInfo()) is None  # unknown signal: no change
    assert w.active


def test_weak_signal_on_rssi_where_there_is_no_rsrp():
    w = WeakSignal(-110, -95, 5)
    assert w.update(ModemInfo(rssi=-99))[0] is True
    assert w.update(ModemInfo(rssi=-89))[0] is False
    assert WeakSignal(0, 0, 5).update(ModemInfo(rsrp=-150)) is None  # 0: not judged


class FakeLoop:
    def __init__(self):
        self.now = 0.0
        self.timers = []
        self.soon = []

    def time(self):
        return self.now

    def call_later(self, delay, fn, *args):
        t = [self.now + delay, (lambda: fn(*args)) if args else fn, False]
        self.timers.append(t)

        class H:
            def cancel(self_inner):
                t[2] = True
        return H()

    def call_soon_threadsafe(self, fn, *args):
        self.soon.append((fn, args))

    def run(self, until):
        while True:
            while self.soon:
                fn, args = self.soon.pop(0)
                fn(*args)
            due = [t for t in self.timers if not t[2] and t[0] <= until]
            if not due:
                self.now = until
                return
            t = min(due, key=lambda x: x[0])
            self.timers.remove(t)
            self.now = max(self.now, t[0])
            t[1]()


def event(n):
    return {"id": "e%d" % n}


def test_a_down_sink_does_not_delay_another_and_its_queue_is_bounded():
    loop = FakeLoop()
    tried = []

    def attempt(note):
        tried.append((note.url, note.correlator))
        return None if "down" in note.url else 204

    d = Delivery(loop, queue_limit=4, attempt=attempt, start_thread=lambda fn: fn())
    for i in range(100):
        d.send(Notification("http://127.0.0.1:9/down", event(i)))
        d.send(Notification("http://127.0.0.1:8080/up", event(i)))
        loop.run(loop.now + 0.01)
    up = [c for u, c in tried if "up" in u]
    assert up == ["e%d" % i for i in range(100)]  # every one, in order, none waited for the other sink
    down = d.sinks[("http", "127.0.0.1", 9)]
    assert len(down.queue) <= 4 + 1 and down.dropped >= 95
    # the head is retried with the backoff, never more often: ~10 s of waiting is a handful of attempts
    before = len([1 for u, _ in tried if "down" in u])
    loop.run(loop.now + 10)
    after = len([1 for u, _ in tried if "down" in u])
    assert 1 <= after - before <= 8
    assert ("http", "127.0.0.1", 8080) not in d.sinks  # an idle sink holds nothing


def test_refused_for_good_is_dropped_and_gone_ends_the_subscription():
    loop = FakeLoop()
    answers = {"e1": 400, "e2": 410, "e3": 204}
    gone = []
    d = Delivery(loop, attempt=lambda note: answers[note.correlator], start_thread=lambda fn: fn(),
                 on_gone=gone.append)
    for i in (1, 2, 3):
        d.send(Notification("http://127.0.0.1:1/x", event(i), subscription="s"))
    loop.run(1)
    assert [n.subscription for n in gone] == ["s"]
    assert d.pending() == 0


def test_waiting_notifications_are_on_disk_before_they_are_queued_and_survive_a_restart(tmp_path):
    """Each notification is a file before it is queued, removed once answered or dropped; a new Delivery on
    the same directory resumes each sink in order; files of another shape are set aside."""
    import os

    loop = FakeLoop()
    directory = str(tmp_path / "outbox")
    seen_on_disk = []

    def down(note):
        seen_on_disk.append(sorted(os.listdir(directory)))
        return None

    d = Delivery(loop, queue_limit=3, attempt=down, start_thread=lambda fn: fn(), directory=directory)
    d.start()
    for i in range(5):
        d.send(Notification("http://127.0.0.1:9/down", event(i), token="tok"))
        d.send(Notification("http://127.0.0.1:8/other", event(100 + i)))
    assert seen_on_disk[0] == ["000000000001.json"]  # written before its first attempt
    assert len(os.listdir(directory)) == 3 + 3  # bounded per sink: the oldest dropped (not the one on the wire)
    for name in os.listdir(directory):
        assert oct(os.stat(os.path.join(directory, name)).st_mode & 0o777) == "0o600"
    d.stop()
    with open(os.path.join(directory, "000000000099.json"), "w") as f:
        f.write('{"url": "ftp://x", "event": {}}')
    delivered = []

    def up(note):
        delivered.append((note.url, note.correlator, note.token))
        return 204

    loop2 = FakeLoop()
    d2 = Delivery(loop2, queue_limit=3, attempt=up, start_thread=lambda fn: fn(), directory=directory)
    d2.start()
    loop2.run(1)
    assert [c for u, c, _ in delivered if "down" in u] == ["e0", "e3", "e4"]
    assert [c for u, c, _ in delivered if "other" in u] == ["e100", "e103", "e104"]
    assert {t for u, _, t in delivered if "down" in u} == {"tok"}
    assert sorted(os.listdir(directory)) == ["000000000099.json.bad"]
