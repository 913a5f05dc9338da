"""The daemon's stderr handler never blocks: a long soak hung when its unread stderr pipe filled
(every thread stuck in write(2), `status` unanswered, SIGTERM unheeded)."""

import fcntl
import logging
import os
import sys
import threading

from bridge import logger, logsetup
from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config


def full_pipe():
    """A pipe whose write end is blocking and has no room left, as an undrained stderr ends up."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return r, w


def drain(r):
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
    out = b""
    try:
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            out += chunk
    except BlockingIOError:
        pass
    return out


def bare(created, levelno, name, message, exc_text):
    return message


def emit(sink, msg):
    sink.emit(0.0, logger.INFO, "bridge.test", msg)


def host_stderr_sink(monkeypatch, stream):
    """The sink logsetup.setup("host") writes stderr through, stderr being stream."""
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # restored after the test, with the level
    monkeypatch.setattr(root, "level", root.level)
    logsetup.setup("host")
    (sink,) = [s for s in logger.sinks() if isinstance(s, logsetup.StderrSink)]
    return sink


def test_a_full_stderr_pipe_drops_lines_instead_of_blocking_then_says_how_many(monkeypatch):
    r, w = full_pipe()
    stream = os.fdopen(w, "w")
    handler = host_stderr_sink(monkeypatch, stream)
    handler.fmt = bare
    done = threading.Event()

    def log_three():
        for i in range(3):
            emit(handler, "line %d" % i)
        done.set()

    t = threading.Thread(target=log_three, daemon=True)
    t.start()
    stuck = not done.wait(10)  # a hang check, not a timing one: a blocking write never returns
    drain(r)  # frees a thread stuck before the fix, so that the test process ends
    t.join(10)
    try:
        assert not stuck, "emit blocked on a full stderr pipe"
        emit(handler, "after")
        out = drain(r).decode()
        assert out == "(3 log lines not written: stderr was not read)\nafter\n"
        emit(handler, "again")
        assert drain(r) == b"again\n"
    finally:
        stream.close()
        os.close(r)


def test_a_line_longer_than_a_pipe_write_arrives_whole():
    r, w = os.pipe()
    stream = os.fdopen(w, "w")
    handler = logsetup.StderrSink(stream, bare)
    try:
        emit(handler, "y" * 20000)  # a traceback can be this long
        assert drain(r) == b"y" * 20000 + b"\n"
    finally:
        stream.close()
        os.close(r)


def test_the_daemon_answers_and_stops_on_sigterm_with_a_stderr_nobody_reads(tmp_path):
    """The soak's hang, small: the daemon's stderr a full pipe from its first line on."""
    write_config(str(tmp_path), BASE_CONFIG)
    r, w = full_pipe()
    d = DaemonProcess(tmp_path, stderr=w)
    try:
        d.start()  # before the fix: its first log line blocks, cli.url never comes ("did not start")
        code, status = d.call("status")
        assert code == 0 and "cwmp" in status
        assert d.terminate() == 0  # SIGTERM: before the fix it never got back to its loop
    finally:
        os.close(w)
        d.kill()
        drain(r)
        os.close(r)
    with open(tmp_path / "daemon.log") as f:  # the log file keeps what stderr dropped
        assert "stopped" in f.read()


def test_lines_from_two_threads_never_interleave():
    """A worker thread (a meter read, a transfer) logs beside the loop; a line longer than a pipe write
    goes out in pieces, and another thread's line must not land between them."""
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ: room for every line, so that none is dropped
    stream = os.fdopen(w, "w")
    sink = logsetup.StderrSink(stream, bare)

    def writer(ch):
        for _ in range(40):
            emit(sink, ch * 9000)

    writers = [threading.Thread(target=writer, args=(c,)) for c in "ab"]
    for t in writers:
        t.start()
    for t in writers:
        t.join(30)
    try:
        lines = drain(r).decode().splitlines()
    finally:
        stream.close()
        os.close(r)
    assert sink.dropped == 0 and len(lines) == 80
    assert all(line in ("a" * 9000, "b" * 9000) for line in lines)
