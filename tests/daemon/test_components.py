"""The declared interfaces (bridge/components.py, structural: nothing inherits them): every component the
composition root builds has what its interface requires, every ubus object uses the one dispatcher, and
none is built with the daemon."""

import importlib
import inspect

import pytest

from bridge import components, ubusmsg

# interface -> the classes that implement it ("module:class")
IMPLEMENTATIONS = {
    components.Component: ["bridge.station.sensors:Sensors", "bridge.station.streetlights:Streetlights",
                           "bridge.model.component:ParameterModel", "bridge.reach.service:Reach",
                           "bridge.os3p.client:Client",
                           "bridge.ubus.connection:ObjectConnection", "bridge.jsonrpc.app:Shim"],
    components.EventSource: ["bridge.station.sensors:Sensors", "bridge.station.streetlights:Streetlights",
                             "bridge.station.contactors:Control", "bridge.model.component:ParameterModel",
                             "bridge.reach.service:Reach"],
    components.SessionDriver: ["bridge.os3p.client:Client"],
    components.StationSensors: ["bridge.station.sensors:Sensors"],
    components.StationLights: ["bridge.station.streetlights:Streetlights"],
    components.ParameterModel: ["bridge.model.component:ParameterModel"],
    components.Reachability: ["bridge.reach.service:Reach"],
    ubusmsg.UbusObject: ["bridge.tr069:Tr069", "bridge.stateview:StateObject",
                         "bridge.station.streetlights:SimulationObject", "bridge.model.ubus_object:ModelObject",
                         "bridge.reach.service:ReachObject", "bridge.jsonrpc.session_object:SessionObject"],
}


def load(ref):
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def required(interface):
    """What an interface requires, its bases' requirements included."""
    return sorted({name for cls in interface.__mro__ for name in getattr(cls, "REQUIRES", ())})


CASES = [(interface, ref) for interface, refs in IMPLEMENTATIONS.items() for ref in refs]


def test_every_interface_is_implemented():
    declared = [obj for _, obj in inspect.getmembers(components, inspect.isclass)
                if obj.__module__ == components.__name__]
    assert sorted(c.__name__ for c in declared) == sorted(c.__name__ for c in IMPLEMENTATIONS if c in declared)
    assert all(required(c) for c in declared)  # each says what it requires


@pytest.mark.parametrize("interface, ref", CASES, ids=["%s-%s" % (i.__name__, r) for i, r in CASES])
def test_each_implementation_has_what_its_interface_requires(interface, ref):
    cls = load(ref)
    missing = [name for name in required(interface) if not callable(getattr(cls, name, None))]
    assert missing == [], "%s lacks %s" % (ref, ", ".join(missing))


@pytest.mark.parametrize("ref", IMPLEMENTATIONS[ubusmsg.UbusObject])
def test_every_ubus_object_uses_the_one_dispatcher(ref):
    cls = load(ref)
    assert issubclass(cls, ubusmsg.UbusObject) and cls.signature is not ubusmsg.UbusObject.signature
    assert cls.call is ubusmsg.UbusObject.call or ref == "bridge.jsonrpc.session_object:SessionObject"  # rpcd's


@pytest.mark.parametrize("ref", sorted({r for refs in IMPLEMENTATIONS.values() for r in refs}))
def test_no_component_is_built_with_the_daemon(ref):
    assert "daemon" not in inspect.signature(load(ref).__init__).parameters


def test_nothing_imports_the_declarations_at_run_time():
    """They cost the ubus-only process ~60 KiB; they are for reading and for this test."""
    from support.imports import GRAPH

    assert [m for m, deps in sorted(GRAPH.items()) if "bridge.components" in deps] == []


def test_a_key_changed_in_memory_reaches_every_running_component(tmp_path):
    """The root's config_changed (what ChangeConfiguration and a TR-181 set call): the streetlights take a new
    Geolocation at once, and a component that cannot take a value refuses it to the caller."""
    from bridge.daemon import Daemon

    d = Daemon("host", str(tmp_path))
    try:
        d.start_components(only={"sensors", "streetlights"})
        lights = d.running["streetlights"]
        assert lights.sun_today() is None
        d.config.set("os3p.geolocation", "[52.37, 4.90]")
        d.config_changed("os3p.geolocation")
        assert lights.sun_today() is not None

        class Refuses:
            def config_changed(self, name):
                raise ValueError("cannot take %s" % name)

            def stop(self):
                pass

        d.running["refuses"] = Refuses()
        with pytest.raises(ValueError):
            d.config_changed("os3p.geolocation")
    finally:
        d.stop_components()
        d.loop.close()


def test_every_object_the_surfaces_serve_has_a_signature_ubusd_registers(tmp_path):
    """What the ubus surface sends in ADD_OBJECT: blobmsg types (was: words like "Array", which ubusd never
    received: the object was not registered, and JSON-RPC `list` showed them as unknown)."""
    from bridge.daemon import Daemon
    from bridge.jsonrpc.rpc import signature_words
    from bridge.ubus.connection import encode_signature

    d = Daemon("host", str(tmp_path))
    try:
        d.start_components(only={"sensors", "streetlights", "model", "reach"})
        assert {"tr069", "tr069.bridge", "tr069.streetlights", "tr069.model", "tr069.reach"} <= set(d.objects)
        for name, obj in d.objects.items():
            sig = obj.signature()
            encode_signature(sig)  # ValueError for a type that is not a blobmsg type
            assert "unknown" not in str(signature_words(sig)), name
        with pytest.raises(ValueError):
            encode_signature({"local_switch": {"on": "Boolean"}})
    finally:
        d.stop_components()
        d.loop.close()
