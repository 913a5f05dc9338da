"""The ubus object tr069.model: the parameter model's methods with the DMS names and shapes.

    ubus call tr069.model GetParameterValues '{"parameters":["Device.ManagementServer."]}'
    -> {"code": 200, "details": [{"key": "Device.ManagementServer.URL", "value": "ws://..."}, ...]}

The same calls work over the JSON-RPC shim and uhttpd's /ubus. rpcd's ACL group tr069-model grants the
Get* methods with read and the rest with write (files/usr/share/rpcd/acl.d/tr069-model.json). A change
made here comes from the device's side (LuCI, a script): it is notified to the central system like any
other (origin "local"). The model itself is built on the first call (model()), not at start.
"""

from .. import ubusmsg as status
from ..ubusmsg import UbusObject

OBJECT_NAME = "tr069.model"
READ = ("GetParameterValues", "GetParameterNames", "GetParameterAttributes")
WRITE = ("SetParameterValues", "SetParameterAttributes", "AddObject", "DeleteObject")
_ARRAY, _TABLE, _STRING = status.BLOBMSG_ARRAY, status.BLOBMSG_TABLE, status.BLOBMSG_STRING
SIGNATURE = {  # blobmsg types, as ubusd registers them and `ubus -v list` shows them
    "GetParameterValues": {"parameters": _ARRAY},
    "GetParameterNames": {"parameters": _TABLE},
    "GetParameterAttributes": {"parameters": _ARRAY},
    "SetParameterValues": {"parameters": _ARRAY, "ParameterKey": _STRING},
    "SetParameterAttributes": {"parameters": _ARRAY},
    "AddObject": {"parameters": _TABLE},
    "DeleteObject": {"parameters": _TABLE},
}


class ModelObject(UbusObject):
    name = OBJECT_NAME

    def __init__(self, model, after_call=lambda method: None):
        """model() -> the Model (built on first use); after_call(method): the model changed state the
        watcher must see (a write from the device's side is a value change like any other)."""
        self.model = model
        self.after_call = after_call
        self.methods = {method: self._call for method in SIGNATURE}

    def signature(self):
        return SIGNATURE

    def answer(self, method, handler, args):
        if set(args) - set(SIGNATURE[method]) or "parameters" not in args:
            return status.INVALID_ARGUMENT, None
        return handler(method, args)

    def _call(self, method, args):
        from . import rpc

        reply = rpc.call(self.model(), method, args["parameters"], args.get("ParameterKey") or "", origin="local")
        if method in WRITE and reply["code"] == 200:
            self.after_call(method)
        return status.OK, reply
