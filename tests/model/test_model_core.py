"""The model's pure core (bridge/model/core.py): TR-069 Amendment 6 A.3.2 semantics over a backend in memory.

No files, no clock: the backend is a dict of getter-group data and the store a dict, as the core takes them.
"""

import pytest

from bridge.model.core import Model
from bridge.model.faults import Fault
from bridge.model.registry import Object, Param, Registry, RegistryError
from bridge.model.types import STRING, UNSIGNED_INT
from support.model import ROWS, Backend, Store

@pytest.fixture
def backend():
    return Backend()


@pytest.fixture
def store():
    return Store()


@pytest.fixture
def model(backend, store):
    return Model(Registry(ROWS), backend, store)


def values(model, *names):
    return {path: value for path, _row, value in model.get_parameter_values(list(names))}


def fault(fn, *args, **kwargs):
    with pytest.raises(Fault) as e:
        fn(*args, **kwargs)
    return e.value


# --- GetParameterValues -------------------------------------------------------------------------------------
def test_a_partial_path_returns_exactly_the_union_of_its_leaves(model):
    whole = values(model, "Device.")
    leaves = [name for name, _w in model.get_parameter_names("Device.", False) if not name.endswith(".")]
    assert sorted(whole) == sorted(leaves)
    union = {}
    for leaf in leaves:
        union.update(values(model, leaf))
    assert union == whole
    for partial in ("Device.Box.", "Device.Box.Item.", "Device.Box.Item.1.", "Device.Box.Item.1.Part."):
        part = values(model, partial)
        assert part == {p: v for p, v in whole.items() if p.startswith(partial)} and part


def test_values_typed_and_in_table_order(model):
    got = model.get_parameter_values(["Device.Box."])
    assert [p for p, _r, _v in got][:7] == ["Device.Box.Name", "Device.Box.Secret", "Device.Box.Version",
                                        "Device.Box.Counter", "Device.Box.Later", "Device.Box.Reading",
                                        "Device.Box.ItemNumberOfEntries"]
    v = {p: val for p, _r, val in got}
    assert v["Device.Box.Secret"] == ""  # write-only
    assert v["Device.Box.ItemNumberOfEntries"] == 2 and v["Device.Box.Reading"] == 1.5


@pytest.mark.parametrize("name, why", [
    ("Device.Box", "an object's name ends with a dot"),
    ("Device.Box.Name.", "a parameter name has no trailing dot"),
    ("Device.Nothing.", "no such"),
    ("Device.Box.Nothing", "no such"),
    ("Device.Box.Item.9.", "no instance 9"),
    ("Device.Box.Item.01.", "not a valid path"),
    ("Device.Box.Item.x.", "instance number"),
    ("Device.Box..Name", "not a valid path"),
    ("Other.Box.", "the root"),
    ("Device.Gone.", "not on this device"),
    ("Device.Box.Item.1.Part.9.Size", "no instance"),
])
def test_missing_dot_unknown_path_give_9005_naming_it(model, name, why):
    f = fault(model.get_parameter_values, [name])
    assert f.code == 9005 and f.parameter == name and why in f.string


def test_an_empty_result_gives_9005(model, backend):
    backend.items = {}
    f = fault(model.get_parameter_values, ["Device.Box.Item."])
    assert f.code == 9005 and f.parameter == "Device.Box.Item." and "no parameter" in f.string
    assert values(model, "Device.Box.ItemNumberOfEntries") == {"Device.Box.ItemNumberOfEntries": 0}


def test_one_bad_name_fails_the_whole_request(model):
    assert fault(model.get_parameter_values, ["Device.Box.Name", "Device.Nope"]).code == 9005


def test_arguments_that_are_not_names_are_9003(model):
    assert fault(model.get_parameter_values, "Device.").code == 9003
    assert fault(model.get_parameter_values, [1]).code == 9003


def test_the_old_root_and_the_empty_name(model):
    assert values(model, "InternetGatewayDevice.Box.Name") == {"Device.Box.Name": "box"}
    assert values(model, "") == values(model, "Device.")


