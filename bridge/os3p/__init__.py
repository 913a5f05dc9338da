"""The OS3P client: the Substation side of OS3P JSON over WebSocket (OCPP-J style RPC).

The protocol core (pure: events in, outputs out; the clock, its settings and its memory passed in)
  protocol    the events, inbound dispatch, the central system's clock, reboots; composes the parts below
  registration  the link and the registration: states and transitions as a table, reconnects and the
              backoff, BootNotification, ping
  calls       outbound CALLs: one outstanding, the outbox order, answers and timeouts
  session     the tr069 session mapping (inform events -> messages) and the heartbeat deadline
  deadlines   the core's timers, by name
  settings    what the core reads of the configuration
  outputs     what the core asks the supervisor to do (Send, Connect, SessionDue, ...)
  messages    the tables features add rows to: EVENT_MESSAGES, QUEUED, PRODUCERS; payload validation
  framing     CALL / CALLRESULT / CALLERROR encode and parse
  errors      the spec's error codes and how validation failures map onto them
What actions get
  context     the narrow context of handlers, producers and transfers
  actions     server-initiated action name -> handler (one table, ACTIONS)
  firmware    UpdateFirmware (download, verify, sysupgrade, the report after the reboot)
  logupload   GetFile (the file made and uploaded in a worker)
  transfers   what both share: locations, room for an image, one download, one retry loop
  streetlights  the streetlight actions and notifications (over bridge.station)
  sensors     the MV fault-indicator actions, StatusNotification and MeterValues (over the sensors)
The shell
  client      the supervisor: feeds the core, carries its outputs out, one loop timer at its deadline
  connection  one WebSocket served by one I/O thread (transport only)
  wsclient    websocket-client imported lean (the one place that knows its private modules)
  outbox      the persistent outbound queue of notifications (atomic files)
  state       state.json
"""
