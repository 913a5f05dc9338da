"""UCI configuration files (/etc/config/*): parse and write, as libuci reads them.

Used for the daemon's own config on both backends (reading a file is cheaper
than a round trip through rpcd at start-up) and as the host backend's store.
Sections keep their order; values are strings or lists of strings.
"""

import shlex

from .atomic import write_atomic


class UciError(ValueError):
    pass


def parse(text):
    """-> list of sections: {'.type': t, '.name': n, '.anonymous': bool, option: str | [str]}"""
    sections = []
    current = None
    anon = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True, posix=True)
        except ValueError as e:
            raise UciError("line %d: %s" % (lineno, e)) from None
        if not words:
            continue
        kw = words[0]
        if kw == "package":
            continue
        if kw == "config":
            if len(words) not in (2, 3):
                raise UciError("line %d: config takes a type and an optional name" % lineno)
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
        elif kw in ("option", "list"):
            if current is None or len(words) != 3:
                raise UciError("line %d: %s outside a section or without a value" % (lineno, kw))
            name, value = words[1], words[2]
            if kw == "option":
                current[name] = value
            else:
                prev = current.get(name)
                current[name] = (prev if isinstance(prev, list) else []) + [value]
        else:
            raise UciError("line %d: unknown keyword %r" % (lineno, kw))
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
