"""The station as a TR-181 device: one parameter model that a DMS can read, write and watch.

The pure core (no sockets, threads, files or wall clock; what it needs comes in through its constructor):

    types.py       TR-181 data types: parse a value given by a caller, show it as CWMP text or typed JSON
    faults.py      CWMP faults (9002-9009) with the offending path
    registry.py    the rows (objects and parameters) indexed as a tree of templates
    rows.py        THE table: every TR-181 object and parameter of the station, its type, access, flags,
                   getter group and binding (adding an object is rows here plus one getter group)
    paths.py       path syntax: full and partial paths, instance numbers
    instances.py   instance numbers: assigned once, never reused, kept across restarts
    attributes.py  Notification (0-6) and AccessList, stored where they were set, inherited below
    core.py        the operations (TR-069 Amendment 6 A.3.2), one snapshot per request, value changes

The shell around it (bindings to UCI, the device, the station; the surfaces) imports the core lazily: a
daemon whose surfaces nobody asks never loads the table.
"""
