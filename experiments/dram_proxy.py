"""ArchGym's proxy cost models on today's DRAM model: the sweep of experiments/dram_proxy.yaml (run, or
resumed, into `--run`), an MLP and a random-forest proxy trained on its log as `archgym proxy` does (20%
of the distinct designs held out), their held-out accuracy and their speed against the real simulator
measured in this process (archgym.experiments.proxy), and the drop-in check: a GA search on each proxy
and on the simulator per seed, each search's best design re-scored on the simulator. Writes the
dram-proxy block of docs/lottery.md.

    python experiments/dram_proxy.py --seeds 5 [--run runs/dram_proxy] [--jobs 1] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from archgym.core.errors import ArchGymError
from archgym.experiments.log import RunDirError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "lottery.md"
SPEC = ROOT / "experiments" / "dram_proxy.yaml"
BLOCK = "dram-proxy"
MODELS = {"mlp": "MLP (torch, 2×128)", "forest": "random forest (sklearn, 100 trees)"}  # archgym.envs.proxy defaults
SHORT = {"mlp": "MLP", "forest": "forest"}
SHOWN = ("latency_s", "power_w", "energy_j")  # the metrics of the cloud-1 target spec and its energy
DROP_IN_BUDGET = 1000  # evaluations per drop-in GA search, as in ArchGym's proxy experiment write-up
MIN_SEEDS = 3


@dataclass
class DropIn:
    """One seed of the drop-in check: GA search wall times (s) and best rewards on the real simulator."""
    seed: int
    real_s: float
    real_reward: float
    proxy_s: dict       # model -> search wall time on the proxy (s)
    proxy_reward: dict  # model -> the proxy search's best design, re-scored on the real simulator


@dataclass
class Measurement:
    evaluations: int
    outcomes: int       # distinct (latency_s, power_w, energy_j) among them
    reports: list       # archgym.experiments.proxy.ProxyReport per model
    drop_in: list       # DropIn per seed
    budget: int
    load: tuple         # 1-minute load average before and after the measurements


def check_run(run_dir: Path, label: str, env_id: str) -> None:
    """Refuse a `--run` that holds files but no evaluation log, or the log of another env than `label` (= `env_id`)."""
    from archgym.experiments.log import db_path, env_infos
    if not db_path(run_dir).is_file():
        if run_dir.exists() and any(run_dir.iterdir()):
            raise RunDirError(f"--run {run_dir} holds no evaluations (no evaluation log); pass a run directory of "
                              f"{SPEC.name}, or a new one to sweep into")
        return
    theirs = {lab: info.env_id for lab, info in env_infos(run_dir).items()}
    if theirs and theirs.get(label) != env_id:
        raise RunDirError(f"--run {run_dir} is a run of {theirs}, not of {label!r} = {env_id}")


def drop_in(reports, kwargs: dict, budget: int, seeds: int) -> list[DropIn]:
    """Per seed, the default GA on the real simulator and on each proxy; best designs re-scored on the real one.
    `kwargs`: the env's make arguments in the run (its log EnvInfo)."""
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the envs)
    from agents import make_agent
    env_id = reports[0].env_id
    real = gym.make(env_id, **kwargs)
    proxies = {r.kind: gym.make(env_id, **kwargs, simulator=f"proxy:{r.path}") for r in reports}
    out = []
    for seed in range(seeds):
        res = make_agent("ga", seed=seed).search(real, budget)
        times, rewards = {}, {}
        for kind, env in proxies.items():
            p = make_agent("ga", seed=seed).search(env, budget)
            times[kind] = p.wall_time_s
            rewards[kind] = float(real.unwrapped.evaluate(p.history.indices[p.best_row][None])["reward"][0])
        out.append(DropIn(seed, res.wall_time_s, res.best_score, times, rewards))
    return out


def measure(run_dir: str | Path, experiment=SPEC, jobs: int = 1, seeds: int = 5, budget: int = DROP_IN_BUDGET,
            progress: bool | None = None, **model_kw) -> Measurement:
    """Sweep `experiment` into `run_dir` (resuming), train the proxies on its first env, time them and run the
    drop-in check. `model_kw` reach the models (tests shorten the MLP's training)."""
    import archgym
    from archgym.experiments import load_experiment, run_sweep
    from archgym.experiments.log import env_infos
    from archgym.experiments.proxy import train_from_run
    if seeds < 1 or budget < 1:
        raise ArchGymError(f"seeds and budget must be >= 1, got {seeds} and {budget}")
    run_dir = Path(run_dir)
    exp = load_experiment(experiment)
    spec = exp.envs[0]
    check_run(run_dir, spec.label, spec.id)
    summary = run_sweep(exp, out=run_dir, workers=jobs, progress=progress)
    if summary.failed:
        raise ArchGymError(f"{len(summary.failed)} cells of the sweep failed; run the same command again to retry them")
    rows = archgym.load(run_dir).query("env == @spec.label")
    evaluations, outcomes = len(rows), len(rows.drop_duplicates(list(SHOWN)))
    if not evaluations:
        raise RunDirError(f"--run {run_dir} holds no evaluations of {spec.label!r}")
    load0 = os.getloadavg()[0]
    reports = train_from_run(run_dir, env=spec.label, models=tuple(MODELS), **model_kw)
    checks = drop_in(reports, env_infos(run_dir)[spec.label].kwargs, budget, seeds)
    return Measurement(evaluations, outcomes, reports, checks, budget, (load0, os.getloadavg()[0]))