def test_one_backend_read_per_getter_group_per_request(model, backend):
    model.get_parameter_values(["Device.", "Device.Box.", "Device.Box.Item.1.Label", "Device.Box.Name"])
    assert sorted(backend.reads) == ["box", "gone", "items", "slots"]
    backend.reads.clear()
    model.get_parameter_values(["Device.Box.Name"])
    assert backend.reads == ["box"]


def test_one_consistent_snapshot_per_request(model, backend):
    """Values of one request come from one read: a change between two groups' leaves cannot tear it."""
    reads = []
    real = backend.read

    def read_and_change(group):
        data = real(group)
        reads.append(group)
        backend.box["Counter"] += 1  # the device moves on after every read
        return data

    backend.read = read_and_change
    got = values(model, "Device.Box.Counter", "Device.Box.", "Device.Box.Counter")
    assert got["Device.Box.Counter"] == 7 and reads.count("box") == 1


def test_absent_values_and_a_group_that_answers_nothing(model, backend, caplog):
    del backend.box["Reading"]
    got = values(model, "Device.Box.")
    assert "Device.Box.Reading" not in got
    assert fault(model.get_parameter_values, ["Device.Box.Reading"]).code == 9005
    backend.box["Reading"] = float("nan")  # a measured value that is no number: absent as well
    assert "Device.Box.Reading" not in values(model, "Device.Box.")
    assert all(not p.startswith("Device.Gone.") for p in values(model, "Device."))
    assert sum("gone answers nothing" in r.getMessage() for r in caplog.records) == 1  # once, not per request


# --- instance numbers ----------------------------------------------------------------------------------------
def test_instance_numbers_in_order_and_by_key(model):
    got = values(model, "Device.")
    assert got["Device.Box.Item.1.Label"] == "A" and got["Device.Box.Item.2.Label"] == "B"
    assert got["Device.Box.Item.1.Part.1.Size"] == 1 and got["Device.Box.Item.1.Part.2.Size"] == 2
    assert got["Device.Slot.2.Id"] == 2 and got["Device.Slot.4.Id"] == 4 and "Device.Slot.1.Id" not in got


def test_instance_numbers_never_reused_across_delete_and_restart(backend, store):
    m = Model(Registry(ROWS), backend, store)
    values(m, "Device.Box.Item.")
    n, status = m.add_object("Device.Box.Item.", "k1")
    assert (n, status) == (3, 0)
    assert m.delete_object("Device.Box.Item.3.", "k2") == 0
    assert fault(m.get_parameter_values, ["Device.Box.Item.3."]).code == 9005
    m2 = Model(Registry(ROWS), backend, store)  # a restart: the numbers come from the saved state
    assert m2.add_object("Device.Box.Item.")[0] == 4
    assert m2.delete_object("Device.Box.Item.2.") == 0
    m3 = Model(Registry(ROWS), backend, store)
    assert m3.add_object("Device.Box.Item.")[0] == 5
    got = values(m3, "Device.Box.Item.")
    assert {p.split(".")[3] for p in got} == {"1", "4", "5"}  # a appears as 1 still; 2 and 3 are gone for good
    assert got["Device.Box.Item.1.Label"] == "A"


def test_a_key_that_comes_back_keeps_its_number(model, backend):
    values(model, "Device.Box.Item.")
    b = backend.items.pop(("b",))
    assert "Device.Box.Item.2.Label" not in values(model, "Device.Box.Item.")
    backend.items[("c",)] = {"Label": "C", "On": True}
    backend.items[("b",)] = b
    got = values(model, "Device.Box.Item.")
    assert got["Device.Box.Item.2.Label"] == "B" and got["Device.Box.Item.3.Label"] == "C"


