"""The state view as text a person reads (`tr069-bridge state`): a line per fact, aligned tables for what
comes in rows (the link's history, transfers, errors, readings, indicator groups, contactors), words for
values (yes/no, "-" for nothing, sizes in KiB). Sections it does not know are printed as aligned
`key  value` lines, one level deep, never as Python values. `--json` gives the view as it is.
"""

WIDTH = 16  # the first column: a section's name, or one of its parts indented


def _size(n):
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def word(value):
    """A JSON value as a word: yes/no, '-' for null or empty, numbers as they are, lists joined."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return ", ".join(word(v) for v in value)
    if isinstance(value, dict):
        return ", ".join("%s %s" % (k, word(v)) for k, v in value.items()) or "-"
    return str(value)


def table(rows, head=None, indent=""):
    """Rows of words in columns as wide as their widest cell (the last one not padded)."""
    rows = [[word(c) if not isinstance(c, str) else (c or "-") for c in r] for r in ([head] if head else []) + rows]
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    return [indent + "  ".join(c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)).rstrip()
            for r in rows]


class Text:
    def __init__(self):
        self.lines = []

    def line(self, name, text):
        self.lines.append(("%-*s %s" % (WIDTH - 1, name, text)).rstrip())

    def rows(self, rows, head=None):
        self.lines += table(rows, head, " " * WIDTH)


def render(view):
    out = Text()
    d = view.get("daemon")
    if d:
        out.line("daemon", "tr069-bridge %s, pid %s, backend %s, up %s s (since %s)" % (
            d["version"], d["pid"], d["backend"], d["uptime"], d["started"]))
        out.line("", "state %s, config %s" % (d["state_dir"], d["config"]))
        out.line("", "components %s; surfaces %s" % (", ".join(d.get("components") or []) or "none",
                                                      ", ".join(d.get("surfaces") or []) or "none"))
    _os3p(out, view.get("os3p"))
    transfers = view.get("transfers")
    if transfers is not None:
        out.line("transfers", "none" if not transfers else "")
        out.rows([[t["name"], t["state"], "-" if t["percent"] is None else "%d %%" % t["percent"],
                   "%s of %s" % (_size(t["bytes_done"]), _size(t["bytes_total"])),
                   "attempt %d of %d" % (t["attempt"], t["attempts"]), t["url"], t["error"] or ""]
                  for t in transfers], ["NAME", "STATE", "DONE", "BYTES", "ATTEMPT", "URL", "ERROR"] if transfers
                 else None)
    errors = view.get("errors")
    if errors is not None:
        out.line("errors", "none" if not errors else "recent warnings and errors")
        out.rows([[e["time"], e["level"], e["source"], e["message"]] for e in errors[-5:]])
    for e in view.get("set_aside") or []:
        if "file" in e:
            out.line("set aside", "%s%s: %s" % (e["file"], " -> %s" % e["as"] if e.get("as") else "", e["why"]))
    shown = {"daemon", "os3p", "transfers", "errors", "set_aside"}
    for name, fn in (("reach", _reach), ("sensors", _sensors), ("streetlights", _streetlights)):
        value = view.get(name)
        if isinstance(value, dict) and "error" not in value:
            fn(out, value)
            shown.add(name)
    for name, value in view.items():
        if name not in shown:
            _other(out, name, value)
    return "\n".join(out.lines)


def _os3p(out, o):
    if o is None:
        return
    if not o.get("enabled"):
        out.line("os3p", "off (os3p.enabled is 0)")
        return
    if "error" in o:
        out.line("os3p", o["error"])
        return
    link = ["connected" if o.get("connected") else "not connected"] + (
        [o["registration"]] if o.get("registration") else [])
    out.line("os3p", "%s (%s)  %s" % (o["link"], ", ".join(link), o["url"]))
    box = o["outbox"]
    oldest = box["oldest"]
    out.line("  outbox", "%d queued%s%s" % (
        box["depth"], ", oldest %s queued %s (%s s ago)" % (oldest["action"], oldest["queued"], oldest["age"])
        if oldest else "", ", %d dropped (full)" % box["dropped"] if box["dropped"] else ""))
    f = o.get("firmware")
    if f:
        versions = "%s -> %s" % (f["from"] or "?", f["to"]) if f.get("to") else "from %s" % (f["from"] or "?")
        out.line("  firmware", "%s%s since %s, %s%s" % (
            f["status"], " (request %s)" % f["requestId"] if f.get("requestId") else "", f["since"] or "?",
            versions, ": %s" % f["error"] if f.get("error") else ""))
        out.line("", f["location"])
    if o.get("history"):
        out.line("  link", "recent events")
        out.rows([[h["time"], h["event"], h["detail"]] for h in o["history"][-5:]])


def _reach(out, r):
    if "state" not in r:
        return _other(out, "reach", r)
    m = r.get("modem") or {}
    modem = ", ".join(str(x) for x in (m.get("registration"), m.get("operator"), m.get("technology"),
                                        "RSRP %g dBm" % m["rsrp"] if "rsrp" in m else None) if x) or "none"
    out.line("reach", "%s since %s%s%s" % (r["state"], r["since"], " (settling: %s)" % r["settling"]
                                            if r.get("settling") else "", ", WeakSignal" if r.get("weak_signal") else ""))
    out.line("  modem", "%s: %s" % (r["backend"], modem))
    out.line("  uplinks", ", ".join(r["uplinks"]) or "none")
    out.line("  subscriptions", str(r["subscriptions"]))


def _sensors(out, s):
    ind = s.get("indicators") or {}
    groups = ind.get("groups") or {}
    busy = [w for w, on in (("testing", ind.get("testing")), ("resetting", ind.get("resetting"))) if on]
    out.line("sensors", "MV fault indicators%s" % (" (%s)" % ", ".join(busy) if busy else "") if groups
             else "no MV fault indicator")
    out.rows([[g, ", ".join(k for k, on in (v.get("inputs") or {}).items() if on) or "none",
               ", ".join(v.get("faults") or []) or "no fault"] for g, v in groups.items()],
             ["GROUP", "INPUTS ON", "FAULTS"] if groups else None)
    out.line("  alarms", ", ".join(s.get("alarms") or []) or "none")
    failing = [name for name, src in (s.get("sources") or {}).items() if src.get("failing")]
    out.line("  sources", ", ".join("%s%s" % (n, " (failing)" if n in failing else "") for n in s.get("sources") or {})
             or "none")
    last = s.get("last")
    if last:
        out.line("  readings", "at %s" % last["time"])
        out.rows([[r[0], r[1] or "", word(r[3]), r[2] or ""] for r in last["readings"]],
                 ["MEASURAND", "LOCATION", "VALUE", "UNIT"])
    else:
        out.line("  readings", "no sample yet")
    chart = s.get("chart")
    if chart:
        pts = chart.get("points") or []
        values = [p[1] for p in pts]
        out.line("  24 h", "%s: %s" % (chart["measurand"], "no sample yet" if not pts else
                                       "%d sample(s), %g to %g %s" % (len(pts), min(values), max(values),
                                                                      chart.get("unit") or "")))


def _streetlights(out, s):
    sun = ("sunrise %s, sunset %s" % (s["sunrise"], s["sunset"]) if s.get("sunrise")
           else "no Geolocation: Sunset and Sunrise periods stay off")
    out.line("streetlights", "%s%s, zone %s" % ("simulated, " if s.get("simulated") else "", sun, s.get("zone")))
    out.line("  next change", s.get("next_change") or "none scheduled")
    out.line("  local switch", "%s (action %s)" % ("on" if s.get("local_switch") else "off", s.get("local_action")))
    cs = s.get("contactors") or []
    out.rows([[c["id"], c["light"] or "?", "feedback contact" if c.get("feedback") else "output", c["mode"],
               c.get("override") or "", ", ".join("%s-%s" % (p["start"], p["end"]) for p in c.get("today") or [])
               or "off all day", word(c.get("profiles"))] for c in cs],
             ["CONTACTOR", "LIGHT", "READ FROM", "MODE", "OVERRIDE", "TODAY", "PROFILES"] if cs else None)


def _other(out, name, value):
    """A section this module does not know: its keys and values aligned, nested ones as words."""
    if not isinstance(value, dict) or not value:
        out.line(name, word(value))
        return
    width = max(len(str(k)) for k in value)
    for i, (k, v) in enumerate(value.items()):
        out.line(name if i == 0 else "", "%-*s  %s" % (width, k, word(v)))
