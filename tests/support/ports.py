"""A loopback port nothing listens on: the system picks it (bind to port 0), the socket is closed again. Where a
peer must be started on a port known beforehand (a restart on the same port, a config file written first) or
where a connection must be refused."""

import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
