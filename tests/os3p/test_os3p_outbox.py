"""The persistent outbox: order, persistence across instances (a restart), bounds, crash leftovers."""

import os
import stat

from bridge.os3p.outbox import Outbox


def test_order_and_persistence(tmp_path):
    box = Outbox(str(tmp_path))
    ids = [box.put("StatusNotification", {"n": i})["id"] for i in range(5)]
    assert [r["payload"]["n"] for r in box.records()] == list(range(5))
    assert box.remove(ids[0]) and not box.remove(ids[0])
    again = Outbox(str(tmp_path))  # what a restarted daemon sees
    assert [r["id"] for r in again.records()] == ids[1:]
    assert again.head()["payload"] == {"n": 1}
    new = again.put("FirmwareStatusNotification", {"status": "Installed"})
    assert again.records()[-1] == new  # sequence continues after the survivors
    assert [r["id"] for r in Outbox(str(tmp_path)).records()] == ids[1:] + [new["id"]]


def test_files_are_private(tmp_path):
    box = Outbox(str(tmp_path / "q"))
    box.put("StatusNotification", {})
    files = [f for f in os.listdir(tmp_path / "q")]
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(tmp_path / "q" / files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "q").st_mode) == 0o700


def test_bounded_drops_oldest_but_not_in_flight(tmp_path):
    box = Outbox(str(tmp_path), limit=3)
    first = box.put("A", {"n": 0})
    box.in_flight = first["id"]
    for n in range(1, 5):
        box.put("A", {"n": n})
    assert [r["payload"]["n"] for r in box.records()] == [0, 3, 4]
    assert box.dropped == 2
    assert len(os.listdir(tmp_path)) == 3


def test_torn_or_foreign_files_are_set_aside(tmp_path):
    box = Outbox(str(tmp_path))
    keep = box.put("A", {})
    (tmp_path / "000000000099.json").write_text("{not json")
    (tmp_path / ".000000000100.json.tmp").write_text("half")  # a write cut short before its rename
    again = Outbox(str(tmp_path))
    assert again.records() == [keep]
    assert (tmp_path / "000000000099.json.bad").exists()
    b = again.put("B", {})
    assert again.records() == [keep, b]
