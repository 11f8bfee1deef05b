"""Design spaces: ordered, typed, named parameters, and the encodings agents and envs use.

A design is a plain dict name -> value. A `DesignSpace` converts it to and from
- an index vector (one int per parameter; the env action, a `MultiDiscrete` in archgym.envs.spaces),
- a unit-cube vector (floats in [0, 1]; for Bayesian optimisation and QMC),
- a Dict sample (one entry per parameter: an index, or the value of a Real; archgym.envs.spaces),
and validates it with errors that name the parameter and its allowed values.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real as RealNumber

import numpy as np

from archgym.core.errors import DesignError

MAX_ENUMERATE = 10_000_000
MAX_LISTED = 256  # `to_config` lists the values of a range up to this many, else gives its bounds


class Parameter:
    """A named parameter with a finite list of `values` (the index encoding) and a default.

    `unit` names the unit of its values ("kB", "MHz"; "" for counts, codes and names); `group`
    says which part of a design it belongs to ("hardware", "network"), so that co-design baselines
    can search one part at a time.
    """
    kind = "parameter"

    def __init__(self, name: str, values: Sequence, default=None, *, unit: str = "", group: str = ""):
        if not values:
            raise DesignError(f"parameter {name!r} has no allowed values")
        self.name = name
        self.unit, self.group = str(unit), str(group)
        self.values = values if isinstance(values, range) else tuple(values)
        self.default = self.values[len(self.values) // 2] if default is None else default
        self._index = None if isinstance(values, range) else {v: i for i, v in enumerate(self.values)}
        self.index(self.default)  # the default must itself be allowed

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.allowed()})"

    def replace(self, **changes) -> "Parameter":
        """A copy with some attributes changed (`name`, `group`, `unit`)."""
        bad = set(changes) - {"name", "group", "unit"}
        if bad:
            raise DesignError(f"parameter {self.name!r}: only name, group and unit can be replaced, not {sorted(bad)}")
        q = copy.copy(self)
        q.__dict__.update(changes)
        return q

    def allowed(self) -> str:
        """Human-readable allowed values, for error messages."""
        if len(self.values) <= 12:
            return "{" + ", ".join(map(str, self.values)) + "}"
        return f"{{{self.values[0]}, {self.values[1]}, ..., {self.values[-1]}}} ({len(self.values)} values)"

    def _error(self, value) -> DesignError:
        return DesignError(f"parameter {self.name!r}: {value!r} is not allowed; allowed values: {self.allowed()}")

    def contains(self, value) -> bool:
        try:
            self.index(value)
            return True
        except DesignError:
            return False

    def index(self, value) -> int:
        """Position of `value` in `values`; DesignError if it is not allowed."""
        try:
            return self._index[value]
        except (KeyError, TypeError):
            raise self._error(value) from None

    def value(self, index: int):
        return self.values[int(index)]

    def to_unit(self, value) -> float:
        return (self.index(value) + 0.5) / len(self.values)

    def from_unit(self, u: float):
        return self.values[min(int(float(u) * len(self.values)), len(self.values) - 1)]

    def code(self, value) -> float:
        """The kernel encoding of one allowed value: the value if numeric, else its position."""
        if isinstance(value, RealNumber) and not isinstance(value, bool):
            self.index(value)
            return float(value)
        return float(self.index(value))

    def numeric_values(self) -> np.ndarray:
        """Values as float64 for the kernels: the values themselves if numeric, else their codes."""
        if isinstance(self.values, range):
            return np.arange(self.values.start, self.values.stop, self.values.step, dtype=np.float64)
        if all(isinstance(v, RealNumber) and not isinstance(v, bool) for v in self.values):
            return np.array(self.values, dtype=np.float64)
        return np.arange(len(self.values), dtype=np.float64)


class Categorical(Parameter):
    """Unordered choices (strings or numbers)."""
    kind = "categorical"

    def __init__(self, name: str, choices: Sequence, default=None, **kw):
        if len(set(choices)) != len(choices):
            raise DesignError(f"parameter {name!r}: duplicate choices in {list(choices)}")
        super().__init__(name, list(choices), default, **kw)


class _Numeric(Parameter):
    """Ordered numeric values; accepts any number equal to an allowed value (8.0 for 8)."""

    def index(self, value) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (RealNumber, np.number)):
            raise self._error(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self._error(value)
        i = self._index.get(value)
        if i is None:
            raise self._error(value)
        return i


class Integer(_Numeric):
    """Integers low..high (inclusive) in steps of `step`."""
    kind = "integer"

    def __init__(self, name: str, low: int, high: int, step: int = 1, default=None, **kw):
        if step <= 0 or high < low:
            raise DesignError(f"parameter {name!r}: need low <= high and step > 0, got {low}, {high}, {step}")
        self.low, self.high, self.step = int(low), int(high), int(step)
        super().__init__(name, range(self.low, self.high + 1, self.step), default, **kw)

    def index(self, value) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (RealNumber, np.number)):
            raise self._error(value)
        v = float(value)
        if not math.isfinite(v) or v != int(v):
            raise self._error(value)
        i, rem = divmod(int(v) - self.low, self.step)
        if rem or not 0 <= i < len(self.values):
            raise self._error(value)
        return i

    def allowed(self) -> str:
        if self.step == 1:
            return f"integers {self.low}..{self.high}"
        return f"integers {self.low}..{self.high} in steps of {self.step}"


class PowerOfTwo(_Numeric):
    """Powers of two from low to high (inclusive)."""
    kind = "power_of_two"

    def __init__(self, name: str, low: int, high: int, default=None, **kw):
        if low < 1 or high < low or low & (low - 1) or high & (high - 1):
            raise DesignError(f"parameter {name!r}: low and high must be powers of two with low <= high, got {low}, {high}")
        self.low, self.high = int(low), int(high)
        super().__init__(name, [1 << e for e in range(self.low.bit_length() - 1, self.high.bit_length())], default, **kw)

    def allowed(self) -> str:
        return f"powers of two {self.low}..{self.high}"


class Real(_Numeric):
    """A real interval [low, high], linear or log. `levels` grid points serve the index encoding;
    validation and the unit-cube encoding accept any value in the interval."""
    kind = "real"

    def __init__(self, name: str, low: float, high: float, log: bool = False, levels: int = 16, default=None, **kw):
        if not (math.isfinite(low) and math.isfinite(high)) or high <= low or (log and low <= 0) or levels < 2:
            raise DesignError(f"parameter {name!r}: need finite low < high (low > 0 if log) and levels >= 2")
        self.low, self.high, self.log = float(low), float(high), bool(log)
        grid = np.geomspace(low, high, levels) if log else np.linspace(low, high, levels)
        super().__init__(name, [float(v) for v in grid], default if default is not None else float(grid[levels // 2]), **kw)

    def allowed(self) -> str:
        return f"real numbers in [{self.low:g}, {self.high:g}]" + (" (log scale)" if self.log else "")

    def index(self, value) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (RealNumber, np.number)):
            raise self._error(value)
        v = float(value)
        if not (math.isfinite(v) and self.low <= v <= self.high):
            raise self._error(value)
        return int(np.argmin(np.abs(self._grid_unit() - self._unit(v))))

    def _unit(self, v: float) -> float:
        if self.log:
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)

    def _grid_unit(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, len(self.values))

    def to_unit(self, value) -> float:
        self.index(value)
        return self._unit(float(value))

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return float(self.low + u * (self.high - self.low))


@dataclass(frozen=True)
class Constraint:
    """A feasibility rule over a batch of designs. `holds(values)` gets {parameter name: (n,) array
    of values} and returns an (n,) bool array, True where the rule holds. A design that breaks one
    is scored, never rejected: the env marks it `feasible=False` and names the rule in `info`."""
    name: str
    holds: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    description: str = ""


class DesignSpace:
    """An ordered set of parameters, optionally with `constraints` (see Constraint)."""

    def __init__(self, params: Iterable[Parameter], constraints: Sequence[Constraint] = ()):
        self.params: tuple[Parameter, ...] = tuple(params)
        self.names: tuple[str, ...] = tuple(p.name for p in self.params)
        if len(set(self.names)) != len(self.names):
            raise DesignError(f"duplicate parameter names in {self.names}")
        self._by_name = {p.name: p for p in self.params}
        self.constraints = tuple(constraints)
        for c in self.constraints:
            if not isinstance(c, Constraint):
                raise DesignError(f"constraints must be archgym.core.space.Constraint objects, got {c!r}")
        self.nvec = np.array([len(p) for p in self.params], dtype=np.int64)
        self._tables_cache = None

    # --- container protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self):
        return iter(self.params)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise DesignError(f"unknown parameter {name!r}; parameters: {', '.join(self.names)}") from None

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"DesignSpace({', '.join(map(repr, self.params))})"

    @property
    def size(self) -> int:
        """Number of points in the index encoding (a Python int; may be astronomically large)."""
        return math.prod(int(n) for n in self.nvec)

    # --- designs --------------------------------------------------------------------------------
    def default(self) -> dict:
        return {p.name: p.default for p in self.params}

    def validate(self, design: Mapping) -> dict:
        """Return `design` as a clean dict in parameter order; DesignError names the bad field."""
        if not isinstance(design, Mapping):
            raise DesignError(f"a design must be a mapping of parameter name to value, got {type(design).__name__}")
        unknown = [k for k in design if k not in self._by_name]
        if unknown:
            raise DesignError(f"unknown parameter {unknown[0]!r}; parameters: {', '.join(self.names)}")
        missing = [n for n in self.names if n not in design]
        if missing:
            raise DesignError(f"design is missing parameter {missing[0]!r} (allowed values: {self[missing[0]].allowed()})")
        out = {}
        for p in self.params:
            v = design[p.name]
            p.index(v)
            out[p.name] = _plain(v)
        return out

    def complete(self, design: Mapping) -> dict:
        """Fill missing parameters with their defaults, then validate."""
        unknown = [k for k in design if k not in self._by_name]
        if unknown:
            raise DesignError(f"unknown parameter {unknown[0]!r}; parameters: {', '.join(self.names)}")
        return self.validate({**self.default(), **design})

    # --- groups and constraints -------------------------------------------------------------------
    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Group name -> the names of its parameters, in order ("" for ungrouped parameters)."""
        out: dict[str, list[str]] = {}
        for p in self.params:
            out.setdefault(p.group, []).append(p.name)
        return {g: tuple(v) for g, v in out.items()}

    def group_columns(self, group: str) -> np.ndarray:
        """Column numbers (in index arrays) of the parameters in `group`; DesignError if none."""
        cols = np.array([j for j, p in enumerate(self.params) if p.group == group], dtype=np.int64)
        if not len(cols):
            raise DesignError(f"no parameter is in group {group!r}; groups: {', '.join(map(repr, self.groups))}")
        return cols

    def value_arrays(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """(n, n_params) index array -> {parameter name: (n,) array of its values}."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.params))
        return {p.name: np.asarray(p.values if not isinstance(p.values, range) else p.numeric_values())[idx[:, j]]
                for j, p in enumerate(self.params)}

    def constraint_mask(self, idx: np.ndarray) -> np.ndarray:
        """(n, n_constraints) bool array: True where a design breaks a constraint."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.params))
        out = np.zeros((len(idx), len(self.constraints)), dtype=bool)
        if self.constraints:
            values = self.value_arrays(idx)
            for k, c in enumerate(self.constraints):
                out[:, k] = ~np.broadcast_to(np.asarray(c.holds(values), dtype=bool), (len(idx),))
        return out

    def is_feasible(self, design: Mapping) -> bool:
        """True when every space constraint holds for `design`."""
        return not self.constraint_mask(self.to_indices(design)[None, :]).any()

    # --- encodings ------------------------------------------------------------------------------
    def to_indices(self, design: Mapping) -> np.ndarray:
        design = self.validate(design)
        return np.array([p.index(design[p.name]) for p in self.params], dtype=np.int64)

    def from_indices(self, idx) -> dict:
        idx = self.check_indices(idx)
        return {p.name: p.value(i) for p, i in zip(self.params, idx)}

    def design_at(self, idx: np.ndarray) -> dict:
        """The design at an index vector already known to be valid (no checks: the hot path)."""
        return {p.name: _plain(p.values[i]) for p, i in zip(self.params, idx.tolist())}

    def check_indices(self, idx) -> np.ndarray:
        """Validate an index vector or an (n, n_params) index array; returns an int64 array."""
        arr = np.asarray(idx)
        if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr))):
            raise DesignError(f"index vectors must hold integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.shape[-1:] != (len(self.params),) or arr.ndim not in (1, 2):
            raise DesignError(f"index vectors need shape ({len(self.params)},) or (n, {len(self.params)}) for parameters {self.names}, got {arr.shape}")
        bad = (arr < 0) | (arr >= self.nvec)
        if bad.any():
            j = int(np.argwhere(bad)[0][-1])
            v = int(arr.reshape(-1, len(self.params))[bad.reshape(-1, len(self.params)).any(axis=1)][0, j])
            raise DesignError(f"parameter {self.names[j]!r}: index {v} is out of range 0..{self.nvec[j] - 1}")
        return arr

    def to_unit(self, design: Mapping) -> np.ndarray:
        design = self.validate(design)
        return np.array([p.to_unit(design[p.name]) for p in self.params])

    def from_unit(self, u) -> dict:
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (len(self.params),) or not np.all(np.isfinite(u)):
            raise DesignError(f"unit-cube vectors need {len(self.params)} finite entries, got shape {u.shape}")
        return {p.name: _plain(p.from_unit(x)) for p, x in zip(self.params, u)}

    def unit_to_indices(self, u: np.ndarray) -> np.ndarray:
        """(n, n_params) points of the unit cube -> index array (Real parameters snap to their grid)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0 - 1e-12)
        return np.minimum((u * self.nvec).astype(np.int64), self.nvec - 1)

    def to_dict_sample(self, design: Mapping) -> dict:
        design = self.validate(design)
        return {p.name: (np.array(design[p.name], dtype=np.float64) if isinstance(p, Real) else int(p.index(design[p.name])))
                for p in self.params}

    def from_dict_sample(self, sample: Mapping) -> dict:
        missing = [n for n in self.names if n not in sample]
        if missing:
            raise DesignError(f"Dict sample is missing parameter {missing[0]!r}")
        out = {}
        for p in self.params:
            s = sample[p.name]
            if isinstance(p, Real):
                out[p.name] = _plain(float(np.asarray(s)))
                p.index(out[p.name])
            else:
                i = int(s)
                if not 0 <= i < len(p):
                    raise DesignError(f"parameter {p.name!r}: index {i} is out of range 0..{len(p) - 1}")
                out[p.name] = p.value(i)
        return out

    # --- batches (the hot path: arrays only) -----------------------------------------------------
    def decode(self, idx: np.ndarray) -> np.ndarray:
        """(n, n_params) index array -> (n, n_params) float64 array of numeric values
        (categorical strings become their codes)."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.params))
        out = np.empty(idx.shape, dtype=np.float64)
        if self._tables_cache is None:
            self._tables_cache = [p.numeric_values() for p in self.params]
        for j, table in enumerate(self._tables_cache):
            out[:, j] = table[idx[:, j]]
        return out

    def designs_to_indices(self, designs) -> np.ndarray:
        """A list of design dicts or an index array -> a validated (n, n_params) index array."""
        if isinstance(designs, Mapping):
            designs = [designs]
        if isinstance(designs, np.ndarray) or (len(designs) and not isinstance(designs[0], Mapping)):
            return self.check_indices(np.atleast_2d(np.asarray(designs)))
        if len(designs) == 0:
            return np.zeros((0, len(self.params)), dtype=np.int64)
        return np.stack([self.to_indices(d) for d in designs])

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return (rng.random((n, len(self.params))) * self.nvec).astype(np.int64)

    def sample(self, rng: np.random.Generator, n: int | None = None):
        """One random design (n=None) or a list of n."""
        idx = self.sample_indices(rng, 1 if n is None else n)
        designs = [self.from_indices(i) for i in idx]
        return designs[0] if n is None else designs

    def enumerate_indices(self, limit: int = MAX_ENUMERATE) -> np.ndarray:
        """Every index vector of the space, in row-major order; DesignError above `limit` points."""
        if self.size > limit:
            raise DesignError(f"space has {self.size:,} points, more than the enumeration limit {limit:,}")
        grids = np.meshgrid(*[np.arange(n) for n in self.nvec], indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1).astype(np.int64)

    def restrict(self, **values) -> "DesignSpace":
        """A copy where each named parameter is a Categorical over the given values."""
        params = []
        for p in self.params:
            if p.name in values:
                vals = list(values.pop(p.name))
                for v in vals:
                    p.index(v)
                default = p.default if p.default in vals else vals[len(vals) // 2]
                params.append(Categorical(p.name, vals, default, unit=p.unit, group=p.group))
            else:
                params.append(p)
        if values:
            raise DesignError(f"unknown parameter {next(iter(values))!r}; parameters: {', '.join(self.names)}")
        return DesignSpace(params, self.constraints)

    def with_group(self, group: str) -> "DesignSpace":
        """A copy whose parameters all belong to `group`."""
        return DesignSpace([p.replace(group=group) for p in self.params], self.constraints)

    def kernel_vector(self, design: Mapping) -> np.ndarray:
        """A complete design -> float64 vector in parameter order (see Parameter.code)."""
        design = self.validate(design)
        return np.array([p.code(design[p.name]) for p in self.params], dtype=np.float64)

    def to_config(self) -> list[dict]:
        """A JSON-ready description of the parameters (for logs and `archgym list`): every value,
        except for a range of more than MAX_LISTED values, given as `range: [start, stop, step]`
        (see `config_values`)."""
        out = []
        for p in self.params:
            entry = {"name": p.name, "kind": p.kind, "default": p.default, "unit": p.unit, "group": p.group}
            if isinstance(p.values, range) and len(p) > MAX_LISTED:
                entry.update(values=p.allowed(), range=[p.values.start, p.values.stop, p.values.step])
            else:
                entry["values"] = [_plain(v) for v in p.values]
            out.append(entry)
        return out


def config_values(entry: Mapping) -> Sequence:
    """The allowed values of one parameter of `DesignSpace.to_config()`, in index order."""
    if "range" in entry:
        return range(*entry["range"])
    return entry["values"]


def _plain(v):
    """numpy scalars -> Python scalars, so designs are JSON-ready."""
    if isinstance(v, np.generic):
        return v.item()
    return v
