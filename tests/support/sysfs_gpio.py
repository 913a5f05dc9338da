"""A directory laid out as the kernel lays out sysfs GPIO (Documentation/admin-guide/gpio/sysfs.rst):

    <root>/export, <root>/unexport          write a line number to (un)export it
    <root>/gpiochip0/{base,label,ngpio}     one controller
    <root>/gpioN/{active_low,direction,edge,value}

export and unexport are FIFOs served by a thread, so writing a number creates (removes) gpioN as the
kernel does; the attribute files are plain files holding what the kernel would print ("0\\n", "in\\n").
`kernel_set(n, v)` changes an input's level the way a wire does: behind the daemon's back.
"""

import os
import shutil
import threading


class SysfsGpioTree:
    def __init__(self, root, base=0, ngpio=32, label="gpio-test"):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)
        chip = os.path.join(self.root, "gpiochip%d" % base)
        os.makedirs(chip, exist_ok=True)
        for name, text in (("base", base), ("label", label), ("ngpio", ngpio)):
            self._put(os.path.join(chip, name), text)
        self.base, self.ngpio = base, ngpio
        self.exports = []  # what was written to export, in order
        self._threads = []
        for name in ("export", "unexport"):
            path = os.path.join(self.root, name)
            os.mkfifo(path, 0o200)
            t = threading.Thread(target=self._serve, args=(path, name), daemon=True)
            t.start()
            self._threads.append((path, t))

    @staticmethod
    def _put(path, text):
        with open(path, "w") as f:
            f.write("%s\n" % text)

    def _serve(self, path, name):
        while True:
            with open(path, "rb") as f:
                data = f.read().decode().strip()
            if data == "quit":
                return
            if not data.isdigit() or not self.base <= int(data) < self.base + self.ngpio:
                continue  # the kernel answers EINVAL; the writer cannot tell here, the missing dir tells
            n = int(data)
            if name == "export":
                self.exports.append(n)
                if not os.path.isdir(self._dir(n)):
                    self.add_line(n)
            else:
                shutil.rmtree(self._dir(n), ignore_errors=True)

    def _dir(self, n):
        return os.path.join(self.root, "gpio%d" % n)

    def add_line(self, n, direction="in", value=0, active_low=0, edge="none", interrupts=True):
        """A line as the kernel shows it once exported (or as another program left it)."""
        d = self._dir(n)
        # the kernel shows gpioN with its attributes at once: a new line is built aside and renamed into place,
        # so a reader never finds the directory without its files
        build = d if os.path.isdir(d) else os.path.join(self.root, ".gpio%d.new" % n)
        os.makedirs(build, exist_ok=True)
        self._put(os.path.join(build, "active_low"), active_low)
        self._put(os.path.join(build, "direction"), direction)
        self._put(os.path.join(build, "value"), value)
        if interrupts:  # lines without IRQ support have no edge attribute
            self._put(os.path.join(build, "edge"), edge)
        if build != d:
            os.rename(build, d)
        return d

    def read(self, n, attr):
        with open(os.path.join(self._dir(n), attr)) as f:
            return f.read().strip()

    def kernel_set(self, n, value):
        """The input's level changes on the wire: the kernel's value attribute now reads it."""
        fd = os.open(os.path.join(self._dir(n), "value"), os.O_WRONLY)
        try:
            os.pwrite(fd, b"1\n" if value else b"0\n", 0)  # in place, as an attribute changes
        finally:
            os.close(fd)

    def close(self):
        for path, t in self._threads:
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, b"quit")
            os.close(fd)
            t.join(2)
