"""JSON as json-c's tokener reads it in its default (non-strict) mode, which is what uhttpd uses.

Python's json module is tried first (fast, C); only a body it refuses comes here. json-c also
accepts /* */ and // comments, single-quoted strings, trailing commas, case-insensitive true /
false / null / NaN / Infinity, leading zeros and raw control characters inside strings; it clamps
integers to 64 bits, stops strings at a NUL (blobmsg strings are C strings), gives up beyond 32
levels of nesting and ignores whatever follows the first complete value.
"""

import json
import math
import re

MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = (("true", True), ("false", False), ("null", None), ("nan", math.nan),
             ("infinity", math.inf), ("-infinity", -math.inf))
_WS = " \t\n\r"
_NUMBER_CHARS = set("0123456789+-.eE")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def clamp_int(text):
    """parse_int for the json module: json-c saturates at the int64 limits."""
    return max(INT64_MIN, min(INT64_MAX, int(text)))


_strict = json.JSONDecoder(parse_int=clamp_int)


def loads(text):
    """The first JSON value in `text` (what follows it is ignored); ValueError if none."""
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, _ = _strict.raw_decode(text, start)
    except (ValueError, RecursionError):
        value = _Parser(text).document()
    if "\0" in text or "\\u0000" in text:
        value = _map_strings(value, _cut_at_nul)
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        value = _map_strings(value, _replace_lone_surrogates)
    return value


def _cut_at_nul(s):
    return s.split("\0", 1)[0]


def _replace_lone_surrogates(s):
    """json-c writes U+FFFD for a \\uD800-\\uDFFF escape that is not half of a pair; so do we,
    or the answer that echoes it could not be encoded as UTF-8."""
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _map_strings(v, fn):
    if isinstance(v, str):
        return fn(v)
    if isinstance(v, list):
        return [_map_strings(x, fn) for x in v]
    if isinstance(v, dict):
        return {_map_strings(k, fn): _map_strings(x, fn) for k, x in v.items()}
    return v


class _Parser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def fail(self, why):
        raise ValueError("%s at %d" % (why, self.i))

    def skip(self):
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c in _WS:
                self.i += 1
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    self.fail("unterminated comment")
                self.i = end + 2
            elif s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            else:
                break

    def peek(self):
        self.skip()
        if self.i >= len(self.s):
            self.fail("unexpected end")
        return self.s[self.i]

    def document(self):
        return self.value(1)

    def value(self, depth):
        if depth > MAX_DEPTH:
            self.fail("too deep")
        c = self.peek()
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c in "\"'":
            return self.string()
        low = self.s[self.i:self.i + 9].lower()
        for word, val in _LITERALS:
            if low.startswith(word):
                self.i += len(word)
                return val
        return self.number()

    def obj(self, depth):
        self.i += 1
        out = {}
        if self.peek() == "}":
            self.i += 1
            return out
        while True:
            if self.peek() == "}":  # trailing comma
                self.i += 1
                return out
            if self.peek() not in "\"'":
                self.fail("object key must be a string")
            key = self.string()
            if self.peek() != ":":
                self.fail("':' expected")
            self.i += 1
            out[key] = self.value(depth + 1)
            c = self.peek()
            self.i += 1
            if c == "}":
                return out
            if c != ",":
                self.fail("',' or '}' expected")

    def arr(self, depth):
        self.i += 1
        out = []
        if self.peek() == "]":
            self.i += 1
            return out
        while True:
            if self.peek() == "]" and out:  # trailing comma
                self.i += 1
                return out
            out.append(self.value(depth + 1))
            c = self.peek()
            self.i += 1
            if c == "]":
                return out
            if c != ",":
                self.fail("',' or ']' expected")

    def string(self):
        s = self.s
        quote = s[self.i]
        self.i += 1
        parts = []
        while True:
            j = self.i
            while j < len(s) and s[j] != quote and s[j] != "\\":
                j += 1
            if j >= len(s):
                self.fail("unterminated string")
            parts.append(s[self.i:j])
            self.i = j + 1
            if s[j] == quote:
                return "".join(parts)
            esc = s[self.i:self.i + 1]
            if esc in _ESCAPES:
                parts.append(_ESCAPES[esc])
                self.i += 1
            elif esc == "u":
                parts.append(self.unicode())
            else:
                self.fail("bad escape")

    def unicode(self):
        code = self.hex4(self.i + 1)
        self.i += 5
        if 0xD800 <= code < 0xDC00 and self.s.startswith("\\u", self.i):
            low = self.hex4(self.i + 2)
            if 0xDC00 <= low < 0xE000:
                self.i += 6
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        return chr(code)

    def hex4(self, at):
        digits = self.s[at:at + 4]
        if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            self.fail("bad \\u escape")
        return int(digits, 16)

    def number(self):
        s, start = self.s, self.i
        j = start
        while j < len(s) and s[j] in _NUMBER_CHARS:
            j += 1
        text = s[start:j]
        body = text[1:] if text.startswith("-") else text
        if not body or not body[0].isdigit():
            self.fail("not a value")
        if j >= len(s):
            self.fail("number at end of input")  # json-c waits for more input: no value
        self.i = j
        if body.isdigit():
            return clamp_int(text)
        try:
            return float(text)
        except ValueError:
            self.fail("bad number")
