"""UCI configuration files (/etc/config/*): parse and write, as libuci reads them.

The host backend's store, and the daemon's own config where it is given as a file. Writes never
rewrite a file from an old copy: `commit` takes libuci's lock (flock on the file), re-reads it, applies
only the changed options and replaces it atomically, as `uci commit` does with its delta.
Sections keep their order; values are strings or lists of strings.

A change is (section, type, option, value): value None deletes the option; option None with value None
deletes the section; a set on a section that does not exist adds it as a named section of that type.
"""

import fcntl
import os
import shlex

from .atomic import write_atomic


class UciError(ValueError):
    """A file that does not parse; .line is the 1-based line, .reason what is wrong there."""

    def __init__(self, line, reason):
        super().__init__("line %d: %s" % (line, reason))
        self.line = line
        self.reason = reason


def parse(text, positions=None):
    """-> list of sections: {'.type': t, '.name': n, '.anonymous': bool, option: str | [str]}

    positions, when given, is filled with (section name, option) -> line of its last assignment
    (and (section name, None) -> line of the section), for messages that point at the file.
    """
    sections = []
    current = None
    anon = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True, posix=True)
        except ValueError as e:
            raise UciError(lineno, str(e)) from None
        if not words:
            continue
        kw = words[0]
        if kw == "package":
            continue
        if kw == "config":
            if len(words) not in (2, 3):
                raise UciError(lineno, "config takes a type and an optional name")
            if len(words) == 3:
                current = {".type": words[1], ".name": words[2], ".anonymous": False}
            else:
                current = {".type": words[1], ".name": "cfg%02x%04x" % (anon, 0), ".anonymous": True}
                anon += 1
            existing = next((s for s in sections if s[".name"] == current[".name"]), None)
            if existing is not None:  # libuci merges a repeated named section
                current = existing
            else:
                sections.append(current)
            if positions is not None:
                positions.setdefault((current[".name"], None), lineno)
        elif kw in ("option", "list"):
            if current is None or len(words) != 3:
                raise UciError(lineno, "%s outside a section or without a value" % kw)
            name, value = words[1], words[2]
            if positions is not None:
                positions[(current[".name"], name)] = lineno
            if kw == "option":
                current[name] = value
            else:
                prev = current.get(name)
                current[name] = (prev if isinstance(prev, list) else []) + [value]
        else:
            raise UciError(lineno, "unknown keyword %r" % kw)
    return sections


def _quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def dump(sections):
    out = []
    for s in sections:
        head = "config %s" % s[".type"]
        if not s.get(".anonymous"):
            head += " " + _quote(s[".name"])
        out.append(head)
        for k, v in s.items():
            if k.startswith("."):
                continue
            for item in (v if isinstance(v, list) else [v]):
                out.append("\t%s %s %s" % ("list" if isinstance(v, list) else "option", k, _quote(str(item))))
        out.append("")
    return "\n".join(out)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read())
    except FileNotFoundError:
        return []


def save(path, sections):
    write_atomic(path, dump(sections), mode=0o600)


def find(sections, name):
    return next((s for s in sections if s[".name"] == name), None)


def apply(sections, changes):
    """The sections with `changes` applied (a new list; the input is not modified)."""
    out = [dict(s) for s in sections]
    for section, stype, option, value in changes:
        s = find(out, section)
        if option is None:
            if value is None and s is not None:
                out.remove(s)
            elif s is None:
                out.append({".type": stype or section, ".name": section, ".anonymous": False})
            continue
        if s is None:
            if value is None:
                continue
            s = {".type": stype or section, ".name": section, ".anonymous": False}
            out.append(s)
        if value is None:
            s.pop(option, None)
        else:
            s[option] = [text(x) for x in value] if isinstance(value, (list, tuple)) else text(value)
    return out


def text(value):
    """A value as UCI stores it (booleans as 1/0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def commit(path, changes):
    """Apply `changes` to the file as it is now, under libuci's lock; returns the new sections."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        sections = apply(load(path), changes)
        save(path, sections)
        return sections
    finally:
        os.close(fd)  # the lock goes with the descriptor (the renamed-over inode: as libuci)
