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


def check_certificate(pem, workdir=None):
    """Raises SignatureError unless `pem` is a current X.509 certificate with a public key."""
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
