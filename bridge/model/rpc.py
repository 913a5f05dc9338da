"""The model's methods in the DMS shapes: one table, method name -> handler, for every surface.

A call is (method, parameters) as the DMS northbound API's request carries them (docs/dms-api.md):

    GetParameterValues      ["Device.ManagementServer.", ...]
    GetParameterNames       {"ParameterPath": "Device.", "NextLevel": true}
    SetParameterValues      [{"Name", "Value", "Type"(optional)}], ParameterKey beside
    GetParameterAttributes  ["Device.ManagementServer.", ...]
    SetParameterAttributes  [{"Name", "NotificationChange", "Notification", "AccessListChange", "AccessList"}]
    AddObject / DeleteObject {"ObjectName", "ParameterKey"}

and the answer is {"code": 200, "details": [{"key", "value"}]} with typed values, or a CWMP fault:
{"code": 9005, "message": "Invalid parameter name: ...", "details": [{"key": <path>, "value":
{"FaultCode", "FaultString"}}]} (SetParameterValues: one detail per refused parameter). The ubus object
(tr069.model), the OS3P extension action DataModel and, through it, the development central system's
REST API answer exactly this.
"""

from .faults import INTERNAL_ERROR, INVALID_ARGUMENTS, METHOD_NOT_SUPPORTED, Fault


def _values(model, params, _key, _origin):
    return [{"key": path, "value": row.type.json(value)} for path, row, value in
            model.get_parameter_values(_list(params))]


def _names(model, params, _key, _origin):
    if isinstance(params, str):
        params = {"ParameterPath": params}
    if not isinstance(params, dict):
        raise Fault(INVALID_ARGUMENTS, "parameters is {\"ParameterPath\", \"NextLevel\"}")
    return [{"key": name, "value": writable} for name, writable in
            model.get_parameter_names(params.get("ParameterPath", ""), params.get("NextLevel", False))]


def _set_values(model, params, key, origin):
    entries = []
    for p in _list(params):
        if not isinstance(p, dict) or not isinstance(p.get("Name"), str) or "Value" not in p:
            raise Fault(INVALID_ARGUMENTS, "each parameter is {\"Name\", \"Value\", \"Type\"}")
        entries.append((p["Name"], p["Value"], p.get("Type")))
    return [{"key": "Status", "value": model.set_parameter_values(entries, key, origin)}]


def _attributes(model, params, _key, _origin):
    return [{"key": path, "value": {"Notification": n, "AccessList": access or None}}
            for path, n, access in model.get_parameter_attributes(_list(params))]


def _set_attributes(model, params, _key, _origin):
    model.set_parameter_attributes(_list(params))
    return []


def _object(params, key):
    if isinstance(params, str):
        params = {"ObjectName": params}
    if not isinstance(params, dict):
        raise Fault(INVALID_ARGUMENTS, "parameters is {\"ObjectName\", \"ParameterKey\"}")
    return params.get("ObjectName"), params.get("ParameterKey", key)


def _add(model, params, key, _origin):
    name, key = _object(params, key)
    number, status = model.add_object(name, key)
    return [{"key": "InstanceNumber", "value": number}, {"key": "Status", "value": status}]


def _delete(model, params, key, _origin):
    name, key = _object(params, key)
    return [{"key": "Status", "value": model.delete_object(name, key)}]


def _list(params):
    if not isinstance(params, list):
        raise Fault(INVALID_ARGUMENTS, "parameters is a list")
    return params


METHODS = {
    "GetParameterValues": _values,
    "GetParameterNames": _names,
    "SetParameterValues": _set_values,
    "GetParameterAttributes": _attributes,
    "SetParameterAttributes": _set_attributes,
    "AddObject": _add,
    "DeleteObject": _delete,
}
WRITES = ("SetParameterValues", "SetParameterAttributes", "AddObject", "DeleteObject")


def call(model, method, parameters, parameter_key="", origin="acs"):
    """-> {"code": 200, "details": [...]} or the fault shape; never raises for what a caller sent."""
    handler = METHODS.get(method)
    try:
        if handler is None:
            raise Fault(METHOD_NOT_SUPPORTED, "%s is not a method of the parameter model" % (method,))
        return {"code": 200, "details": handler(model, parameters, parameter_key or "", origin)}
    except Fault as f:
        return fault_shape(f)


def fault_shape(f):
    """A Fault as the surfaces answer it."""
    if f.faults:
        details = [{"key": x.parameter, "value": {"FaultCode": x.code, "FaultString": x.string}} for x in f.faults]
    elif f.parameter is not None:
        details = [{"key": f.parameter, "value": {"FaultCode": f.code, "FaultString": f.string}}]
    else:
        details = []
    return {"code": f.code, "message": f.string, "details": details}


def internal_error(what):
    return fault_shape(Fault(INTERNAL_ERROR, what))
