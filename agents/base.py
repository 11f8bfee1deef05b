"""The agent contract: ask/tell over a DesignSpace, and `search`, the one loop every agent shares.

An agent proposes designs (`ask`) and learns from their results (`tell`). It sees only the
DesignSpace and the Objective (metric names and directions), never a simulator. `search(env, budget)`
runs the loop against an env: each batch of asked designs is scored with one
`env.unwrapped.evaluate` call, and exactly `budget` designs are evaluated. RL agents override
`search` to train on `env.step` instead, with the same budget and the same `SearchResult`.

Each agent declares its hyper-parameters as one frozen dataclass, `Config` (agents/config.py): a
default and a range per field, so that a sweep can validate and sample them. `Agent(seed, **hparams)`
builds `self.config`, which checks every value, and the agent reads `self.config.<name>`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Real
from time import perf_counter
from typing import Any, ClassVar

import numpy as np

from archgym.core import pareto, validate
from agents.config import AgentConfig, HyperParam, HyperParameterError
from archgym.core.errors import ArchGymError
from archgym.core.objectives import Objective
from archgym.core.space import DesignSpace


class BudgetError(ArchGymError):
    """An evaluation budget that is not a positive integer."""


class UnsupportedSpaceError(ArchGymError):
    """An env whose design space this agent cannot handle (the message suggests one that can)."""


def check_budget(budget) -> int:
    """A positive integer number of evaluations, at most archgym.core.validate.MAX_BUDGET."""
    return validate.integer(budget, "budget", 1, validate.MAX_BUDGET, BudgetError,
                            f"a positive integer number of evaluations, at most {validate.MAX_BUDGET:,}")


def check_seed(seed) -> int:
    """A seed in [0, archgym.core.validate.MAX_SEED] (SB3 and numpy's legacy seeding take 32 bits)."""
    return validate.integer(seed, "seed", 0, validate.MAX_SEED, HyperParameterError,
                            f"a non-negative integer, at most {validate.MAX_SEED:,}")


# --- history and result ---------------------------------------------------------------------------------
@dataclass
class History:
    """Every evaluation of a search, in order: the design (index vector), its metrics, reward,
    scalar `score` (the reward, summed in vector mode), feasibility, and per-evaluation wall time
    of the simulation and of the agent (ask + tell, excluding simulation)."""
    space: DesignSpace
    objective: Objective
    indices: np.ndarray
    metrics: dict[str, np.ndarray]
    reward: np.ndarray
    score: np.ndarray
    feasible: np.ndarray
    eval_time_s: np.ndarray
    agent_time_s: np.ndarray
    start: int = 0  # step number of the first row

    def __len__(self) -> int:
        return len(self.score)

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.start, self.start + len(self))

    @property
    def designs(self) -> list[dict]:
        return [self.space.from_indices(i) for i in self.indices]

    @cached_property
    def objectives(self) -> np.ndarray:
        """(n, k) objective matrix, oriented for minimisation (see archgym.core.pareto)."""
        return pareto.objective_matrix(self.objective, self.metrics)

    def to_frame(self):
        """A pandas DataFrame: step, design parameters (values), metrics, reward, score, feasible, times."""
        import pandas as pd
        cols: dict[str, Any] = {"step": self.steps}
        for j, p in enumerate(self.space.params):
            v = p.values
            cols[p.name] = v.start + v.step * self.indices[:, j] if isinstance(v, range) else np.asarray(v)[self.indices[:, j]]
        cols.update(self.metrics)
        if self.reward.ndim == 2:
            cols.update({f"reward_{m}": self.reward[:, i] for i, m in enumerate(self.objective.metrics)})
        else:
            cols["reward"] = self.reward
        cols.update(score=self.score, feasible=self.feasible, eval_time_s=self.eval_time_s,
                    agent_time_s=self.agent_time_s)
        return pd.DataFrame(cols)


