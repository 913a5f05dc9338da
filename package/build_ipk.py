#!/usr/bin/env python3
"""Build build/tr069-bridge_<version>_all.ipk without the OpenWrt SDK.

    python3 package/build_ipk.py [--out DIR]

An .ipk as OpenWrt 24.10's opkg reads it (and scripts/ipkg-build writes it):
a gzipped tar holding ./debian-binary ("2.0"), ./data.tar.gz (the files,
root:root) and ./control.tar.gz (control, conffiles, maintainer scripts).
Names, dependencies, scripts and the install layout come from the feed
Makefile package/tr069-bridge/Makefile, the one description of the package,
so this build and the SDK's agree. Output is byte-for-byte reproducible:
fixed mtimes (SOURCE_DATE_EPOCH, else the last commit's time), numeric
owners 0:0, sorted entries, gzip without a timestamp.
"""

import argparse
import gzip
import io
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PACKAGE = "tr069-bridge"
FEED_MAKEFILE = os.path.join(HERE, PACKAGE, "Makefile")
CONFIG_MODE = 0o600  # what OpenWrt's $(INSTALL_CONF) gives
EXEC_MODE = 0o755  # $(INSTALL_BIN)
SKIP_NAMES = ("__pycache__", "CVS", ".svn")  # never packaged, like OpenWrt's package-pack.mk


# --- reading the feed Makefile ---------------------------------------------------------------

def _logical_lines(text):
    """Lines with backslash continuations joined, as make reads them."""
    out, buf = [], ""
    for line in text.splitlines():
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append(buf + line)
        buf = ""
    if buf:
        out.append(buf)
    return out


def parse_makefile(path=FEED_MAKEFILE):
    """-> (variables, defines): top-level `NAME:=value` lines and `define NAME ... endef` blocks."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    variables, defines = {}, {}
    name, body = None, []
    for line in text.splitlines():
        if name is not None:
            if line.strip() == "endef":
                defines[name] = "\n".join(body)
                name, body = None, []
            else:
                body.append(line)
            continue
        m = re.match(r"define\s+(\S+)\s*$", line)
        if m:
            name = m.group(1)
    for line in _logical_lines(_strip_defines(text)):
        m = re.match(r"([A-Za-z0-9_]+)\s*:=\s*(.*)$", line)
        if m:
            variables[m.group(1)] = " ".join(m.group(2).split())
    return variables, defines


def _strip_defines(text):
    return re.sub(r"(?ms)^define\s.*?^endef\s*$", "", text)


def package_fields(defines):
    """The `KEY:=value` fields of `define Package/tr069-bridge`."""
    fields = {}
    for line in _logical_lines(defines["Package/" + PACKAGE]):
        m = re.match(r"\s*([A-Z_]+)\s*:=\s*(.*)$", line)
        if m:
            fields[m.group(1)] = " ".join(m.group(2).split())
    return fields


def expand(text, variables):
    """Make's $(VAR) for the simple variables of the Makefile, and $$ -> $."""
    text = re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: variables.get(m.group(1), m.group(0)), text)
    return text.replace("$$", "$")


