"""Linux GPIO lines as OpenWrt 24.10 exposes them: sysfs /sys/class/gpio, or the character device.

A line is named in UCI as a sysfs number (``"17"``) or as ``"gpiochip0:5"`` (chip, offset) for the
character device, where a kernel has sysfs GPIO off. Both give the same small interface:

    line = open_output("17", active_low=True)   # set(True/False), get()
    line = open_input("22", active_low=False)    # get()
    watcher = Watcher(); watcher.add(line, callback)
    loop.add_reader(watcher.fileno(), watcher.dispatch)   # callback(line, value) on every change

Values are logical (active_low applied), so "on" is True whatever the wiring.

Why a watcher and not the value file itself on the daemon's loop: a sysfs attribute reports POLLIN all
the time and signals a change with POLLPRI|POLLERR, which a selector asking for "readable" never sees.
The watcher is an epoll set with EPOLLPRI on the value files; the epoll descriptor itself becomes
readable when a line changed, so it sits on the loop like any socket. Where the value file is a plain
file (a directory laid out as the kernel lays out sysfs: the tests, a development host) epoll refuses
it; there the watcher follows writes to the file through inotify, so the same code path reacts.
Character-device lines deliver edge events on their own descriptor (POLLIN), watched the same way.
"""

import errno
import os
import select
import struct
import time

from ...logger import getLogger

log = getLogger(__name__)

SYSFS = "/sys/class/gpio"
DEV = "/dev"


class GpioError(OSError):
    """A line that cannot be exported, configured, read or written."""


def parse_name(name):
    """"17" -> ("sysfs", 17); "gpiochip0:5" -> ("chardev", "gpiochip0", 5). Raises ValueError."""
    text = str(name).strip()
    if text.isdigit():
        return ("sysfs", int(text))
    chip, sep, offset = text.partition(":")
    if sep and chip.startswith("gpiochip") and chip[8:].isdigit() and offset.isdigit():
        return ("chardev", chip, int(offset))
    raise ValueError("not a GPIO line: %r (a sysfs number like 17, or gpiochip0:5)" % (name,))


# --- sysfs ---------------------------------------------------------------------------------------------
def _write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # as `echo in > direction` opens it
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode().strip()


class SysfsLine:
    """One exported sysfs line: /sys/class/gpio/gpioN/{direction,value,active_low,edge}."""

    kind = "sysfs"

    def __init__(self, number, output, active_low=False, root=SYSFS):
        self.number = number
        self.output = output
        self.active_low = bool(active_low)
        self.name = str(number)
        self.root = root
        self.dir = os.path.join(root, "gpio%d" % number)
        self._fd = None
        try:
            self._setup()
        except OSError as e:
            raise GpioError(e.errno or errno.EIO, "gpio %d: %s" % (number, e.strerror or e)) from None

    def _setup(self):
        if not os.path.isdir(self.dir):
            try:
                _write(os.path.join(self.root, "export"), str(self.number))
            except OSError as e:
                if e.errno != errno.EBUSY:  # EBUSY: exported meanwhile (or claimed by a kernel driver)
                    raise
            # the kernel creates gpioN before the write returns; a test tree's stand-in may take a moment
            for _ in range(100):  # up to 1 s: a busy test machine may schedule that thread late
                if os.path.isdir(self.dir):
                    break
                time.sleep(0.01)
            else:
                raise FileNotFoundError(errno.ENOENT, "export did not create %s" % self.dir)
        # active_low first: it decides what the logical values written below mean
        if _read(os.path.join(self.dir, "active_low")) != ("1" if self.active_low else "0"):
            _write(os.path.join(self.dir, "active_low"), "1" if self.active_low else "0")
        direction = _read(os.path.join(self.dir, "direction"))
        if self.output:
            if direction != "out":
                # "high"/"low" set the direction and the first level in one step, with no glitch; they are
                # raw levels, so logical off is "high" on an active-low line
                _write(os.path.join(self.dir, "direction"), "high" if self.active_low else "low")
            # an output already configured keeps its level: a restart must not switch a light
        else:
            if direction != "in":
                _write(os.path.join(self.dir, "direction"), "in")
            edge = os.path.join(self.dir, "edge")
            if os.path.exists(edge) and _read(edge) != "both":
                try:
                    _write(edge, "both")
                except OSError as e:  # a line without interrupt support: readable, not watchable
                    log.warning("gpio %d: no edge interrupts (%s); changes are seen when read", self.number, e)
        self._fd = os.open(os.path.join(self.dir, "value"), os.O_RDWR if self.output else os.O_RDONLY)

    def fileno(self):
        return self._fd

    @property
    def value_path(self):
        return os.path.join(self.dir, "value")

    def get(self):
        data = os.pread(self._fd, 8, 0).strip()
        if data not in (b"0", b"1"):
            raise GpioError(errno.EIO, "gpio %d: value reads %r" % (self.number, data))
        return data == b"1"

    def set(self, on):
        if not self.output:
            raise GpioError(errno.EPERM, "gpio %d is an input" % self.number)
        os.pwrite(self._fd, b"1" if on else b"0", 0)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --- character device (GPIO uAPI v2, linux/gpio.h) ---------------------------------------------------------
