"""OS3P CALLERROR codes (implementation guide, table 7), spelled exactly as the spec spells them."""

NOT_IMPLEMENTED = "NotImplemented"  # action unknown to the receiver
NOT_SUPPORTED = "NotSupported"  # action known, but this device cannot do it
INTERNAL_ERROR = "InternalError"
PROTOCOL_ERROR = "ProtocolError"  # payload (message) incomplete
SECURITY_ERROR = "SecurityError"
FORMATION_VIOLATION = "FormationViolation"  # syntactically incorrect / not the PDU's structure
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"  # a field holds an invalid value
OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"  # (sic) a field missing / repeated
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"  # a field of the wrong data type
GENERIC_ERROR = "GenericError"

CODES = (NOT_IMPLEMENTED, NOT_SUPPORTED, INTERNAL_ERROR, PROTOCOL_ERROR, SECURITY_ERROR, FORMATION_VIOLATION,
         PROPERTY_CONSTRAINT_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION, GENERIC_ERROR)

# bridge.schema error kind -> code; when a payload fails in several ways the first kind in this order wins
# (structure before presence before type before value), so the answer does not depend on dict order
SCHEMA_KIND_CODES = {
    "additional": FORMATION_VIOLATION,
    "required": OCCURENCE_CONSTRAINT_VIOLATION,
    "type": TYPE_CONSTRAINT_VIOLATION,
    "enum": PROPERTY_CONSTRAINT_VIOLATION,
    "format": PROPERTY_CONSTRAINT_VIOLATION,
    "range": PROPERTY_CONSTRAINT_VIOLATION,
}
_KIND_ORDER = list(SCHEMA_KIND_CODES)

MAX_DESCRIPTION = 255


class CallError(Exception):
    """Raised by a handler (or the dispatcher) to answer a CALL with a CALLERROR."""

    def __init__(self, code, description="", details=None):
        if code not in CODES:
            raise ValueError("not an OS3P error code: %r" % (code,))
        super().__init__(code, description)
        self.code = code
        self.description = description[:MAX_DESCRIPTION]
        self.details = details or {}


class NotSupported(CallError):
    def __init__(self, description="not supported by this device"):
        super().__init__(NOT_SUPPORTED, description)


def from_schema_errors(errs):
    """A CallError for a non-empty list of bridge.schema errors [(kind, path, message)]."""
    errs = sorted(errs, key=lambda e: _KIND_ORDER.index(e[0]) if e[0] in _KIND_ORDER else len(_KIND_ORDER))
    kind = errs[0][0]
    code = SCHEMA_KIND_CODES.get(kind, FORMATION_VIOLATION)
    description = "; ".join("%s %s" % (path, message) for _, path, message in errs[:4])
    return CallError(code, description, {"path": errs[0][1]})