def test_add_and_delete_only_where_the_table_allows(model):
    assert fault(model.add_object, "Device.Slot.").code == 9005
    assert fault(model.add_object, "Device.Box.Item.1.").code == 9005
    assert fault(model.add_object, "Device.Box.Item").code == 9005
    assert fault(model.add_object, "Device.Box.Item.1.Part.").code == 9005
    assert fault(model.delete_object, "Device.Box.Item.").code == 9005
    assert fault(model.delete_object, "Device.Box.Item.1.Part.1.").code == 9005
    assert fault(model.delete_object, "Device.Box.Item.7.").code == 9005
    assert fault(model.add_object, "Device.Box.Item.", "k" * 33).code == 9003


def test_add_and_delete_set_the_parameter_key(model, store):
    model.add_object("Device.Box.Item.", "after-add")
    assert model.parameter_key == "after-add" and store.data["parameter_key"] == "after-add"
    model.delete_object("Device.Box.Item.3.", "after-delete")
    assert Model(Registry(ROWS), Backend(), store).parameter_key == "after-delete"


# --- GetParameterNames -----------------------------------------------------------------------------------------
def test_parameter_names_next_level(model):
    assert model.get_parameter_names("", True) == [("Device.", False)]
    assert model.get_parameter_names("Device.", True) == [("Device.Box.", False), ("Device.Slot.", False)]
    assert model.get_parameter_names("Device.Box.Item.", True) == [("Device.Box.Item.1.", True),
                                                                    ("Device.Box.Item.2.", True)]
    names = model.get_parameter_names("Device.Box.Item.1.", True)
    assert names == [("Device.Box.Item.1.Label", True), ("Device.Box.Item.1.On", True),
                     ("Device.Box.Item.1.Part.", False)]
    assert model.get_parameter_names("Device.Box.Name", False) == [("Device.Box.Name", True)]
    assert fault(model.get_parameter_names, "Device.Box.Name", True).code == 9003
    assert fault(model.get_parameter_names, "Device.Box.", "maybe").code == 9003


def test_parameter_names_whole_subtree(model):
    names = dict(model.get_parameter_names("Device.Box.Item.", False))
    assert list(names) == ["Device.Box.Item.", "Device.Box.Item.1.", "Device.Box.Item.1.Label",
                           "Device.Box.Item.1.On", "Device.Box.Item.1.Part.", "Device.Box.Item.1.Part.1.",
                           "Device.Box.Item.1.Part.1.Size", "Device.Box.Item.1.Part.2.",
                           "Device.Box.Item.1.Part.2.Size", "Device.Box.Item.2.", "Device.Box.Item.2.Label",
                           "Device.Box.Item.2.On", "Device.Box.Item.2.Part."]
    assert names["Device.Box.Item."] is True and names["Device.Box.Item.1.Part."] is False


# --- SetParameterValues -----------------------------------------------------------------------------------------
def test_set_values_applies_all_and_sets_the_key(model, backend):
    assert model.set_parameter_values([("Device.Box.Name", "new", "xsd:string"),
                                       ("Device.Box.Item.2.On", "1", None)], "pk") == 0
    assert values(model, "Device.Box.Name", "Device.Box.Item.2.On") == {"Device.Box.Name": "new",
                                                                        "Device.Box.Item.2.On": True}
    assert model.parameter_key == "pk" and len(backend.applied) == 2


def test_one_bad_parameter_changes_nothing_and_every_bad_one_is_listed(model, backend):
    before = values(model, "Device.")
    f = fault(model.set_parameter_values, [
        ("Device.Box.Name", "fine", None),
        ("Device.Box.Version", "2.0", None),            # read-only
        ("Device.Box.Later", "11", None),               # out of range
        ("Device.Box.Later2", "1", None),               # no such parameter
        ("Device.Box.Item.1.On", "maybe", None),        # not a boolean
        ("Device.Box.Item.2.On", ["x"], None),          # not a value of that type at all
        ("Device.Box.Item.1.Label", "x", "unsignedInt"),  # declared type differs
        ("Device.Box.Item.2.Label", "bad", None),       # the binding's validator refuses it
        ("Device.Box.", "x", None),                     # an object
    ], "never")
    assert f.code == 9003
    assert [(x.parameter, x.code) for x in f.faults] == [
        ("Device.Box.Version", 9008), ("Device.Box.Later", 9007), ("Device.Box.Later2", 9005),
        ("Device.Box.Item.1.On", 9007), ("Device.Box.Item.2.On", 9006), ("Device.Box.Item.1.Label", 9006),
        ("Device.Box.Item.2.Label", 9007), ("Device.Box.", 9005)]
    assert backend.applied == [] and values(model, "Device.") == before and model.parameter_key == ""
    assert f.as_json()["SetParameterValuesFault"][0] == {
        "ParameterName": "Device.Box.Version", "FaultCode": 9008,
        "FaultString": "Attempt to set a non-writable parameter: read-only"}


