"""The client's small persistent state (state.json): the last boot record, the clock offset, the boot id,
whether a reboot was announced, the last log upload. Written atomically on every change that matters;
read at start through its shape check (a file that does not fit is set aside, the client starts afresh)."""

from ..atomic import is_number, load_json, StateFile, need
from ..logger import getLogger

log = getLogger(__name__)

UPLOAD_STATUSES = ("None", "Uploaded", "Uploading", "UploadFailed")  # GetFileStatusNotification's enum
MAX_OFFSET = 100 * 365 * 86400.0  # seconds between the central system's clock and ours: a century


def _fits(data):
    need(isinstance(data, dict), "not an object")
    need(is_number(data.get("clock_offset", 0.0)) and abs(data.get("clock_offset", 0.0)) <= MAX_OFFSET,
         "clock_offset")
    boot = data.get("boot")
    if boot is not None:
        need(isinstance(boot, dict) and isinstance(boot.get("fields", {}), dict)
             and isinstance(boot.get("url", ""), str) and isinstance(boot.get("status", ""), str), "boot")
    need(isinstance(data.get("boot_id", ""), str), "boot_id")
    need(isinstance(data.get("reboot_expected", False), bool), "reboot_expected")
    getfile = data.get("getfile")
    if getfile is not None:
        need(isinstance(getfile, dict) and getfile.get("status", "None") in UPLOAD_STATUSES
             and isinstance(getfile.get("requestId", ""), str) and len(getfile.get("requestId", "")) <= 36,
             "getfile")
    return data


class State:
    def __init__(self, path):
        self.path = path
        self.data = load_json(path, _fits, {})
        self.file = StateFile(path, "OS3P state", log)

    def get(self, key, default=None):
        return self.data.get(key, default)

    def put(self, **changes):
        """Set these keys (None: remove) and write the file once. -> True when written."""
        for key, value in changes.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
        return self.save()

    def save(self):
        """True when written; a full or read-only state directory is one error line (until it mends)."""
        return self.file.write(self.data)