class Recorder:
    """Accumulates evaluated batches into a History (cheap appends; one concatenation at the end)."""

    def __init__(self, space: DesignSpace, objective: Objective):
        self.space, self.objective = space, objective
        self.batches: list[History] = []
        self.n = 0

    def add(self, idx: np.ndarray, out: Mapping[str, np.ndarray], eval_time_s: float, agent_time_s: float) -> History:
        """Record one batch of len(idx) evaluations (times are the batch totals); returns it."""
        n = len(idx)
        metrics = {k: np.asarray(v) for k, v in out.items() if k not in ("reward", "feasible", "score")}
        reward = np.asarray(out["reward"], dtype=np.float64)
        score = out["score"] if "score" in out else self.objective.scalarize(reward)
        batch = History(self.space, self.objective, np.asarray(idx, dtype=np.int64).reshape(n, -1), metrics,
                        reward, np.asarray(score, dtype=np.float64), np.asarray(out["feasible"], dtype=bool),
                        np.full(n, eval_time_s / n), np.full(n, agent_time_s / n), self.n)
        self.batches.append(batch)
        self.n += n
        return batch

    def history(self) -> History:
        b = self.batches
        cat = np.concatenate
        return History(self.space, self.objective, cat([h.indices for h in b]),
                       {k: cat([h.metrics[k] for h in b]) for k in b[0].metrics}, cat([h.reward for h in b]),
                       cat([h.score for h in b]), cat([h.feasible for h in b]), cat([h.eval_time_s for h in b]),
                       cat([h.agent_time_s for h in b]))


@dataclass
class SearchResult:
    """The outcome of `Agent.search`: the history, the best design for the scalar reward, the
    Pareto front over the objective's metrics, the hypervolume after every sample, and timings."""
    agent: str
    hparams: dict
    seed: int
    budget: int
    history: History
    wall_time_s: float
    ref_point: np.ndarray
    env_id: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def best_row(self) -> int:
        return int(np.argmax(self.history.score))

    @property
    def best_design(self) -> dict:
        return self.history.space.from_indices(self.history.indices[self.best_row])

    @property
    def best_score(self) -> float:
        return float(self.history.score[self.best_row])

    @property
    def best_metrics(self) -> dict:
        return {k: float(v[self.best_row]) for k, v in self.history.metrics.items()}

    @property
    def best_curve(self) -> np.ndarray:
        """Best scalar reward after each evaluation."""
        return pareto.best_so_far(self.history.score)

    @cached_property
    def pareto_rows(self) -> np.ndarray:
        """History rows on the found front (feasible, non-dominated)."""
        return np.flatnonzero(pareto.pareto_mask(self.history.objectives, self.history.feasible))

    @property
    def pareto_designs(self) -> list[dict]:
        return [self.history.space.from_indices(self.history.indices[r]) for r in self.pareto_rows]

    @property
    def pareto_front(self) -> np.ndarray:
        """(p, k) objective vectors of the found front."""
        return self.history.objectives[self.pareto_rows]

    @cached_property
    def hypervolume_curve(self) -> np.ndarray:
        """Hypervolume of the front found after each evaluation (reference: `ref_point`)."""
        return pareto.hypervolume_curve(self.history.objectives, self.ref_point, self.history.feasible)

    @property
    def hypervolume(self) -> float:
        return float(self.hypervolume_curve[-1])

    @property
    def eval_time_s(self) -> float:
        return float(self.history.eval_time_s.sum())

    @property
    def agent_time_s(self) -> float:
        """Agent overhead (ask + tell, or policy and training for RL), excluding simulation."""
        return float(self.history.agent_time_s.sum())

    def summary(self) -> dict:
        return {"agent": self.agent, "env": self.env_id, "seed": self.seed, "budget": self.budget,
                "evaluations": len(self.history), "best_score": self.best_score, "best_design": self.best_design,
                "best_metrics": self.best_metrics, "pareto_size": len(self.pareto_rows),
                "hypervolume": self.hypervolume, "wall_time_s": self.wall_time_s,
                "agent_ms_per_eval": 1e3 * self.agent_time_s / len(self.history),
                "eval_ms_per_eval": 1e3 * self.eval_time_s / len(self.history)}


