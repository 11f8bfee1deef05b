"""DesignSpace: encodings round-trip, validation names the field and its allowed values."""
import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.core.errors import DesignError
from archgym.envs.spaces import action_space, dict_space
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo, Real

SPACE = DesignSpace([
    PowerOfTwo("rows", 4, 256, default=32),
    Categorical("dataflow", ["os", "ws", "is"]),
    Integer("buffer", 1, 128),
    Integer("even", 2, 20, step=2),
    Real("clock_ghz", 0.2, 2.0, log=True, levels=8),
    Real("duty", 0.0, 1.0, levels=5),
])


def test_parameter_values_and_sizes():
    assert SPACE["rows"].values == (4, 8, 16, 32, 64, 128, 256)
    assert list(SPACE["even"].values) == list(range(2, 21, 2))
    assert SPACE["clock_ghz"].values[0] == pytest.approx(0.2) and SPACE["clock_ghz"].values[-1] == pytest.approx(2.0)
    assert SPACE.nvec.tolist() == [7, 3, 128, 10, 8, 5]
    assert SPACE.size == 7 * 3 * 128 * 10 * 8 * 5


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_index_round_trip(data):
    idx = np.array([data.draw(st.integers(0, n - 1)) for n in SPACE.nvec])
    design = SPACE.from_indices(idx)
    assert SPACE.to_indices(design).tolist() == idx.tolist()
    assert SPACE.from_indices(SPACE.unit_to_indices(SPACE.to_unit(design)[None])[0]) == design
    assert SPACE.from_dict_sample(SPACE.to_dict_sample(design)) == design
    assert dict_space(SPACE).contains(SPACE.to_dict_sample(design))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_unit_cube_decodes_to_valid_designs(u):
    design = SPACE.from_unit(u)
    assert SPACE.validate(design) == design
    assert 0.2 <= design["clock_ghz"] <= 2.0  # reals stay continuous in the unit-cube encoding


def test_action_space_and_decode():
    assert action_space(SPACE) == spaces.MultiDiscrete([7, 3, 128, 10, 8, 5])
    idx = np.array([[0, 2, 127, 9, 0, 4]])
    vals = SPACE.decode(idx)[0]
    assert vals[0] == 4 and vals[1] == 2 and vals[2] == 128 and vals[3] == 20
    assert vals[4] == pytest.approx(0.2) and vals[5] == pytest.approx(1.0)


@pytest.mark.parametrize("bad,match", [
    ({"rows": 12}, r"parameter 'rows': 12 is not allowed; allowed values: powers of two 4..256"),
    ({"dataflow": "rs"}, r"parameter 'dataflow': 'rs' is not allowed; allowed values: \{os, ws, is\}"),
    ({"buffer": 0}, r"parameter 'buffer': 0 is not allowed; allowed values: integers 1..128"),
    ({"even": 3}, r"integers 2..20 in steps of 2"),
    ({"clock_ghz": 3.0}, r"real numbers in \[0.2, 2\] \(log scale\)"),
    ({"clock_ghz": float("nan")}, "'clock_ghz': nan"),
    ({"buffer": "8"}, "'buffer': '8' is not allowed"),
    ({"buffer": True}, "'buffer': True is not allowed"),
    ({"colour": 1}, "unknown parameter 'colour'; parameters: rows, dataflow"),
])
def test_validate_names_field_and_allowed_values(bad, match):
    with pytest.raises(DesignError, match=match):
        SPACE.validate({**SPACE.default(), **bad})


def test_missing_parameter_and_complete():
    partial = {"rows": 64}
    with pytest.raises(DesignError, match="missing parameter 'dataflow'"):
        SPACE.validate(partial)
    assert SPACE.complete(partial) == {**SPACE.default(), "rows": 64}


def test_numpy_scalars_are_accepted_and_returned_plain():
    design = SPACE.validate({**SPACE.default(), "rows": np.int64(64), "buffer": np.float64(5.0)})
    assert type(design["rows"]) is int and design["rows"] == 64


def test_bad_index_vectors():
    with pytest.raises(DesignError, match="parameter 'rows': index 7 is out of range 0..6"):
        SPACE.from_indices([7, 0, 0, 0, 0, 0])
    with pytest.raises(DesignError, match="need shape"):
        SPACE.check_indices([1, 2])


def test_enumerate_and_restrict():
    small = SPACE.restrict(buffer=[1, 2], even=[2], clock_ghz=[1.0], duty=[0.5], rows=[4, 8])
    assert small.size == 2 * 3 * 2
    grid = small.enumerate_indices()
    assert len(grid) == 12 and len({tuple(r) for r in grid}) == 12
    with pytest.raises(DesignError, match="enumeration limit"):
        SPACE.enumerate_indices(limit=1000)
    with pytest.raises(DesignError, match="'rows': 3 is not allowed"):
        SPACE.restrict(rows=[3])


def test_sampling_is_seeded():
    a = SPACE.sample(np.random.default_rng(5), 10)
    b = SPACE.sample(np.random.default_rng(5), 10)
    assert a == b and all(SPACE.validate(d) == d for d in a)


@pytest.mark.parametrize("make", [
    lambda: PowerOfTwo("x", 3, 16), lambda: Integer("x", 5, 1), lambda: Real("x", 1, 1),
    lambda: Real("x", 0, 1, log=True), lambda: Categorical("x", ["a", "a"]), lambda: Categorical("x", []),
    lambda: Categorical("x", ["a"], default="b"),
])
def test_bad_parameter_definitions(make):
    with pytest.raises(DesignError):
        make()
