"""Sequential co-design baselines: design the network and the hardware one after the other.

Each reads only the space's parameter groups ("network", "hardware"), the env's objective (a
`constraint` objective: maximise a metric under limits) and the metrics the env reports; never a
particular evaluator. Each runs two stages with an `inner` ask/tell agent, every evaluation a full
env evaluation counted against the same budget a joint search gets (`nas_fraction` of it on the
network stage), and ends on the best design of its second stage under the env's own objective:

- `sequential` (NAS first, under a MACs budget): the network stage maximises the metric subject to
  `macs <= macs_budget` with the hardware at the space's default and its feasibility ignored
  (hardware-unaware NAS, as in NASAIC's NAS -> ASIC baseline, Yang et al., DAC 2020); then the
  hardware stage searches an accelerator for the winner.
- `hardware_first`: the hardware stage searches the fastest accelerator for the reference network
  (the space's default network: NB201's ResNet cell) within the env's other limits (area); then NAS
  on that accelerator under the env's objective.
- `latency_aware_nas`: NAS on the fixed reference accelerator (the space's default hardware)
  under the env's latency limits (hardware-aware NAS for one target device, as in ProxylessNAS or
  FBNet); then the hardware stage tunes the accelerator for the winner.

Each checks its configuration before spending any budget, with a census of the space's networks on
the reference hardware (bookkeeping outside the budget, like the hypervolume reference point): a
MACs or latency budget that admits no network is an error naming the field and the range.
"""
from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import ClassVar

import numpy as np

from agents import make_agent
from agents.base import Agent, Recorder, UnsupportedSpaceError, check_budget, check_seed
from agents.config import AgentConfig, hp
from archgym.core.errors import ArchGymError
from archgym.core.objectives import Objective
from archgym.core.space import DesignSpace

CENSUS_MAX = 1 << 17  # networks evaluated by the configuration check (a seeded sample beyond this)
INNER = ("regularized_evolution", "ga", "random", "sa", "tpe")


class BaselineConfigError(ArchGymError):
    """A baseline's configuration that admits no network (names the field and the allowed range)."""


@dataclass(frozen=True)
class TwoStageConfig(AgentConfig):
    inner: str = hp("regularized_evolution", choices=INNER, help="ask/tell agent run in each stage")
    nas_fraction: float = hp(0.5, 0.05, 0.95, help="share of the budget spent on the network stage")


class _TwoStage(Agent):
    """Two stages over the parameter groups (see the module docstring); subclasses say which group
    goes first and the first stage's objective."""
    family = "baseline"
    first: ClassVar[str] = "network"
    Config = TwoStageConfig

    def check_space(self, space: DesignSpace) -> None:
        _columns(space)

    def first_objective(self, base, census: dict) -> tuple[Objective, bool, dict]:
        """(objective of the first stage, whether it sees the hardware's feasibility, extras to report)."""
        raise NotImplementedError

    def search(self, env, budget: int, seed: int | None = None, callback=None):
        base = env.unwrapped
        budget = check_budget(budget)
        seed = self.seed if seed is None else check_seed(seed)
        space, objective = base.space, base.objective
        cols = dict(zip(("network", "hardware"), _columns(space)))
        if objective.mode != "constraint":
            raise UnsupportedSpaceError(f"{self.name} needs a `constraint` objective (maximise the network's metric "
                                        f"under hardware limits), not {objective.mode!r}")
        default = space.to_indices(space.default())
        census = network_census(base, cols["network"], default)
        first_objective, aware, extra = self.first_objective(base, census)
        second = "hardware" if self.first == "network" else "network"
        n_net = max(1, min(budget - 1, int(round(self.config.nas_fraction * budget))))
        n_first = n_net if self.first == "network" else budget - n_net
        rec = Recorder(space, objective)
        start = perf_counter()
        best = _stage(base, rec, cols[self.first], default, first_objective, n_first, self.config.inner, seed,
                      callback, aware)
        fixed = default.copy()
        fixed[cols[self.first]] = best[cols[self.first]]
        _stage(base, rec, cols[second], fixed, objective, budget - n_first, self.config.inner, seed + 1, callback, True)
        part = space.from_indices(fixed)
        extra[self.first] = {k: part[k] for k in space.groups[self.first]}
        return self._result(env, rec, seed, budget, perf_counter() - start, **extra)


class Sequential(_TwoStage):
    """NAS first under a MACs budget, then hardware for its winner (see the module docstring).
    `macs_budget` 0 derives it from the latency budget: macs(reference network) x latency budget /
    latency(reference design), the usual rule of thumb before the hardware is known."""
    name = "sequential"

    @dataclass(frozen=True)
    class Config(TwoStageConfig):
        macs_budget: float = hp(0.0, 0.0, 1e15, help="MACs limit of the network stage (0: derive from the latency budget)")

    def first_objective(self, base, census):
        if "macs" not in census:
            raise UnsupportedSpaceError("sequential needs a single-network co-design env that reports its network's "
                                        "`macs` (e.g. archgym/NB201-Systolic-v0): stage 1 is NAS under a MACs budget")
        macs = self.config.macs_budget or self.derived_macs_budget(base)
        lo, hi = float(census["macs"].min()), float(census["macs"].max())
        if macs < lo:
            how = "" if self.config.macs_budget else (f" (derived from the latency budget; pass macs_budget= in "
                                                      f"[{lo:.6g}, {hi:.6g}])")
            raise BaselineConfigError(f"sequential: macs_budget={macs:.6g} admits no network{how}; the space's networks "
                                      f"need {lo:.6g} to {hi:.6g} MACs ({census['_what']}), so macs_budget must be "
                                      f">= {lo:.6g}")
        metric = base.objective.optimize
        return Objective("constraint", [metric, "macs"], optimize=metric, limits={"macs": macs}), False, \
            {"macs_budget": macs}

    @staticmethod
    def derived_macs_budget(base) -> float:
        """MACs of the reference network x latency budget / latency of the reference design (the
        defaults), which must be feasible."""
        lat = _latency_limits(base.objective)
        if not lat:
            raise BaselineConfigError("sequential: the env objective has no latency limit to derive macs_budget from; "
                                      "pass macs_budget=")
        k = next(iter(lat))
        out = base.evaluate(base.space.default())
        if not out["feasible"][0]:  # a reference that does not fit its chip has no meaningful latency
            raise BaselineConfigError(
                f"sequential: the reference design (the space's defaults) is infeasible (violation "
                f"{float(out['violation'][0]):.3g}), so its {k} cannot set the MACs budget; pass macs_budget= or "
                f"make the env's default hardware fit")
        return float(out["macs"][0] * lat[k] / out[k][0])


