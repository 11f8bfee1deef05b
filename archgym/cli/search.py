"""`archgym search ENV_ID --agent NAME --budget N [--env-kwarg K=V] [--objective ...] [--set HP=V]`.

Echoes what it runs (env, its kwargs and workload, objective and reward, agent, settings, seed),
shows progress, prints the best design, and writes to DIR: `summary.json` (all of the above and the
result), the history (`history.csv` or `.parquet`), `convergence.png`, and `log.sqlite`, the same
evaluation log a sweep writes, so `archgym report DIR` and `archgym plot DIR` work on it too.
Heavy libraries load only when the command runs, so `archgym list` stays fast.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
from pathlib import Path

from archgym.cli import add_command, parse_sets, parse_yaml

ENV_KWARG_HELP = ("an env keyword argument, e.g. workload=resnet50, trace=cloud-1, board=zcu104, space=small; "
                  "repeat for several")
OBJECTIVE_HELP = ("objective: a mode (target, weighted, product, constraint, vector) or a YAML/JSON mapping such as "
                  "'{mode: constraint, optimize: accuracy, limits: {latency_s: 2e-5}}' (default: the env's)")


def add_env_options(s) -> None:
    """--env-kwarg and --objective, shared by `search` and `compare`."""
    s.add_argument("--env-kwarg", action="append", default=[], metavar="NAME=VALUE", help=ENV_KWARG_HELP)
    s.add_argument("--objective", metavar="MODE|MAPPING", help=OBJECTIVE_HELP)


def register(subparsers) -> None:
    s = add_command(subparsers, "search", "search an env's design space with one agent and one seed",
                    "archgym search archgym/Systolic-v0 --env-kwarg workload=resnet50 --objective product "
                    "--agent ga --set population=16 --budget 500 --seed 0 --out runs/ga",
                    "Search ENV_ID with an agent under an exact evaluation budget. --env-kwarg configures the env "
                    "(workload, trace, board, space...), --set the agent's hyper-parameters.")
    s.add_argument("env_id", metavar="ENV_ID", help="registered env id (see `archgym list`)")
    s.add_argument("--agent", required=True, help="agent name (see `archgym list`)")
    s.add_argument("--budget", type=int, required=True, help="number of design evaluations")
    s.add_argument("--seed", type=int, default=0, help="random seed of the agent")
    add_env_options(s)
    s.add_argument("--set", action="append", default=[], metavar="HP=VALUE",
                   help="an agent hyper-parameter, e.g. population=16; repeat for several")
    s.add_argument("--out", help="output directory (default: runs/<env>_<agent>_s<seed>)")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv", help="history file format")
    s.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    s.set_defaults(func=cmd_search)


# --- the env as the user asked for it ------------------------------------------------------------------------------
def parse_objective(text: str | None):
    """A mode name, or a YAML/JSON mapping (None: the env's default objective)."""
    if text is None:
        return None
    text = text.strip()
    return parse_yaml(text, "--objective") if text[:1] == "{" else text


def make_env(env_id: str, kwargs: dict, objective=None):
    """gymnasium.make with errors that name the bad --env-kwarg and list the valid ones."""
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the envs)
    from archgym.core.errors import ArchGymError, unknown
    from archgym.envs.registration import env_ids
    if env_id not in env_ids():
        raise unknown("env", env_id, env_ids())
    if "objective" in kwargs:
        raise ArchGymError("give the objective with --objective, not --env-kwarg objective=...")
    try:
        return gym.make(env_id, **kwargs, **({} if objective is None else {"objective": objective}))
    except TypeError as e:
        raise ArchGymError(f"--env-kwarg: {env_id} does not take that ({e}); it takes {_env_kwargs(env_id)}") from None
    except ArchGymError as e:
        bad = [k for k in kwargs if repr(k) in str(e)]
        if bad:
            raise ArchGymError(f"--env-kwarg {bad[0]}: {e}; {env_id} takes {_env_kwargs(env_id)}") from None
        raise


