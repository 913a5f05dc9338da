"""A fixed-seed slice of `make fuzz`: a few generated inputs into every surface, the same ones each run."""

import pytest

import fuzz_surfaces
from fuzz_run import run_face

SEED = 20261201
SLICE = 150  # inputs per surface here; `make fuzz` runs 20,000 per surface


@pytest.mark.parametrize("surface", fuzz_surfaces.SURFACES, ids=lambda f: f.name)
def test_fuzz_slice(surface):
    count = getattr(surface, "slice", SLICE)  # a surface whose inputs are several calls takes fewer of them
    report = run_face(surface, count, SEED)
    assert report["inputs"] >= count
    assert (report["crashes"], report["hangs"], report["unexpected"]) == (0, 0, 0), report["failure"]


def test_fuzz_restarts_slice():
    """The stateful runs' slice: a few sequences, each ended by a restart, two of them a real process."""
    import fuzz_restart

    report = fuzz_restart.run(4, SEED, subprocess_every=2, steps=5)
    assert report["inputs"] >= 4 and report["subprocess"] >= 2
    assert (report["crashes"], report["hangs"], report["unexpected"]) == (0, 0, 0), report["failure"]


def test_fuzz_restarts_a_station_directory_emptied_leaves_no_profiles_held():
    """A sequence the stateful runs once failed on by mistake: an Accepted profile, then the station's
    directory replaced by an empty one (the file gone, nothing to set aside), then the restart: the daemon
    starts holding no profile, which the property allows for a file the sequence itself removed."""
    import fuzz_restart

    rig = fuzz_restart.Rig(subprocess_every=0)
    fuzz_restart.Restarts.rig = rig
    try:
        machine = fuzz_restart.Restarts()
        machine.fresh()
        machine.set_profile(contactor=3, clear=True, profiles=[{
            "profileId": 3, "stackLevel": 11, "recurrencyKind": "Daily",
            "daySchedule": [{"start": {"kind": "Absolute", "time": "20:52:00"},
                             "end": {"kind": "Sunrise", "offset": -3240}}]}])
        assert rig.profiles_held() == {3: {3}}
        machine.damage(name="station", kind="directory")
        machine.teardown()  # the restart and its properties: Failed when one does not hold
    finally:
        rig.close()
