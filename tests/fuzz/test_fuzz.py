"""A fixed-seed slice of `make fuzz`: a few generated inputs into every face, the same ones each run."""

import pytest

import fuzz_faces
from fuzz_run import run_face

SEED = 20261201
SLICE = 150  # inputs per face here; `make fuzz` runs 20,000 per face


@pytest.mark.parametrize("face", fuzz_faces.FACES, ids=lambda f: f.name)
def test_fuzz_slice(face):
    count = getattr(face, "slice", SLICE)  # a face whose inputs are several calls takes fewer of them
    report = run_face(face, count, SEED)
    assert report["inputs"] >= count
    assert (report["crashes"], report["hangs"], report["unexpected"]) == (0, 0, 0), report["failure"]