def _us(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def markdown(m: Measurement) -> str:
    from _docs import machine
    r0, kinds = m.reports[0], [r.kind for r in m.reports]
    data = (f"{m.evaluations:,} logged evaluations of `{r0.env}` ({r0.env_id}), {r0.n_train + r0.n_test:,} distinct "
            f"designs with {m.outcomes:,} distinct ({', '.join(SHOWN)}) outcomes: {r0.n_train:,} designs to train, "
            f"{r0.n_test:,} held out. Accuracy on the held-out designs (RMSE in % "
            "of the metric's range over the log):")
    lines = [data, "", "| model | metric | RMSE (% of range) | median rel. error | Kendall τ |", "|---|---|---:|---:|---:|"]
    for r in m.reports:
        for k, metric in enumerate(SHOWN):
            a = r.metrics[metric]
            lines.append(f"| {MODELS[r.kind] if k == 0 else ''} | {metric} | {a['rmse_pct_range']:.2f}% | "
                         f"{a['median_rel_err_pct']:.3g}% | {a['kendall_tau']:.3f} |")
    lines.append("")
    for r in m.reports:
        worst = ", ".join(f"{k} {v['kendall_tau']:.2f}" for k, v in
                          sorted(r.metrics.items(), key=lambda kv: kv[1]["kendall_tau"])[:3])
        feasible = (f"; feasibility right for {r.feasible_accuracy_pct:.1f}% of held-out designs"
                    if r.feasible_accuracy_pct is not None else "")
        lines.append(f"- {SHORT[r.kind]}: trained in {r.train_time_s:.0f} s; lowest Kendall τ of its "
                     f"{len(r.metrics)} varying metrics: {worst}{feasible}")
    timing = ("Time per evaluation (µs) on the held-out designs, real simulator and proxies timed in the same process "
              "(best of 3 for the whole set in one call, one numba thread for one design per call):")
    lines += ["", timing, "", "| | real simulator | " + " | ".join(f"{SHORT[k]} proxy | speedup" for k in kinds) + " |",
              "|---|---:|" + "---:|---:|" * len(kinds)]
    for what, key in ((f"all {r0.speed['batch']:,} designs in one call", "batch"),
                      (f"one design per call ({r0.speed['single']} designs)", "single")):
        cells = [f"{_us(r.speed[f'proxy_{key}_us'])} | **{r.speed[f'speedup_{key}']:,.3g}×**" for r in m.reports]
        lines.append(f"| {what} | {_us(r0.speed[f'real_{key}_us'])} | " + " | ".join(cells) + " |")
    search = (f"Drop-in: GA (default settings) for {m.budget:,} evaluations on the simulator and on each proxy; the "
              "reward (higher is better) of each search's best design, re-scored on the real simulator:")
    lines += ["", search, "", "| seed | simulator: search time, best reward | "
              + " | ".join(f"{SHORT[k]} proxy: search time, best reward" for k in kinds) + " |",
              "|---|---:|" + "---:|" * len(kinds)]
    for d in m.drop_in:
        lines.append(f"| {d.seed} | {d.real_s:.2f} s, {d.real_reward:.4f} | "
                     + " | ".join(f"{d.proxy_s[k]:.2f} s, {d.proxy_reward[k]:.4f}" for k in kinds) + " |")
    lines += ["", (f"Machine: {machine()}; 1-minute load average {m.load[0]:.1f} before the training, "
                   f"{m.load[1]:.1f} after the drop-in check (the machine is shared: times are wall times).")]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=str(ROOT / "runs" / "dram_proxy"), help="run directory of the sweep")
    ap.add_argument("--jobs", type=int, default=1, help="sweep workers (the proxies are timed in this process)")
    ap.add_argument("--seeds", type=int, default=5, help=f"seeds of the drop-in check (at least {MIN_SEEDS})")
    ap.add_argument("--no-write", action="store_true", help="print the block only")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        if args.seeds < MIN_SEEDS:
            raise ArchGymError(f"--seeds must be at least {MIN_SEEDS}, got {args.seeds}")
        if args.jobs < 1:
            raise ArchGymError(f"--jobs must be at least 1, got {args.jobs}")
        md = markdown(measure(args.run, jobs=args.jobs, seeds=args.seeds))
    except ArchGymError as e:
        print(f"dram_proxy.py: error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    print(md)
    if not args.no_write:
        from _docs import write_generated
        write_generated(DOC, BLOCK, f"python experiments/dram_proxy.py --seeds {args.seeds}", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
