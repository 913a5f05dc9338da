"""The OS3P client: the Substation side of OS3P JSON over WebSocket (OCPP-J style RPC).

framing   CALL / CALLRESULT / CALLERROR encode and parse (pure)
errors    the spec's error codes and how validation failures map onto them (pure)
outbox    the persistent outbound queue of notifications (atomic files)
connection  one WebSocket (websocket-client) served by one I/O thread
actions   server-initiated action name -> handler (one table)
client    the supervisor: connect, boot, heartbeat, calls, sessions for the tr069 object
"""
