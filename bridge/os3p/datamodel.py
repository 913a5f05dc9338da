"""The TR-181 parameter model over OS3P (schemas/os3p/DEVIATIONS.md item 10): what GetConfiguration and
ChangeConfiguration do with a key that is a TR-181 path, and the extension action DataModel.

The model itself is bridge/model/ (the context's `model`, None where it does not run: then a path is an
unknown key and DataModel answers 9000).
"""

from ..logger import getLogger

log = getLogger(__name__)

ROOTS = ("Device.", "InternetGatewayDevice.")


def is_path(key):
    return isinstance(key, str) and key.startswith(ROOTS)


def configuration_entries(model, paths):
    """{path asked: [GetConfiguration entry] or None when it names nothing}: one entry per parameter a full
    or partial path names, its CWMP text as value (a write-only one without a value, as secret keys are)."""
    out = {}
    for name, found in model.model().values_by_name(list(paths)):
        if not isinstance(found, list):
            out[name] = None
            continue
        out[name] = [dict({"key": path, "readonly": not row.writable},
                          **({} if row.secret else {"value": row.type.text(value)})) for path, row, value in found]
    return out


def change(model, path, value):
    """ChangeConfiguration of a path: a SetParameterValues of that one parameter -> Accepted / Rejected.
    It came from the central system's OS3P side, not from the DMS's own methods: a watched parameter is
    notified (docs/notifications.md)."""
    from ..model.faults import Fault

    m = model.model()
    try:
        m.set_parameter_values([(path, value, None)], m.parameter_key, origin="os3p")
    except Fault as f:
        log.info("ChangeConfiguration %s refused: %s", path, "; ".join(x.text() for x in f.faults) or f.text())
        return "Rejected"
    log.info("ChangeConfiguration: %s changed", path)
    return "Accepted"


def data_model(req):
    """DataModel {"method", "parameters", "parameterKey"} -> {"code", "details"} (docs/dms-api.md)."""
    from ..model import rpc

    model = req.context.model
    if model is None:
        return rpc.fault_shape(_no_model())
    p = req.payload
    return rpc.call(model.model(), p["method"], p["parameters"], p.get("parameterKey") or "", origin="acs")


def _no_model():
    from ..model.faults import METHOD_NOT_SUPPORTED, Fault

    return Fault(METHOD_NOT_SUPPORTED, "this station runs no parameter model")
