"""Fault injection: callers flood the tr069 object with INVOKEs while nobody reads the replies.

Invocations are never queued inside the daemon: each read is answered in full before the next, and while
more than PAUSE_READING bytes of replies wait for ubusd to read them the connection stops reading, so the
callers' INVOKEs wait in the socket (ubusd's side) and the daemon's memory stays bounded. Nothing is lost
and the object stays registered. Before the pause the daemon read on, holding every reply (1.6 MB for
4000 `status` calls) until its 4 MiB bound dropped the connection and took the object off ubus.
"""

import time

from bridge.ubus import blob
from support.ubusd import FakeUbusd, Running, register

INVOKES = 4000


def test_a_flood_of_unread_invokes_is_bounded_and_every_one_is_answered_once(tmp_path):
    server = FakeUbusd(tmp_path / "ubus.sock")
    running = Running(tmp_path, server.path)
    try:
        c = server.accept()
        register(c)
        c.setblocking(False)
        sent, largest, blocked_since = 0, 0, None
        # a ubusd whose callers do not read: send until the daemon stops taking INVOKEs for a while
        while sent < INVOKES:
            msg = blob.encode_message(blob.INVOKE, sent & 0xFFFF, 0x5555, [
                (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "status"), (blob.ATTR_DATA, {})])
            try:
                c.sendall(msg)
                sent, blocked_since = sent + 1, None
            except BlockingIOError:
                blocked_since = blocked_since or time.monotonic()
                largest = max(largest, running.on_loop(lambda: len(running.conn._outbuf)))
                if time.monotonic() - blocked_since > 0.3:
                    break  # the flood waits here, in the socket, not in the daemon's memory
                time.sleep(0.01)
            if sent % 500 == 0:
                largest = max(largest, running.on_loop(lambda: len(running.conn._outbuf)))
        largest = max(largest, running.on_loop(lambda: len(running.conn._outbuf)))
        assert largest < 1024 * 1024  # replies held: the pause mark and one read's answers
        assert running.on_loop(lambda: running.conn.connects) == 1  # the object was not dropped
        # ubusd reads again: the rest goes in and every INVOKE is answered, once
        statuses, inbuf = 0, bytearray()
        deadline = time.monotonic() + 30
        while (sent < INVOKES or statuses < sent) and time.monotonic() < deadline:
            if sent < INVOKES:
                try:
                    c.sendall(blob.encode_message(blob.INVOKE, sent & 0xFFFF, 0x5555, [
                        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "status"), (blob.ATTR_DATA, {})]))
                    sent += 1
                except BlockingIOError:
                    pass
            try:
                inbuf += c.recv(1 << 20)
            except BlockingIOError:
                time.sleep(0.001)
            while len(inbuf) >= blob.FIRST_READ:
                n = blob.message_length(bytes(inbuf[:blob.FIRST_READ]))
                if len(inbuf) < n:
                    break
                statuses += inbuf[1] == blob.STATUS
                del inbuf[:n]
        assert (sent, statuses) == (INVOKES, INVOKES)
        assert running.on_loop(lambda: running.conn.connects) == 1  # never dropped
    finally:
        running.close()
        server.close()
