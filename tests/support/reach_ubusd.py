"""A small working ubusd for the reachability tests: what netifd's side of ubus does, on a real Unix socket.

It speaks ubusd's wire protocol as the recorded transcripts in tests/data/ubus show it (HELLO, ADD_OBJECT
answered DATA(OBJID) + STATUS, LOOKUP answered DATA(OBJPATH, OBJID, OBJTYPE) + STATUS, INVOKE forwarded,
event `register` on object 1 answered STATUS, an event delivered as an INVOKE to the listener's object),
and plays netifd: the object `network.interface` answers `dump` with the interfaces the test sets, and
`event("network.interface", {"action": "ifup", "interface": "wwan"})` is what netifd sends on ifup
(netifd's ubus.c, netifd_ubus_interface_event). With play_rpcd(recording), the object `session` answers
`access` as the real rpcd answered the same question (tests/data/rpcd/session-access.json); expire(name)
switches that session to what rpcd answered once it had expired.
"""

import fnmatch
import os
import socket
import threading

from bridge.ubus import blob

NETIFD_ID = 0x1001
RPCD_SESSION_ID = 0x1002


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
        self.rpcd = None  # {(session id, function): (status, data)} from a recording
        self.rpcd_after = {}
        self.access_asked = 0

    def play_rpcd(self, recording):
        """Answer `session access` as the recording's rpcd did (before any session expired)."""
        def table(answers):
            return {(a["args"]["ubus_rpc_session"], a["args"]["function"]): (a["status"], a["data"])
                    for entries in answers.values() for a in entries}
        with self.lock:
            self.rpcd = table(recording["before"])
            self.rpcd_after = table(recording["after"])

    def expire(self, sid):
        """rpcd's answers for this session from now on are those recorded after it expired."""
        with self.lock:
            for key, answer in self.rpcd_after.items():
                if key[0] == sid:
                    self.rpcd[key] = answer

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
            if path == "session" and self.rpcd is not None:
                found = RPCD_SESSION_ID
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
            if oid == RPCD_SESSION_ID and method == "access":
                with self.lock:
                    self.access_asked += 1
                    status, data = self.rpcd.get((args.get("ubus_rpc_session"), args.get("function")), (4, None))
                if data is not None:
                    client.sendall(blob.encode_message(blob.DATA, msg.seq, msg.peer, [
                        (blob.ATTR_OBJID, oid), (blob.ATTR_DATA, blob.encode_table(data))]))
                return self._status(client, msg.seq, msg.peer, status, oid)
            self._status(client, msg.seq, msg.peer, 4 if oid not in (NETIFD_ID, RPCD_SESSION_ID) else 3, oid)
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
