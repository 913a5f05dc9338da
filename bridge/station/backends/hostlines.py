"""The host backend: lines that are plain files in the state directory (`make run`, the tests).

<state>/station/contactor<N>/output, .../feedback and <state>/station/local_switch hold "0" or "1" as a
sysfs value file does. An output may drive a simulated contact: writing it writes its feedback file too,
as a contactor's auxiliary contact follows its coil. A person (or a test) moves the local switch or makes
a contact drop by writing a file: `echo 1 > <state>/station/local_switch`. The gpio Watcher follows these
files (inotify), so the daemon reacts at once and without polling.
"""

import os


class FileLine:
    kind = "file"

    def __init__(self, path, output, initial=False, contact=None):
        self.value_path = path
        self.name = path
        self.output = output
        self.contact = contact  # the FileLine an output's simulated contact writes
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        if not os.path.exists(path):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write("1\n" if initial else "0\n")
        self._fd = os.open(path, os.O_RDWR)

    def fileno(self):
        return self._fd

    def get(self):
        data = os.pread(self._fd, 8, 0).strip()
        if data not in (b"0", b"1"):
            raise OSError("%s reads %r (0 or 1 expected)" % (self.value_path, data))
        return data == b"1"

    def set(self, on):
        if not self.output:
            raise OSError("%s is an input" % self.value_path)
        self.write(on)
        if self.contact is not None:
            self.contact.write(on)

    def write(self, on):
        os.pwrite(self._fd, b"1\n" if on else b"0\n", 0)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def simulated(directory, ids=(1, 2, 3, 4)):
    """Four contactors with feedback contacts and a local switch, as files: {id: (output, feedback)}, switch."""
    contactors = {}
    for i in ids:
        feedback = FileLine(os.path.join(directory, "contactor%d" % i, "feedback"), False)
        output = FileLine(os.path.join(directory, "contactor%d" % i, "output"), True, contact=feedback)
        contactors[i] = (output, feedback)
    return contactors, FileLine(os.path.join(directory, "local_switch"), False)


def open_line(name, output, active_low=False, initial=False, directory="."):
    """A configured host line: `name` is a file name under the station directory (or an absolute path)."""
    return FileLine(os.path.join(directory, name), output, initial)
