"""A small working ubusd for the reachability tests: what netifd's side of ubus does, on a real Unix socket.

It speaks ubusd's wire protocol as the recorded transcripts in tests/data/ubus show it (HELLO, ADD_OBJECT
answered DATA(OBJID) + STATUS, LOOKUP answered DATA(OBJPATH, OBJID, OBJTYPE) + STATUS, INVOKE forwarded,
event `register` on object 1 answered STATUS, an event delivered as an INVOKE to the listener's object),
and plays netifd: the object `network.interface` answers `dump` with the interfaces the test sets, and
`event("network.interface", {"action": "ifup", "interface": "wwan"})` is what netifd sends on ifup
(netifd's ubus.c, netifd_ubus_interface_event).
"""

import fnmatch
import os
import socket
import threading

from bridge.ubus import blob

NETIFD_ID = 0x1001


def interface(name, up=True, ipv4=(), ipv6=()):
    """One entry of netifd's `network.interface dump` (the fields bridge/reach reads, as netifd names them)."""
    return {"interface": name, "up": up, "pending": False, "available": True, "proto": "qmi" if name == "wwan" else "dhcp",
            "l3_device": name + "0", "ipv4-address": [{"address": a, "mask": 32} for a in ipv4],
            "ipv6-address": [{"address": a, "mask": 64} for a in ipv6], "route": [], "dns-server": []}


class Ubusd(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = str(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(16)
        self.lock = threading.Lock()
        self.next_id = 0x2000
        self.objects = {}  # path -> (client socket, object id)
        self.listeners = []  # (client socket, object id, pattern)
        self.interfaces = [interface("loopback", ipv4=["127.0.0.1"], ipv6=["::1"]),
                           interface("lan", ipv4=["192.168.1.1"], ipv6=["fd00:1::1"])]
        self.dumps = 0
        self.stopped = False

    def set_interfaces(self, *entries):
        with self.lock:
            self.interfaces = [interface("loopback", ipv4=["127.0.0.1"], ipv6=["::1"]),
                               interface("lan", ipv4=["192.168.1.1"], ipv6=["fd00:1::1"])] + list(entries)

    def listening(self, pattern):
        with self.lock:
            return any(p == pattern for _c, _o, p in self.listeners)

    def event(self, name, data):
        """Broadcast as `ubus send name data` does: an INVOKE to every listener whose pattern matches."""
        with self.lock:
            targets = [(c, o) for c, o, p in self.listeners if fnmatch.fnmatchcase(name, p)]
        for client, oid in targets:
            msg = blob.encode_message(blob.INVOKE, 1, 0, [(blob.ATTR_OBJID, oid), (blob.ATTR_METHOD, name),
                                                           (blob.ATTR_DATA, blob.encode_table(data))])
            try:
                client.sendall(msg)
            except OSError:
                pass
        return len(targets)

    def run(self):
        while not self.stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _new_id(self):
        with self.lock:
            self.next_id += 1
            return self.next_id

    def _serve(self, client):
        peer = self._new_id()
        client.sendall(blob.encode_message(blob.HELLO, 0, peer, []))
        buf = bytearray()
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self.lock:
                    self.listeners = [x for x in self.listeners if x[0] is not client]
                    self.objects = {k: v for k, v in self.objects.items() if v[0] is not client}
                client.close()
                return
            buf += data
            while len(buf) >= blob.FIRST_READ:
                n = blob.message_length(bytes(buf[:blob.FIRST_READ]))
                if len(buf) < n:
                    break
                msg = blob.decode_message(bytes(buf[:n]))
                del buf[:n]
                self._handle(client, msg)

    def _status(self, client, seq, peer, code, objid=None):
        attrs = [(blob.ATTR_STATUS, code)] + ([(blob.ATTR_OBJID, objid)] if objid is not None else [])
        client.sendall(blob.encode_message(blob.STATUS, seq, peer, attrs))

    def _handle(self, client, msg):
        t = msg.type
        if t == blob.ADD_OBJECT:
            oid = self._new_id()
            path = msg.get(blob.ATTR_OBJPATH)
            if path:
                with self.lock:
                    self.objects[path] = (client, oid)
            client.sendall(blob.encode_message(blob.DATA, msg.seq, 0, [(blob.ATTR_OBJID, oid)]))
            self._status(client, msg.seq, 0, 0)
        elif t == blob.LOOKUP:
            path = msg.get(blob.ATTR_OBJPATH)
            found = NETIFD_ID if path == "network.interface" else None
            if found is None:
                with self.lock:
                    entry = self.objects.get(path)
                found = entry[1] if entry else None
            if found is None:
                return self._status(client, msg.seq, 0, 4)
            client.sendall(blob.encode_message(blob.DATA, msg.seq, 0, [
                (blob.ATTR_OBJPATH, path), (blob.ATTR_OBJID, found), (blob.ATTR_OBJTYPE, found)]))
            self._status(client, msg.seq, 0, 0)
        elif t == blob.INVOKE:
            oid = msg.get(blob.ATTR_OBJID)
            method = msg.get(blob.ATTR_METHOD)
            args = msg.get(blob.ATTR_DATA) or {}
            if oid == blob.OBJECT_EVENT and method == "register":
                with self.lock:
                    self.listeners.append((client, args.get("object"), args.get("pattern")))
                return self._status(client, msg.seq, msg.peer, 0)
            if oid == NETIFD_ID and method == "dump":
                with self.lock:
                    self.dumps += 1
                    table = {"interface": list(self.interfaces)}
                client.sendall(blob.encode_message(blob.DATA, msg.seq, msg.peer, [
                    (blob.ATTR_OBJID, oid), (blob.ATTR_DATA, blob.encode_table(table))]))
                return self._status(client, msg.seq, msg.peer, 0, oid)
            self._status(client, msg.seq, msg.peer, 4 if oid != NETIFD_ID else 3, oid)
        # STATUS from a listener (an event's answer) and anything else: nothing to do

    def stop(self):
        self.stopped = True
        try:
            self.server.close()
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except OSError:
            pass
