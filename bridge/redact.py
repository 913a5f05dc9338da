"""Secrets out of what is shown and logged: the password of a URL's user part."""

import re

# scheme://user:password@ -- the password runs up to the last "@" before the host part; compiled
# at the first text that has an "@" (re's cache), not at start-up (~0.1 MiB of a router's RAM)
_URL_PASSWORD = r"(?i)\b([a-z][a-z0-9+.-]*://[^/?#@:\s]*):[^/?#\s]*@"
MASK = "********"


def redact(text):
    """`text` with every URL password replaced by ********: ws://op:secret@host/ -> ws://op:********@host/."""
    if not isinstance(text, str) or "@" not in text:
        return text
    return re.sub(_URL_PASSWORD, lambda m: "%s:%s@" % (m.group(1), MASK), text)
