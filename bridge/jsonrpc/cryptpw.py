"""crypt(3)-style password hashes: MD5-crypt ($1$), SHA-256-crypt ($5$), SHA-512-crypt ($6$).

Pure Python, so a password check does not depend on the `crypt` module (gone in Python 3.13) or
on ctypes being installed on the router. Other schemes ($y$ yescrypt, $2b$ bcrypt) are handed to
the C library's crypt() where one is reachable. Comparison is constant-time.
"""

import hashlib
import hmac

_B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# the byte order in which each scheme spreads the digest over its base-64 text
_MD5_ORDER = ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
_SHA256_ORDER = ((0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14),
                 (15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29))
_SHA512_ORDER = ((0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4),
                 (47, 5, 26), (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51),
                 (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13), (56, 14, 35),
                 (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19),
                 (62, 20, 41))


def _b64(b2, b1, b0, n):
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_B64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _cycle(data, length):
    return (data * (length // len(data) + 1))[:length]


def md5_crypt(password, setting):
    pw = password.encode()
    salt = setting[3:].split("$", 1)[0][:8].encode()
    final = hashlib.md5(pw + salt + pw).digest()
    ctx = hashlib.md5(pw + b"$1$" + salt)
    ctx.update(_cycle(final, len(pw)))
    i = len(pw)
    while i:
        ctx.update(b"\0" if i & 1 else pw[:1])
        i >>= 1
    final = ctx.digest()
    for i in range(1000):
        c = hashlib.md5(pw if i & 1 else final)
        if i % 3:
            c.update(salt)
        if i % 7:
            c.update(pw)
        c.update(final if i & 1 else pw)
        final = c.digest()
    text = "".join(_b64(final[a], final[b], final[c], 4) for a, b, c in _MD5_ORDER)
    return "$1$%s$%s%s" % (salt.decode(), text, _b64(0, 0, final[11], 2))


def sha_crypt(password, setting):
    """SHA-crypt as specified by U. Drepper (glibc, musl): $5$ and $6$, optional rounds=N$."""
    scheme = setting[1]
    H = hashlib.sha256 if scheme == "5" else hashlib.sha512
    rest = setting[3:]
    rounds, custom = 5000, False
    if rest.startswith("rounds="):
        spec, _, rest = rest.partition("$")
        try:
            rounds = min(max(int(spec[7:]), 1000), 999999999)
        except ValueError:
            return None
        custom = True
    salt = rest.split("$", 1)[0][:16].encode()
    pw = password.encode()
    b = H(pw + salt + pw).digest()
    ctx = H(pw + salt)
    ctx.update(_cycle(b, len(pw)))
    i = len(pw)
    while i:
        ctx.update(b if i & 1 else pw)
        i >>= 1
    a = ctx.digest()
    p = _cycle(H(pw * len(pw)).digest(), len(pw))
    s = _cycle(H(salt * (16 + a[0])).digest(), len(salt))
    c = a
    for i in range(rounds):
        h = H(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    if scheme == "5":
        text = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _SHA256_ORDER) + _b64(0, c[31], c[30], 3)
    else:
        text = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _SHA512_ORDER) + _b64(0, 0, c[63], 2)
    return "$%s$%s%s$%s" % (scheme, "rounds=%d$" % rounds if custom else "", salt.decode(), text)


def _libc_crypt(password, setting):
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt as _crypt  # Python <= 3.12
        return _crypt.crypt(password, setting)
    except ImportError:
        pass
    try:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("crypt") or ctypes.util.find_library("c")
        lib = ctypes.CDLL(name)
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        out = lib.crypt(password.encode(), setting.encode())
        return out.decode() if out else None
    except (ImportError, OSError, AttributeError):
        return None


# SHA-crypt hashes `pw * len(pw)`: its time and memory grow with the square of the length (64 KB
# would take gigabytes). musl's crypt(), which OpenWrt's passwd and rpcd use, refuses SHA-crypt keys
# longer than 256 bytes (KEY_MAX), so no OpenWrt account can have a longer password.
MAX_PASSWORD = 256

SCHEMES = {"$1$": md5_crypt, "$5$": sha_crypt, "$6$": sha_crypt}


def crypt(password, setting):
    """The hash of `password` with the scheme and salt of `setting`, or None if unsupported."""
    fn = SCHEMES.get(setting[:3])
    if fn is not None:
        return fn(password, setting)
    if setting.startswith("$"):
        return _libc_crypt(password, setting)
    return None  # DES crypt, "*", "!" (locked) and the like never match


def too_long(password):
    """Passwords over MAX_PASSWORD bytes never match and are never hashed."""
    if len(password) > MAX_PASSWORD:
        return True
    try:
        return len(password.encode()) > MAX_PASSWORD
    except UnicodeError:  # a lone surrogate: no crypt() could have hashed it
        return True


def verify(password, stored):
    """True when `password` hashes to `stored`, compared in constant time."""
    if not stored or too_long(password):
        return False
    try:
        computed = crypt(password, stored)
    except (ValueError, UnicodeError):
        return False
    return computed is not None and hmac.compare_digest(computed.encode(), stored.encode())


