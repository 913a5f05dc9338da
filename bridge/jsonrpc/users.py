"""Users as rpcd knows them: `login` sections of the UCI config "rpcd".

    config login
        option username 'admin'
        option password '$p$root'     # or a crypt hash: $1$... / $5$... / $6$...
        list read '*'
        list write '*'

`$p$name` refers to the system account: its hash is read from the shadow file (OpenWrt's
/etc/shadow), as rpcd does with getspnam(). A section without a password hash never matches
(rpcd lets an empty hash log in with any password; here that would be an open door).
"""


from bridge import uci

from ..logger import getLogger

log = getLogger(__name__)


def shadow_hash(path, user):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) > 1 and fields[0] == user:
                    return fields[1]
    except OSError as e:
        log.warning("shadow file %s: %s", path, e.strerror)
    return None


class Users:
    def __init__(self, rpcd_config_path, shadow_path="/etc/shadow"):
        self.path = rpcd_config_path
        self.shadow_path = shadow_path

    def sections(self):
        try:
            return [s for s in uci.load(self.path) if s.get(".type") == "login"]
        except (OSError, ValueError) as e:
            log.warning("rpcd config %s: %s", self.path, e)
            return []

    def resolve(self, stored):
        if isinstance(stored, str) and stored.startswith("$p$"):
            return shadow_hash(self.shadow_path, stored[3:])
        return stored

    def authenticate(self, username, password):
        """The first login section whose username and password match, else None.

        An unknown user and an over-long password cost no hash at all: the session object answers
        every failed login at the same time after its start, so the time taken says nothing.
        """
        # loaded at the first login: hashlib brings in OpenSSL (~3.6 MiB) that an idle shim does not need
        from bridge.jsonrpc import cryptpw

        if cryptpw.too_long(password):
            return None
        for section in self.sections():
            if section.get("username") != username:
                continue
            stored = section.get("password")
            if not isinstance(stored, str):
                continue
            if cryptpw.verify(password, self.resolve(stored) or ""):
                return section
        return None
