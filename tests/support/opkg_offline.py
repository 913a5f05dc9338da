"""An offline root that .ipk files are installed into as opkg lays them out.

What opkg (openwrt/opkg-lede, as OpenWrt 24.10 ships it) does with --offline-root, in the parts the
feed's packages use, checked by hand against a real opkg built from that repository (docs/packaging.md):

- install: Depends must be installed, no installed package may conflict (both directions), a lower
  version than the installed one is refused ("Not downgrading"); the data is unpacked; every member
  of control.tar.gz is kept as usr/lib/opkg/info/<package>.<member>; <package>.list names the files
  (not the directories); usr/lib/opkg/status gets the control fields with `Status: install user
  installed` and `Conffiles:` (path and sha256 of the file as unpacked);
- upgrade: old prerm `upgrade <new version>`, new preinst `upgrade <old version>`, a conffile the user
  changed is kept and the new one written beside it as <path>-opkg, old postrm `upgrade <new version>`
  (before the new files are unpacked), files of the old list the new one lacks are removed;
- remove: prerm `remove`, every listed file deleted except a conffile the user changed, postrm
  `remove`; directories stay (the list holds no directories);
- maintainer scripts run only when asked (opkg: --force-postinstall; the image builder runs each
  postinst with IPKG_INSTROOT set), here with IPKG_INSTROOT=<root>. The postinst and prerm wrappers
  source <root>/lib/functions.sh; `functions_sh()` writes a small one with base-files' default_postinst
  and default_prerm behaviour (the package's -pkg script, then the init scripts of its list enabled
  or disabled).
"""

import hashlib
import io
import os
import subprocess
import tarfile

INFO = "usr/lib/opkg/info"
STATUS = "usr/lib/opkg/status"


class OpkgError(Exception):
    pass


