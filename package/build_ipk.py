#!/usr/bin/env python3
"""Build the feed's packages (tr069-bridge, tr069-bridge-src, luci-app-tr069) without the OpenWrt SDK.

    python3 package/build_ipk.py [--out DIR] [--pot]

Each package/<name>/Makefile is read and carried out the way the SDK carries it out, for the parts these
Makefiles use: Build/Prepare, Build/Compile and the install steps ($(INSTALL_DIR), $(INSTALL_BIN),
$(INSTALL_DATA), $(INSTALL_CONF), $(CP), mkdir, the __pycache__ clean-up) run in a staging directory;
a Makefile that includes python3-package.mk is built as Py3Package builds it (the Python package compiled
to byte-code, `compileall -b -d /`, the sources left out; its -src package the sources only); one that
includes luci.mk as luci.mk builds it (htdocs/ to /www, root/ to /). A line this script does not know
stops the build with that line: the Makefiles and this script never disagree silently.

An .ipk as OpenWrt 24.10's opkg reads it (and scripts/ipkg-build writes it): a gzipped tar holding
./debian-binary ("2.0"), ./data.tar.gz (the files, root:root) and ./control.tar.gz (control, conffiles,
maintainer scripts). Version as the SDK writes it: PKG_VERSION-rPKG_RELEASE. Output is byte-for-byte
reproducible: fixed mtimes (SOURCE_DATE_EPOCH, else the last commit's time), numeric owners 0:0, sorted
entries, gzip without a timestamp, byte-code compiled with a fixed hash seed in checked-hash mode (as
python3-package.mk compiles it under the SDK's SOURCE_DATE_EPOCH).

The byte-code is the host Python's: it must be the minor version OpenWrt 24.10 runs (3.11), or the device
cannot load it; another version is refused with a message saying so.
"""

import argparse
import glob
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FEED = "tr069"  # the feed's name in openwrt-sdk.md (src-link tr069 <project>/package)
# packages feed, branch openwrt-24.10, lang/python/python3-version.mk
OPENWRT_PYTHON = (3, 11)
PYTHON3_PKG_DIR = "/usr/lib/python%d.%d/site-packages" % OPENWRT_PYTHON
CONFIG_MODE, EXEC_MODE, DATA_MODE, DIR_MODE = 0o600, 0o755, 0o644, 0o755
SKIP_NAMES = ("CVS", ".svn")  # never packaged, like OpenWrt's package-pack.mk (also .#* and *~)
# what every non-kmod package depends on first (include/package-defaults.mk, PKG_DEFAULT_DEPENDS, musl)
DEFAULT_DEPENDS = ["libc"]


class MakefileError(SystemExit):
    pass


# --- reading a feed Makefile -------------------------------------------------------------------------

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


