"""The DMS shapes of the model's methods (bridge/model/rpc.py) and the tr069.model ubus object on top."""

import pytest

from bridge import ubusmsg as status
from bridge.model import rpc
from bridge.model.core import Model
from bridge.model.registry import Registry
from bridge.model.ubus_object import ModelObject
from support.model import ROWS, Backend, Store


@pytest.fixture
def model():
    return Model(Registry(ROWS), Backend(), Store())


def test_values_typed_in_the_seed_shape(model):
    reply = rpc.call(model, "GetParameterValues", ["Device.Box.Name", "Device.Box.Item.1."])
    assert reply == {"code": 200, "details": [
        {"key": "Device.Box.Name", "value": "box"}, {"key": "Device.Box.Item.1.Label", "value": "A"},
        {"key": "Device.Box.Item.1.On", "value": True}, {"key": "Device.Box.Item.1.Part.1.Size", "value": 1},
        {"key": "Device.Box.Item.1.Part.2.Size", "value": 2}]}


def test_each_method_answers_its_shape(model):
    assert rpc.call(model, "SetParameterValues", [{"Name": "Device.Box.Name", "Value": "x", "Type": "string"}],
                    "k1") == {"code": 200, "details": [{"key": "Status", "value": 0}]}
    assert model.parameter_key == "k1"
    assert rpc.call(model, "AddObject", {"ObjectName": "Device.Box.Item.", "ParameterKey": "k2"}) == {
        "code": 200, "details": [{"key": "InstanceNumber", "value": 3}, {"key": "Status", "value": 0}]}
    assert rpc.call(model, "DeleteObject", {"ObjectName": "Device.Box.Item.3."}) == {
        "code": 200, "details": [{"key": "Status", "value": 0}]}
    assert rpc.call(model, "SetParameterAttributes", [{"Name": "Device.Box.Name", "NotificationChange": True,
                                                       "Notification": 2, "AccessListChange": False,
                                                       "AccessList": []}]) == {"code": 200, "details": []}
    assert rpc.call(model, "GetParameterAttributes", ["Device.Box.Name", "Device.Box.Version"])["details"] == [
        {"key": "Device.Box.Name", "value": {"Notification": 2, "AccessList": None}},
        {"key": "Device.Box.Version", "value": {"Notification": 2, "AccessList": None}}]
    assert rpc.call(model, "GetParameterNames", {"ParameterPath": "Device.Box.Item.", "NextLevel": True}) == {
        "code": 200, "details": [{"key": "Device.Box.Item.1.", "value": True},
                                 {"key": "Device.Box.Item.2.", "value": True}]}


def test_faults_name_the_path(model):
    assert rpc.call(model, "GetParameterValues", ["Device.Box"]) == {
        "code": 9005, "message": "Invalid parameter name: an object's name ends with a dot",
        "details": [{"key": "Device.Box", "value": {
            "FaultCode": 9005, "FaultString": "Invalid parameter name: an object's name ends with a dot"}}]}
    reply = rpc.call(model, "SetParameterValues", [{"Name": "Device.Box.Version", "Value": "2"},
                                                   {"Name": "Device.Box.Later", "Value": 99}])
    assert reply["code"] == 9003
    assert [(d["key"], d["value"]["FaultCode"]) for d in reply["details"]] == [("Device.Box.Version", 9008),
                                                                              ("Device.Box.Later", 9007)]
    assert rpc.call(model, "Reboot", "now")["code"] == 9000
    assert rpc.call(model, "SetParameterValues", [{"Name": "Device.Box.Name"}])["code"] == 9003
    assert rpc.call(model, "GetParameterValues", "Device.")["code"] == 9003


