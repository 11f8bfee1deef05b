"""Coupling: how much the best network depends on the hardware that runs it.

A co-design env is coupled when the ranking of its networks by latency changes with the
accelerator; otherwise "pick the most accurate network under a MACs budget, then size the
hardware" is optimal by construction. `census` scores every network on every hardware design of a
finite co-design env once (streamed hardware design by hardware design, never holding the joint
space) and keeps what the coupling figures need:

- every network's latency on a few named hardware designs and on a seeded sample of designs, for
  rank correlations (Kendall's tau, scipy) between designs;
- every network's MACs, and its accuracy and latency on the space's default (reference) hardware;
- every network's fastest latency on any design within the env's other limits (its best hardware),
  and, for each latency budget of a sweep, the best accuracy each network reaches on a design meeting
  it (`reach`, exact: every design counted).

`budget_rule` states how the envs' default budgets are chosen (fixed before any joint-versus-
sequential comparison): the area budget is the median area of the env's hardware designs (half the
accelerators fit), the latency budget the median over all networks of each one's fastest latency on a
design within the other limits (half the networks can meet it on some accelerator), both rounded to
two significant digits; other quantiles of the same census give tighter or looser budgets.

`sequential_vs_joint` then gives, per budget, the exact joint optimum and the exact outcome of NAS
first under a MACs budget (the network stage picks the most accurate network within the MACs budget
on the reference hardware, the hardware stage then finds the best design for it): with the
rule-of-thumb MACs budget macs(reference network) x budget / latency(reference design), and with the
best MACs budget in hindsight. Both stages search perfectly here, so a difference is the model's
coupling, never a search's luck.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from archgym.core.errors import ArchGymError


@dataclass
class Census:
    """Every network of a co-design env on every hardware design, reduced (see the module docstring)."""
    env_id: str
    latency_metric: str
    n_networks: int
    n_hardware: int
    macs: np.ndarray               # (n_net,)
    reference_accuracy: np.ndarray  # (n_net,) on the default hardware
    reference_latency: np.ndarray   # (n_net,) on the default hardware
    reference_network: int
    min_latency: np.ndarray         # (n_net,) fastest latency within the other limits (inf: none)
    best_accuracy: float            # the best accuracy of any design within the other limits, at any latency
    named: dict                     # name -> (hardware number, (n_net,) latency, (n_net,) feasible)
    sample: np.ndarray              # (n_sample, n_net) latency on sampled hardware designs (nan: infeasible,
    #                                 e.g. over an FPGA's resources; other limits such as area are ignored here)
    budgets: np.ndarray             # (n_budgets,) latency budgets of the sweep
    reach: np.ndarray               # (n_budgets, n_net) best accuracy meeting each budget (-inf: none)
    reference_feasible: np.ndarray | None = None  # (n_net,) whether each network fits the default hardware


class NetworkGrid:
    """Every network on a batch of hardware designs, for any env whose space has a `network` and a
    `hardware` group (evaluators with `grid` are used directly)."""

    def __init__(self, base):
        space, ev = base.space, base.evaluator
        self.base, self.space = base, space
        self.net_cols, self.hw_cols = space.group_columns("network"), space.group_columns("hardware")
        self.net_nvec, self.hw_nvec = space.nvec[self.net_cols], space.nvec[self.hw_cols]
        self.n_net, self.n_hw = int(np.prod(self.net_nvec)), int(np.prod(self.hw_nvec))
        self.native = hasattr(ev, "grid") and getattr(ev, "n_networks", None) == self.n_net

    def hw_number(self, design: Mapping) -> int:
        idx = self.space.to_indices({**self.space.default(), **design})
        return int(np.ravel_multi_index(idx[self.hw_cols], self.hw_nvec))

    def __call__(self, hw: np.ndarray) -> dict[str, np.ndarray]:
        """{metric: (len(hw), n_net)} of every network on hardware designs `hw`."""
        if self.native:
            return self.base.evaluator.grid(hw)
        idx = np.empty((len(hw) * self.n_net, len(self.space)), dtype=np.int64)
        idx[:, self.net_cols] = np.tile(np.stack(np.unravel_index(np.arange(self.n_net), self.net_nvec), axis=1),
                                        (len(hw), 1))
        idx[:, self.hw_cols] = np.repeat(np.stack(np.unravel_index(hw, self.hw_nvec), axis=1), self.n_net, axis=0)
        out = self.base.evaluate(idx)
        return {k: np.asarray(v).reshape(len(hw), self.n_net) for k, v in out.items() if np.ndim(v) == 1}


def latency_limit(objective) -> tuple[str, float, dict]:
    """(latency metric, its limit, the other limits) of a constraint objective with one latency limit."""
    lat = {k: v for k, v in objective.limits.items() if k.startswith("latency") and k.endswith("_s")}
    if objective.mode != "constraint" or len(lat) != 1:
        raise ArchGymError(f"coupling needs a constraint objective with one latency limit, not {objective.limits}")
    (name, limit), = lat.items()
    return name, float(limit), {k: v for k, v in objective.limits.items() if k != name}


def quantile_budgets(min_latency: np.ndarray, n: int = 40) -> np.ndarray:
    """`n` quantiles (2.5% .. 97.5%) of the networks' fastest latencies."""
    return np.quantile(min_latency[np.isfinite(min_latency)], np.linspace(0.025, 0.975, n))