def parse_makefile(path):
    """-> (variables, defines, includes): top-level `NAME:=value` / `NAME?=value` lines, `define NAME ...
    endef` blocks and the files named by `include` lines."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    variables, defines, includes = {}, {}, []
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
    for line in _logical_lines(re.sub(r"(?ms)^define\s.*?^endef\s*$", "", text)):
        m = re.match(r"([A-Za-z0-9_]+)\s*[:?]=\s*(.*)$", line)
        if m:
            variables[m.group(1)] = " ".join(m.group(2).split())
        m = re.match(r"include\s+(\S+)", line)
        if m:
            includes.append(m.group(1))
    return variables, defines, includes


def fields_of(define):
    """The `KEY:=value` (and `KEY+=value`) fields of a `define Package/<name>` block."""
    fields = {}
    for line in _logical_lines(define):
        m = re.match(r"\s*([A-Z_]+)\s*(:|\+)=\s*(.*)$", line)
        if m:
            value = " ".join(m.group(3).split())
            fields[m.group(1)] = (fields.get(m.group(1), "") + " " + value).strip() if m.group(2) == "+" else value
    return fields


def version(root=ROOT):
    """bridge.__version__, read as the Makefiles' PKG_VERSION reads it (sed, without importing)."""
    with open(os.path.join(root, "bridge", "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "(.*)"', f.read(), re.M)
    if not m:
        raise MakefileError("bridge/__init__.py has no __version__")
    return m.group(1)


def check_python(version_info=None):
    """None when this interpreter compiles byte-code the device loads, else why not (one message)."""
    have = tuple((version_info or sys.version_info)[:2])
    if have == OPENWRT_PYTHON:
        return None
    want = "%d.%d" % OPENWRT_PYTHON
    return ("make ipk: this is Python %d.%d, but OpenWrt 24.10 runs Python %s: byte-code compiled by %d.%d "
            "does not load there (each minor version has its own format). Run it with Python %s: "
            "make ipk PYTHON=python%s" % (have + (want,) + have + (want, want)))


class Makefile:
    """One package/<dir>/Makefile: its variables, expanded the way make expands the simple ones."""

    def __init__(self, directory, root=ROOT):
        self.dir = directory
        self.path = os.path.join(directory, "Makefile")
        self.root = root
        self.variables, self.defines, self.includes = parse_makefile(self.path)
        v = self.variables
        v["PROJECT_DIR"] = root
        v["PKG_VERSION"] = version(root)  # $(shell sed ... bridge/__init__.py)
        v["PYTHON3_PKG_DIR"] = PYTHON3_PKG_DIR
        v.setdefault("PKG_NAME", os.path.basename(directory))  # luci.mk: PKG_NAME?=$(LUCI_NAME)
        self.kind = ("py3" if any(i.endswith("/python3-package.mk") for i in self.includes) else
                     "luci" if any(i.endswith("/luci.mk") for i in self.includes) else "plain")

    def expand(self, text, extra=None):
        """$(VAR) for the Makefile's variables (and `extra`), until nothing changes; then $$ -> $."""
        values = dict(self.variables, **(extra or {}))
        for _ in range(10):
            new = re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: values.get(m.group(1), m.group(0)), text)
            if new == text:
                break
            text = new
        return text.replace("$$", "$")

    def get(self, name, default=""):
        return self.expand(self.variables.get(name, default))


# --- carrying out install steps ------------------------------------------------------------------------

def _copy_tree(src, dest):
    """cp -fpR src dest (dest an existing directory: into it)."""
    target = os.path.join(dest, os.path.basename(src.rstrip("/"))) if os.path.isdir(dest) else dest
    if os.path.isdir(src):
        shutil.copytree(src, target, dirs_exist_ok=True, symlinks=True)
    else:
        shutil.copy2(src, target)


def _install(sources, dest, mode):
    """install -m<mode> sources... dest (a directory when it ends in / or several sources are given)."""
    for src in sources:
        target = os.path.join(dest, os.path.basename(src)) if dest.endswith("/") or os.path.isdir(dest) else dest
        shutil.copyfile(src, target)
        os.chmod(target, mode)


def run_steps(makefile, define, where):
    """Carry out the lines of a define (already expanded) that these Makefiles use."""
    for line in _logical_lines(define):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        cmd, args = words[0], words[1:]

        def paths(items):
            out = []
            for item in items:
                hits = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
                if not hits or not all(os.path.lexists(h) for h in hits):
                    raise MakefileError("%s: %s: no such file: %s" % (makefile.path, where, item))
                out += hits
            return out

        if cmd in ("$(INSTALL_DIR)",) or (cmd == "mkdir" and args[:1] == ["-p"]):
            for d in (args if cmd != "mkdir" else args[1:]):
                os.makedirs(d, exist_ok=True)
        elif cmd in ("$(INSTALL_BIN)", "$(INSTALL_DATA)", "$(INSTALL_CONF)") and len(args) >= 2:
            mode = {"$(INSTALL_BIN)": EXEC_MODE, "$(INSTALL_DATA)": DATA_MODE, "$(INSTALL_CONF)": CONFIG_MODE}[cmd]
            _install(paths(args[:-1]), args[-1], mode)
        elif cmd == "$(CP)" and len(args) >= 2:
            for src in paths(args[:-1]):
                _copy_tree(src, args[-1])
        elif cmd == "$(FIND)" and args[1:] == ["-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"]:
            for dirpath, dirnames, _ in os.walk(args[0]):
                for d in [d for d in dirnames if d == "__pycache__"]:
                    shutil.rmtree(os.path.join(dirpath, d))
                    dirnames.remove(d)
        else:
            raise MakefileError("%s: %s: build_ipk.py does not know how to carry out: %s"
                                % (makefile.path, where, line.strip()))


def _drop(top, keep):
    """Delete every file under top for which keep(path) is false, then the directories left empty."""
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            if not keep(p):
                os.unlink(p)
        if dirpath != top and not os.listdir(dirpath):
            os.rmdir(dirpath)


def compile_all(top, epoch):
    """python3-package.mk's Python3/CompileAll: `compileall -r 20 -b -d /` over the package directory,
    with PYTHONHASHSEED (and SOURCE_DATE_EPOCH, so checked-hash .pyc) from the source date."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}  # python3-host.mk unexports them
    env.update(SOURCE_DATE_EPOCH=str(epoch), PYTHONHASHSEED=str(epoch % 4294967296), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-m", "compileall", "-q", "-r", "20", "-b", "-d", "/", top],
                       env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise MakefileError("compileall failed:\n%s%s" % (r.stdout, r.stderr))


# --- the packages --------------------------------------------------------------------------------

class Package:
    """One binary package a feed Makefile builds: its control fields, scripts and staged files."""

    def __init__(self, makefile, name, fields, description, scripts, conffiles):
        self.makefile = makefile
        self.name = name
        self.fields = fields  # SECTION, DEPENDS, CONFLICTS, PKGARCH, ... as the define says them
        self.description = description
        self.scripts = scripts  # postinst / prerm / preinst / postrm -> body, or missing
        self.conffiles = conffiles
        m = makefile
        self.version = "%s-r%s" % (m.get("PKG_VERSION"), m.get("PKG_RELEASE")) if m.get("PKG_RELEASE") \
            else m.get("PKG_VERSION")
        self.arch = fields.get("PKGARCH", "all")
        deps = [d.lstrip("+") for d in fields.get("DEPENDS", "").split() if not d.startswith("@")]
        self.depends = DEFAULT_DEPENDS + [d for d in deps if d not in DEFAULT_DEPENDS]
        self.conflicts = fields.get("CONFLICTS", "").split()
        self.stage = None  # the directory holding the package's files, once staged

    @property
    def filename(self):
        return "%s_%s_%s.ipk" % (self.name, self.version, self.arch)

    def control(self, installed_size, epoch):
        """As package-pack.mk writes CONTROL/control (fields in its order, empty ones left out)."""
        m = self.makefile
        lines = ["Package: %s" % self.name, "Version: %s" % self.version]
        for field, value in (("Depends", ", ".join(self.depends)), ("Conflicts", ", ".join(self.conflicts)),
                             ("Source", "feeds/%s/%s" % (FEED, os.path.basename(m.dir))),
                             ("SourceName", m.get("PKG_NAME")), ("License", m.get("PKG_LICENSE")),
                             ("LicenseFiles", m.get("PKG_LICENSE_FILES")), ("Section", self.fields.get("SECTION")),
                             ("SourceDateEpoch", str(epoch)), ("URL", self.fields.get("URL")),
                             ("Maintainer", self.fields.get("MAINTAINER") or m.get("PKG_MAINTAINER")),
                             ("Architecture", self.arch), ("Installed-Size", str(installed_size))):
            if value:
                lines.append("%s: %s" % (field, value))
        # printf "Description: "; echo "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
        lines.append("Description: " + "\n".join(" " + l.strip() for l in self.description.split("\n")))
        return "\n".join(lines) + "\n"


def _script(makefile, define_name):
    body = makefile.defines.get(define_name)
    return None if body is None else makefile.expand(body).strip() + "\n"


def _description(makefile, name):
    text = makefile.defines.get("Package/%s/description" % name)
    return makefile.expand(text).strip("\n") if text is not None else ""


def packages_of(makefile):
    """The binary packages one feed Makefile builds, as the SDK would build them."""
    m = makefile
    if m.kind == "luci":
        name = m.get("PKG_NAME")
        fields = {"SECTION": "luci", "DEPENDS": m.get("LUCI_DEPENDS"), "PKGARCH": m.get("LUCI_PKGARCH") or "all",
                  "URL": m.get("LUCI_URL"), "MAINTAINER": m.get("LUCI_MAINTAINER")}
        desc = " ".join(m.get("LUCI_DESCRIPTION").split())
        scripts = {w: _script(m, "Package/%s/%s" % (name, w)) for w in ("postinst", "prerm", "preinst", "postrm")}
        return [Package(m, name, fields, desc, scripts, [])]
    out = []
    for name in re.findall(r"^\$\(eval \$\(call BuildPackage,([^)]+)\)\)", open(m.path).read(), re.M):
        base = name[:-4] if m.kind == "py3" and name.endswith("-src") else name
        fields = fields_of(m.expand(m.defines["Package/" + base]))
        desc = _description(m, base)
        conffiles = m.expand(m.defines.get("Package/%s/conffiles" % name, "")).split()
        if name != base:  # Py3Package's Package/$(1)-src: the same package, no dependencies, no conffiles
            fields = dict(fields, DEPENDS="", CONFLICTS="", PROVIDES="")
            desc += "\n\nThis package contains the Python source files for %s." % base
        scripts = {w: _script(m, "Package/%s/%s" % (name, w)) for w in ("postinst", "prerm", "preinst", "postrm")}
        out.append(Package(m, name, fields, desc, scripts, conffiles))
    return out


def feed_makefiles(root=ROOT):
    here = os.path.join(root, "package")
    return [Makefile(os.path.join(here, d), root) for d in sorted(os.listdir(here))
            if os.path.isfile(os.path.join(here, d, "Makefile"))]


def stage(makefile, pkgs, workdir):
    """Run the Makefile's build and install steps; each package's files end up in pkg.stage."""
    m = makefile
    build = os.path.join(workdir, "build", m.get("PKG_NAME"))
    install_dir = os.path.join(build, "ipkg-install")
    extra = {"PKG_BUILD_DIR": build, "PKG_INSTALL_DIR": install_dir, "CURDIR": m.dir}
    os.makedirs(build)
    if m.kind == "luci":  # luci.mk: Build/Prepare copies htdocs/ root/; install puts them at /www and /
        for pkg in pkgs:
            pkg.stage = os.path.join(workdir, "ipkg", pkg.name)
            os.makedirs(pkg.stage)
            for sub, dest in (("htdocs", "www"), ("root", "")):
                src = os.path.join(m.dir, sub)
                if os.path.isdir(src):
                    shutil.copytree(src, os.path.join(pkg.stage, dest), dirs_exist_ok=True)
        return
    for step in ("Build/Prepare", "Build/Compile"):
        run_steps(m, m.expand(m.defines.get(step, ""), extra), step)
    for pkg in pkgs:
        pkg.stage = os.path.join(workdir, "ipkg", pkg.name)
        os.makedirs(pkg.stage)
        base = pkg.name[:-4] if m.kind == "py3" and pkg.name.endswith("-src") else pkg.name
        install = m.defines.get(("Py3Package/%s/install" if m.kind == "py3" else "Package/%s/install") % base)
        if install is None:
            raise MakefileError("%s: no install steps for %s" % (m.path, base))
        run_steps(m, m.expand(install, dict(extra, **{"1": pkg.stage})), "install " + pkg.name)
        if m.kind != "py3":
            continue
        # Py3Package/ProcessFilespec, default filespec "+|$(PYTHON3_PKG_DIR)"
        src = install_dir + PYTHON3_PKG_DIR
        if not os.path.isdir(src):
            raise MakefileError("%s: Build/Compile put nothing in $(PKG_INSTALL_DIR)%s" % (m.path, PYTHON3_PKG_DIR))
        shutil.copytree(src, pkg.stage + PYTHON3_PKG_DIR, dirs_exist_ok=True)
        if pkg.name == base:  # byte-code only
            _drop(pkg.stage, lambda p: not p.endswith(".exe"))
            compile_all(pkg.stage, pkg.epoch)
            _drop(pkg.stage, lambda p: not p.endswith(".py"))
        else:  # sources only
            _drop(pkg.stage, lambda p: p.endswith(".py"))


# --- writing the archive -------------------------------------------------------------------------

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
        tar.addfile(_info("./", mtime, DIR_MODE, kind=tarfile.DIRTYPE))
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


def _skipped(name):
    return name in SKIP_NAMES or name.startswith(".#") or name.endswith("~")


def staged_entries(top):
    """-> sorted [(relative path, mode, bytes | None)] of a staged tree; modes as the install steps set
    them (a copied file: 0755 if executable, else 0644; directories 0755)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not _skipped(d))
        for d in dirnames:
            out.append((os.path.relpath(os.path.join(dirpath, d), top), DIR_MODE, None))
        for fn in sorted(f for f in filenames if not _skipped(f)):
            path = os.path.join(dirpath, fn)
            mode = os.stat(path).st_mode & 0o777
            if mode not in (CONFIG_MODE, EXEC_MODE, DATA_MODE):
                mode = EXEC_MODE if mode & 0o111 else DATA_MODE
            with open(path, "rb") as f:
                out.append((os.path.relpath(path, top), mode, f.read()))
    return sorted(out, key=lambda e: e[0])


