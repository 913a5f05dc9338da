"""tr069-bridge: a management daemon for OpenWrt routers (ubus, OS3P over WebSocket, JSON-RPC)."""

__version__ = "0.1.0"
