"""Path syntax (TR-069 Amendment 6, A.2.2.1; TR-106 3.3): names, instance numbers, partial paths.

A full path names a parameter ("Device.ManagementServer.URL"); a partial path ends with a dot and names an
object and everything below it ("Device.ManagementServer."). Instance numbers are positive decimal
integers without leading zeros ("Device.IP.Interface.2.Name"). The empty path is the top of the tree.
"""

from .faults import INVALID_NAME, Fault

ROOT = "Device."
OLD_ROOT = "InternetGatewayDevice."  # TR-098's root: read as Device. (the seed's examples use it)
I = "{i}"


def split(path):
    """'Device.IP.Interface.2.Name' -> (['Device', 'IP', 'Interface', '2', 'Name'], partial=False);
    Fault 9005 for a path that is not one (empty segments, characters a name cannot have)."""
    if not isinstance(path, str):
        raise Fault(INVALID_NAME, "not a path: %r" % (path,))
    if path.startswith(OLD_ROOT):
        path = ROOT + path[len(OLD_ROOT):]
    partial = path.endswith(".")
    segments = (path[:-1] if partial else path).split(".")
    for s in segments:
        if not (is_number(s) or is_name(s)):
            raise Fault(INVALID_NAME, "%r is not a valid path" % path, path)
    return segments, partial


def normal(path):
    """The path as the model answers it: Device. for InternetGatewayDevice."""
    return ROOT + path[len(OLD_ROOT):] if path.startswith(OLD_ROOT) else path


def is_number(segment):
    return segment.isdigit() and segment.isascii() and segment[0] != "0"


def is_name(segment):
    """TR-106 3.3: a letter or underscore first, then letters, digits, underscores, hyphens."""
    if not segment or not segment.isascii():
        return False
    first = segment[0]
    if not (first.isalpha() or first == "_"):
        return False
    return all(c.isalnum() or c in "_-" for c in segment)


def template_segments(template):
    """'Device.IP.Interface.{i}.Name' -> ['Device', 'IP', 'Interface', '{i}', 'Name']."""
    return (template[:-1] if template.endswith(".") else template).split(".")
