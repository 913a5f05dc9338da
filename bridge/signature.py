"""Firmware signatures: a base64 signature of the image (SHA-256; RSA or ECDSA) checked against the public key
of a PEM X.509 signing certificate, as OCPP's signed firmware update defines them.

The verifier is the `openssl` program (OpenWrt package openssl-util, about 200 KB on flash; the library it
uses is the one Python's ssl module already loads), run with a fixed argv and never through a shell: it
streams the image from flash instead of reading it into RAM, where python3-cryptography would add several MB
to the image and the daemon's memory. No certificate chain is checked: the signing certificate comes with the
request over the authenticated OS3P connection (see docs/router.md, firmware).
"""

import base64
import binascii
import os
import shutil
import subprocess
import tempfile

OPENSSL = "openssl"
TIMEOUT = 120.0  # hashing a large image on a slow router


class SignatureError(ValueError):
    pass


def available():
    return shutil.which(OPENSSL) is not None


def _run(argv):
    try:
        return subprocess.run([OPENSSL] + argv, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SignatureError("cannot run %s: %s" % (OPENSSL, e)) from None


def decode_signature(text):
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    if not raw:
        raise SignatureError("signature is empty")
    return raw


def _public_key(cert_path, out_path):
    r = _run(["x509", "-in", cert_path, "-noout", "-pubkey", "-out", out_path])
    if r.returncode != 0:
        raise SignatureError("signingCertificate is not a PEM X.509 certificate")
    if _run(["x509", "-in", cert_path, "-noout", "-checkend", "0"]).returncode != 0:
        raise SignatureError("signingCertificate has expired")


def check_certificate_now(pem, now):
    """Raises SignatureError unless `pem` is one PEM X.509 certificate (its DER structure: tbsCertificate
    with a validity and a public key, the signature algorithm and value) valid at `now` (Unix seconds).

    Pure Python, microseconds: what the OS3P handler checks on the loop before it answers. The public key
    itself is taken by openssl in the worker that verifies the image (check_certificate, verify)."""
    if not isinstance(pem, str) or not pem.isascii():
        raise SignatureError("signingCertificate is not a PEM X.509 certificate (not ASCII)")
    body = pem.strip()
    head, tail = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    if not (body.startswith(head) and body.endswith(tail)):
        raise SignatureError("signingCertificate is not a PEM X.509 certificate")
    try:
        der = base64.b64decode("".join(body[len(head):-len(tail)].split()), validate=True)
        cert, rest = _tlv(der, 0x30)
        tbs, after = _tlv(cert, 0x30)
        _tlv(after, 0x30)  # signatureAlgorithm
        if rest:
            raise ValueError("bytes after the certificate")
        if tbs[:1] == b"\xa0":  # [0] version
            _v, tbs = _tlv(tbs, 0xA0)
        for tag in (0x02, 0x30, 0x30):  # serialNumber, signature, issuer
            _x, tbs = _tlv(tbs, tag)
        validity, tbs = _tlv(tbs, 0x30)
        _subject, tbs = _tlv(tbs, 0x30)
        _spki, tbs = _tlv(tbs, 0x30)
        not_before, validity = _time(validity)
        not_after, _ = _time(validity)
    except (binascii.Error, ValueError, IndexError):
        raise SignatureError("signingCertificate is not a PEM X.509 certificate") from None
    if not_after < now:
        raise SignatureError("signingCertificate has expired")


def _tlv(data, tag):
    """DER: (the value of the element `tag` at the start of data, what follows it); ValueError otherwise."""
    if len(data) < 2 or data[0] != tag:
        raise ValueError("expected tag %#x" % tag)
    n, i = data[1], 2
    if n & 0x80:
        k = n & 0x7F
        if not 1 <= k <= 4 or len(data) < 2 + k:
            raise ValueError("length")
        n, i = int.from_bytes(data[2:2 + k], "big"), 2 + k
    if len(data) < i + n:
        raise ValueError("truncated")
    return data[i:i + n], data[i + n:]


def _time(data):
    """UTCTime or GeneralizedTime ending in Z -> (Unix seconds, what follows)."""
    import calendar

    kind = data[:1]
    value, rest = _tlv(data, data[0] if kind in (b"\x17", b"\x18") else 0x17)
    text = value.decode("ascii")
    if kind == b"\x17":  # YYMMDDHHMMSSZ: 50-99 is 19xx (RFC 5280)
        year = int(text[:2])
        text = str(1900 + year if year >= 50 else 2000 + year) + text[2:]
    if len(text) != 15 or text[-1] != "Z" or not text[:-1].isdigit():
        raise ValueError("time")
    y, mo, d, h, mi, sec = (int(text[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)))
    return calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0)), rest


def check_certificate(pem, workdir=None):
    """Raises SignatureError unless `pem` is a current X.509 certificate with a public key (openssl: run it
    in a worker, never on the loop)."""
    with tempfile.TemporaryDirectory(dir=workdir) as d:
        cert = os.path.join(d, "cert.pem")
        with open(cert, "w", encoding="utf-8") as f:
            f.write(pem)
        _public_key(cert, os.path.join(d, "key.pem"))


def verify(image_path, signature_b64, certificate_pem, workdir=None):
    """None when the signature matches the image and the certificate; raises SignatureError otherwise."""
    raw = decode_signature(signature_b64)
    with tempfile.TemporaryDirectory(dir=workdir) as d:
        cert, key, sig = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "sig.bin"))
        with open(cert, "w", encoding="utf-8") as f:
            f.write(certificate_pem)
        with open(sig, "wb") as f:
            f.write(raw)
        _public_key(cert, key)
        r = _run(["dgst", "-sha256", "-verify", key, "-signature", sig, image_path])
        if r.returncode != 0:
            raise SignatureError("the signature does not match the image and its signing certificate")