def test_the_same_parameter_twice_is_9003(model):
    f = fault(model.set_parameter_values, [("Device.Box.Name", "a", None), ("Device.Box.Name", "b", None)])
    assert f.code == 9003 and f.parameter == "Device.Box.Name"


def test_status_1_when_a_write_takes_effect_after_a_restart(model):
    assert model.set_parameter_values([("Device.Box.Later", 5, None)]) == 1


def test_a_write_that_fails_is_9002_and_keeps_the_key(model, backend):
    backend.fail_apply = OSError(30, "Read-only file system")
    f = fault(model.set_parameter_values, [("Device.Box.Name", "x", None)], "k")
    assert f.code == 9002 and model.parameter_key == ""


# --- attributes ------------------------------------------------------------------------------------------------
def attrs(model, *names):
    return {p: (n, a) for p, n, a in model.get_parameter_attributes(list(names))}


def test_attributes_default_forced_and_inherited(model):
    got = attrs(model, "Device.Box.")
    assert got["Device.Box.Name"] == (0, []) and got["Device.Box.Version"] == (2, [])
    model.set_parameter_attributes([{"Name": "Device.Box.Item.", "NotificationChange": True, "Notification": 1,
                                     "AccessListChange": True, "AccessList": ["Subscriber"]}])
    model.set_parameter_attributes([{"Name": "Device.Box.Item.2.On", "NotificationChange": True,
                                     "Notification": 2}])
    got = attrs(model, "Device.Box.Item.")
    assert got["Device.Box.Item.1.Label"] == (1, ["Subscriber"])
    assert got["Device.Box.Item.2.On"] == (2, ["Subscriber"])
    n, _ = model.add_object("Device.Box.Item.")
    assert attrs(model, "Device.Box.Item.%d.On" % n)["Device.Box.Item.%d.On" % n] == (1, ["Subscriber"])
    # a partial path again replaces what was set below it
    model.set_parameter_attributes([{"Name": "Device.Box.Item.", "NotificationChange": True, "Notification": 0}])
    got = attrs(model, "Device.Box.Item.")
    assert got["Device.Box.Item.2.On"] == (0, ["Subscriber"])


def test_attributes_survive_a_restart_and_inherit(backend, store):
    m = Model(Registry(ROWS), backend, store)
    m.set_parameter_attributes([{"Name": "Device.Box.", "NotificationChange": True, "Notification": 1},
                                {"Name": "Device.Box.Name", "NotificationChange": True, "Notification": 2,
                                 "AccessListChange": True, "AccessList": ["Subscriber"]}])
    after = Model(Registry(ROWS), backend, store)  # a restart
    got = attrs(after, "Device.Box.")
    assert got["Device.Box.Name"] == (2, ["Subscriber"])
    assert got["Device.Box.Later"] == (1, [])  # inherited from Device.Box.
    assert got["Device.Box.Counter"] == (1, [])  # passive goes down to a volatile one
    assert got["Device.Box.Version"] == (2, [])  # forced


