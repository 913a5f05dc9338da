"""ubus status codes and blobmsg types, as libubus defines them (ubusmsg.h, blobmsg.h), and the one
dispatcher of every ubus object of ours (UbusObject).

The vocabulary the tr069 object, the protocol surfaces (ubus, JSON-RPC), the CLI and the device backend
share: it lives beside them, not inside the ubus surface."""

OK = 0
INVALID_COMMAND = 1
INVALID_ARGUMENT = 2
METHOD_NOT_FOUND = 3
NOT_FOUND = 4
NO_DATA = 5
PERMISSION_DENIED = 6
TIMEOUT = 7
NOT_SUPPORTED = 8
UNKNOWN_ERROR = 9
CONNECTION_FAILED = 10
NO_MEMORY = 11
PARSE_ERROR = 12
SYSTEM_ERROR = 13

# What the ubus CLI prints for each status (ubus_strerror in libubus.c).
MESSAGES = {
    OK: "Success",
    INVALID_COMMAND: "Invalid command",
    INVALID_ARGUMENT: "Invalid argument",
    METHOD_NOT_FOUND: "Method not found",
    NOT_FOUND: "Not found",
    NO_DATA: "No response",
    PERMISSION_DENIED: "Permission denied",
    TIMEOUT: "Request timed out",
    NOT_SUPPORTED: "Operation not supported",
    UNKNOWN_ERROR: "Unknown error",
    CONNECTION_FAILED: "Connection failed",
    NO_MEMORY: "Out of memory",
    PARSE_ERROR: "Parsing message data failed",
    SYSTEM_ERROR: "System error",
}

# blobmsg attribute types
BLOBMSG_ARRAY = 1
BLOBMSG_TABLE = 2
BLOBMSG_STRING = 3
BLOBMSG_INT64 = 4
BLOBMSG_INT32 = 5
BLOBMSG_INT16 = 6
BLOBMSG_INT8 = 7
BLOBMSG_BOOL = BLOBMSG_INT8
BLOBMSG_DOUBLE = 8

# JSON-schema type -> blobmsg type used in method signatures (what icwmp's policies use).
SCHEMA_TO_BLOBMSG = {
    "boolean": BLOBMSG_BOOL,
    "string": BLOBMSG_STRING,
    "integer": BLOBMSG_INT32,
    "number": BLOBMSG_DOUBLE,
    "object": BLOBMSG_TABLE,
    "array": BLOBMSG_ARRAY,
}


SESSION_ARG = "ubus_rpc_session"  # uhttpd adds it to every call it forwards: it names the caller's session


class UbusObject:
    """An object the ubus surface registers on ubusd and the JSON-RPC surface serves by name: a table of
    methods (name -> handler) behind the one dispatcher, call(). signature() says the methods' arguments as
    `ubus -v list` shows them ({method: {argument: blobmsg type}})."""

    name = None  # e.g. "tr069"
    methods = {}  # method -> handler(args); answer() says what becomes of what it returns

    def signature(self):
        raise NotImplementedError(self.name)

    def call(self, method, args):
        """(ubus status, reply dict or None), on the loop thread; args as the caller sent them. First what
        libubus checks (the method exists, the arguments are a table), uhttpd's ubus_rpc_session left out,
        then answer()."""
        handler = self.methods.get(method)
        if handler is None:
            return METHOD_NOT_FOUND, None
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return INVALID_ARGUMENT, None
        return self.answer(method, handler, {k: v for k, v in args.items() if k != SESSION_ARG})

    def answer(self, method, handler, args):
        """(status, reply) of a call that passed the checks: by default what handler(args) returns. An
        object that validates its arguments or its replies against a schema does it here."""
        return handler(args)