def version(root=ROOT):
    """bridge.__version__, read as the Makefile's PKG_VERSION reads it (without importing)."""
    with open(os.path.join(root, "bridge", "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "(.*)"', f.read(), re.M)
    if not m:
        raise SystemExit("bridge/__init__.py has no __version__")
    return m.group(1)


class Package:
    """What the feed Makefile says: control fields, scripts, layout, modes."""

    def __init__(self, makefile=FEED_MAKEFILE, root=ROOT):
        self.variables, self.defines = parse_makefile(makefile)
        v = self.variables
        fields = package_fields(self.defines)
        self.name = v["PKG_NAME"]
        self.version = version(root)
        self.arch = fields.get("PKGARCH", "all")
        self.section = fields.get("SECTION", "")
        self.depends = [d.lstrip("+") for d in fields.get("DEPENDS", "").split() if not d.startswith("@")]
        self.maintainer = v.get("PKG_MAINTAINER", "")
        self.description = self.defines.get("Package/%s/description" % self.name, "").strip()
        self.site = v["PYTHON3_SITE"]
        self.schema_dir = v["SCHEMA_DIR"]
        self.conffiles = self.defines.get("Package/%s/conffiles" % self.name, "").split()
        install = self.defines["Package/%s/install" % self.name]
        self.modes = {}  # absolute path on the device -> mode set by $(INSTALL_BIN) / $(INSTALL_CONF)
        for macro, mode in (("INSTALL_BIN", EXEC_MODE), ("INSTALL_CONF", CONFIG_MODE)):
            for src, dest in re.findall(r"\$\(%s\)\s+\$\(PKG_BUILD_DIR\)/files(\S+)\s+\$\(1\)(\S+)" % macro, install):
                target = dest + os.path.basename(src) if dest.endswith("/") else dest
                self.modes[target] = mode

    def script(self, which):
        body = self.defines.get("Package/%s/%s" % (self.name, which))
        return None if body is None else expand(body, self.variables).strip() + "\n"

    def control(self, installed_size):
        lines = [
            "Package: %s" % self.name,
            "Version: %s" % self.version,
            "Depends: %s" % ", ".join(self.depends),
            "Source: package/%s" % self.name,
            "SourceName: %s" % self.name,
            "Section: %s" % self.section,
            "Maintainer: %s" % self.maintainer,
            "Architecture: %s" % self.arch,
            "Installed-Size: %d" % installed_size,
            "Description: " + "\n".join(" " + l.strip() if i else l.strip()
                                         for i, l in enumerate(self.description.splitlines())),
        ]
        return "\n".join(lines) + "\n"

    # --- the install layout, as Package/tr069-bridge/install lays it out -----------------------

    def files(self, root=ROOT):
        """-> sorted [(device path, source path)] for every file in data.tar.gz."""
        out = []

        def tree(src_dir, dest_dir, keep):
            for dirpath, dirnames, filenames in os.walk(src_dir):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_NAMES)
                for fn in sorted(filenames):
                    src = os.path.join(dirpath, fn)
                    if fn.endswith("~") or fn.startswith(".#") or not keep(src):
                        continue
                    out.append((dest_dir + "/" + os.path.relpath(src, src_dir).replace(os.sep, "/"), src))

        tree(os.path.join(root, "bridge"), self.site + "/bridge",
             lambda p: not p.endswith((".pyc", ".pyo")))
        tree(os.path.join(root, "schemas"), self.schema_dir, lambda p: True)
        tree(os.path.join(root, "files"), "", lambda p: True)
        return sorted(out)

    def mode(self, device_path, src):
        if device_path in self.modes:
            return self.modes[device_path]
        return EXEC_MODE if os.stat(src).st_mode & 0o111 else 0o644  # cp -p keeps the tree's bits


# --- writing the archive -------------------------------------------------------------------

def source_date_epoch(root=ROOT):
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        r = subprocess.run(["git", "-C", root, "log", "-1", "--format=%ct"],
                           capture_output=True, text=True, timeout=30)
        return int(r.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def _info(name, mtime, mode, size=0, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.mtime = kind, mode, size, mtime
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""  # --numeric-owner
    return ti


def _tar(entries, mtime):
    """entries: sorted [(name, mode, bytes | None for a directory)] -> uncompressed GNU tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(_info("./", mtime, 0o755, kind=tarfile.DIRTYPE))
        for name, mode, data in entries:
            if data is None:
                tar.addfile(_info("./" + name + "/", mtime, mode, kind=tarfile.DIRTYPE))
            else:
                tar.addfile(_info("./" + name, mtime, mode, len(data)), io.BytesIO(data))
    return buf.getvalue()


def _gzip(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def _with_dirs(files):
    """[(relative path, mode, bytes)] -> the same plus every parent directory, sorted by name."""
    dirs = set()
    for path, _, _ in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    entries = [(d, 0o755, None) for d in dirs] + list(files)
    return sorted(entries, key=lambda e: e[0])


def build(out_dir=None, root=ROOT, makefile=FEED_MAKEFILE):
    """Write the .ipk; -> its path."""
    pkg = Package(makefile, root)
    mtime = source_date_epoch(root)
    data_files = []
    for device_path, src in pkg.files(root):
        with open(src, "rb") as f:
            data_files.append((device_path.lstrip("/"), pkg.mode(device_path, src), f.read()))
    data_tar = _tar(_with_dirs(data_files), mtime)

    control = [("control", 0o644, pkg.control(len(data_tar)).encode())]
    present = {p for p, _ in pkg.files(root)}
    conffiles = [c for c in pkg.conffiles if c in present]  # as ipkg-build keeps only existing ones
    if conffiles:
        control.append(("conffiles", 0o644, ("\n".join(sorted(conffiles)) + "\n").encode()))
    # the wrappers every OpenWrt package gets; the package's own postinst runs inside default_postinst
    control.append(("postinst", EXEC_MODE, (
        '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n'
        '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n'
        '. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n').encode()))
    control.append(("prerm", EXEC_MODE, (
        '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n'
        '. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n').encode()))
    for which, name in (("postinst", "postinst-pkg"), ("prerm", "prerm-pkg"),
                        ("preinst", "preinst"), ("postrm", "postrm")):
        body = pkg.script(which)
        if body is not None:
            control.append((name, EXEC_MODE, body.encode()))
    control_tar = _tar(sorted(control), mtime)

    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("debian-binary", b"2.0\n"), ("data.tar.gz", _gzip(data_tar)),
                           ("control.tar.gz", _gzip(control_tar))):
            tar.addfile(_info("./" + name, mtime, 0o644, len(data)), io.BytesIO(data))
    out_dir = out_dir or os.path.join(root, "build")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "%s_%s_%s.ipk" % (pkg.name, pkg.version, pkg.arch))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(_gzip(outer.getvalue()))
    os.replace(tmp, path)
    return path


def summary(path):
    """-> (package bytes, installed bytes, data entries) of a built .ipk: the figures docs/router.md quotes."""
    with tarfile.open(path, mode="r:gz") as outer:
        data = outer.extractfile("./data.tar.gz").read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as inner:
        entries = len(inner.getmembers())
    return os.path.getsize(path), len(gzip.decompress(data)), entries


def describe(path):
    size, installed, entries = summary(path)
    return "%s: %s bytes; %.2f MB installed, %d entries" % (os.path.relpath(path), format(size, ","),
                                                            installed / 1e6, entries)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "build"), help="output directory (default: build/)")
    args = p.parse_args(argv)
    path = build(args.out)
    print(describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
