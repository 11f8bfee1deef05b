"""`archgym compare | sweep | export | plot | report | proxy`. Heavy libraries load inside each
command, so `archgym list` stays fast."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from archgym.cli import add_command, parse_sets
from archgym.cli.search import add_env_options, echo_env, env_record, make_env, parse_objective


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _quiet(args) -> None:
    if args.quiet:
        os.environ["ARCHGYM_PROGRESS"] = "0"  # every progress reporter, here and in the workers (archgym.progress)


def _run(exp, args) -> int:
    """Run (or resume) an experiment as `archgym sweep` does; returns the exit status."""
    from archgym.experiments.sweep import run_sweep
    _quiet(args)
    try:
        summary = run_sweep(exp, out=args.out, executor=args.executor, workers=args.workers, address=args.address,
                            fallback_local=args.fallback_local, progress=False if args.quiet else None)
    except KeyboardInterrupt:
        _note("archgym: interrupted; run the same command again to resume")
        return 130
    print(summary)
    return 1 if summary.failed else 0


def cmd_sweep(args) -> int:
    return _run(args.file, args)


# --- compare: the common study in one command ----------------------------------------------------------------------
def compare_experiment(args) -> tuple[dict, object]:
    """The experiment `archgym compare` writes (one env, each agent at its default setting), and the env."""
    from agents import AGENTS
    from archgym.core.errors import unknown
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    for a in agents or [""]:
        if a not in AGENTS:
            raise unknown("agent (in --agents)", a, list(AGENTS))
    kwargs = parse_sets(args.env_kwarg, "--env-kwarg")
    objective = parse_objective(args.objective)
    env = make_env(args.env_id, kwargs, objective)  # names a bad env id, kwarg or objective now
    entry = {"id": args.env_id, **({"kwargs": kwargs} if kwargs else {}), **({"objective": objective} if objective else {})}
    metrics = [m.strip() for m in args.pareto.split(",")] if args.pareto else list(env.unwrapped.objective.metrics[:2])
    if len(metrics) >= 2:
        entry["pareto"] = metrics
    return {"name": Path(args.out).name, "budget": args.budget, "seeds": args.seeds, "envs": [entry],
            "agents": list(dict.fromkeys(agents))}, env


def cmd_compare(args) -> int:
    import yaml

    from agents.base import check_budget
    from archgym.core.errors import ArchGymError
    from archgym.experiments import load_experiment
    from archgym.report import plots
    from archgym.report.html import write_report
    _quiet(args)
    args.out = args.out or f"runs/compare-{args.env_id.split('/')[-1]}"
    check_budget(args.budget)
    if args.seeds < 1:
        raise ArchGymError(f"--seeds must be at least 1 (runs seeds 0..N-1), got {args.seeds}")
    data, env = compare_experiment(args)
    echo_env(env_record(env))
    text = f"# written by `archgym compare {args.env_id} --agents {args.agents}` (rerun that command to resume)\n"
    text += yaml.safe_dump(data, sort_keys=False)
    exp = load_experiment(text, filename=str(Path(args.out) / "experiment.yaml"))
    print(f"agents:    {', '.join(exp.agents)} (default settings), seeds 0-{len(exp.seeds) - 1}, "
          f"budget {args.budget:,} evaluations per run")
    print(f"output:    {args.out}", flush=True)
    status = _run(exp, args)
    written = plots.plot_all(args.out, show_progress=False if args.quiet else None)
    report = write_report(args.out, show_progress=False if args.quiet else None)
    _print_comparison(args.out)
    print("figures: " + ", ".join(map(str, written)))
    print(f"report:  {report}")
    return status


def _print_comparison(run_dir) -> None:
    """The comparison table on stdout: final reward, and regret where the optimum is known."""
    import archgym
    from archgym.analysis import runs
    from archgym.experiments.log import env_infos
    df = archgym.load(run_dir)
    for label, info in env_infos(run_dir).items():
        rows = df[df["env"] == label]
        if rows.empty:
            continue
        chosen, how = runs.comparison_cells(runs.cell_summary(rows, info))
        table = runs.comparison_table(chosen, how, runs.true_optimum(info), info)
        print(f"\n{label}: final results over {len(chosen['seed'].unique())} seeds")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


# --- the rest -------------------------------------------------------------------------------------------------------
def cmd_export(args) -> int:
    from archgym.experiments.log import export
    if args.parquet is None and args.csv is None:
        from archgym.core.errors import ArchGymError
        raise ArchGymError("export needs --parquet [FILE] and/or --csv [FILE]")
    for fmt in ("parquet", "csv"):
        target = getattr(args, fmt)
        if target is not None:
            path = export(args.run_dir, target or Path(args.run_dir) / f"evaluations.{fmt}", fmt)
            print(path)
    return 0


def _metrics(text: str | None) -> list[str] | None:
    return None if not text else [m.strip() for m in text.split(",") if m.strip()]


def cmd_plot(args) -> int:
    from archgym.core.errors import ArchGymError
    from archgym.report import plots
    kinds = [k for k in plots.KINDS if getattr(args, k) not in (None, False)]
    if not kinds:
        if args.output:
            raise ArchGymError("-o/--output names one image: choose a plot (--convergence, --final, --pareto, ...)")
        for path in plots.plot_all(args.run_dir, env=args.env):
            print(path)
        return 0
    if len(kinds) > 1 and args.output:
        raise ArchGymError("-o/--output names one image: choose one plot, or drop -o to write each as RUN_DIR/<kind>.png")
    for kind in kinds:
        out = args.output or Path(args.run_dir) / f"{kind}.png"
        print(plots.plot_run(args.run_dir, kind, out, env=args.env, metrics=_metrics(args.pareto) if kind == "pareto" else None))
    return 0


def cmd_report(args) -> int:
    from archgym.report.html import write_report
    print(write_report(args.run_dir, args.output))
    return 0


def cmd_proxy(args) -> int:
    from archgym.experiments.proxy import train_from_run
    models = [m.strip() for m in args.model.split(",")]
    out = Path(args.output) if args.output else Path(args.run_dir) / "proxy"
    for report in train_from_run(args.run_dir, env=args.env, models=models, out_dir=out, seed=args.seed,
                                 test_fraction=args.test_fraction):
        print(report.table())
        print(f"saved: {report.path}  (use: gymnasium.make({report.env_id!r}, simulator='proxy:{report.path}'))")
    return 0


def _executor_options(s) -> None:
    s.add_argument("--executor", choices=("local", "ray"), default="local", help="local process pool or a Ray cluster")
    s.add_argument("--workers", type=int, help="parallel workers (default: every core)")
    s.add_argument("--address", help="Ray cluster address, host:port or ray://host:port (default: a local Ray)")
    s.add_argument("--fallback-local", action="store_true",
                   help="if Ray is missing or unreachable, run on the local process pool instead")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")


def register(sub) -> None:
    s = add_command(sub, "compare", "compare agents over seeds on one env: sweep, figures and HTML report in one command",
                    "archgym compare archgym/Systolic-ResNet18-Small-v0 --agents ga,tpe,random --seeds 5 --budget 500 "
                    "--out runs/compare",
                    "Runs every agent (at its default hyper-parameters) on ENV_ID for seeds 0..N-1 with the same budget, "
                    "as a sweep (resumable: the same command again completes an interrupted run), then writes the "
                    "comparison figures and OUT/report.html. OUT/experiment.yaml is the sweep file it ran.")
    s.add_argument("env_id", metavar="ENV_ID", help="registered env id (see `archgym list`)")
    s.add_argument("--agents", required=True, metavar="A,B,...", help="comma-separated agent names (see `archgym list`)")
    s.add_argument("--seeds", type=int, default=5, help="number of seeds: runs seeds 0..N-1 per agent")
    s.add_argument("--budget", type=int, required=True, help="evaluations per run")
    add_env_options(s)
    s.add_argument("--pareto", metavar="A,B", help="2 or 3 metrics of the Pareto plot (default: the objective's first two)")
    s.add_argument("--out", help="run directory (default: runs/compare-<env>)")
    _executor_options(s)
    s.set_defaults(func=cmd_compare)

    s = add_command(sub, "sweep", "run (or resume) an experiment file: envs x agents x hyper-parameters x seeds",
                    "archgym sweep experiments/lottery.yaml --workers 2 --out runs/lottery")
    s.add_argument("file", help="experiment YAML (see docs/experiments.md)")
    s.add_argument("--out", help="run directory (default: runs/<experiment name>)")
    _executor_options(s)
    s.set_defaults(func=cmd_sweep)

    s = add_command(sub, "export", "write a run's evaluation log as a Parquet or CSV dataset",
                    "archgym export runs/compare --csv")
    s.add_argument("run_dir", help="output of sweep, compare or search")
    s.add_argument("--parquet", nargs="?", const="", metavar="FILE", help="Parquet file (default: RUN_DIR/evaluations.parquet)")
    s.add_argument("--csv", nargs="?", const="", metavar="FILE", help="CSV file (default: RUN_DIR/evaluations.csv)")
    s.set_defaults(func=cmd_export)

    s = add_command(sub, "plot", "plot a run: every figure (default), or the ones chosen",
                    "archgym plot runs/compare\narchgym plot runs/compare --pareto latency_s,area_mm2 -o fronts.png",
                    "Writes RUN_DIR/<kind>.png for each chosen plot (all that apply when none is chosen) and prints the paths.")
    s.add_argument("run_dir", help="output of sweep, compare or search")
    s.add_argument("--convergence", action="store_true", help="regret (or best reward) vs evaluations per agent, over seeds")
    s.add_argument("--final", action="store_true", help="final regret (or best reward) per agent, one point per seed")
    s.add_argument("--pareto", nargs="?", const="", metavar="A,B[,C]",
                   help="Pareto fronts over 2 or 3 metrics (default: the run's first two Pareto metrics)")
    s.add_argument("--hypervolume", action="store_true", help="hypervolume vs evaluations per agent")
    s.add_argument("--lottery", action="store_true", help="final result over hyper-parameter settings per agent")
    s.add_argument("--success", action="store_true", help="share of runs that met the target spec vs evaluations")
    s.add_argument("--env", help="env label (default: the run's first env)")
    s.add_argument("-o", "--output", help="image file for one plot (default: RUN_DIR/<kind>.png)")
    s.set_defaults(func=cmd_plot)

    s = add_command(sub, "report", "one self-contained HTML page of a run's figures and tables",
                    "archgym report runs/compare")
    s.add_argument("run_dir", help="output of sweep, compare or search")
    s.add_argument("-o", "--output", help="HTML file (default: RUN_DIR/report.html)")
    s.set_defaults(func=cmd_report)

    s = add_command(sub, "proxy", "train proxy cost models on a run's log; report RMSE, Kendall tau, speedup",
                    "archgym proxy runs/lottery --env dram-cloud1 --model mlp")
    s.add_argument("run_dir", help="output of sweep, compare or search")
    s.add_argument("--env", help="env label (default: every env of the run)")
    s.add_argument("--model", default="mlp,forest", help="mlp, forest, gbm (comma-separated)")
    s.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of distinct designs")
    s.add_argument("--seed", type=int, default=0, help="seed of the train/test split and the training")
    s.add_argument("-o", "--output", help="directory for the proxy files (default: RUN_DIR/proxy)")
    s.set_defaults(func=cmd_proxy)
