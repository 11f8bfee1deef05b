"""Agents x envs x seeds: regret against the true optimum, hypervolume against the true front, agent
overhead, and findings with bootstrap intervals and Holm-corrected tests; writes docs/agents.md.

    python benchmarks/agents.py --jobs 1 --save runs/agents20/runs.json   # the docs: 20 seeds, 100..119
    python benchmarks/agents.py --agents ga,tpe --envs systolic --seeds 2 --budget 300 --no-doc

Env groups: systolic (the enumerable ResNet-18 space) and fpga by default; dram by `--envs dram`
(its agent comparison, at 20 seeds, is docs/dram.md's dram-agents block). A group whose env is not
registered is skipped and said so. Seeds are `--seed-base` .. `--seed-base + --seeds - 1`, by
default 100..119, disjoint from seeds 0-4 on which some defaults were chosen (TUNED). Where a space
has at most 10^6 designs the truth comes from `archgym.analysis.exhaustive`; otherwise the best
design and the union front of every run stand in for it ("best known"). Gap = 10**(optimum - best
found) - 1, the relative excess of the scalarised metric (EDAP for systolic). Hypervolume uses the
env's fixed reference point. Agent overhead = ask + tell (or RL policy and training) time,
excluding simulation. `--save` appends each finished run to FILE.partial (JSON lines; a rerun
resumes from it) and writes FILE (one JSON document) at the end.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

# This script shares its name with the `agents` package: run as a script, its folder must not shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
_spec = importlib.util.spec_from_file_location("_bench_report", Path(__file__).resolve().parent / "_report.py")
_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_report)

DOC = Path(__file__).resolve().parent.parent / "docs" / "agents.md"
ENV_GROUPS = {"systolic": "archgym/Systolic-ResNet18-Small-v0", "dram": "archgym/DRAMController-v0",
              "fpga": "archgym/FPGADataflow-v0"}
DEFAULT_GROUPS = ("systolic", "fpga")  # dram: docs/dram.md's dram-agents block (experiments/dram_agents.py)
CHECKPOINTS = (100, 300, 1000)
EARLY = 100           # evaluations at which the findings compare early progress
TARGET = 0.05         # "within 5% of the optimum"
ALPHA = 0.05          # family-wise error rate of the Holm-corrected tests
DOC_SEEDS = 20        # the docs need at least this many seeds
TUNING_GROUP, TUNING_SEEDS = "systolic", range(0, 5)
TUNED = {  # defaults chosen on TUNING_GROUP with TUNING_SEEDS (docs/agents.md, docs/leaderboard.md)
    "gp": "length-scale floor 0.1 (agents/bo.py LS_MIN) and batches of 8",
    "marl": "entropy bonus 0.03 (agents/marl.py ent_coef) and γ = 0",
    "ppo": "γ = 0", "a2c": "γ = 0", "dqn": "γ = 0",
}
_ENVS: dict = {}


def _env(env_id):
    import gymnasium as gym

    import archgym  # noqa: F401
    if env_id not in _ENVS:
        _ENVS[env_id] = gym.make(env_id)
    return _ENVS[env_id]


def run_one(task):
    """One search; returns its best-so-far curve, final front (objective vectors) and timings, as JSON types."""
    env_id, name, seed, budget = task
    from agents import make_agent
    from agents.base import UnsupportedSpaceError
    env = _env(env_id)
    key = {"env": env_id, "agent": name, "seed": seed, "budget": budget}
    try:
        result = make_agent(name, seed=seed).search(env, budget)
    except UnsupportedSpaceError as e:
        return {**key, "unsupported": str(e).split(";")[0]}
    n = len(result.history)
    return {**key, "best_curve": np.asarray(result.best_curve, dtype=float).tolist(),
            "front": np.asarray(result.pareto_front, dtype=float).tolist(),
            "ref": np.asarray(result.ref_point, dtype=float).tolist(),
            "agent_ms": 1e3 * result.agent_time_s / n, "wall_ms": 1e3 * result.wall_time_s / n,
            "sim_ms": 1e3 * result.eval_time_s / n, "wall_s": result.wall_time_s}


def _front(run) -> np.ndarray:
    return np.asarray(run["front"], dtype=float).reshape(-1, len(run["ref"]))


def truth(env_id, runs):
    """(optimum, true-front hypervolume, label): exhaustive when enumerable, else best known."""
    from archgym import analysis
    env = _env(env_id)
    if env.unwrapped.space.size <= analysis.EXHAUSTIVE_LIMIT:
        gt = analysis.exhaustive(env)
        return gt.best_score, gt.hypervolume, f"exhaustive ({gt.size:,} designs)"
    ok = [r for r in runs if "best_curve" in r]
    best = max(float(r["best_curve"][-1]) for r in ok)
    union = np.vstack([_front(r) for r in ok])
    hv = analysis.hypervolume(union[analysis.pareto_mask(union)], np.asarray(ok[0]["ref"]))
    return best, hv, f"best known over all {len(ok)} runs (space of {env.unwrapped.space.size:,} designs is not enumerable)"


def summarise(env_id, runs, agents, budget) -> dict:
    """Per agent of one env: gaps at each checkpoint, HV ratios and timings (or why it cannot run)."""
    from archgym import analysis
    env = _env(env_id)
    optimum, true_hv, label = truth(env_id, runs)
    cps = sorted({c for c in CHECKPOINTS if c < budget} | {budget})
    out = {"env": env_id, "optimum": optimum, "label": label, "checkpoints": cps, "objective": env.unwrapped.objective,
           "agents": {}}
    for name in agents:
        rs = [r for r in runs if r["agent"] == name]
        if not rs:
            continue
        if "unsupported" in rs[0]:
            out["agents"][name] = {"unsupported": rs[0]["unsupported"]}
            continue
        gaps = {c: np.array([analysis.gap(r["best_curve"][c - 1], optimum, env.unwrapped.objective) for r in rs])
                for c in cps}
        hv = ([analysis.hypervolume(_front(r), np.asarray(r["ref"])) / true_hv for r in rs] if true_hv > 0
              else [np.nan])
        out["agents"][name] = {"gaps": gaps, "hv": np.asarray(hv), "agent_ms": [r["agent_ms"] for r in rs],
                               "wall_ms": [r["wall_ms"] for r in rs]}
    return out


def _median_iqr(x) -> str:
    q1, med, q3 = np.percentile(np.asarray(x, dtype=float), [25, 50, 75])
    return f"{_pct(med)} [{_pct(q1)}, {_pct(q3)}]"


def _pct(v: float) -> str:
    return "0" if v == 0 else f"{100 * v:.3g}%"


def table(s: dict) -> str:
    env, cps = _env(s["env"]), s["checkpoints"]
    lines = [f"### {s['env']}", "", f"Truth: {s['label']}; optimum reward {s['optimum']:.5g}; objective "
             f"`{env.unwrapped.objective.mode}` over {', '.join(env.unwrapped.objective.metrics)}.", "",
             "| agent | " + " | ".join(f"gap @ {c}" for c in cps) + f" | seeds within 5% @ {cps[-1]} | HV / true HV | "
             "agent ms/eval | wall ms/eval |",
             "|---|" + "---|" * (len(cps) + 4)]
    for name, a in s["agents"].items():
        if "unsupported" in a:
            lines.append(f"| {name} | not applicable: {a['unsupported']} |" + " |" * (len(cps) + 3))
            continue
        gaps, hv = a["gaps"], a["hv"]
        reached = int(np.sum(gaps[cps[-1]] <= TARGET))
        lines.append(f"| {name} | " + " | ".join(_median_iqr(gaps[c]) for c in cps) +
                     f" | {reached}/{len(gaps[cps[-1]])} | {np.median(hv):.3f} [{np.percentile(hv, 25):.3f}, "
                     f"{np.percentile(hv, 75):.3f}] | {np.median(a['agent_ms']):.3g} | {np.median(a['wall_ms']):.3g} |")
    return "\n".join(lines)


def compare(gaps: dict, early: int, final: int, baseline: str = "random") -> dict:
    """gaps: {env: {agent: {evaluations: gaps over seeds}}}. Per env and agent: seeds within TARGET at
    `final` with a 95% Wilson interval, median gap at `early` and `final` with 95% bootstrap intervals,
    and the one-sided Mann-Whitney U p (gap at `final` below the baseline's), Holm-corrected over every
    comparison of every env. Returns {env: {agent: row}}."""
    from scipy.stats import binomtest, mannwhitneyu

    from archgym.analysis import stats
    out, tests = {}, []
    for env, by in gaps.items():
        out[env] = {}
        for agent, g in by.items():
            x = np.asarray(g[final], dtype=float)
            k = int(np.sum(x <= TARGET))
            ci = binomtest(k, len(x)).proportion_ci(confidence_level=stats.CONFIDENCE, method="wilson")
            row = {"n": len(x), "within": k, "within_lo": float(ci.low), "within_hi": float(ci.high),
                   "early": stats.median_ci(g[early]), "final": stats.median_ci(x), "p": np.nan, "p_holm": np.nan}
            if agent != baseline and baseline in by:
                y = np.asarray(by[baseline][final], dtype=float)
                row["p"] = 1.0 if np.ptp(np.r_[x, y]) == 0 else float(mannwhitneyu(x, y, alternative="less").pvalue)
                tests.append((env, agent))
            out[env][agent] = row
    adj = stats.holm(np.array([out[e][a]["p"] for e, a in tests])) if tests else []
    for (e, a), p in zip(tests, adj):
        out[e][a]["p_holm"] = float(p)
    return out


def _names(xs) -> str:
    return ", ".join(f"`{x}`" for x in xs) if xs else "none"


def findings(summaries: list, budget: int, seeds: range, figures: dict, baseline: str = "random") -> str:
    """The generated Findings: per env, sentences and a table from `compare`; then overhead."""
    gaps = {s["env"]: {a: v["gaps"] for a, v in s["agents"].items() if "gaps" in v} for s in summaries}
    res = compare(gaps, EARLY, budget, baseline)
    m = sum(1 for rows in res.values() for r in rows.values() if not np.isnan(r["p"]))
    overlap = sorted(set(seeds) & set(TUNING_SEEDS))
    tuned_env = ENV_GROUPS[TUNING_GROUP]
    lines = [f"Seeds {seeds.start}..{seeds.stop - 1} ({len(seeds)} per agent and env), {budget} evaluations. "
             f"*Within 5%*: seeds whose best design after {budget} evaluations is within 5% of the optimum, with "
             "a 95% Wilson interval on the success rate (scipy.stats.binomtest). *Gap*: median over seeds with a "
             "95% percentile-bootstrap interval (scipy.stats.bootstrap). *p*: one-sided Mann-Whitney U (the "
             f"agent's gap at {budget} below `{baseline}`'s), Holm-corrected over the {m} comparisons in this block.",
             "",
             f"Tuned defaults: chosen on `{tuned_env}` with seeds {TUNING_SEEDS.start}-{TUNING_SEEDS.stop - 1}: " +
             "; ".join(f"`{a}` {why}" for a, why in TUNED.items()) + ". " +
             (f"**These seeds overlap the tuning seeds ({', '.join(map(str, overlap))}).** " if overlap else
              "These seeds are disjoint from the tuning seeds, ") +
             f"so those agents' rows on `{tuned_env}` are in-task{'' if overlap else ' but out-of-seed'}; on the "
             "other envs they are out-of-task. No other agent's defaults were chosen on these envs "
             "(docs/leaderboard.md, \"Where each agent's defaults came from\")."]
    for s in summaries:
        rows = res[s["env"]]
        better = [a for a, r in rows.items() if r["p_holm"] < ALPHA]
        not_better = [a for a, r in rows.items() if r["p_holm"] >= ALPHA]
        every = [a for a, r in rows.items() if r["within"] == r["n"]]
        half = [f"`{a}` {r['within']}/{r['n']}" for a, r in rows.items() if r["within"] < r["n"] / 2]
        fast = sorted((a for a, r in rows.items() if r["early"][0] <= TARGET), key=lambda a: rows[a]["early"][0])
        hv = {a: float(np.median(v["hv"])) for a, v in s["agents"].items() if "hv" in v}
        top_hv = sorted((a for a in hv if hv[a] >= 0.99), key=lambda a: -hv[a])
        na = [f"`{a}` ({v['unsupported']})" for a, v in s["agents"].items() if "unsupported" in v]
        lines += ["", f"### Findings on {s['env']}", "",
                  f"- Better than `{baseline}` at {budget} evaluations (Holm-corrected p < {ALPHA:g}): {_names(better)}; "
                  f"not shown better: {_names(not_better)}." if baseline in rows else
                  f"- `{baseline}` was not run: no comparison.",
                  f"- Within 5% on all {len(seeds)} seeds: {_names(every)}; on fewer than half: "
                  f"{', '.join(half) if half else 'none'}.",
                  f"- Median gap at {EARLY} evaluations within 5%: {_names(fast)}.",
                  "- Median HV / true HV ≥ 0.99: " + (", ".join(f"`{a}` {hv[a]:.3f}" for a in top_hv) or "none") + "."]
        if na:
            lines.append(f"- Not applicable: {', '.join(na)}.")
        lines += ["", f"| agent | within 5% @ {budget} [95% CI] | gap @ {EARLY} [95% CI] | gap @ {budget} [95% CI] | "
                  f"p vs {baseline} (Holm) |", "|---|---|---|---|---|"]
        for a, r in rows.items():
            p = "" if np.isnan(r["p_holm"]) else f"{r['p_holm']:.2g}"
            lines.append(f"| {a} | {r['within']}/{r['n']} [{100 * r['within_lo']:.0f}%, {100 * r['within_hi']:.0f}%] | "
                         f"{_pct(r['early'][0])} [{_pct(r['early'][1])}, {_pct(r['early'][2])}] | "
                         f"{_pct(r['final'][0])} [{_pct(r['final'][1])}, {_pct(r['final'][2])}] | {p} |")
    if figures:
        over = [f"`{a}` {v:.3g} (≤ {_limit(a):g})" for a, v in figures.items() if a != "optuna_gp_at_500" and v > _limit(a)]
        lines += ["", "Agent overhead above its figure to reach (CPU ms per evaluation, table below): " +
                  (", ".join(over) if over else "none") + "."]
    return "\n".join(lines)


def _limit(agent: str) -> float:
    return 50.0 if agent == "gp" else 1.0


def _cpu_ask_tell(agent, env, budget: int, window_from: int = 0) -> float:
    """CPU ms per evaluation in ask + tell (the search loop, timed with process_time so that other
    jobs on the machine do not count), over evaluations window_from..budget."""
    base = env.unwrapped
    agent.reset(base.space, base.objective, budget, agent.seed)
    n, spent = 0, 0.0
    while n < budget:
        k = min(agent.designs_per_ask, budget - n)
        t = time.process_time()
        idx = agent.ask_indices(k)
        dt = time.process_time() - t
        out = base.evaluate(idx)
        t = time.process_time()
        agent.tell_indices(idx, out)
        dt += time.process_time() - t
        if n >= window_from:
            spent += dt
        n += k
    return 1e3 * spent / (budget - window_from)


def _cpu_rl(agent, env, budget: int) -> float:
    """CPU ms per step of an RL agent: the whole search minus the CPU time inside env.step."""
    import gymnasium as gym

    class SimClock(gym.Wrapper):
        sim = 0.0

        def step(self, action):
            t = time.process_time()
            out = self.env.step(action)
            SimClock.sim += time.process_time() - t
            return out

    t = time.process_time()
    agent.search(SimClock(env), budget)
    return 1e3 * (time.process_time() - t - SimClock.sim) / budget


def overhead_figures(agents, budget: int = 1000) -> dict:
    """Agent overhead per evaluation (CPU ms, excluding simulation) on the systolic env, seed 0,
    after a warm-up run; GP-BO over evaluations 500..600; Optuna's GPSampler at 500 observations."""
    from agents import AGENTS, make_agent
    from agents.bo import _OptunaAgent
    env = _env(ENV_GROUPS["systolic"])
    out = {}
    for name in agents:
        make_agent(name, seed=1).search(env, 50)  # imports and first calls
        agent = make_agent(name, seed=0)
        if name == "gp":
            out["gp"] = _cpu_ask_tell(agent, env, 600, window_from=500)
        else:
            out[name] = (_cpu_rl if AGENTS[name].steps_env else _cpu_ask_tell)(agent, env, budget)
        print(f"overhead {name}: {out[name]:.3g} CPU ms/eval", file=sys.stderr, flush=True)
    if "gp" in agents:
        class OptunaGP(_OptunaAgent):  # for the comparison only
            name = "optuna_gp"

            def _sampler(self):
                import optuna
                return optuna.samplers.GPSampler(seed=0, deterministic_objective=True)

        base = env.unwrapped
        agent = OptunaGP(seed=0).reset(base.space, base.objective)
        warm = base.space.sample_indices(np.random.default_rng(0), 500)
        agent.tell_indices(warm, base.evaluate(warm))
        times = []
        for _ in range(3):
            t = time.process_time()
            idx = agent.ask_indices(1)
            agent.tell_indices(idx, base.evaluate(idx))
            times.append(time.process_time() - t)
        out["optuna_gp_at_500"] = 1e3 * float(np.median(times))
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        print(f"agents.py: error: {message}", file=sys.stderr)
        sys.exit(2)


def _default_agents() -> list:
    from agents import AGENTS
    return [a for a in AGENTS if AGENTS[a].family != "baseline"]  # the co-design baselines need a co-design env


def _parse(argv):
    from agents import AGENTS
    p = _Parser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", default=",".join(_default_agents()), help="comma-separated agent names")
    p.add_argument("--envs", default=",".join(DEFAULT_GROUPS), help=f"comma-separated groups of {', '.join(ENV_GROUPS)}")
    p.add_argument("--seeds", type=int, default=DOC_SEEDS, help="seeds per agent and env")
    p.add_argument("--seed-base", type=int, default=100, help="first seed (tuning used 0-4)")
    p.add_argument("--budget", type=int, default=1000, help="evaluations per search")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--no-doc", action="store_true", help="print the sections instead of writing docs/agents.md")
    p.add_argument("--save", help="JSON: runs appended to SAVE.partial as they finish (a rerun resumes), all in SAVE at the end")
    p.add_argument("--load", help="render from a file written by --save instead of running")
    args = p.parse_args(argv)
    args.agents, args.envs = args.agents.split(","), args.envs.split(",")
    bad = [a for a in args.agents if a not in AGENTS]
    if bad:
        p.error(f"--agents: unknown {', '.join(bad)}; allowed: {', '.join(AGENTS)}")
    bad = [g for g in args.envs if g not in ENV_GROUPS]
    if bad:
        p.error(f"--envs: unknown {', '.join(bad)}; allowed: {', '.join(ENV_GROUPS)}")
    if args.seeds < 1:
        p.error(f"--seeds: {args.seeds}; allowed: >= 1")
    if args.seed_base < 0:
        p.error(f"--seed-base: {args.seed_base}; allowed: >= 0")
    if args.budget < EARLY:
        p.error(f"--budget: {args.budget}; allowed: >= {EARLY} (the findings compare the gap at {EARLY} evaluations)")
    if args.jobs < 1:
        p.error(f"--jobs: {args.jobs}; allowed: >= 1")
    return p, args


def command(args) -> str:
    agents = "" if args.agents == _default_agents() else f" --agents {','.join(args.agents)}"
    return (f"python benchmarks/agents.py --seeds {args.seeds} --seed-base {args.seed_base} --budget {args.budget} "
            f"--envs {','.join(args.envs)}{agents} --jobs {args.jobs}")


def main(argv=None) -> int:
    from archgym.envs.registration import env_ids
    p, args = _parse(argv)
    if args.load:
        saved = json.loads(Path(args.load).read_text())
        for k in ("agents", "envs", "seeds", "seed_base", "budget", "jobs"):
            setattr(args, k, saved["args"][k])
        runs, figures, total = saved["runs"], saved["figures"], saved["total_s"]
    seeds = range(args.seed_base, args.seed_base + args.seeds)
    if not args.no_doc and (args.seeds < DOC_SEEDS or set(seeds) & set(TUNING_SEEDS)):
        p.error(f"--seeds/--seed-base: seeds {seeds.start}..{seeds.stop - 1}; the docs need >= {DOC_SEEDS} seeds "
                f"disjoint from the tuning seeds {TUNING_SEEDS.start}-{TUNING_SEEDS.stop - 1} (or --no-doc)")
    registered = set(env_ids())
    groups = {g: ENV_GROUPS[g] for g in args.envs}
    missing = [f"{g} ({e})" for g, e in groups.items() if e not in registered]
    groups = {g: e for g, e in groups.items() if e in registered}
    if not args.load:
        tasks = [(e, a, s, args.budget) for s in seeds for e in groups.values() for a in args.agents]
        runs, figures = _resume(args.save, tasks)
        done = {_key(r) for r in runs}
        todo = [t for t in tasks if t not in done]
        start = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
            for i, r in enumerate(pool.map(run_one, todo), 1):
                runs.append(r)
                _append(args.save, r)
                print(f"[{i}/{len(todo)}] {r['env']} {r['agent']} seed {r['seed']}" +
                      (f" best {r['best_curve'][-1]:.5g} agent {r['agent_ms']:.3g} ms/eval" if "best_curve" in r
                       else " unsupported") + f" ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        total = sum(r.get("wall_s", 0.0) for r in runs)
        if "systolic" in groups and not set(args.agents) <= set(figures):
            figures = overhead_figures(args.agents)
        elif "systolic" not in groups:
            figures = {}
        if args.save:
            _write(args.save, {"args": {k: getattr(args, k) for k in ("agents", "envs", "seeds", "seed_base", "budget",
                                                                       "jobs")},
                               "runs": runs, "figures": figures, "total_s": total})
    summaries = [summarise(e, [r for r in runs if r["env"] == e], args.agents, args.budget) for e in groups.values()]
    bench = render([table(s) for s in summaries], runs, args, seeds, missing, figures, total)
    found = findings(summaries, args.budget, seeds, figures)
    if args.no_doc:
        print(found + "\n\n" + bench)
    else:
        _report.write_generated(DOC, "agents-findings", command(args), found)
        _report.write_generated(DOC, "agents-benchmark", command(args), bench)
        print(f"wrote the findings and benchmark blocks of {DOC}", file=sys.stderr)
    return 0


def _key(run: dict) -> tuple:
    return run["env"], run["agent"], run["seed"], run["budget"]


def _partial(path: str) -> Path:
    return Path(f"{path}.partial")


def _resume(path: str | None, tasks: list) -> tuple[list, dict]:
    """(runs, overhead figures) already saved by this benchmark for these tasks: FILE, then FILE.partial."""
    if not path:
        return [], {}
    runs, figures = [], {}
    if Path(path).exists():
        saved = json.loads(Path(path).read_text())
        runs, figures = saved["runs"], saved["figures"]
    if _partial(path).exists():
        for line in _partial(path).read_text().splitlines():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by an interruption
                continue
    wanted, out = set(tasks), {}
    for r in runs:
        if _key(r) in wanted:
            out[_key(r)] = r
    return list(out.values()), figures


def _append(path: str | None, run: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(_partial(path), "a") as f:
            f.write(json.dumps(run) + "\n")


def _write(path: str, data: dict) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)
    _partial(path).unlink(missing_ok=True)


class _Serial:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


def render(sections, runs, args, seeds, missing, figures, total_s) -> str:
    fig = ["| agent | agent overhead, CPU ms per evaluation | figure to reach | met |", "|---|---|---|---|"]
    for a in args.agents:
        if a in figures:
            where = " (evaluations 500-600)" if a == "gp" else ""
            fig.append(f"| {a} | {figures[a]:.3g}{where} | ≤ {_limit(a):g} | {'yes' if figures[a] <= _limit(a) else '**no**'} |")
    if "optuna_gp_at_500" in figures:
        fig += ["", f"For comparison, Optuna's GPSampler asked once 500 observations exist: "
                f"{figures['optuna_gp_at_500']:.4g} CPU ms per evaluation (see agents/bo.py)."]
    head = f"""## Benchmark

Every agent searches each env with the same budget ({args.budget} evaluations) and seeds
{seeds.start}..{seeds.stop - 1}, through the same ask/tell loop (RL: the same env steps), on {_report.machine()};
{len(runs)} runs, {total_s / 60:.0f} min of search in all. The machine was shared with other jobs, so wall times are
indicative; the overhead figures are CPU time (systolic env, seed 0).

- **gap @ n**: median [IQR] over seeds of 10**(optimum − best reward after n evaluations) − 1, the
  relative excess of the scalarised metric over the true optimum (0 = optimum found).
- **HV / true HV**: hypervolume of the front found in the whole run over that of the true front
  (same reference point: the default design plus one decade per objective).
- **agent ms/eval**: ask + tell (or policy + training) time per evaluation, excluding simulation;
  **wall ms/eval** includes simulation.
"""
    if missing:
        head += f"\nNot run (env not registered yet): {', '.join(missing)}.\n"
    body = "\n\n".join(sections)
    return head + "\n" + body + ("\n\n### Overhead figures\n\n" + "\n".join(fig) if figures else "") + "\n"


if __name__ == "__main__":
    sys.exit(main())
