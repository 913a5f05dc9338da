"""The development central system's upload receiver: where GetFile's example uploads to on `make run`.

    POST /upload/   multipart/form-data, one or more file fields (the daemon sends one, "file", as
                    bridge/os3p/logupload.py does; `curl -F file=@x` works too)
    -> 200 "stored <name> (<n> bytes)", each file written to the directory given (make run: <state>/uploads/)
       400 a sentence (not multipart, no file in it, over MAX_UPLOAD)

It is served by the DMS REST API's HTTP server (devtools/northbound.py), the central system's plain HTTP
side that takes POST (its OS3P port is websockets', which parses GET only). For development only: no
authentication beyond the API's optional Basic credentials, loopback.
"""

import os
import re

PREFIX = "/upload/"
MAX_UPLOAD = 64 << 20  # a day of syslog or a year of meter history is far less


class UploadError(Exception):
    """A refused upload: its message is the answer's sentence."""


def safe_name(name):
    """A file name that stays in the directory: its last part, letters, digits and ._=- (others become _)."""
    name = re.sub(r"[^A-Za-z0-9._=-]", "_", (name or "").replace("\\", "/").rsplit("/", 1)[-1])[:128]
    return name.lstrip(".") or "upload"


def files(content_type, body):
    """[(file name, bytes)] of the file fields of a multipart/form-data body."""
    from email.parser import BytesParser
    from email.policy import HTTP

    if not content_type.lower().startswith("multipart/form-data"):
        raise UploadError("send the file as multipart/form-data (Content-Type: %s)" % (content_type or "none"))
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: %s\r\n\r\n%s" % (content_type.encode(), body))
    out = [(part.get_filename(), part.get_payload(decode=True) or b"") for part in message.iter_parts()
           if part.get_filename() is not None]
    if not out:
        raise UploadError("the multipart body has no file field (a part with a filename)")
    return out


def receive(headers, read, directory):
    """Store the files of one POST: headers (a mapping), read(n) -> the body's bytes. -> [(path, size)]."""
    try:
        length = int(headers.get("Content-Length") or "")
    except ValueError:
        raise UploadError("a Content-Length is needed") from None
    if length > MAX_UPLOAD:
        raise UploadError("the upload is over %d bytes" % MAX_UPLOAD)
    stored = []
    for name, data in files(headers.get("Content-Type") or "", read(length)):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, safe_name(name))
        partial = path + ".part"
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(data)
        os.replace(partial, path)
        stored.append((path, len(data)))
    return stored
