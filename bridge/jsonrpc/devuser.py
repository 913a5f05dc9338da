"""The development user `make run` creates on the host: one rpcd `login` section, user `dev`.

On a device, users are rpcd's `login` sections in /etc/config/rpcd (docs/jsonrpc.md: users). On the host
the shim reads <state>/config/rpcd; `make run` puts a `dev` login there with a fresh random password
each run (printed once, stored only as a SHA-512 crypt hash) and every right, as root has on a router.
Other login sections in the file are kept as they are.
"""

import base64
import os

from bridge import uci

DEV_USER = "dev"


def create(path, username=DEV_USER):
    """(Re)create the development login in the rpcd config at `path`; returns its new password."""
    from . import cryptpw

    password = base64.urlsafe_b64encode(os.urandom(12)).decode()
    salt = base64.b64encode(os.urandom(12), b"./").decode()
    sections = [s for s in uci.load(path) if not (s.get(".type") == "login" and s.get("username") == username)]
    sections.append({".type": "login", ".name": "dev_login", ".anonymous": False, "username": username,
                     "password": cryptpw.sha_crypt(password, "$6$" + salt), "read": ["*"], "write": ["*"]})
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    uci.save(path, sections)
    return password
