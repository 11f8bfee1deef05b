"""`check_simulator`: the simulator contract as executable checks, in the spirit of Gymnasium's
env_checker. Every simulator package exposes PARAMETERS, METRICS, prepare, parameters, evaluate
and simulate (see simulators/__init__.py); this checks that each does what the contract says."""
from __future__ import annotations

import numpy as np

from archgym.core.errors import ArchGymError, DesignError
from archgym.core.space import DesignSpace
from simulators.base import SimResult

REQUIRED_METRICS = ("latency_s", "energy_j", "power_w")
# A metric name carries its unit as a suffix, or is a count or a fraction.
UNIT_SUFFIXES = ("_s", "_ns", "_j", "_w", "_mm2", "_gbps", "_fps", "_bytes", "_cycles", "_reads", "_writes",
                 "_util", "_rate", "_efficiency")
COUNTS = frozenset({"cycles", "macs", "lut", "ff", "dsp", "bram18", "uram", "feasible", "violation", "overflow"})


class SimulatorContractError(ArchGymError):
    """A simulator package that breaks the simulator contract."""


def _fail(sim, what: str) -> SimulatorContractError:
    return SimulatorContractError(f"{sim.__name__}: {what}")


def check_simulator(sim, workload=None, n: int = 96, seed: int = 0) -> None:
    """Raise SimulatorContractError (naming the rule) unless `sim` honours the contract on
    `workload` (default: the simulator's own default workload) with `n` random designs."""
    for attr in ("PARAMETERS", "METRICS", "prepare", "parameters", "evaluate", "simulate"):
        if not hasattr(sim, attr):
            raise _fail(sim, f"has no {attr!r}")
    if not isinstance(sim.PARAMETERS, DesignSpace):
        raise _fail(sim, "PARAMETERS is not a DesignSpace")
    for m in sim.METRICS:
        if not (m.endswith(UNIT_SUFFIXES) or m.startswith(("n_", "energy_", "area_")) or m in COUNTS):
            raise _fail(sim, f"metric {m!r} has no unit in its name (suffixes: {', '.join(UNIT_SUFFIXES)})")
    missing = [m for m in REQUIRED_METRICS if m not in sim.METRICS]
    if missing:
        raise _fail(sim, f"METRICS lacks {missing}")

    prepared = sim.prepare() if workload is None else sim.prepare(workload)
    space = sim.parameters(prepared)
    if list(space.names[:len(sim.PARAMETERS)]) != list(sim.PARAMETERS.names):
        raise _fail(sim, "parameters(prepared) must start with PARAMETERS, in order")

    # One design: simulate and evaluate agree.
    default = space.default()
    res = sim.simulate(default, prepared)
    if not isinstance(res, SimResult):
        raise _fail(sim, f"simulate returned {type(res).__name__}, not SimResult")
    one = sim.evaluate(space.kernel_vector(default)[None, :], prepared)
    for m in sim.METRICS:
        if m not in one:
            raise _fail(sim, f"evaluate output lacks metric {m!r}")
        if m in res.metrics and isinstance(res.metrics[m], float) and not np.isclose(one[m][0], res.metrics[m],
                                                                                      rtol=1e-9, atol=0):
            raise _fail(sim, f"evaluate and simulate disagree on {m!r}: {one[m][0]!r} vs {res.metrics[m]!r}")

    # A batch: shapes, finiteness, feasibility, and each row equal to its own single evaluation.
    rng = np.random.default_rng(seed)
    idx = space.sample_indices(rng, n)
    vectors = np.stack([space.kernel_vector(space.from_indices(i)) for i in idx])
    out = sim.evaluate(vectors, prepared)
    for m in (*sim.METRICS, "feasible", "violation"):
        v = np.asarray(out.get(m))
        if v.shape != (n,):
            raise _fail(sim, f"evaluate()[{m!r}] has shape {v.shape}, expected ({n},)")
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            raise _fail(sim, f"evaluate()[{m!r}] is not finite for some designs")
    if out["feasible"].dtype != bool or np.any(out["violation"] < 0) or np.any(out["violation"][out["feasible"]] != 0):
        raise _fail(sim, "feasible must be bool, and violation >= 0 and 0 exactly where feasible")
    for m in REQUIRED_METRICS:
        if np.any(out[m][out["feasible"]] <= 0):
            raise _fail(sim, f"{m} must be positive for feasible designs")
    perm = rng.permutation(n)
    again = sim.evaluate(vectors[perm], prepared)
    for k in (0, n - 1):
        single = sim.evaluate(vectors[perm[k]][None, :], prepared)
        for m in sim.METRICS:
            if not (np.array_equal(again[m][k], out[m][perm[k]]) and np.array_equal(single[m][0], out[m][perm[k]])):
                raise _fail(sim, f"design {perm[k]}'s {m!r} depends on its batch (order or size)")

    # Bad input is an error that names the field.
    try:
        sim.simulate({"no_such_parameter": 1}, prepared)
    except DesignError as e:
        if "no_such_parameter" not in str(e):
            raise _fail(sim, f"an unknown parameter's error does not name it: {e}") from None
    else:
        raise _fail(sim, "simulate accepted an unknown parameter")