def read_ipk(path):
    """-> (control fields, {control member: bytes}, data tarfile bytes)."""
    with tarfile.open(path, mode="r:gz") as outer:
        members = {m.name: outer.extractfile(m).read() for m in outer.getmembers()}
    if members.get("./debian-binary") != b"2.0\n":
        raise OpkgError("%s: not an ipk" % path)
    control = {}
    with tarfile.open(fileobj=io.BytesIO(members["./control.tar.gz"]), mode="r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                control[m.name[2:]] = tar.extractfile(m).read()
    return parse_fields(control["control"].decode()), control, members["./data.tar.gz"]


def parse_fields(text):
    fields, last = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and last:
            fields[last] += "\n" + line
        elif line.strip():
            last, _, value = line.partition(":")
            fields[last] = value.strip()
    return fields


def names(field):
    """'a, b (>= 1), c' -> ['a', 'b', 'c']"""
    return [d.split()[0] for d in field.split(",") if d.strip()] if field else []


def version_key(v):
    """opkg's version order for the forms used here: upstream parts, then -r<release> numerically."""
    upstream, _, release = v.partition("-")
    parts = [int(p) if p.isdigit() else p for p in upstream.replace("~", ".").split(".")]
    return parts, int(release.lstrip("r") or 0) if release.lstrip("r").isdigit() else 0


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


FUNCTIONS_SH = r"""# base-files' default_postinst / default_prerm, as far as the feed's packages need them
default_postinst() {
	local root="${IPKG_INSTROOT}" pkgname="$(basename "${1%.*}")" ret=0
	if [ -f "$root/usr/lib/opkg/info/${pkgname}.postinst-pkg" ]; then
		( . "$root/usr/lib/opkg/info/${pkgname}.postinst-pkg" ); ret=$?
	fi
	for i in $(grep -s "^/etc/init.d/" "$root/usr/lib/opkg/info/${pkgname}.list"); do
		start=$(sed -n 's/^START=//p' "$root$i")
		mkdir -p "$root/etc/rc.d" && ln -sf "../init.d/${i##*/}" "$root/etc/rc.d/S${start}${i##*/}"
	done
	return $ret
}
default_prerm() {
	local root="${IPKG_INSTROOT}" pkgname="$(basename "${1%.*}")" ret=0
	if [ -f "$root/usr/lib/opkg/info/${pkgname}.prerm-pkg" ]; then
		( . "$root/usr/lib/opkg/info/${pkgname}.prerm-pkg" ); ret=$?
	fi
	for i in $(grep -s "^/etc/init.d/" "$root/usr/lib/opkg/info/${pkgname}.list"); do
		rm -f "$root"/etc/rc.d/*"${i##*/}"
	done
	return $ret
}
"""


class OfflineRoot:
    def __init__(self, root, run_scripts=True, base=()):
        """base: package names taken as installed already (libc, python3-light, ...)."""
        self.root = str(root)
        self.run_scripts = run_scripts
        self.scripts_run = []  # (package, script, args) in order
        os.makedirs(os.path.join(self.root, INFO), exist_ok=True)
        self.status = {name: {"Package": name, "Version": "1", "Status": "install user installed"}
                       for name in base}
        self._write_status()

    def functions_sh(self):
        os.makedirs(os.path.join(self.root, "lib"), exist_ok=True)
        with open(os.path.join(self.root, "lib", "functions.sh"), "w") as f:
            f.write(FUNCTIONS_SH)

    # --- the database ----------------------------------------------------------------------------
    def info(self, package, member):
        return os.path.join(self.root, INFO, "%s.%s" % (package, member))

    def files_of(self, package):
        try:
            with open(self.info(package, "list")) as f:
                return [line.rstrip("\n") for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def conffiles_of(self, package):
        """{path: sha256 recorded at install}"""
        lines = self.status.get(package, {}).get("Conffiles", "").split("\n")
        return dict(line.split() for line in lines if line.strip())

    def _write_status(self):
        out = []
        for name in sorted(self.status):
            entry = self.status[name]
            for key in ("Package", "Version", "Depends", "Conflicts", "Status", "Architecture", "Conffiles",
                        "Installed-Time"):
                if entry.get(key):
                    value = entry[key]
                    out.append("%s:%s" % (key, ("\n" + value) if key == "Conffiles" else " " + value))
            out.append("")
        with open(os.path.join(self.root, STATUS), "w") as f:
            f.write("\n".join(out) + "\n")

    def path(self, name):
        return os.path.join(self.root, name.lstrip("/"))

    def modified(self, package, conffile):
        recorded = self.conffiles_of(package).get(conffile)
        p = self.path(conffile)
        return recorded is not None and os.path.exists(p) and sha256(p) != recorded

    # --- scripts ---------------------------------------------------------------------------------
    def script(self, package, which, *args, staged=None):
        path = os.path.join(staged, which) if staged else self.info(package, which)
        if not self.run_scripts or not os.path.exists(path):
            return
        self.scripts_run.append((package, which) + args)
        r = subprocess.run(["sh", path] + list(args), env=dict(os.environ, IPKG_INSTROOT=self.root,
                                                               PKG_UPGRADE="1" if args[:1] == ("upgrade",) else "0"),
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise OpkgError("%s.%s %s failed: %s" % (package, which, " ".join(args), r.stderr))

    # --- install, upgrade, remove ----------------------------------------------------------------
    def install(self, ipk_path):
        fields, control, data = read_ipk(ipk_path)
        name, new_version = fields["Package"], fields["Version"]
        old = self.status.get(name)
        if old and version_key(old["Version"]) > version_key(new_version):
            raise OpkgError("Not downgrading package %s from %s to %s" % (name, old["Version"], new_version))
        missing = [d for d in names(fields.get("Depends")) if d not in self.status]
        if missing:
            raise OpkgError("cannot install %s: missing dependencies %s" % (name, ", ".join(missing)))
        clash = [p for p in names(fields.get("Conflicts")) if p in self.status] + \
            [p for p, e in self.status.items() if name in names(e.get("Conflicts"))]
        if clash:
            raise OpkgError("The following packages conflict with %s: %s" % (name, ", ".join(clash)))
        staged = os.path.join(self.root, "usr", "lib", "opkg", "tmp-" + name)
        os.makedirs(staged, exist_ok=True)
        for member, body in control.items():
            with open(os.path.join(staged, member), "wb") as f:
                f.write(body)
        old_files = set(self.files_of(name)) if old else set()
        if old:
            self.script(name, "prerm", "upgrade", new_version)
            self.script(name, "preinst", "upgrade", old["Version"], staged=staged)
        else:
            self.script(name, "preinst", "install", staged=staged)
        new_conffiles = control.get("conffiles", b"").decode().split()
        keep = {c for c in new_conffiles if old and self.modified(name, c)}
        if old:
            self.script(name, "postrm", "upgrade", new_version)
        files = []
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for m in tar.getmembers():
                rel = "/" + m.name[2:].rstrip("/") if m.name.startswith("./") else "/" + m.name
                if m.isdir():
                    os.makedirs(self.path(rel), exist_ok=True)
                    continue
                target = self.path(rel) + ("-opkg" if rel in keep else "")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(tar.extractfile(m).read())
                os.chmod(target, m.mode)
                os.utime(target, (m.mtime, m.mtime))
                files.append(rel)
        for gone in sorted(old_files - set(files)):
            if os.path.lexists(self.path(gone)):
                os.unlink(self.path(gone))
        for member in os.listdir(os.path.join(self.root, INFO)):
            if member.startswith(name + ".") and member[len(name) + 1:] in ("postinst", "prerm", "postinst-pkg",
                                                                              "prerm-pkg", "preinst", "postrm"):
                os.unlink(os.path.join(self.root, INFO, member))
        for member, body in control.items():
            with open(self.info(name, member), "wb") as f:
                f.write(body)
            os.chmod(self.info(name, member), 0o755 if member not in ("control", "conffiles") else 0o644)
        with open(self.info(name, "list"), "w") as f:
            f.write("".join(p + "\n" for p in files))
        recorded = dict(self.conffiles_of(name)) if old else {}
        conf = "\n".join(" %s %s" % (c, recorded[c] if c in keep else sha256(self.path(c)))
                         for c in new_conffiles if os.path.exists(self.path(c)))
        self.status[name] = dict({k: fields[k] for k in ("Package", "Version", "Depends", "Conflicts",
                                                          "Architecture") if k in fields},
                                 Status="install user installed", Conffiles=conf, **{"Installed-Time": "1"})
        self._write_status()
        for member in os.listdir(staged):
            os.unlink(os.path.join(staged, member))
        os.rmdir(staged)
        self.script(name, "postinst", "configure")
        return name

    def remove(self, name):
        if name not in self.status:
            raise OpkgError("%s is not installed" % name)
        needed_by = [p for p, e in self.status.items() if name in names(e.get("Depends"))]
        if needed_by:
            raise OpkgError("%s is needed by %s" % (name, ", ".join(needed_by)))
        self.script(name, "prerm", "remove")
        for rel in self.files_of(name):
            if rel in self.conffiles_of(name) and self.modified(name, rel):
                continue  # "Not deleting modified conffile"
            if os.path.lexists(self.path(rel)):
                os.unlink(self.path(rel))
        self.script(name, "postrm", "remove")
        for member in os.listdir(os.path.join(self.root, INFO)):
            if member.startswith(name + "."):
                os.unlink(os.path.join(self.root, INFO, member))
        del self.status[name]
        self._write_status()

    def files(self):
        """Every file under the root, but opkg's own database."""
        out = []
        for dirpath, _, filenames in os.walk(self.root):
            for fn in filenames:
                rel = "/" + os.path.relpath(os.path.join(dirpath, fn), self.root)
                if not rel.startswith("/usr/lib/opkg/") and rel != "/lib/functions.sh":
                    out.append(rel)
        return sorted(out)