def _env_kwargs(env_id: str) -> str:
    """The keyword arguments an env's evaluator takes, in words."""
    from archgym.envs.evaluator import resolve
    from archgym.envs.registration import load_registry
    params = inspect.signature(resolve(load_registry()[env_id]["evaluator"]).__init__).parameters.values()
    named = [p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    more = " and any design parameter of its simulator (as a fixed value)" if any(p.kind is p.VAR_KEYWORD for p in params) else ""
    return ", ".join(named) + more


def env_record(env) -> dict:
    """What the env is: id, its keyword arguments (registry defaults included), workload, objective
    and the reward in words. Written into summary.json and echoed before a run."""
    from archgym.report.labels import reward_words
    base = env.unwrapped
    kwargs = {k: v for k, v in (env.spec.kwargs if env.spec else {}).items() if k not in ("evaluator", "objective")}
    objective = {**base.objective.to_config(), "directions": dict(base.objective.directions)}
    workload = next((kwargs[k] for k in ("workload", "trace", "network") if k in kwargs), None)
    return {"env": env.spec.id if env.spec else None, "env_kwargs": kwargs, "workload": workload,
            "env_description": base.evaluator.describe(), "designs": int(base.space.size),
            "objective": objective, "reward": reward_words(objective)}


def echo_env(record: dict, echo=print) -> None:
    kwargs = ", ".join(f"{k}={v}" for k, v in record["env_kwargs"].items())
    echo(f"env:       {record['env']} ({kwargs}): {record['env_description']}, {record['designs']:,} designs")
    echo(f"objective: {record['objective']['mode']} over {', '.join(record['objective']['metrics'])}; {record['reward']}")


def build_agent(name: str, seed: int, hparams: dict):
    """make_agent (which checks the name, each value and the seed); a --set name that is not one of
    the agent's hyper-parameters gets a pointer to --env-kwarg."""
    from agents import AGENTS, make_agent
    from archgym.core.errors import ArchGymError
    try:
        return make_agent(name, seed=seed, **hparams)
    except ArchGymError as e:
        known = {h.name for h in AGENTS[name].hyperparams} if name in AGENTS else set(hparams)
        stray = [k for k in hparams if k not in known]
        if stray:
            raise ArchGymError(f"{e}. --set is for the agent's hyper-parameters; to configure the env, "
                               f"use --env-kwarg {stray[0]}={hparams[stray[0]]}") from None
        raise


# --- the command -----------------------------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace) -> int:
    from agents import AGENTS
    from agents.base import check_budget
    from archgym.experiments.log import CellResult, EnvInfo, RunLock, open_log
    from archgym.progress import progress

    if args.no_progress:
        os.environ["ARCHGYM_PROGRESS"] = "0"  # also the exhaustive enumeration behind the regret (archgym.progress)
    agent = build_agent(args.agent, args.seed, parse_sets(args.set))
    budget = check_budget(args.budget)
    env = make_env(args.env_id, parse_sets(args.env_kwarg, "--env-kwarg"), parse_objective(args.objective))
    agent.check_space(env.unwrapped.space)
    out = Path(args.out or Path("runs") / f"{args.env_id.split('/')[-1]}_{args.agent}_s{args.seed}")
    record = env_record(env)
    echo_env(record)
    print(f"agent:     {args.agent} (" + ", ".join(f"{k}={v}" for k, v in agent.hparams.items()) +
          f"), seed {args.seed}, budget {budget:,} evaluations")
    print(f"output:    {out}")

    exp = search_experiment(out, args, budget)
    cell = exp.cells()[0]
    with RunLock(out):
        _forget_previous_search(out)
        log = open_log(out, readonly=False)
        try:
            log.bind(exp)  # refuses a sweep's directory, before searching
            info = EnvInfo.from_env(env, cell.env)
            log.add_env(cell.env.label, info)
            with progress(budget, f"{args.agent} on {args.env_id}", "eval", False if args.no_progress else None) as bar:
                result = agent.search(env, budget, callback=lambda batch: bar.update(len(batch)))
            if cell.key not in log.completed():
                log.write_cell(cell, CellResult.from_search(result, AGENTS[args.agent].family), 1)
        finally:
            log.close()

    frame = result.history.to_frame()
    history = out / f"history.{args.format}"
    frame.to_csv(history, index=False) if args.format == "csv" else frame.to_parquet(history, index=False)
    from archgym.analysis import runs
    from archgym.report import plots
    summary = {**record, **result.summary(), "agent": args.agent, "hparams": agent.hparams, "seed": args.seed}
    best = runs.optimum_design(info)  # None when the space is too large to enumerate
    if best is not None:
        summary["exact_optimum"] = {"reward": best[0], "design": best[1],
                                    "regret_pct": float(runs.regret_pct(result.best_score, best[0], info))}
    plots.plot_run(out, "convergence", out / "convergence.png")
    from archgym.analysis.bench import json_plain
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=json_plain))
    _print_result(summary, history, out)
    return 0