def test_the_ubus_object(model):
    calls = []
    obj = ModelObject(lambda: model, after_call=calls.append)
    assert obj.name == "tr069.model" and set(obj.signature()) == set(rpc.METHODS)
    code, reply = obj.call("GetParameterValues", {"parameters": ["Device.Box.Name"], "ubus_rpc_session": "x"})
    assert code == status.OK and reply == {"code": 200, "details": [{"key": "Device.Box.Name", "value": "box"}]}
    code, reply = obj.call("SetParameterValues", {"parameters": [{"Name": "Device.Box.Name", "Value": "y"}],
                                                  "ParameterKey": "pk"})
    assert code == status.OK and reply["code"] == 200 and calls == ["SetParameterValues"]
    assert model.parameter_key == "pk"
    code, reply = obj.call("SetParameterValues", {"parameters": [{"Name": "Device.Nope", "Value": "y"}]})
    assert code == status.OK and reply["code"] == 9003 and calls == ["SetParameterValues"]
    assert obj.call("Reboot", {}) == (status.METHOD_NOT_FOUND, None)
    assert obj.call("GetParameterValues", {}) == (status.INVALID_ARGUMENT, None)
    assert obj.call("GetParameterValues", {"parameters": [], "extra": 1}) == (status.INVALID_ARGUMENT, None)
    assert obj.call("GetParameterValues", ["x"]) == (status.INVALID_ARGUMENT, None)


def test_a_change_from_the_device_side_is_notified_but_one_from_the_acs_is_not(model):
    obj = ModelObject(lambda: model)
    model.set_parameter_attributes([{"Name": "Device.Box.Name", "NotificationChange": True, "Notification": 2}])
    rpc.call(model, "SetParameterValues", [{"Name": "Device.Box.Name", "Value": "from-acs"}], origin="acs")
    assert model.check() == []
    obj.call("SetParameterValues", {"parameters": [{"Name": "Device.Box.Name", "Value": "from-luci"}]})
    assert [c.path for c in model.check()] == ["Device.Box.Name"]


def test_the_acl_group_over_the_json_rpc_shim(tmp_path):
    """rpcd's ACL group tr069-model (the package's acl.d file): read may call the Get* methods only, write
    the others too; the same calls and answers as on ubusd."""
    from bridge.jsonrpc import cryptpw
    from support.jsonrpc_helpers import Running

    shadow = tmp_path / "shadow"
    shadow.write_text("".join("%s:%s:19000:0:99999:7:::\n" % (u, cryptpw.crypt(u + "-pw", "$1$salt" + u[:2]))
                              for u in ("reader", "writer")))
    rpcd = tmp_path / "rpcd"
    rpcd.write_text("config login\n\toption username 'reader'\n\toption password '$p$reader'\n"
                    "\tlist read 'tr069-model'\n\n"
                    "config login\n\toption username 'writer'\n\toption password '$p$writer'\n"
                    "\tlist read 'tr069-model'\n\tlist write 'tr069-model'\n")
    model = Model(Registry(ROWS), Backend(), Store())
    r = Running(lambda loop: {"tr069.model": ModelObject(lambda: model)}, users_file=str(rpcd), shadow=str(shadow),
                state_dir=str(tmp_path))
    try:
        c = r.client()
        reader = c.login("reader", "reader-pw")["result"][1]["ubus_rpc_session"]
        writer = c.login("writer", "writer-pw")["result"][1]["ubus_rpc_session"]
        get = {"parameters": ["Device.Box.Name"]}
        assert c.call(reader, "tr069.model", "GetParameterValues", get)["result"] == [
            0, {"code": 200, "details": [{"key": "Device.Box.Name", "value": "box"}]}]
        put = {"parameters": [{"Name": "Device.Box.Name", "Value": "shim"}]}
        assert c.call(reader, "tr069.model", "SetParameterValues", put)["error"]["code"] == -32002  # access denied
        assert c.call(writer, "tr069.model", "SetParameterValues", put)["result"] == [
            0, {"code": 200, "details": [{"key": "Status", "value": 0}]}]
        assert c.call(reader, "tr069.model", "GetParameterValues", get)["result"][1]["details"][0]["value"] == "shim"
    finally:
        r.close()
