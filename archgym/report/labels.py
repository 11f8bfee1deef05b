"""Words for what the plots and the report show: metric names with units ("latency (µs)"), the
reward of an objective and its regret in a sentence, and readable env titles.

Metric names carry their unit as a suffix (`latency_s`, `energy_j`, `area_mm2`, see
archgym.core.objectives); `metric_label` turns one into an axis label and picks the SI prefix that
keeps the plotted numbers between 1 and 1000.
"""
from __future__ import annotations

import json

import numpy as np

from archgym.core.objectives import INFEASIBLE_REWARD, LINEAR

# unit suffix -> (unit shown, whether SI prefixes apply, scale to the unit's base: ns -> s is 1e-9)
_UNITS = {"s": ("s", True, 1.0), "ns": ("s", True, 1e-9), "j": ("J", True, 1.0), "w": ("W", True, 1.0),
          "mm2": ("mm²", False, 1.0), "gbps": ("GB/s", False, 1.0), "fps": ("frames/s", False, 1.0),
          "kb": ("kB", False, 1.0), "mhz": ("MHz", False, 1.0), "ghz": ("GHz", False, 1.0)}
_PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))
_WORDS = {"avg": "mean", "p50": "median", "p99": "99th-percentile", "util": "utilisation", "n": "number of",
          "rd": "reads", "wr": "writes", "act": "activates", "pre": "precharges", "ref": "refreshes", "pd": "power-downs",
          "ii": "initiation interval", "bram18": "BRAM18", "uram": "URAM", "dsp": "DSP", "lut": "LUT", "ff": "FF",
          "pe": "PE", "sram": "SRAM", "dram": "DRAM", "mac": "MAC", "macs": "MACs", "overall": "overall"}
_PRODUCTS = {("energy_j", "latency_s"): "EDP", ("area_mm2", "energy_j", "latency_s"): "EDAP"}


def split_unit(metric: str) -> tuple[str, str | None]:
    """('latency', 's') for 'latency_s'; (name, None) for a metric without a unit suffix."""
    stem, _, suffix = metric.rpartition("_")
    return (stem, suffix) if stem and suffix in _UNITS else (metric, None)


def quantity(metric: str) -> str:
    """The metric in words, without its unit: 'avg_read_latency_ns' -> 'mean read latency'."""
    stem, _ = split_unit(metric)
    return " ".join(_WORDS.get(w, w) for w in stem.split("_"))


def metric_label(metric: str, values=None) -> tuple[str, float]:
    """(axis label, factor to multiply the values by): ('latency (µs)', 1e6) for latency_s values
    around 4e-4 s. Fractions are shown as they are, with '(fraction)'; counts plainly."""
    suffix = split_unit(metric)[1]
    words = quantity(metric)
    if suffix is None:
        return (f"{words} (fraction)" if metric in LINEAR else words), 1.0
    unit, si, base = _UNITS[suffix]
    if not si:
        return f"{words} ({unit})", 1.0
    v = np.abs(np.asarray(values if values is not None else [], dtype=np.float64)) * base
    v = v[np.isfinite(v) & (v > 0)]
    typical = float(np.median(v)) if len(v) else 1.0
    factor, prefix = next(((f, p) for f, p in _PREFIXES if typical >= f), _PREFIXES[-1])
    return f"{words} ({prefix}{unit})", base / factor


def with_unit(metric: str, value: float, digits: int = 3) -> str:
    """A value in its metric's unit with a fitting prefix: with_unit('latency_s', 4.12e-4) == '412 µs'."""
    label, factor = metric_label(metric, [value])
    unit = label.partition(" (")[2][:-1]
    v = value * factor
    shown = f"{v:,.0f}" if abs(v) >= 10 ** digits else f"{v:.{digits}g}"
    return shown + ("" if unit in ("", "fraction") else f" {unit}")


def _bound(metric: str, value: float, direction: str) -> str:
    return f"{quantity(metric)} {'≤' if direction == 'min' else '≥'} {with_unit(metric, value)}"


