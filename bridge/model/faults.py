"""CWMP faults (TR-069 Amendment 6, A.5.1): the codes every surface of the model answers with.

A Fault names the offending path where there is one; SetParameterValues lists one Fault per bad parameter
(its SetParameterValuesFault elements) under a 9003.
"""

METHOD_NOT_SUPPORTED = 9000
REQUEST_DENIED = 9001
INTERNAL_ERROR = 9002
INVALID_ARGUMENTS = 9003
RESOURCES_EXCEEDED = 9004
INVALID_NAME = 9005
INVALID_TYPE = 9006
INVALID_VALUE = 9007
NOT_WRITABLE = 9008
NOTIFICATION_REJECTED = 9009

STRINGS = {
    METHOD_NOT_SUPPORTED: "Method not supported",
    REQUEST_DENIED: "Request denied",
    INTERNAL_ERROR: "Internal error",
    INVALID_ARGUMENTS: "Invalid arguments",
    RESOURCES_EXCEEDED: "Resources exceeded",
    INVALID_NAME: "Invalid parameter name",
    INVALID_TYPE: "Invalid parameter type",
    INVALID_VALUE: "Invalid parameter value",
    NOT_WRITABLE: "Attempt to set a non-writable parameter",
    NOTIFICATION_REJECTED: "Notification request rejected",
}


class Fault(Exception):
    """code: a CWMP fault code; reason: why, in words; parameter: the offending path (or None);
    faults: the per-parameter Faults of a SetParameterValues (its SetParameterValuesFault list)."""

    def __init__(self, code, reason="", parameter=None, faults=()):
        self.code = code
        self.reason = reason
        self.parameter = parameter
        self.faults = list(faults)
        Exception.__init__(self, self.text())

    @property
    def string(self):
        """The FaultString: the standard words, then the reason."""
        base = STRINGS.get(self.code, "Fault")
        return "%s: %s" % (base, self.reason) if self.reason else base

    def text(self):
        where = " (%s)" % self.parameter if self.parameter else ""
        return "%d %s%s" % (self.code, self.string, where)

    def as_json(self):
        """{"FaultCode", "FaultString"[, "ParameterName"][, "SetParameterValuesFault"]}: the CWMP Fault's
        fields, as every surface of the model carries them."""
        out = {"FaultCode": self.code, "FaultString": self.string}
        if self.parameter is not None:
            out["ParameterName"] = self.parameter
        if self.faults:
            out["SetParameterValuesFault"] = [{"ParameterName": f.parameter, "FaultCode": f.code,
                                               "FaultString": f.string} for f in self.faults]
        return out

    def __repr__(self):
        return "Fault(%s)" % self.text()
