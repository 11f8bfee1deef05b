"""Coupling of network and hardware in the co-design envs (issue 19), and the rule behind their budgets.

    python experiments/coupling.py

Every design of each co-design env with one latency limit is scored once (archgym.analysis.coupling
.census; NB201-Systolic-v0: 40.5 M designs). Writes the generated blocks of docs/codesign.md:

- `env-budgets`: the budget rule (archgym.analysis.coupling.budget_rule) applied to each env, next
  to the env's defaults, and whether the rule's latency budget binds.
- `coupling-rankings`: Kendall's tau between the latency rankings of all networks on two distant
  hardware designs of the env's space, and over every pair of 64 sampled designs; Spearman of
  latency against MACs on both distant designs.
- `coupling-sequential`: over 40 latency budgets (quantiles of the networks' fastest latencies), how
  often the exact joint optimum beats NAS first under a MACs budget, with the rule-of-thumb budget
  and with the best budget in hindsight (both stages searched exhaustively: a gap is the model's
  coupling, not a search's luck), and the reference network's latency on the reference design (whether
  it fits) that the rule of thumb scales by.
- `coupling-hwnasbench`: Spearman of our NB201 latencies against HW-NAS-Bench's published Eyeriss and
  FPGA latencies (archgym/data/nas/hwnasbench-nb201.csv.gz), each model's per-op costs (a least
  squares fit on the cell's op counts) that explain the differences, and how many networks fit each design.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ENVS = ("archgym/NB201-Systolic-v0", "archgym/NB201-FPGA-v0", "archgym/CoDesign-Systolic-v0", "archgym/CoDesign-FPGA-v0")
OPS = ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")
# Systolic designs for the HW-NAS-Bench comparison: Eyeriss's 12 x 14 PEs and 108 kB of buffer (Chen et al.,
# JSSC 2017) split evenly over our three SRAMs, in each of our dataflows (Eyeriss's row stationary is not one);
# the env's reference design; the env's largest array.
SYSTOLIC = {f"12x14 {df}, 3 x 36 kB": {"rows": 12, "cols": 14, "dataflow": df, "ifmap_sram_kb": 36, "filter_sram_kb": 36,
                                       "ofmap_sram_kb": 36, "dram_bytes_per_cycle": 8.0} for df in ("ws", "os", "is")}
SYSTOLIC["64x64 ws, 3 x 128 kB (the env's largest)"] = {"rows": 64, "cols": 64, "dataflow": "ws", "ifmap_sram_kb": 128,
                                                         "filter_sram_kb": 128, "ofmap_sram_kb": 128,
                                                         "dram_bytes_per_cycle": 32.0}


def distant(env) -> dict[str, dict]:
    """Two distant designs of an env's hardware group. Systolic: every parameter at its first allowed
    value with the os dataflow, and at its last value with ws. FPGA: the fastest clock with the most
    parallel folding target on which at least half the networks fit the board, and the slowest clock
    with the most folded target (other parameters at their first value: CoDesign-FPGA's 4 bits, the
    only width at which its networks fit a PYNQ-Z1)."""
    from archgym.analysis.coupling import NetworkGrid
    space = env.unwrapped.space
    hw = [space[n] for n in space.groups["hardware"]]
    if "target_cycles" in space.groups["hardware"]:
        g, first = NetworkGrid(env.unwrapped), {p.name: p.values[0] for p in hw}
        fast, slow, targets = space["clock_mhz"].values[-1], space["clock_mhz"].values[0], space["target_cycles"].values
        fits = [g(np.array([g.hw_number({**first, "target_cycles": t, "clock_mhz": fast})]))["feasible"].mean()
                for t in targets]
        t_lo = targets[next(i for i, f in enumerate(fits) if f >= 0.5)]
        return {f"target {t_lo:,} cycles at {fast:g} MHz": {**first, "target_cycles": t_lo, "clock_mhz": fast},
                f"target {targets[-1]:,} cycles at {slow:g} MHz": {**first, "target_cycles": targets[-1],
                                                                     "clock_mhz": slow}}
    small = {p.name: p.values[0] for p in hw if p.name != "dataflow"} | {"dataflow": "os"}
    large = {p.name: p.values[-1] for p in hw if p.name != "dataflow"} | {"dataflow": "ws"}
    return {_describe(small): small, _describe(large): large}


def _describe(d: dict) -> str:
    return (f"{d['rows']}x{d['cols']} {d['dataflow']}, SRAMs {d['ifmap_sram_kb']}/{d['filter_sram_kb']}/"
            f"{d['ofmap_sram_kb']} kB" + (f", {d['dram_bytes_per_cycle']:g} B/cycle" if "dram_bytes_per_cycle" in d
                                          else ""))


def study(env_id: str, echo=print) -> dict:
    """The budget rule's budgets, the census under them, and every coupling figure of one env."""
    import gymnasium as gym

    from archgym.analysis import coupling
    env = gym.make(env_id)
    limits = dict(env.unwrapped.objective.limits)
    t = time.perf_counter()
    (rule,), c = coupling.budget_rule(env_id, named=distant)
    echo(f"{env_id}: census of {c.n_networks:,} networks x {c.n_hardware:,} designs in {time.perf_counter() - t:.0f} s; "
         f"rule {rule} (defaults {limits})")
    (a, (_, lat_a, ok_a)), (b, (_, lat_b, ok_b)) = c.named.items()
    lat_a, lat_b = np.where(ok_a, lat_a, np.nan), np.where(ok_b, lat_b, np.nan)
    taus = coupling.sample_taus(c)
    sj = coupling.sequential_vs_joint(c)
    return {"env": env_id, "census": c, "rule": rule, "defaults": limits, "pair": (a, b), "lat": (lat_a, lat_b),
            "tau": coupling.kendall(lat_a, lat_b), "both": int((np.isfinite(lat_a) & np.isfinite(lat_b)).sum()),
            "taus": taus[np.isfinite(taus)], "rho_macs": [_spearman(x, c.macs) for x in (lat_a, lat_b)],
            "sj": sj, "noise": _noise(env),
            "binds": bool(sj["joint"][c.budgets == rule["latency_s"]][0] < c.best_accuracy)}


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr
    m = np.isfinite(x) & np.isfinite(y)
    return float(spearmanr(x[m], y[m]).statistic)