def _minus(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def _directions(objective: dict) -> dict:
    return objective.get("directions", {})


def _log_sum(metrics, directions, weights=None) -> str:
    terms = []
    for m in metrics:
        w = (weights or {}).get(m, 1.0)
        sign = "+" if directions.get(m) == "max" else "−"
        coef = "" if w == 1.0 else f"{w:g}·"
        fn = quantity(m) if m in LINEAR else f"log10 {quantity(m)}"
        terms.append(f"{sign} {coef}{fn}")
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else "−" + text[2:]


def product_name(objective: dict) -> str | None:
    """'EDAP' for latency × energy × area, 'EDP' for latency × energy, else None."""
    return _PRODUCTS.get(tuple(sorted(objective.get("metrics", ()))))


def reward_words(objective: dict) -> str:
    """The reward of an objective (Objective.to_config() plus 'directions') in one sentence."""
    mode, metrics, d = objective["mode"], list(objective.get("metrics", ())), _directions(objective)
    infeasible = f" Infeasible designs score below {_minus(INFEASIBLE_REWARD)}."
    if mode == "product":
        name = product_name(objective)
        all_min = all(d.get(m, "min") == "min" for m in metrics)
        what = f", i.e. −log10 {name} ({' × '.join(quantity(m) for m in metrics)})" if name and all_min else ""
        return f"reward = {_log_sum(metrics, d)}{what}; higher is better.{infeasible}"
    if mode == "weighted":
        return f"reward = {_log_sum(metrics, d, objective.get('weights'))}; higher is better.{infeasible}"
    if mode == "target":
        targets = objective.get("targets", {})
        spec = ", ".join(_bound(m, v, d.get(m, "min")) for m, v in targets.items())
        return (f"reward = −(sum over the metrics that miss their target of log10(value / target)), so 0 when every "
                f"target is met ({spec}) and −1 for a metric 10× over.{infeasible}")
    if mode == "constraint":
        opt = objective["optimize"]
        limits = ", ".join(_bound(m, v, d.get(m, "min")) for m, v in objective.get("limits", {}).items())
        score = quantity(opt) if opt in LINEAR else f"{'' if d.get(opt) == 'max' else '−'}log10 {quantity(opt)}"
        return (f"reward = {score} for designs within every limit ({limits}); a design over a limit scores below "
                f"{_minus(INFEASIBLE_REWARD)}.")
    if mode == "vector":
        return (f"reward = the vector ({', '.join(_log_sum([m], d) for m in metrics)}); 'best' uses its sum, "
                f"{_log_sum(metrics, d)}.{infeasible}")
    return f"reward: objective {json.dumps(objective)}"


def regret_words(objective: dict) -> str:
    """What the regret axis measures (see archgym.core.pareto.gap)."""
    if objective["mode"] == "constraint" and objective.get("optimize") in LINEAR:
        return f"regret = shortfall of the best {quantity(objective['optimize'])} found, % of the optimum's"
    if objective["mode"] == "target":
        return ("regret = (10^(optimum − best reward) − 1) in %: how much further the best design found misses "
                "the targets than the optimum does (product of the miss factors)")
    name = product_name(objective) if objective["mode"] in ("product", "vector") else None
    if name:
        return f"regret = % by which the best design's {name} exceeds the optimum's"
    return "regret = (10^(optimum − best reward) − 1) in %: 100% is a factor 2 worse"


def env_title(label: str, info) -> str:
    """'archgym/Systolic-v0 (workload=resnet50)' rather than the log label 'archgym/Systolic-v0{"workload":...}'."""
    kwargs = ", ".join(f"{k}={v}" for k, v in info.kwargs.items())
    base = f"{info.env_id} ({kwargs})" if kwargs else info.env_id
    default_label = info.env_id + (json.dumps(info.kwargs, sort_keys=True, separators=(",", ":")) if info.kwargs else "")
    return base if label in (info.env_id, default_label) else f"{label}: {base}"


def seeds_words(seeds) -> str:
    """'seeds 0–4' for a range, 'seeds 0, 3, 7' otherwise, 'seed 2' for one."""
    s = sorted({int(x) for x in seeds})
    if len(s) == 1:
        return f"seed {s[0]}"
    if s == list(range(s[0], s[-1] + 1)):
        return f"seeds {s[0]}–{s[-1]}"
    return f"seeds {', '.join(map(str, s))}"
