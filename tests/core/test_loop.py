"""bridge.loop on real descriptors (a socketpair, a pipe): readers and writers, a hang-up, timers, wake-ups
from another thread."""

import os
import socket
import threading

from bridge.loop import Loop


def turn(loop, timeout=1.0):
    loop.run_once(max_timeout=timeout)


def test_a_reader_runs_when_its_socket_has_data_and_a_writer_while_it_can_write():
    loop = Loop()
    a, b = socket.socketpair()
    seen = []
    try:
        loop.add_reader(a.fileno(), lambda: seen.append(("read", a.recv(10))))
        loop.add_writer(b.fileno(), lambda: (seen.append("write"), loop.remove_writer(b.fileno())))
        turn(loop)
        assert seen == ["write"]  # nothing to read yet; b can be written
        b.send(b"x")
        turn(loop)
        assert seen == ["write", ("read", b"x")]
        loop.remove_reader(a.fileno())
        b.send(b"y")
        turn(loop, 0.05)
        assert seen == ["write", ("read", b"x")]  # no longer watched
    finally:
        a.close()
        b.close()
        loop.close()


def test_a_hang_up_wakes_the_reader_and_the_writer_unless_the_reader_took_it_off():
    loop = Loop()
    a, b = socket.socketpair()
    seen = []
    try:
        def reader():
            seen.append("read")
            if len(seen) > 1:
                loop.remove_writer(a.fileno())  # the second time: the writer is gone before its turn

        loop.add_reader(a.fileno(), reader)
        loop.add_writer(a.fileno(), lambda: seen.append("write"))
        b.close()  # the peer hangs up
        turn(loop)
        assert seen == ["read", "write"]
        turn(loop)
        assert seen == ["read", "write", "read"]
    finally:
        loop.remove_reader(a.fileno())
        a.close()
        loop.close()


def test_taking_off_a_closed_descriptor_is_harmless():
    loop = Loop()
    r, w = os.pipe()
    loop.add_reader(r, lambda: None)
    os.close(r)
    os.close(w)
    loop.remove_reader(r)  # epoll forgot it when it closed
    turn(loop, 0.01)
    loop.close()


def test_timers_run_in_time_order_and_a_cancelled_one_never():
    loop = Loop()
    seen = []
    loop.call_later(0.02, seen.append, 2)
    loop.call_later(0.01, seen.append, 1)
    loop.call_later(0.0, seen.append, 0).cancel()
    while len(seen) < 2:
        turn(loop)
    assert seen == [1, 2]
    loop.close()


def test_timers_due_at_the_same_time_run_in_the_order_they_were_set(monkeypatch):
    loop = Loop()
    monkeypatch.setattr(loop, "time", lambda: 100.0)
    seen = []
    for i in range(6):
        loop.call_later(1.0 if i % 2 else 0.0, seen.append, i)
    monkeypatch.setattr(loop, "time", lambda: 101.0)
    turn(loop, 0)
    assert seen == [0, 2, 4, 1, 3, 5]
    loop.close()


def test_another_thread_wakes_the_loop():
    loop = Loop()
    seen = []
    t = threading.Thread(target=lambda: loop.call_soon_threadsafe(seen.append, "woken"))
    t.start()
    t.join()
    turn(loop, 5.0)
    assert seen == ["woken"]
    loop.close()