def write_ipk(pkg, out_dir, mtime):
    data_tar = _tar(staged_entries(pkg.stage), mtime)
    control = [("control", DATA_MODE, pkg.control(len(data_tar), mtime).encode())]
    present = {"/" + e[0] for e in staged_entries(pkg.stage) if e[2] is not None}
    conffiles = [c for c in pkg.conffiles if c in present]  # as ipkg-build keeps only existing ones
    if conffiles:
        control.append(("conffiles", DATA_MODE, ("\n".join(conffiles) + "\n").encode()))
    # the wrappers every OpenWrt package gets; the package's own scripts run inside default_postinst and
    # default_prerm
    control.append(("postinst", EXEC_MODE, (
        '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n'
        '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n'
        '. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n').encode()))
    control.append(("prerm", EXEC_MODE, (
        '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n'
        '. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n').encode()))
    for which, name in (("postinst", "postinst-pkg"), ("prerm", "prerm-pkg"),
                        ("preinst", "preinst"), ("postrm", "postrm")):
        body = pkg.scripts.get(which)
        if body is not None:
            control.append((name, EXEC_MODE, body.encode()))
    control_tar = _tar(sorted(control), mtime)

    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("debian-binary", b"2.0\n"), ("data.tar.gz", _gzip(data_tar)),
                           ("control.tar.gz", _gzip(control_tar))):
            tar.addfile(_info("./" + name, mtime, DATA_MODE, len(data)), io.BytesIO(data))
    path = os.path.join(out_dir, pkg.filename)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(_gzip(outer.getvalue()))
    os.replace(tmp, path)
    return path