def census(env, named: Mapping[str, Mapping] | None = None, budgets=quantile_budgets, n_sample: int = 64,
           chunk: int = 1 << 18, seed: int = 0, env_id: str = "") -> Census:
    """Score every (network, hardware design) of `env` once (two passes when the accuracy depends on
    the hardware, e.g. searched bit widths); `named`: {name: partial hardware design}; `budgets`:
    the sweep's latency budgets from the networks' fastest latencies (a function of them)."""
    base = env.unwrapped
    g = NetworkGrid(base)
    metric, _, other = latency_limit(base.objective)
    acc_name = base.objective.optimize
    named_hw = {k: g.hw_number(v) for k, v in (named or {}).items()}
    sample_hw = np.sort(np.random.default_rng(seed).choice(g.n_hw, min(n_sample, g.n_hw), replace=False))
    ref_hw = g.hw_number({})
    step = max(1, chunk // g.n_net)
    min_lat = np.full(g.n_net, np.inf)
    best_any = -np.inf
    acc_lo, acc_hi = np.full(g.n_net, np.inf), np.full(g.n_net, -np.inf)
    keep: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    wanted = set(named_hw.values()) | set(sample_hw.tolist()) | {ref_hw}
    out = None
    for lo in range(0, g.n_hw, step):
        hw = np.arange(lo, min(g.n_hw, lo + step))
        out = g(hw)
        ok = _meets(base.objective, out, other)
        lat = out[metric]
        min_lat = np.minimum(min_lat, np.where(ok, lat, np.inf).min(axis=0))
        best_any = max(best_any, float(np.where(ok, out[acc_name], -np.inf).max()))
        acc_lo, acc_hi = np.minimum(acc_lo, out[acc_name].min(axis=0)), np.maximum(acc_hi, out[acc_name].max(axis=0))
        for j, h in enumerate(hw.tolist()):
            if h in wanted:
                keep[h] = (lat[j].copy(), np.asarray(out["feasible"][j], bool), out[acc_name][j].copy(),
                           out["macs"][j].copy())
    budgets = np.unique(budgets(min_lat))
    if np.array_equal(acc_lo, acc_hi):  # the accuracy is the network's alone: reach follows from min_lat
        reach = np.where(min_lat[None, :] <= budgets[:, None], acc_lo[None, :], -np.inf)
    else:
        reach = np.full((len(budgets), g.n_net), -np.inf)
        for lo in range(0, g.n_hw, step):
            out = g(np.arange(lo, min(g.n_hw, lo + step)))
            ok = _meets(base.objective, out, other)
            for b, budget in enumerate(budgets):
                hit = np.where(ok & (out[metric] <= budget), out[acc_name], -np.inf).max(axis=0)
                reach[b] = np.maximum(reach[b], hit)
    ref_lat, ref_ok, ref_acc, macs = keep[ref_hw]
    ref_net = int(np.ravel_multi_index(base.space.to_indices(base.space.default())[g.net_cols], g.net_nvec))
    sample = np.stack([np.where(keep[h][1], keep[h][0], np.nan) for h in sample_hw.tolist()])
    return Census(env_id or type(base.evaluator).__name__, metric, g.n_net, g.n_hw, macs, ref_acc, ref_lat, ref_net,
                  min_lat, best_any, {k: (h, keep[h][0], keep[h][1]) for k, h in named_hw.items()}, sample, budgets,
                  reach, ref_ok)


def round2(x: float) -> float:
    """x to two significant digits."""
    return float(f"{x:.2g}")


def hardware_areas(env) -> np.ndarray:
    """Area of every hardware design of a co-design env (the default network on each)."""
    base = env.unwrapped
    g = NetworkGrid(base)
    idx = np.repeat(base.space.to_indices(base.space.default())[None, :], g.n_hw, axis=0)
    idx[:, g.hw_cols] = np.stack(np.unravel_index(np.arange(g.n_hw), g.hw_nvec), axis=1)
    return base.evaluate(idx)["area_mm2"]


def budget_rule(env_id: str, quantiles=(0.5,), named: Mapping[str, Mapping] | None = None, **make_kw):
    """The budgets the rule (module docstring) gives env `env_id`, one dict of limits per latency
    quantile, and the census under the rule's area budget (its sweep includes the rule's budgets)."""
    import gymnasium as gym
    env = gym.make(env_id, **make_kw)
    area = {}
    if "area_mm2" in env.unwrapped.objective.limits:
        area = {"area_mm2": round2(float(np.median(hardware_areas(env))))}
        env = gym.make(env_id, **make_kw, area_budget_mm2=area["area_mm2"])
    rules = []

    def budgets(min_latency):
        finite = min_latency[np.isfinite(min_latency)]
        rules.extend({"latency_s": round2(float(np.quantile(finite, q))), **area} for q in quantiles)
        return np.r_[quantile_budgets(min_latency), [r["latency_s"] for r in rules]]
    c = census(env, named(env) if callable(named) else named, budgets, env_id=env_id)
    return rules, c


def _meets(objective, out: dict, other: Mapping[str, float]) -> np.ndarray:
    """Feasible designs within every limit but latency."""
    ok = np.asarray(out["feasible"], dtype=bool).copy()
    for k, v in other.items():
        ok &= out[k] <= v
    return ok


MIN_NETWORKS = 30  # fewer networks feasible on both designs: no tau


def kendall(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b (scipy) between two latency vectors over the networks finite (feasible) in both."""
    from scipy.stats import kendalltau
    m = np.isfinite(a) & np.isfinite(b)
    return float(kendalltau(a[m], b[m]).statistic) if m.sum() >= MIN_NETWORKS else np.nan


def sample_taus(c: Census, max_pairs: int = 2016) -> np.ndarray:
    """Kendall's tau of every pair of the sampled hardware designs (up to max_pairs pairs; nan where
    fewer than MIN_NETWORKS networks are feasible on both)."""
    n = len(c.sample)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)][:max_pairs]
    return np.array([kendall(c.sample[i], c.sample[j]) for i, j in pairs])


def nas_first_choice(c: Census, macs_budget: float) -> int:
    """The network NAS first picks under `macs_budget` on the reference hardware: the most accurate
    one within the budget (fewest MACs among equals), or -1 when none fits."""
    fits = np.flatnonzero(c.macs <= macs_budget)
    if not len(fits):
        return -1
    acc = c.reference_accuracy[fits]
    best = fits[acc == acc.max()]
    return int(best[np.argmin(c.macs[best])])


def sequential_vs_joint(c: Census) -> dict[str, np.ndarray]:
    """Per budget of the sweep (exact, perfect search in every stage): `joint` (the best accuracy any
    design meeting the budget reaches), `rule` (NAS first with the rule-of-thumb MACs budget), and
    `hindsight` (NAS first with the best MACs budget for that latency budget), in accuracy units,
    -inf when nothing meets the budget; `rule_network`, `joint_networks` (per budget, a boolean mask
    of the networks reaching the joint optimum)."""
    ref = c.reference_network
    choices = {m: nas_first_choice(c, m) for m in np.unique(c.macs)}
    picks = np.array(sorted(set(choices.values())))
    joint = c.reach.max(axis=1)
    hindsight = c.reach[:, picks].max(axis=1)
    rule_budget = c.macs[ref] * c.budgets / c.reference_latency[ref]
    rule_net = np.array([nas_first_choice(c, m) for m in rule_budget])
    rule = np.where(rule_net >= 0, c.reach[np.arange(len(c.budgets)), np.maximum(rule_net, 0)], -np.inf)
    return {"joint": joint, "rule": rule, "hindsight": hindsight, "rule_macs": rule_budget, "rule_network": rule_net,
            "joint_networks": c.reach == joint[:, None]}


def additive_fit(latency: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares per-op costs of `latency` from per-network op `counts` (n_net, n_ops) plus a
    constant (the first coefficient), and the fit's R^2: how far a cost is a sum of per-op costs,
    as HW-NAS-Bench's Eyeriss and FPGA figures are (exactly)."""
    X = np.c_[np.ones(len(counts)), counts]
    coef, *_ = np.linalg.lstsq(X, latency, rcond=None)
    resid = latency - X @ coef
    return coef, float(1 - resid.var() / latency.var())


__all__ = ["Census", "NetworkGrid", "census", "quantile_budgets", "budget_rule", "round2", "hardware_areas", "kendall", "sample_taus", "sequential_vs_joint", "nas_first_choice", "additive_fit",
           "latency_limit"]
