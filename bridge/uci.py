"""UCI configuration files (/etc/config/*): parse and write, as libuci reads them.

Used for the daemon's own config on both backends (reading a file is cheaper
than a round trip through rpcd at start-up) and as the host backend's store.
Sections keep their order; values are strings or lists of strings.
"""

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
