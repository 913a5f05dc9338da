"""ubus status codes and blobmsg types, as libubus defines them (ubusmsg.h, blobmsg.h).

The vocabulary the tr069 object, the faces (ubus, JSON-RPC), the CLI and the device backend share: it
lives beside them, not inside the ubus face."""

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
