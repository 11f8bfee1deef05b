"""Objectives: which metrics count, their direction, and the reward. Higher reward is always better.

Every metric becomes a *score*, higher-is-better: `-log10(m)` for a minimised metric with units
(`latency_s`, `energy_j`, ...), `+log10(m)` for a maximised one (`throughput_fps`), and the raw
value for fractions (`accuracy`, `row_hit_rate`), negated when minimised. Rewards by mode:

- `target`: normalised distance to a target spec (ArchGym's task), summed over the metrics that
  miss: `log10(m / t)` for a metric with units (so 10x over target costs 1), `(t - m) / t` for a
  fraction (reversed for maximised metrics); 0, the highest reward, when every target is met.
- `weighted`: a weighted sum of scores, i.e. a weighted log-sum of the metrics.
- `product`: the unweighted sum of scores, i.e. `-log10` of EDP (latency x energy) or EDAP.
- `constraint`: the score of one `optimize` metric, provided every `limits` entry is met.
- `vector`: the vector of scores (MO-Gymnasium convention; the env's `reward_space` is a Box).

A design that is infeasible (over a resource budget, or violating a `constraint` limit) scores
`INFEASIBLE_REWARD - violation`, where violation is its total relative overshoot: below every
feasible design, and better the closer it is to the budget.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from archgym.core import validate
from archgym.core.errors import ArchGymError, unknown

MODES = ("target", "weighted", "product", "constraint", "vector")
INFEASIBLE_REWARD = -100.0

# Metrics where bigger is better; every other metric is minimised.
MAXIMISED = frozenset({"accuracy", "throughput_fps", "bandwidth_gbps", "row_hit_rate", "utilization",
                       "overall_util", "mapping_efficiency", "compute_util", "score"})
# Dimensionless fractions, scored linearly; every other metric is positive with units, scored in log10.
LINEAR = frozenset({"accuracy", "row_hit_rate", "utilization", "overall_util", "mapping_efficiency",
                    "compute_util", "score"})
_TINY = 1e-300


class Objective:
    """Reward definition over named metrics. See the module docstring for the modes."""

    def __init__(self, mode: str = "target", metrics: Sequence[str] = (), *,
                 targets: Mapping[str, float] | None = None, weights: Mapping[str, float] | None = None,
                 limits: Mapping[str, float] | None = None, optimize: str | None = None,
                 directions: Mapping[str, str] | None = None):
        if mode not in MODES:
            raise unknown("objective mode", mode, MODES)
        self.mode = mode
        self.targets = validate.numbers(targets, "objective targets")
        self.weights = validate.numbers(weights, "objective weights")
        self.limits = validate.numbers(limits, "objective limits")
        if optimize is not None and not isinstance(optimize, str):
            raise ArchGymError(f"objective 'optimize' must be a metric name, got {optimize!r}")
        self.optimize = optimize
        if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not all(isinstance(m, str) for m in metrics):
            raise ArchGymError(f"objective metrics must be a list of metric names, got {metrics!r}")
        if directions is not None and not isinstance(directions, Mapping):
            raise ArchGymError(f"objective directions must be a mapping of metric name to 'min' or 'max', got {directions!r}")
        names = list(dict.fromkeys(metrics)) or list(self.targets) or list(self.weights)
        if mode == "constraint":
            if optimize is None:
                raise ArchGymError("objective 'constraint' needs optimize=<metric> (and limits={metric: bound})")
            names = [optimize] + [k for k in names if k != optimize]
        for extra in list(self.targets) + list(self.weights) + list(self.limits):
            if extra not in names:
                names.append(extra)
        if not names:
            raise ArchGymError(f"objective {mode!r} needs at least one metric")
        self.metrics: tuple[str, ...] = tuple(names)
        self.directions = {m: (directions or {}).get(m, "max" if m in MAXIMISED else "min") for m in self.metrics}
        for m, d in self.directions.items():
            if d not in ("min", "max"):
                raise ArchGymError(f"direction of metric {m!r} must be 'min' or 'max', got {d!r}")
        if mode == "target":
            missing = [m for m in self.metrics if m not in self.targets]
            if missing:
                raise ArchGymError(f"objective 'target' needs a target for metric {missing[0]!r}; targets given: {sorted(self.targets)}")
        for table, label in ((self.targets, "target"), (self.limits, "limit")):
            for m, v in table.items():
                if not np.isfinite(v) or (v <= 0 and m not in LINEAR):
                    raise ArchGymError(f"{label} for {m!r} must be a positive finite number, got {v}")
        # Arrays over self.metrics for the vectorised hot path.
        self._sign = np.array([1.0 if self.directions[m] == "max" else -1.0 for m in self.metrics])
        self._linear = np.array([m in LINEAR for m in self.metrics])
        self._weights = np.array([self.weights.get(m, 1.0) for m in self.metrics])
        self._targets = self._bound_array(self.targets)
        self._limits = self._bound_array(self.limits)

    # --- construction from user input --------------------------------------------------------------
    @classmethod
    def build(cls, spec, defaults: Mapping) -> "Objective":
        """From a mode name, a dict spec, or an Objective. `defaults` maps mode -> kwargs supplied by
        the env (its metrics, default targets, limits...); the user's spec overrides them."""
        if isinstance(spec, Objective):
            return spec
        if spec is None:
            spec = defaults.get("default", "target")
        if isinstance(spec, str):
            spec = {"mode": spec}
        if not isinstance(spec, Mapping) or "mode" not in spec:
            raise ArchGymError(f"objective must be a mode name {MODES}, a dict with 'mode', or an Objective; got {spec!r}")
        if not isinstance(spec["mode"], str) or spec["mode"] not in MODES:
            raise unknown("objective mode", spec["mode"], MODES)
        kwargs = {"metrics": defaults.get("metrics", ())}
        kwargs.update(defaults.get(spec["mode"], {}))
        kwargs.update({k: v for k, v in spec.items() if k != "mode"})
        allowed = {"metrics", "targets", "weights", "limits", "optimize", "directions"}
        bad = set(kwargs) - allowed
        if bad:
            raise ArchGymError(f"unknown objective key {sorted(bad)[0]!r}; allowed keys: mode, {', '.join(sorted(allowed))}")
        return cls(spec["mode"], **kwargs)

    def to_config(self) -> dict:
        out = {"mode": self.mode, "metrics": list(self.metrics)}
        for key in ("targets", "weights", "limits"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        if self.optimize:
            out["optimize"] = self.optimize
        return out

    def __repr__(self) -> str:
        return f"Objective({self.to_config()})"

    # --- scores and rewards --------------------------------------------------------------------------
    def check_metrics(self, available: Sequence[str]) -> None:
        """Fail early if the objective names a metric the simulator does not report."""
        for m in self.metrics:
            if m not in available:
                raise unknown("objective metric", m, available)

    def transform(self, name: str, values: np.ndarray) -> np.ndarray:
        """log10 for metrics with units, identity for fractions."""
        v = np.asarray(values, dtype=np.float64)
        return v if name in LINEAR else np.log10(np.maximum(v, _TINY))

    def score(self, name: str, values: np.ndarray) -> np.ndarray:
        """Higher-is-better score of one metric."""
        t = self.transform(name, values)
        return t if self.directions[name] == "max" else -t

    def violation(self, metrics: Mapping[str, np.ndarray], bounds: Mapping[str, float]) -> np.ndarray:
        """Total relative overshoot of `bounds` (0 where every bound is met)."""
        return self._overshoot(self.stack(metrics), self._bound_array(bounds))

    def _bound_array(self, bounds: Mapping[str, float]) -> np.ndarray:
        return np.array([bounds.get(m, np.nan) for m in self.metrics])

    def _overshoot(self, values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        over = (bounds - values) * self._sign  # positive where a bound is missed
        rel = np.maximum(over, 0.0) / np.maximum(np.abs(bounds), _TINY)
        return np.nansum(rel, axis=1) if np.isnan(bounds).any() else rel.sum(axis=1)

    def _target_distance(self, values: np.ndarray) -> np.ndarray:
        """Sum over metrics of how far each misses its target, in scores (0 when met)."""
        miss = (self.transform_all(self._targets[None, :]) - self.transform_all(values)) * self._sign
        miss = np.where(self._linear, miss / np.maximum(np.abs(self._targets), _TINY), miss)
        return np.maximum(miss, 0.0).sum(axis=1)

    def stack(self, metrics: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n, k) float64 array of the objective metrics, in `self.metrics` order."""
        return np.stack([np.asarray(metrics[m], dtype=np.float64).reshape(-1) for m in self.metrics], axis=1)

    def transform_all(self, values: np.ndarray) -> np.ndarray:
        """`transform` applied to an (n, k) array from `stack`."""
        return np.where(self._linear, values, np.log10(np.maximum(values, _TINY)))

    def reward(self, metrics: Mapping[str, np.ndarray], feasible=None, violation=None) -> np.ndarray:
        """Reward for a batch: shape (n,), or (n, len(metrics)) in `vector` mode."""
        return self.reward_values(self.stack(metrics), feasible, violation)

    def reward_values(self, values: np.ndarray, feasible=None, violation=None) -> np.ndarray:
        """`reward` from the (n, k) array returned by `stack`."""
        n = len(values)
        ok = np.ones(n, dtype=bool) if feasible is None else np.array(feasible, dtype=bool)
        over = np.zeros(n) if violation is None else np.array(violation, dtype=np.float64)
        scores = self.transform_all(values) * self._sign
        if self.mode == "vector":
            scores[~ok] = INFEASIBLE_REWARD - over[~ok, None]
            return scores
        if self.mode == "target":
            r = -self._target_distance(values)
        elif self.mode == "weighted":
            r = scores @ self._weights
        elif self.mode == "product":
            r = scores.sum(axis=1)
        else:  # constraint
            r = scores[:, 0]
            lim = self._overshoot(values, self._limits)
            ok &= lim == 0
            over += lim
        return np.where(ok, r, INFEASIBLE_REWARD - over)

    def scalarize(self, reward: np.ndarray) -> np.ndarray:
        """A scalar per design: the reward itself, or the sum of scores in `vector` mode."""
        reward = np.asarray(reward, dtype=np.float64)
        return reward.sum(axis=1) if reward.ndim == 2 else reward

    def success(self, metrics: Mapping[str, np.ndarray], feasible=None) -> np.ndarray:
        """Whether each design meets the spec: its targets (target mode), limits (constraint), and feasibility."""
        values = self.stack(metrics)
        ok = np.ones(len(values), dtype=bool) if feasible is None else np.array(feasible, dtype=bool)
        if self.targets and self.mode == "target":
            ok &= self._target_distance(values) == 0
        if self.limits:
            ok &= self._overshoot(values, self._limits) == 0
        return ok

    def minimised(self, metrics: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n, k) array of the objective metrics oriented for minimisation (for Pareto fronts)."""
        return np.stack([np.asarray(metrics[m], dtype=np.float64) * (1 if self.directions[m] == "min" else -1)
                         for m in self.metrics], axis=1)