def _noise(env) -> float:
    sys.path.insert(0, str(ROOT / "experiments"))
    from joint_vs_sequential import noise_points
    return noise_points(env.unwrapped)[0] / 100


def budgets_block(studies: list[dict]) -> str:
    lines = ["| env | limit | by the rule | env default | the rule's latency budget binds (no design meeting it "
             "reaches the best accuracy of the space) |", "|---|---|---:|---:|---|"]
    for s in studies:
        for k, v in s["rule"].items():
            default = s["defaults"].get(k)
            unit = "µs" if k == "latency_s" else "mm²"
            scale = 1e6 if k == "latency_s" else 1.0
            binds = ("yes" if s["binds"] else "**no**") if k == "latency_s" else ""
            lines.append(f"| {s['env'].split('/')[1]} | `{k}` | {v * scale:g} {unit} | {default * scale:g} {unit}"
                         f"{'' if np.isclose(default, v) else ' (**differs**)'} | {binds} |")
    return "\n".join(lines)


def rankings_block(studies: list[dict]) -> str:
    lines = ["| env | networks | distant designs A / B | Kendall τ (A, B) | τ over pairs of 64 sampled designs: min / "
             "median | Spearman latency vs MACs on A / B |", "|---|---:|---|---:|---|---|"]
    for s in studies:
        t = s["taus"]
        lines.append(f"| {s['env'].split('/')[1]} | {s['both']:,} of {s['census'].n_networks:,} | {s['pair'][0]} / "
                     f"{s['pair'][1]} | **{s['tau']:.3f}** | {t.min():.3f} / {np.median(t):.3f} "
                     f"({len(t):,} pairs) | {s['rho_macs'][0]:.3f} / {s['rho_macs'][1]:.3f} |")
    return "\n".join(lines)


def sequential_block(studies: list[dict]) -> str:
    lines = ["Per latency budget of the sweep, NAS first *cannot run* (its MACs budget admits no network), *misses* "
             "(the network it picks meets the latency budget on no design), is *worse* than the exact joint optimum "
             "by more than one training run's noise, *lower* by less than that, or *equal*.", "",
             "| env | latency budgets | NAS first, rule-of-thumb MACs budget: cannot run / misses / worse / lower / "
             "equal | NAS first, best MACs budget in hindsight: misses / worse / lower / equal | largest gap where "
             "hindsight meets the budget (points) | at the env's budget: joint / rule of thumb / hindsight (%) | "
             "reference network: latency on the reference design (fits it?) / fastest on any design |",
             "|---|---|---|---|---:|---|---|"]
    for s in studies:
        c, sj, noise = s["census"], s["sj"], s["noise"]
        joint, rule, hind = sj["joint"], sj["rule"], sj["hindsight"]
        at = int(np.flatnonzero(c.budgets == s["rule"]["latency_s"])[0])
        here = " / ".join(f"{100 * v[at]:.2f}" if np.isfinite(v[at]) else "misses" for v in (joint, rule, hind))
        met = np.isfinite(hind)
        lines.append(f"| {s['env'].split('/')[1]} | {len(c.budgets)}: {c.budgets[0] * 1e6:.4g} .. "
                     f"{c.budgets[-1] * 1e6:.4g} µs | {_outcomes(joint, rule, noise, sj['rule_network'] < 0)} | "
                     f"{_outcomes(joint, hind, noise)} | "
                     f"{100 * (joint - hind)[met].max() if met.any() else float('nan'):.2f} | {here} | "
                     f"{_reference(c)} |")
    return "\n".join(lines)