def build(out_dir=None, root=ROOT):
    """Build every package of the feed; -> {package name: path of its .ipk}."""
    problem = check_python()
    if problem:
        raise MakefileError(problem)
    out_dir = out_dir or os.path.join(root, "build")
    os.makedirs(out_dir, exist_ok=True)
    mtime = source_date_epoch(root)
    built = {}
    with tempfile.TemporaryDirectory(prefix="build_ipk.") as work:
        for makefile in feed_makefiles(root):
            pkgs = packages_of(makefile)
            for pkg in pkgs:
                pkg.epoch = mtime
            stage(makefile, pkgs, os.path.join(work, os.path.basename(makefile.dir)))
            for pkg in pkgs:
                built[pkg.name] = write_ipk(pkg, out_dir, mtime)
    return built


# --- figures and the translation template -------------------------------------------------------------

def summary(path):
    """-> (package bytes, installed bytes, data entries) of a built .ipk: the figures the docs quote."""
    with tarfile.open(path, mode="r:gz") as outer:
        data = outer.extractfile("./data.tar.gz").read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as inner:
        entries = len(inner.getmembers())
    return os.path.getsize(path), len(gzip.decompress(data)), entries


def describe(path):
    size, installed, entries = summary(path)
    return "%s: %s bytes; %.2f MB installed, %d entries" % (os.path.relpath(path), format(size, ","),
                                                            installed / 1e6, entries)


