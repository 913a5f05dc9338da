"""The protocol core's vocabulary: the outputs it gives the supervisor, in the order they are to be carried out.

    Send(text, after)        a text frame; after() once it is written (or None)
    Connect()                start a connection attempt; opened() or closed() follows
    Ping()                   a WebSocket ping
    Close()                  a polite close frame; closed() follows
    Abort(why)               drop the connection now; closed() follows
    SessionDone(success)     the tr069 session ended
    HeartbeatInterval(s)     the central system's interval (BootNotification): keep it in the config
    SessionDue(events)       the periodic session is due: ask the tr069 object for one (session_refused()
                             when it does not start one)
    NextSession(at)          when the next periodic session is due (monotonic seconds, None: none), for
                             the tr069 object's status
"""

from collections import namedtuple

Send = namedtuple("Send", "text after")
Connect = namedtuple("Connect", "")
Ping = namedtuple("Ping", "")
Close = namedtuple("Close", "")
Abort = namedtuple("Abort", "why")
SessionDone = namedtuple("SessionDone", "success")
HeartbeatInterval = namedtuple("HeartbeatInterval", "seconds")
SessionDue = namedtuple("SessionDue", "events")
NextSession = namedtuple("NextSession", "at")