# --- the agent ------------------------------------------------------------------------------------------
class Agent:
    """Base of every search agent. Subclasses set `name`, `family`, a frozen `Config` dataclass of
    their hyper-parameters (agents/config.py), and implement `_ask(n) -> (n, n_params) index
    array` and `_tell(idx, results)`; `_start()` resets their state. `results` is the env's
    `evaluate` output plus `score`, the scalar reward of each design."""
    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Config: ClassVar[type[AgentConfig]] = AgentConfig
    hyperparams: ClassVar[tuple[HyperParam, ...]] = ()  # derived from Config, for sweeps
    steps_env: ClassVar[bool] = False  # RL agents: `search` trains on env.step, and ask/tell are not used

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not (isinstance(cls.Config, type) and issubclass(cls.Config, AgentConfig)):
            return  # agents.check.check_config reports it
        if cls.Config.agent != cls.name:  # errors name this agent, also when it inherits its parent's Config
            cls.Config = type("Config", (cls.Config,), {"agent": cls.name, "__module__": cls.__module__,
                                                        "__qualname__": f"{cls.__qualname__}.Config"})
        cls.hyperparams = cls.Config.hyperparams()

    def __init__(self, seed: int = 0, **hparams):
        self.seed = check_seed(seed)
        self.config = self.Config.build(hparams)
        self.hparams = self.config.to_dict()
        self.space: DesignSpace | None = None
        self.objective: Objective | None = None
        self.budget: int | None = None
        self.rng = np.random.default_rng(self.seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, " + ", ".join(f"{k}={v!r}" for k, v in self.hparams.items()) + ")"

    @property
    def designs_per_ask(self) -> int:
        """Designs per ask in `search`: the config's `designs_per_ask`, else 1."""
        return getattr(self.config, "designs_per_ask", 1)

    # --- hyper-parameters ---
    @classmethod
    def check_hparams(cls, given: Mapping) -> dict:
        """Defaults overridden by `given`, each checked; unknown names list the valid ones."""
        return cls.Config.build(given).to_dict()

    @classmethod
    def sample_hparams(cls, rng: np.random.Generator) -> dict:
        """One random valid setting of every hyper-parameter (for hyper-parameter lottery sweeps);
        settings the agent rejects as a combination (e.g. a tournament larger than the population)
        are redrawn."""
        for _ in range(1000):
            hp = {h.name: h.sample(rng) for h in cls.hyperparams}
            try:
                cls(**hp)
                return hp
            except HyperParameterError:
                continue
        raise HyperParameterError(f"{cls.name}: no valid hyper-parameter setting found in 1000 draws")

    # --- ask / tell ---
    def check_space(self, space: DesignSpace) -> None:
        """Raise UnsupportedSpaceError if this agent cannot search `space`."""

    def reset(self, space: DesignSpace, objective: Objective, budget: int | None = None, seed: int | None = None) -> "Agent":
        """Start a fresh search over `space` (with an optional total `budget`, which some agents
        use to schedule themselves)."""
        self.check_space(space)
        self.space, self.objective = space, objective
        self.budget = None if budget is None else check_budget(budget)
        self.rng = np.random.default_rng(self.seed if seed is None else check_seed(seed))
        self._start()
        return self

    def ask(self, n: int = 1) -> list[dict]:
        """`n` designs to evaluate next."""
        return [self.space.from_indices(i) for i in self.ask_indices(n)]

    def tell(self, designs: Sequence[Mapping] | np.ndarray, results: Mapping[str, np.ndarray]) -> None:
        """Results of `designs` (the env's `evaluate` output for them)."""
        self._check_started()
        self.tell_indices(self.space.designs_to_indices(designs), results)

    def ask_indices(self, n: int = 1) -> np.ndarray:
        """`n` designs as an (n, n_params) index array (the env's action encoding)."""
        self._check_started()
        n = validate.integer(n, "the number of designs to ask", 1, validate.MAX_BUDGET, BudgetError,
                             f"a positive integer, at most {validate.MAX_BUDGET:,}")
        idx = np.asarray(self._ask(n), dtype=np.int64)
        assert idx.shape == (n, len(self.space)), f"{self.name} asked {idx.shape}, expected {(n, len(self.space))}"
        return idx

    def tell_indices(self, idx: np.ndarray, results: Mapping[str, np.ndarray]) -> None:
        if "score" not in results:
            results = {**results, "score": self.objective.scalarize(results["reward"])}
        self._tell(np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space)), results)

    def _check_started(self) -> None:
        if self.space is None:
            raise ArchGymError(f"agent {self.name!r}: call reset(space, objective) or search(env, budget) before ask/tell")

    def _start(self) -> None:
        """Reset the search state (after `space`, `objective`, `budget` and `rng` are set)."""

    def _ask(self, n: int) -> np.ndarray:
        raise NotImplementedError

    def _tell(self, idx: np.ndarray, results: Mapping[str, np.ndarray]) -> None:
        """Learn from evaluated designs (default: nothing)."""

    # --- the search loop ---
    def search(self, env, budget: int, seed: int | None = None,
               callback: Callable[[History], Any] | None = None) -> SearchResult:
        """Search `env` with exactly `budget` evaluations; `callback(batch)` sees each evaluated
        batch as a History (with global `steps`). The same seed gives the same history."""
        base = env.unwrapped
        budget = check_budget(budget)
        seed = self.seed if seed is None else check_seed(seed)
        self.reset(base.space, base.objective, budget, seed)
        rec = Recorder(base.space, base.objective)
        start = perf_counter()
        while rec.n < budget:
            n = min(self.designs_per_ask, budget - rec.n)
            t0 = perf_counter()
            idx = self.ask_indices(n)
            t1 = perf_counter()
            out = base.evaluate(idx)
            t2 = perf_counter()
            self.tell_indices(idx, out)
            batch = rec.add(idx, out, t2 - t1, (t1 - t0) + (perf_counter() - t2))
            if callback is not None:
                callback(batch)
        return self._result(env, rec, seed, budget, perf_counter() - start)

    def _result(self, env, rec: Recorder, seed: int, budget: int, wall_time_s: float, **extra) -> SearchResult:
        spec = getattr(env, "spec", None)
        return SearchResult(self.name, dict(self.hparams), seed, budget, rec.history(), wall_time_s,
                            pareto.reference_point(env.unwrapped.space, env.unwrapped.objective, env.unwrapped.evaluate), spec.id if spec is not None else None, extra)