GPIO_V2_LINES_MAX = 64
GPIO_V2_LINE_NUM_ATTRS_MAX = 10
GPIO_V2_LINE_FLAG_ACTIVE_LOW = 1 << 1
GPIO_V2_LINE_FLAG_INPUT = 1 << 2
GPIO_V2_LINE_FLAG_OUTPUT = 1 << 3
GPIO_V2_LINE_FLAG_EDGE_RISING = 1 << 4
GPIO_V2_LINE_FLAG_EDGE_FALLING = 1 << 5
GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES = 2
# struct gpio_v2_line_attribute {u32 id; u32 padding; union {u64 flags; u64 values; u32 debounce}}
_ATTR = struct.Struct("<IIQ")
# struct gpio_v2_line_config_attribute {attr; u64 mask}
_CONFIG_ATTR = struct.Struct("<IIQQ")
# struct gpio_v2_line_config {u64 flags; u32 num_attrs; u32 padding[5]; attrs[10]}
_CONFIG_HEAD = struct.Struct("<QI5I")
# struct gpio_v2_line_request {u32 offsets[64]; char consumer[32]; config; u32 num_lines;
#                              u32 event_buffer_size; u32 padding[5]; s32 fd}
_REQUEST_SIZE = 4 * GPIO_V2_LINES_MAX + 32 + _CONFIG_HEAD.size + GPIO_V2_LINE_NUM_ATTRS_MAX * _CONFIG_ATTR.size \
    + 4 + 4 + 20 + 4
# struct gpio_v2_line_values {u64 bits; u64 mask}
_VALUES = struct.Struct("<QQ")
# struct gpio_v2_line_event {u64 timestamp_ns; u32 id; u32 offset; u32 seqno; u32 line_seqno; u32 padding[6]}
EVENT = struct.Struct("<QIIII6I")


def _ioc(direction, nr, size):  # _IOC(dir, 0xB4, nr, size) as asm-generic/ioctl.h builds it
    return (direction << 30) | (size << 16) | (0xB4 << 8) | nr


GPIO_V2_GET_LINE_IOCTL = _ioc(3, 0x07, _REQUEST_SIZE)
GPIO_V2_LINE_GET_VALUES_IOCTL = _ioc(3, 0x0E, _VALUES.size)
GPIO_V2_LINE_SET_VALUES_IOCTL = _ioc(3, 0x0F, _VALUES.size)


def line_request(offset, output, active_low, initial=False, consumer=b"tr069-bridge"):
    """The bytes of a struct gpio_v2_line_request for one line (what GPIO_V2_GET_LINE_IOCTL reads)."""
    flags = (GPIO_V2_LINE_FLAG_OUTPUT if output else
             GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING)
    if active_low:
        flags |= GPIO_V2_LINE_FLAG_ACTIVE_LOW
    attrs = b""
    num_attrs = 0
    if output:
        attrs = _CONFIG_ATTR.pack(GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, 0, 1 if initial else 0, 1)
        num_attrs = 1
    attrs = attrs.ljust(GPIO_V2_LINE_NUM_ATTRS_MAX * _CONFIG_ATTR.size, b"\0")
    offsets = struct.pack("<I", offset).ljust(4 * GPIO_V2_LINES_MAX, b"\0")
    tail = struct.pack("<II5Ii", 1, 0, 0, 0, 0, 0, 0, 0)
    data = offsets + consumer[:31].ljust(32, b"\0") + _CONFIG_HEAD.pack(flags, num_attrs, 0, 0, 0, 0, 0) \
        + attrs + tail
    assert len(data) == _REQUEST_SIZE
    return data


class ChardevLine:
    """One line requested from /dev/gpiochipN. The line's fd carries edge events for inputs.

    The character device cannot read an output's level without claiming it, and claiming sets it: an
    output's first level is what the caller passes as `initial` (the daemon passes its last known state)."""

    kind = "chardev"

    def __init__(self, chip, offset, output, active_low=False, initial=False, dev=DEV):
        import fcntl

        self._fcntl = fcntl
        self.output = output
        self.active_low = bool(active_low)
        self.name = "%s:%d" % (chip, offset)
        buf = bytearray(line_request(offset, output, active_low, initial))
        chip_fd = os.open(os.path.join(dev, chip), os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, buf, True)
        except OSError as e:
            raise GpioError(e.errno, "%s: %s" % (self.name, e.strerror)) from None
        finally:
            os.close(chip_fd)
        self._fd = struct.unpack_from("<i", buf, _REQUEST_SIZE - 4)[0]
        os.set_blocking(self._fd, False)

    def fileno(self):
        return self._fd

    def get(self):
        buf = bytearray(_VALUES.pack(0, 1))
        self._fcntl.ioctl(self._fd, GPIO_V2_LINE_GET_VALUES_IOCTL, buf, True)
        return bool(_VALUES.unpack(buf)[0] & 1)

    def set(self, on):
        if not self.output:
            raise GpioError(errno.EPERM, "%s is an input" % self.name)
        self._fcntl.ioctl(self._fd, GPIO_V2_LINE_SET_VALUES_IOCTL, _VALUES.pack(1 if on else 0, 1))

    def drain(self):
        """Read pending edge events (their content does not matter: the level is read afterwards)."""
        try:
            while os.read(self._fd, EVENT.size * 16):
                pass
        except BlockingIOError:
            pass

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def open_line(name, output, active_low=False, initial=False, root=SYSFS, dev=DEV):
    kind = parse_name(name)
    if kind[0] == "sysfs":
        return SysfsLine(kind[1], output, active_low, root=root)
    return ChardevLine(kind[1], kind[2], output, active_low, initial, dev=dev)


