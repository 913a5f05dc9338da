"""Reachability as one of the daemon's faces: built from the daemon's config, device and faces, with
its ubus object (`tr069.reach`: status, subscriptions), its state-view section, the netifd listener
(added by the ubus face) and the CAMARA routes (mounted by the JSON-RPC shim's HTTP server)."""

from .. import ubusmsg as st
from ..stateview import provider
from .service import Reach

OBJECT_NAME = "tr069.reach"


class ReachObject:
    """ubus object tr069.reach: `status` (the state view's section), `subscriptions` (as the API lists them)."""

    name = OBJECT_NAME

    def __init__(self, reach):
        self.reach = reach

    @staticmethod
    def signature():
        return {"status": {}, "subscriptions": {}}

    def call(self, method, args):
        if method == "status":
            return st.OK, self.reach.view()
        if method == "subscriptions":
            return st.OK, {"subscriptions": self.reach.list()}
        return st.METHOD_NOT_FOUND, None


def os3p_registered(daemon):
    """True / False for the OS3P link's registration, None when OS3P is not enabled here."""
    def registered():
        if not daemon.config.get("os3p.enabled"):
            return None
        client = daemon.faces.get("os3p")
        core = getattr(client, "core", None)
        return bool(getattr(core, "connected", False)) and getattr(core, "registration", None) == "Accepted"
    return registered


def start(daemon):
    if not daemon.config.get("reach.enabled"):
        return None
    from ..ubus.face import socket_path

    sensors = daemon.faces.get("sensors")
    reach = Reach(daemon.loop, daemon.config, daemon.state_dir, daemon.device.backend,
                  ubus_socket=socket_path(daemon.config),
                  alarms=sensors.alarm if sensors is not None else None,
                  os3p_registered=os3p_registered(daemon))
    daemon.objects[OBJECT_NAME] = ReachObject(reach)
    return reach


@provider("reach")
def _view(daemon):
    reach = daemon.faces.get("reach")
    return reach.view() if reach is not None else None