# --- shared variation operators (evolutionary agents) ----------------------------------------------------
def is_ordered(param) -> bool:
    """Whether a parameter's values have an order a search can exploit: every numeric kind, and
    a categorical whose choices are numbers in increasing order (e.g. SRAM sizes)."""
    v = param.values
    if param.kind != "categorical":
        return True
    return all(isinstance(x, Real) and not isinstance(x, bool) for x in v) and all(a < b for a, b in zip(v, v[1:]))


def mutate(idx: np.ndarray, space: DesignSpace, rng: np.random.Generator, rate: float | None = None,
           local: float = 0.5) -> np.ndarray:
    """Mutated copy of an (n, d) index array. `rate=None` changes exactly one parameter per row;
    otherwise each parameter changes with probability `rate`. A change of an ordered parameter is
    a ±1 step with probability `local` (small moves), else a uniform draw of a different value."""
    nvec = space.nvec
    idx = np.array(idx, dtype=np.int64, copy=True).reshape(-1, len(nvec))
    n, d = idx.shape
    if rate is None:
        hit = np.zeros((n, d), dtype=bool)
        hit[np.arange(n), rng.integers(d, size=n)] = True
    else:
        hit = rng.random((n, d)) < rate
    hit &= nvec > 1
    step = np.where(rng.random((n, d)) < 0.5, -1, 1)
    stepped = idx + step
    stepped = np.where((stepped < 0) | (stepped >= nvec), idx - step, stepped)  # reflect at the ends
    jump = (idx + 1 + (rng.random((n, d)) * np.maximum(nvec - 1, 1)).astype(np.int64)) % nvec
    ordered = np.array([is_ordered(p) for p in space.params])
    new = np.where((rng.random((n, d)) < local) & ordered, stepped, jump)
    return np.where(hit, new, idx)


def tournament(score: np.ndarray, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `n` winners of size-`k` tournaments (with replacement) on `score`."""
    entrants = rng.integers(len(score), size=(n, k))
    return entrants[np.arange(n), np.argmax(score[entrants], axis=1)]