def open_output(name, active_low=False, initial=False, root=SYSFS, dev=DEV):
    return open_line(name, True, active_low, initial, root, dev)


def open_input(name, active_low=False, root=SYSFS, dev=DEV):
    return open_line(name, False, active_low, root=root, dev=dev)


# --- watching inputs ---------------------------------------------------------------------------------------
class Watcher:
    """One pollable descriptor for changes on many lines; dispatch() calls callback(line, value) for each
    line whose logical value differs from the last one seen (a bounce that returns is no change)."""

    def __init__(self):
        self._epoll = select.epoll()
        self._lines = {}  # fd -> [line, callback, last value]
        self._inotify = None
        self._watches = {}  # inotify watch descriptor -> fd of the line

    def fileno(self):
        return self._epoll.fileno()

    def add(self, line, callback):
        fd = line.fileno()
        self._lines[fd] = [line, callback, line.get()]
        if line.kind == "chardev":
            self._epoll.register(fd, select.EPOLLIN)
            return
        try:
            self._epoll.register(fd, select.EPOLLPRI | select.EPOLLERR)
        except PermissionError:  # a plain file, not sysfs: follow its writes
            self._watch_file(line, fd)

    def _watch_file(self, line, fd):
        if self._inotify is None:
            self._inotify = _Inotify()
            self._epoll.register(self._inotify.fileno(), select.EPOLLIN)
        self._watches[self._inotify.add(line.value_path)] = fd

    def dispatch(self):
        changed = set()
        for fd, _ in self._epoll.poll(0):
            if self._inotify is not None and fd == self._inotify.fileno():
                changed.update(self._watches.get(wd) for wd in self._inotify.read())
            else:
                changed.add(fd)
        for fd in changed:
            entry = self._lines.get(fd)
            if entry is None:
                continue
            line = entry[0]
            if line.kind == "chardev":
                line.drain()
            try:
                value = line.get()
            except OSError as e:
                log.warning("gpio %s: %s", line.name, e)
                continue
            if value != entry[2]:
                entry[2] = value
                entry[1](line, value)

    def remove(self, line):
        fd = line.fileno()
        if self._lines.pop(fd, None) is not None:
            try:
                self._epoll.unregister(fd)
            except (OSError, ValueError):
                pass  # an inotify-watched file was never in the epoll set
            for wd, wfd in list(self._watches.items()):
                if wfd == fd:
                    del self._watches[wd]

    def close(self):
        self._epoll.close()
        if self._inotify is not None:
            self._inotify.close()


class _Inotify:
    """inotify through libc (plain files only: development hosts and tests, never real sysfs)."""

    IN_MODIFY = 0x2
    IN_CLOSE_WRITE = 0x8
    IN_NONBLOCK = os.O_NONBLOCK
    IN_CLOEXEC = os.O_CLOEXEC
    _EVENT = struct.Struct("iIII")

    def __init__(self):
        try:  # optional by design: python3-ctypes is not installed on a device, where sysfs needs no inotify
            import ctypes
        except ImportError as e:
            raise GpioError(errno.ENOTSUP, "%s: cannot follow plain files (python3-ctypes)" % e) from None

        # the interpreter's own symbols hold libc's (glibc and musl alike): no ctypes.util.find_library,
        # which imports shutil (bz2, lzma), subprocess and tempfile, about 1 MiB, to find the same library
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(self.IN_NONBLOCK | self.IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self._ctypes = ctypes

    def fileno(self):
        return self._fd

    def add(self, path):
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), self.IN_MODIFY | self.IN_CLOSE_WRITE)
        if wd < 0:
            raise OSError(self._ctypes.get_errno(), "inotify_add_watch %s" % path)
        return wd

    def read(self):
        wds = []
        try:
            while True:
                data = os.read(self._fd, 4096)
                pos = 0
                while pos + self._EVENT.size <= len(data):
                    wd, _mask, _cookie, length = self._EVENT.unpack_from(data, pos)
                    wds.append(wd)
                    pos += self._EVENT.size + length
        except BlockingIOError:
            pass
        return wds

    def close(self):
        os.close(self._fd)
