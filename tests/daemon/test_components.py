"""The declared interfaces (bridge/components.py): every component the composition root builds implements
what its interface requires, and none is built with the daemon."""

import importlib
import inspect

import pytest

from bridge import components

# every module that holds a component or an object the surfaces serve
MODULES = ["bridge.tr069", "bridge.stateview", "bridge.station.sensors", "bridge.station.streetlights",
           "bridge.os3p.client", "bridge.ubus.connection", "bridge.jsonrpc.app", "bridge.jsonrpc.session_object",
           "bridge.reach.service", "bridge.model.ubus_object"]
INTERFACES = [obj for _, obj in inspect.getmembers(components, inspect.isclass) if obj.__module__ == components.__name__]


def implementations():
    for name in MODULES:
        importlib.import_module(name)
    seen, todo = [], list(INTERFACES)
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [c for c in seen if c.__module__.startswith("bridge.") and c.__module__ != components.__name__]


def test_every_module_named_holds_an_implementation():
    assert {c.__module__ for c in implementations()} == set(MODULES)


@pytest.mark.parametrize("cls", implementations(), ids=lambda c: "%s.%s" % (c.__module__, c.__name__))
def test_each_implementation_has_every_required_method(cls):
    missing = [name for name in dir(cls) if getattr(getattr(cls, name), "required", False)]
    assert missing == [], "%s does not implement %s" % (cls.__name__, ", ".join(missing))


@pytest.mark.parametrize("cls", implementations(), ids=lambda c: "%s.%s" % (c.__module__, c.__name__))
def test_no_component_is_built_with_the_daemon(cls):
    assert "daemon" not in inspect.signature(cls.__init__).parameters


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
