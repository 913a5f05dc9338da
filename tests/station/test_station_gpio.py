"""The GPIO backend against a directory laid out as the kernel lays out sysfs GPIO (tests/support/sysfs_gpio.py)."""

import os
import select
import struct

import pytest

from bridge.station.backends import gpio
from support.sysfs_gpio import SysfsGpioTree


@pytest.fixture
def tree(tmp_path):
    t = SysfsGpioTree(tmp_path / "gpio")
    yield t
    t.close()


def test_line_names():
    assert gpio.parse_name("17") == ("sysfs", 17)
    assert gpio.parse_name(" 5 ") == ("sysfs", 5)
    assert gpio.parse_name("gpiochip1:7") == ("chardev", "gpiochip1", 7)
    for bad in ("", "gpio17", "gpiochip:3", "gpiochip0:", "-1", "chip0:1", "17.0"):
        with pytest.raises(ValueError):
            gpio.parse_name(bad)


def test_output_is_exported_and_configured_off(tree):
    line = gpio.open_output("17", active_low=False, root=tree.root)
    assert tree.exports == [17]
    assert tree.read(17, "active_low") == "0"
    assert tree.read(17, "direction") == "low"  # direction and first level in one write: no glitch
    line.set(True)
    assert tree.read(17, "value") == "1"
    assert line.get() is True
    line.set(False)
    assert tree.read(17, "value") == "0" and line.get() is False
    line.close()


def test_active_low_output_starts_off_at_the_high_level(tree):
    gpio.open_output("3", active_low=True, root=tree.root).close()
    assert tree.read(3, "active_low") == "1"
    assert tree.read(3, "direction") == "high"  # raw level: high is logical off on an active-low line


def test_an_exported_output_keeps_its_level(tree):
    """After a restart the daemon reads what the relay does before deciding anything."""
    tree.add_line(9, direction="out", value=1)
    line = gpio.open_output("9", root=tree.root)
    assert tree.exports == []  # already exported: not exported again
    assert tree.read(9, "direction") == "out"  # not rewritten: "low" would switch the light off
    assert line.get() is True
    line.close()


def test_input_is_configured_for_both_edges(tree):
    tree.add_line(22, direction="out", value=0)
    line = gpio.open_input("22", active_low=True, root=tree.root)
    assert tree.read(22, "direction") == "in"
    assert tree.read(22, "edge") == "both"
    assert tree.read(22, "active_low") == "1"
    with pytest.raises(gpio.GpioError):
        line.set(True)
    line.close()


def test_input_without_interrupts_is_still_readable(tree):
    tree.add_line(4, value=1, interrupts=False)
    line = gpio.open_input("4", root=tree.root)
    assert line.get() is True
    line.close()


def test_export_refused_by_the_kernel_is_a_clear_error(tree):
    with pytest.raises(gpio.GpioError) as e:
        gpio.open_output("99", root=tree.root)  # beyond the chip's 32 lines: no gpio99 appears
    assert "99" in str(e.value)


def test_garbage_in_value_is_an_error_not_a_guess(tree):
    d = tree.add_line(6)
    line = gpio.open_input("6", root=tree.root)
    with open(os.path.join(d, "value"), "w") as f:
        f.write("x\n")
    with pytest.raises(gpio.GpioError):
        line.get()
    line.close()


def test_watcher_reports_an_input_that_changes_on_its_own(tree):
    tree.add_line(22)
    tree.add_line(23, value=1)
    a = gpio.open_input("22", root=tree.root)
    b = gpio.open_input("23", root=tree.root)
    seen = []
    w = gpio.Watcher()
    w.add(a, lambda line, v: seen.append((line.name, v)))
    w.add(b, lambda line, v: seen.append((line.name, v)))
    poller = select.poll()
    poller.register(w.fileno(), select.POLLIN)
    assert poller.poll(0) == []  # nothing changed: the descriptor is quiet, no busy loop
    tree.kernel_set(22, 1)
    assert poller.poll(1000)  # the watcher's descriptor wakes the loop
    w.dispatch()
    assert seen == [("22", True)]
    assert poller.poll(0) == []
    tree.kernel_set(23, 0)
    tree.kernel_set(22, 0)
    w.dispatch()
    assert sorted(seen[1:]) == [("22", False), ("23", False)]
    tree.kernel_set(23, 0)  # rewritten with the same level: no change to report
    w.dispatch()
    assert len(seen) == 3
    w.remove(b)
    tree.kernel_set(23, 1)
    w.dispatch()
    assert len(seen) == 3
    w.close()
    a.close()
    b.close()