JS_STRING = r"'((?:[^'\\\n]|\\.)*)'"


def translatable(js_text):
    """The strings of LuCI's _('...') calls in a view, in order of first use."""
    out = []
    for m in re.finditer(r"\b_\(\s*" + JS_STRING, js_text):
        s = re.sub(r"\\(.)", r"\1", m.group(1))
        if s not in out:
            out.append(s)
    return out


def pot(root=ROOT):
    """po/templates/tr069.pot of luci-app-tr069: every _() string of its views (what LuCI's
    build/i18n-scan.pl gathers), for translators."""
    app = os.path.join(root, "package", "luci-app-tr069")
    strings, where = [], {}
    for path in sorted(glob.glob(os.path.join(app, "htdocs", "**", "*.js"), recursive=True)):
        rel = os.path.relpath(path, app)
        with open(path, encoding="utf-8") as f:
            for s in translatable(f.read()):
                if s not in where:
                    strings.append(s)
                    where[s] = rel
    out = ['msgid ""', 'msgstr "Content-Type: text/plain; charset=UTF-8"', ""]
    for s in strings:
        escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out += ["#: %s" % where[s], 'msgid "%s"' % escaped, 'msgstr ""', ""]
    return "\n".join(out)


POT = os.path.join(ROOT, "package", "luci-app-tr069", "po", "templates", "tr069.pot")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "build"), help="output directory (default: build/)")
    p.add_argument("--pot", action="store_true", help="rewrite %s from the view instead" % os.path.relpath(POT))
    args = p.parse_args(argv)
    if args.pot:
        with open(POT, "w", encoding="utf-8") as f:
            f.write(pot())
        print(os.path.relpath(POT))
        return 0
    try:
        built = build(args.out)
    except MakefileError as e:
        print(e, file=sys.stderr)
        return 1
    for name in sorted(built):
        print(describe(built[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