def test_9009_for_forced_and_active_on_volatile(model):
    f = fault(model.set_parameter_attributes, [{"Name": "Device.Box.Version", "NotificationChange": True,
                                                "Notification": 0}])
    assert f.code == 9009 and f.parameter == "Device.Box.Version"
    f = fault(model.set_parameter_attributes, [{"Name": "Device.Box.Counter", "NotificationChange": True,
                                                "Notification": 2}])
    assert f.code == 9009 and f.parameter == "Device.Box.Counter"
    model.set_parameter_attributes([{"Name": "Device.Box.Counter", "NotificationChange": True, "Notification": 1}])
    model.set_parameter_attributes([{"Name": "Device.Box.", "NotificationChange": True, "Notification": 2}])
    got = attrs(model, "Device.Box.")
    assert got["Device.Box.Counter"] == (0, []) and got["Device.Box.Name"] == (2, [])


@pytest.mark.parametrize("entry", [
    {"Name": "Device.Box.Name", "NotificationChange": True, "Notification": 7},
    {"Name": "Device.Box.Name", "NotificationChange": True, "Notification": True},
    {"Name": "Device.Box.Name", "NotificationChange": "yes", "Notification": 1},
    {"Name": "Device.Box.Name", "AccessListChange": True, "AccessList": ["Everyone"]},
    {"Notification": 1},
])
def test_attribute_arguments_that_do_not_hold_are_9003(model, entry):
    assert fault(model.set_parameter_attributes, [entry]).code == 9003


def test_attributes_are_all_or_nothing_and_saved_before_the_answer(model, store):
    f = fault(model.set_parameter_attributes, [
        {"Name": "Device.Box.Name", "NotificationChange": True, "Notification": 2},
        {"Name": "Device.Nope", "NotificationChange": True, "Notification": 2}])
    assert f.code == 9005 and attrs(model, "Device.Box.Name")["Device.Box.Name"] == (0, [])
    store.fail = True
    f = fault(model.set_parameter_attributes, [{"Name": "Device.Box.Name", "NotificationChange": True,
                                                "Notification": 2}])
    assert f.code == 9002 and attrs(model, "Device.Box.Name")["Device.Box.Name"] == (0, [])


def test_deleting_an_instance_forgets_its_attributes(model):
    model.set_parameter_attributes([{"Name": "Device.Box.Item.2.", "NotificationChange": True,
                                     "Notification": 1}])
    model.delete_object("Device.Box.Item.2.")
    assert not any(p.startswith("Device.Box.Item.2.") for p in model.attributes.notify)


# --- value changes ------------------------------------------------------------------------------------------------
def watch(model, name, n):
    model.set_parameter_attributes([{"Name": name, "NotificationChange": True, "Notification": n}])


def test_a_change_of_a_watched_parameter_is_found_once(model, backend):
    watch(model, "Device.Box.Name", 2)
    watch(model, "Device.Box.Item.", 1)
    assert model.check() == []  # what was watched from now on is the baseline
    backend.box["Name"] = "renamed"
    backend.items[("b",)]["Label"] = "B2"
    changes = {c.path: (c.value, c.active) for c in model.check()}
    assert changes == {"Device.Box.Name": ("renamed", True), "Device.Box.Item.2.Label": ("B2", False)}
    assert model.check() == []
    backend.box["Later"] = 9  # not watched
    assert model.check() == []


def test_check_of_one_group_reads_only_that_group_and_what_it_hangs_on(model, backend):
    watch(model, "Device.Box.Name", 2)
    watch(model, "Device.Box.Item.", 1)
    backend.reads.clear()
    backend.box["Name"] = "x"
    backend.items[("a",)]["Label"] = "changed"
    assert [c.path for c in model.check(("box",))] == ["Device.Box.Name"]
    assert "slots" not in backend.reads
    assert [c.path for c in model.check(("items",))] == ["Device.Box.Item.1.Label"]


def test_the_acs_own_write_is_the_baseline_as_the_device_holds_it(model, backend):
    """A value the device keeps in its own form (here in capitals; a profile's ValidFrom as a local date)
    reads back otherwise than the central system wrote it: still its own write, not notified back."""
    watch(model, "Device.Box.Item.1.Label", 2)
    apply = backend.apply
    backend.apply = lambda writes: apply([(row, keys, value.upper()) for row, keys, value in writes])
    model.set_parameter_values([("Device.Box.Item.1.Label", "by-acs", None)], origin="acs")
    assert values(model, "Device.Box.Item.1.Label") == {"Device.Box.Item.1.Label": "BY-ACS"}
    assert model.check() == []


