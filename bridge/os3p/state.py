"""The client's small persistent state (state.json): the last boot record, the clock offset, the boot id,
whether a reboot was announced, the last log upload. Written atomically on every change that matters."""

from ..atomic import read_json, write_json


class State:
    def __init__(self, path):
        self.path = path
        self.data = read_json(path, {}) or {}

    def get(self, key, default=None):
        return self.data.get(key, default)

    def save(self):
        write_json(self.path, self.data)

