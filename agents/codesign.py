"""The `sequential` co-design baseline: NAS first under a FLOPs proxy, then hardware for its winner.

It reads only the space's parameter groups ("network", "hardware"), the objective, and the
`macs` metric the env reports: never a particular evaluator.

Stage 1 (a `nas_fraction` of the budget) searches only the network parameters, with the hardware
held at the space's default and its feasibility ignored, maximising the oracle's metric subject to
`macs <= macs_budget` (hardware-unaware NAS, as in the NAS -> ASIC baseline of NASAIC, Yang et al.,
DAC 2020). Stage 2
fixes the best network of stage 1 and searches only the hardware parameters under the env's own
objective. Both stages run an `inner` ask/tell agent; every evaluation is a full env evaluation and
counts against the same budget a joint search gets, so joint and sequential are compared fairly.

The default `macs_budget` converts the env's latency budget into MACs with the default design's
throughput: macs(default network) x latency_budget_s / latency_s(default design), the usual rule of
thumb when the target hardware is not known yet.
"""
from __future__ import annotations

from time import perf_counter

from dataclasses import dataclass

import numpy as np

from agents import make_agent
from agents.base import Agent, Recorder, UnsupportedSpaceError, check_budget, check_seed
from agents.config import AgentConfig, hp
from archgym.core.errors import ArchGymError
from archgym.core.objectives import Objective
from archgym.core.space import DesignSpace


class Sequential(Agent):
    """NAS under a MACs budget, then hardware search for the chosen network (see module docstring)."""
    name, family = "sequential", "baseline"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        inner: str = hp("regularized_evolution", choices=("regularized_evolution", "ga", "random", "sa", "tpe"),
                        help="ask/tell agent run in each stage")
        nas_fraction: float = hp(0.5, 0.05, 0.95, help="share of the budget spent on the network stage")
        macs_budget: float = hp(0.0, 0.0, 1e15, help="MACs limit of the network stage (0: derive from the latency budget)")

    def check_space(self, space: DesignSpace) -> None:
        _columns(space)

    def search(self, env, budget: int, seed: int | None = None, callback=None):
        base = env.unwrapped
        budget = check_budget(budget)
        seed = self.seed if seed is None else check_seed(seed)
        space, objective = base.space, base.objective
        net_cols, hw_cols = _columns(space)
        if objective.mode != "constraint":
            raise UnsupportedSpaceError("sequential needs a `constraint` objective (maximise the network's metric "
                                        f"under hardware limits), not {objective.mode!r}")
        default = space.to_indices(space.default())
        if "macs" not in base.evaluate(default[None, :]):
            raise UnsupportedSpaceError("sequential needs a single-network co-design env that reports its network's "
                                        "`macs` (e.g. archgym/CoDesign-Systolic-v0): stage 1 is NAS under a MACs budget")
        macs = self.config.macs_budget or self.derived_macs_budget(base)
        metric = objective.optimize
        nas_objective = Objective("constraint", [metric, "macs"], optimize=metric, limits={"macs": macs})
        rec = Recorder(space, objective)
        start = perf_counter()
        n_nas = max(1, min(budget - 1, int(round(self.config.nas_fraction * budget))))
        best = self._stage(base, rec, net_cols, default, nas_objective, n_nas, seed, callback, hardware_aware=False)
        fixed = default.copy()
        fixed[net_cols] = best[net_cols]
        self._stage(base, rec, hw_cols, fixed, objective, budget - n_nas, seed + 1, callback, hardware_aware=True)
        return self._result(env, rec, seed, budget, perf_counter() - start, macs_budget=macs,
                            network=space.from_indices(fixed))

    @staticmethod
    def derived_macs_budget(base) -> float:
        """MACs of the default network x latency budget / latency of the default design."""
        limits = base.objective.limits
        lat = [k for k in limits if k.startswith("latency") and k.endswith("_s")]
        if not lat:
            raise ArchGymError("sequential: the env objective has no latency limit; pass macs_budget=")
        out = base.evaluate(base.space.default())
        return float(out["macs"][0] * limits[lat[0]] / out[lat[0]][0])

    def _stage(self, base, rec, cols, fixed, objective, n, seed, callback, hardware_aware: bool) -> np.ndarray:
        """Search the parameters `cols` (others at `fixed`) for `n` evaluations under `objective`
        (seeing the hardware's feasibility only if `hardware_aware`); returns the full index vector
        of the stage's best design."""
        sub = DesignSpace([base.space.params[j] for j in cols])
        inner = make_agent(self.config.inner, seed=seed)
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
                else objective.reward(out)  # the network stage ignores the (default) hardware
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
        raise UnsupportedSpaceError("sequential needs a co-design space, with parameters in groups 'network' and "
                                    f"'hardware' (e.g. archgym/CoDesign-Systolic-v0); this one has {sorted(groups)}")
    return space.group_columns("network"), space.group_columns("hardware")