def test_a_watched_number_of_entries_is_compared_on_its_tables_news(model, backend):
    watch(model, "Device.Box.ItemNumberOfEntries", 2)
    del backend.items[("b",)]  # an item goes: the items group's news, the count has no group of its own
    assert [(c.path, c.value) for c in model.check(("items",))] == [("Device.Box.ItemNumberOfEntries", 1)]
    backend.items[("c",)] = {"Label": "C", "On": True}
    assert model.check(("box",)) == []  # not another group's news


def test_changes_made_by_the_acs_are_not_notified_back(model, backend):
    watch(model, "Device.Box.Name", 2)
    model.set_parameter_values([("Device.Box.Name", "by-acs", None)], origin="acs")
    assert model.check() == []
    model.set_parameter_values([("Device.Box.Name", "by-someone", None)], origin="local")
    assert [c.path for c in model.check()] == ["Device.Box.Name"]


def test_pending_changes_survive_a_restart_and_go_with_forced_ones(backend, store):
    m = Model(Registry(ROWS), backend, store)
    watch(m, "Device.Box.Item.1.Label", 1)
    backend.items[("a",)]["Label"] = "A2"
    assert [c.active for c in m.check()] == [False]
    m2 = Model(Registry(ROWS), backend, store)
    assert m2.has_pending()
    params = m2.take_notification()
    assert params == [{"Name": "Device.Box.Item.1.Label", "Value": "A2", "Type": "string"},
                      {"Name": "Device.Box.Version", "Value": "1.0", "Type": "string"}]
    assert m2.take_notification() is None
    assert Model(Registry(ROWS), backend, store).take_notification() is None


def test_a_change_while_the_daemon_was_down_is_found_at_start(backend, store):
    m = Model(Registry(ROWS), backend, store)
    watch(m, "Device.Box.Name", 2)
    backend.box["Name"] = "changed offline"
    again = Model(Registry(ROWS), backend, store)
    assert [(c.path, c.active) for c in again.check()] == [("Device.Box.Name", True)]


def test_a_forced_parameter_change_is_active(model, backend):
    model.check()
    backend.box["Version"] = "2.0"
    assert [(c.path, c.value, c.active) for c in model.check()] == [("Device.Box.Version", "2.0", True)]


def test_restore_puts_back_what_could_not_be_queued(model, backend):
    watch(model, "Device.Box.Name", 1)
    backend.box["Name"] = "n"
    model.check()
    params = model.take_notification()
    model.restore(params)
    assert model.take_notification()[0] == {"Name": "Device.Box.Name", "Value": "n", "Type": "string"}


def test_a_state_that_does_not_fit_is_ignored(backend, store):
    store.data = {"instances": {"Device.Box.Item.{i}.": {"next": "x"}}, "attributes": {"notification":
                  {"Device.Box.Name": 99, "Device.Box.Later": 1}}, "last": [1], "pending": {"a": 3},
                  "parameter_key": 7}
    m = Model(Registry(ROWS), backend, store)
    assert attrs(m, "Device.Box.Later", "Device.Box.Name") == {"Device.Box.Later": (1, []),
                                                               "Device.Box.Name": (0, [])}
    assert m.parameter_key == "" and not m.has_pending()
    assert values(m, "Device.Box.Item.1.Label")


# --- the registry ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [
    [Param("Device.A", STRING), Param("Device.A", STRING)],
    [Object("Device.A."), Object("Device.A.")],
    [Param("Device.A.{i}.B", STRING), Object("Device.A.")],
    [Param("Other.A", STRING)],
    [Object("Device.A.{i}.")] + [Param("Device.A.B", STRING)],
    [Param("Device.N", UNSIGNED_INT, count="Device.Nothing.{i}.")],
])
def test_rows_that_do_not_make_a_tree_are_refused(rows):
    with pytest.raises(RegistryError):
        Registry(rows)