def _reference(c) -> str:
    """The reference network's latency on the reference design (whether it fits) and on its fastest design:
    the rule of thumb scales the MACs budget by the first."""
    r = c.reference_network
    fits = "fits" if c.reference_feasible[r] else "**does not fit**"
    return f"{c.reference_latency[r] * 1e6:.4g} µs ({fits}) / {c.min_latency[r] * 1e6:.4g} µs"


def _outcomes(joint, seq, noise, cannot=None) -> str:
    """'cannot run / misses / worse / lower within noise / equal of n' ('cannot run' only with `cannot`)."""
    met = np.isfinite(seq)
    gap = np.where(met, joint - seq, 0.0)
    counts = [] if cannot is None else [int(cannot.sum())]
    counts += [int((~met).sum()) - (0 if cannot is None else int(cannot.sum())), int((met & (gap > noise)).sum()),
               int((met & (gap > 0) & (gap <= noise)).sum()), int((met & (gap <= 0)).sum())]
    return " / ".join(map(str, counts)) + f" of {len(joint)}"


def hwnasbench_block() -> str:
    import gymnasium as gym

    from archgym.analysis.coupling import NetworkGrid, additive_fit
    from archgym.envs.nb201 import NB201SystolicEvaluator
    from archgym.nas import nb201
    from archgym.nas.nb201_hwnas import read_hwnasbench
    pub = read_hwnasbench()
    number = nb201.number_of_index(np.arange(nb201.N_ARCHS))  # our numbers in NB201 index order
    counts = np.array([[nb201.ops_of_number(int(a)).count(op) for op in OPS] for a in number], dtype=np.float64)
    ours, fits = {}, {}
    for name, d in SYSTOLIC.items():
        ev = NB201SystolicEvaluator(hardware={k: (v,) for k, v in d.items()})
        g = ev.grid(np.array([0]))
        ours[f"systolic {name}"], fits[f"systolic {name}"] = g["latency_s"][0][number], g["feasible"][0][number]
    for env_id, label in (("archgym/NB201-Systolic-v0", "systolic"), ("archgym/NB201-FPGA-v0", "FPGA")):
        base = gym.make(env_id).unwrapped
        hw = base.evaluator.split(base.space.to_indices(base.space.default())[None, :])[1]
        g = base.evaluator.grid(hw)
        ref = {k: v for k, v in base.space.default().items() if k in base.space.groups["hardware"]}
        key = f"{label}, {env_id.split('/')[1]}'s reference design ({', '.join(map(str, ref.values()))})"
        ours[key], fits[key] = g["latency_s"][0][number], g["feasible"][0][number]
    # The FPGA env's most folded target, at its reference clock: the design on which the most networks fit the board.
    base = gym.make("archgym/NB201-FPGA-v0").unwrapped
    folded = {"target_cycles": base.space["target_cycles"].values[-1]}
    g = NetworkGrid(base)(np.array([NetworkGrid(base).hw_number(folded)]))
    key = f"FPGA, NB201-FPGA-v0's most folded design (target {folded['target_cycles']:,} cycles, otherwise the reference)"
    ours[key], fits[key] = g["latency_s"][0][number], g["feasible"][0][number]
    macs = NB201SystolicEvaluator(hardware={"rows": (16,)}).network.macs[number]
    lines = ["| our model, design | Spearman vs HW-NAS-Bench Eyeriss | vs HW-NAS-Bench FPGA | vs MACs | additive fit "
             "R² | per-op cost / conv3x3 edge: conv1x1, avg_pool, skip | networks that fit the design (the others' latency is "
             "the model's, on hardware the board cannot hold) |", "|---|---:|---:|---:|---:|---|---:|"]
    for label, lat in [("**HW-NAS-Bench Eyeriss** (published)", pub["eyeriss_latency_ms"]),
                       ("**HW-NAS-Bench FPGA** (published)", pub["fpga_latency_ms"]), *ours.items()]:
        coef, r2 = additive_fit(lat / lat.mean(), counts)
        rel = ", ".join(f"{x / coef[1]:.2f}" for x in coef[2:])
        lines.append(f"| {label} | {_spearman(lat, pub['eyeriss_latency_ms']):.3f} | "
                     f"{_spearman(lat, pub['fpga_latency_ms']):.3f} | {_spearman(lat, macs):.3f} | {r2:.4f} | {rel} | "
                     f"{f'{int(fits[label].sum()):,}' if label in fits else 'all 15,625 (published)'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--envs", nargs="+", default=list(ENVS))
    p.add_argument("--no-docs", action="store_true", help="print the blocks only")
    args = p.parse_args(argv)
    import archgym  # noqa: F401  (registers the envs)
    studies = [study(e) for e in args.envs]
    blocks = {"env-budgets": budgets_block(studies), "coupling-rankings": rankings_block(studies),
              "coupling-sequential": sequential_block(studies), "coupling-hwnasbench": hwnasbench_block()}
    sys.path.insert(0, str(ROOT / "experiments"))
    from _docs import command_of, publish
    return publish(blocks, command_of("coupling.py", argv), not args.no_docs)


if __name__ == "__main__":
    raise SystemExit(main())