def _forget_previous_search(out: Path) -> None:
    """A folder that holds an earlier search (one run and its summary.json) is overwritten, like its
    history and summary; the log of a sweep or comparison is kept, and `bind` refuses to mix."""
    import sqlite3

    from archgym.core.errors import ArchGymError
    from archgym.experiments.log import DB_NAME, cells
    log = out / DB_NAME
    if not ((out / "summary.json").is_file() and log.is_file()):
        return
    try:
        if len(cells(out)) > 1:
            return
    except (ArchGymError, sqlite3.DatabaseError, OSError):  # an unreadable log: open_log reports it
        return
    for f in (log, out / f"{DB_NAME}-wal", out / f"{DB_NAME}-shm"):
        f.unlink(missing_ok=True)


def search_experiment(out: Path, args, budget: int):
    """The search as a one-run experiment (the format of a sweep): its log in OUT/log.sqlite lets
    `archgym report` and `archgym plot` read a search like a sweep."""
    from archgym.experiments import load_experiment
    entry = {"id": args.env_id, **({"kwargs": parse_sets(args.env_kwarg)} if args.env_kwarg else {})}
    if args.objective is not None:
        entry["objective"] = parse_objective(args.objective)
    hparams = parse_sets(args.set)
    return load_experiment({"name": out.name or "search", "budget": budget, "seeds": [args.seed], "envs": [entry],
                            "agents": [{"name": args.agent, **({"hparams": hparams} if hparams else {})}]})


def _print_result(summary: dict, history: Path, out: Path) -> None:
    from archgym.report.labels import split_unit, with_unit
    print(f"best reward {summary['best_score']:.6g} after {summary['evaluations']:,} evaluations "
          f"({summary['wall_time_s']:.2f} s, agent overhead {summary['agent_ms_per_eval']:.3f} ms/evaluation)")
    if "exact_optimum" in summary:
        ex = summary["exact_optimum"]
        print(f"exact optimum {ex['reward']:.6g} (every design enumerated): regret {ex['regret_pct']:.3g}%")
    print("best design: " + ", ".join(f"{k}={v}" for k, v in summary["best_design"].items()))
    for k, v in summary["best_metrics"].items():
        human = with_unit(k, v) if split_unit(k)[1] is not None else ""
        print(f"  {k:28s} {v:.6g}" + (f"  ({human})" if human else ""))
    print(f"Pareto front: {summary['pareto_size']} designs, hypervolume {summary['hypervolume']:.4g}")
    print(f"wrote {history}, {out / 'convergence.png'}, {out / 'summary.json'}, {out / 'log.sqlite'} "
          f"(`archgym report {out}` for the HTML report)")