def test_watcher_on_the_daemon_loop(tree):
    from bridge.loop import Loop

    tree.add_line(5)
    line = gpio.open_input("5", root=tree.root)
    loop = Loop()
    w = gpio.Watcher()
    seen = []
    w.add(line, lambda l, v: (seen.append(v), loop.stop()))
    loop.add_reader(w.fileno(), w.dispatch)
    loop.call_soon(tree.kernel_set, 5, 1)
    loop.call_later(5, loop.stop)  # a safety net only: the change stops the loop
    loop.run()
    assert seen == [True]
    loop.close()
    w.close()
    line.close()


def test_character_device_request_layout():
    """struct gpio_v2_line_request as linux/gpio.h lays it out (592 bytes), and the ioctl numbers."""
    data = gpio.line_request(5, output=True, active_low=True, initial=True)
    assert len(data) == 592
    assert struct.unpack_from("<I", data, 0)[0] == 5
    assert data[256:256 + 12] == b"tr069-bridge"
    flags, num_attrs = struct.unpack_from("<QI", data, 288)
    assert flags == gpio.GPIO_V2_LINE_FLAG_OUTPUT | gpio.GPIO_V2_LINE_FLAG_ACTIVE_LOW
    assert num_attrs == 1
    attr_id, _pad, values, mask = struct.unpack_from("<IIQQ", data, 288 + 32)
    assert (attr_id, values, mask) == (gpio.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, 1, 1)
    assert struct.unpack_from("<I", data, 592 - 32)[0] == 1  # num_lines
    inp = gpio.line_request(2, output=False, active_low=False)
    flags, num_attrs = struct.unpack_from("<QI", inp, 288)
    assert flags == (gpio.GPIO_V2_LINE_FLAG_INPUT | gpio.GPIO_V2_LINE_FLAG_EDGE_RISING
                     | gpio.GPIO_V2_LINE_FLAG_EDGE_FALLING)
    assert num_attrs == 0
    # the values Linux defines (include/uapi/linux/gpio.h)
    assert gpio.GPIO_V2_GET_LINE_IOCTL == 0xC250B407
    assert gpio.GPIO_V2_LINE_GET_VALUES_IOCTL == 0xC010B40E
    assert gpio.GPIO_V2_LINE_SET_VALUES_IOCTL == 0xC010B40F
    assert gpio.EVENT.size == 48


@pytest.mark.skipif(not any(n.startswith("gpiochip") for n in os.listdir("/dev")),
                    reason="no GPIO character device on this machine (gpio-sim or real hardware)")
def test_character_device_line_reads_back():  # pragma: no cover - needs a kernel GPIO chip
    chip = sorted(n for n in os.listdir("/dev") if n.startswith("gpiochip"))[0]
    line = gpio.open_input("%s:0" % chip, dev="/dev")
    assert line.get() in (True, False)
    line.close()


def test_contactor_on_sysfs_lines_reports_a_feedback_that_changes_on_its_own(tree, tmp_path):
    """The Station on real GPIO lines: the output switched through sysfs, its feedback input watched through
    the watcher's descriptor, a contact that drops by itself reported as unexpected."""
    import datetime

    from bridge.events import ContactorChanged, ModeChanged
    from bridge.station.contactors import Contactor, Control
    from bridge.station.schedule import Place
    from bridge.station.zone import UTC

    tree.add_line(22, value=0)
    out = gpio.open_output("17", active_low=True, root=tree.root)
    fb = gpio.open_input("22", root=tree.root)
    events, timers = [], []
    now = datetime.datetime(2026, 5, 1, 15).timestamp()
    st = Control({1: Contactor(1, out, fb)}, lambda: Place(UTC), lambda: now,
                 lambda d, fn: timers.append(fn) or type("T", (), {"cancel": lambda self: None})(),
                 str(tmp_path / "streetlights.json"))
    st.subscribe(events.append)
    w = gpio.Watcher()
    w.add(fb, lambda line, v: st.feedback_changed(1, v))
    st.start()
    assert st.override(1, "On") == "Accepted"
    assert tree.read(17, "value") == "1" and tree.read(17, "active_low") == "1"  # logical on, wired active-low
    tree.kernel_set(22, 1)  # the auxiliary contact closes: the confirmation, no event
    w.dispatch()
    assert events == [ModeChanged(1, "RemoteOverride", now), ContactorChanged(1, True, now)]
    tree.kernel_set(22, 0)  # the contactor drops out on its own
    assert select.select([w.fileno()], [], [], 2)[0]  # the descriptor wakes the loop
    w.dispatch()
    assert events[-1] == ContactorChanged(1, False, now, unexpected=True)
    w.close(), out.close(), fb.close()