class HardwareFirst(_TwoStage):
    """Hardware first: the fastest accelerator for the reference network (the space's default)
    within the env's other limits (area), then NAS on that hardware under the env's objective."""
    name = "hardware_first"
    first = "hardware"

    def first_objective(self, base, census):
        lat = _latency_limits(base.objective)
        if not lat:
            return base.objective, True, {}
        fastest = next(iter(lat))  # with several latency limits (several networks), the first one's
        limits = {k: v for k, v in base.objective.limits.items() if k not in lat}
        return Objective("constraint", [fastest, *limits], optimize=fastest, limits=limits), True, {}


class LatencyAwareNAS(_TwoStage):
    """NAS under the env's latency limits on the fixed reference accelerator (the space's default
    hardware), then hardware tuning for the winner."""
    name = "latency_aware_nas"

    def first_objective(self, base, census):
        objective = base.objective
        lat = _latency_limits(objective)
        if not lat:
            raise UnsupportedSpaceError("latency_aware_nas needs an env objective with a latency limit (latency*_s)")
        for k, limit in lat.items():
            fastest = float(census[k].min())
            if fastest > limit:
                raise BaselineConfigError(
                    f"latency_aware_nas: the env's {k} limit {limit:.6g} s admits no network on the reference "
                    f"accelerator (the space's default hardware), where {census['_what']} take {fastest:.6g} to "
                    f"{float(census[k].max()):.6g} s; raise the limit to >= {fastest:.6g} s or use another baseline")
        metric = objective.optimize
        return Objective("constraint", [metric, *lat], optimize=metric, limits=lat), True, {}


def network_census(base, net_cols: np.ndarray, default: np.ndarray) -> dict:
    """Metrics of every network of the space (a seeded sample of CENSUS_MAX beyond that) on the
    default hardware, plus `_what`, a description of what was counted. Not counted in any budget."""
    sub = DesignSpace([base.space.params[j] for j in net_cols])
    if sub.size <= CENSUS_MAX:
        net = sub.enumerate_indices(CENSUS_MAX)
        what = f"all {sub.size:,} networks"
    else:
        net = sub.sample_indices(np.random.default_rng(0), CENSUS_MAX)
        what = f"{CENSUS_MAX:,} sampled networks"
    idx = np.repeat(default[None, :], len(net), axis=0)
    idx[:, net_cols] = net
    out = base.evaluate(idx)
    out["_what"] = what
    return out


def _latency_limits(objective: Objective) -> dict[str, float]:
    return {k: v for k, v in objective.limits.items() if k.startswith("latency") and k.endswith("_s")}


def _stage(base, rec, cols, fixed, objective, n, inner_name, seed, callback, hardware_aware: bool) -> np.ndarray:
    """Search the parameters `cols` (others at `fixed`) for `n` evaluations under `objective`
    (seeing the hardware's feasibility only if `hardware_aware`); returns the full index vector
    of the stage's best design."""
    sub = DesignSpace([base.space.params[j] for j in cols])
    inner = make_agent(inner_name, seed=seed)
    inner.reset(sub, objective, n, seed)
    best, best_score = fixed, -np.inf
    done = 0
    while done < n:
        k = min(inner.designs_per_ask, n - done)
        t0 = perf_counter()
        sub_idx = inner.ask_indices(k)
        idx = np.repeat(fixed[None, :], k, axis=0)
        idx[:, cols] = sub_idx
        t1 = perf_counter()
        out = base.evaluate(idx)
        t2 = perf_counter()
        stage_reward = objective.reward(out, out["feasible"], out.get("violation")) if hardware_aware \
            else objective.reward(out)  # hardware-unaware NAS ignores the (default) hardware
        inner.tell_indices(sub_idx, {**out, "reward": stage_reward})
        i = int(np.argmax(stage_reward))
        if stage_reward[i] > best_score:
            best, best_score = idx[i].copy(), float(stage_reward[i])
        batch = rec.add(idx, out, t2 - t1, (t1 - t0) + (perf_counter() - t2))
        if callback is not None:
            callback(batch)
        done += k
    return best


def _columns(space: DesignSpace) -> tuple[np.ndarray, np.ndarray]:
    """Index columns of the network and the hardware parameter groups."""
    groups = space.groups
    if "network" not in groups or "hardware" not in groups:
        raise UnsupportedSpaceError("the sequential baselines need a co-design space, with parameters in groups "
                                    "'network' and 'hardware' (e.g. archgym/NB201-Systolic-v0); this one has "
                                    f"{sorted(groups)}")
    return space.group_columns("network"), space.group_columns("hardware")


__all__ = ["BaselineConfigError", "HardwareFirst", "LatencyAwareNAS", "Sequential", "network_census"]
