"""`archgym sweep | export | plot | report | proxy`. Heavy libraries load inside each command, so
`archgym list` stays fast."""
from __future__ import annotations

import sys
from pathlib import Path


def cmd_sweep(args) -> int:
    from archgym.experiments.sweep import run_sweep
    try:
        summary = run_sweep(args.file, out=args.out, executor=args.executor, workers=args.workers,
                            address=args.address, fallback_local=args.fallback_local, progress=False if args.quiet else None)
    except KeyboardInterrupt:
        print("archgym: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    print(summary)
    return 1 if summary.failed else 0


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
    return None if text is None else [m.strip() for m in text.split(",") if m.strip()]


def cmd_plot(args) -> int:
    from archgym.report import plots
    kind = next((k for k in ("hypervolume", "lottery", "success") if getattr(args, k)), "pareto")
    out = args.output or Path(args.run_dir) / f"{kind}.png"
    path = plots.plot_run(args.run_dir, kind, out, env=args.env, metrics=_metrics(args.pareto))
    print(path)
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


def register(sub) -> None:
    s = sub.add_parser("sweep", help="run (or resume) an experiment file: envs x agents x hyper-parameters x seeds")
    s.add_argument("file", help="experiment YAML (see docs/experiments.md)")
    s.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local process pool (default) or a Ray cluster")
    s.add_argument("--workers", type=int, help="parallel workers (default: every core)")
    s.add_argument("--out", help="run directory (default: runs/<experiment name>)")
    s.add_argument("--address", help="Ray cluster address, host:port or ray://host:port (default: a local Ray)")
    s.add_argument("--fallback-local", action="store_true",
                   help="if Ray is missing or unreachable, run on the local process pool instead")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_sweep)

    s = sub.add_parser("export", help="write a run's evaluation log as a Parquet or CSV dataset")
    s.add_argument("run_dir")
    s.add_argument("--parquet", nargs="?", const="", metavar="FILE", help="(default RUN_DIR/evaluations.parquet)")
    s.add_argument("--csv", nargs="?", const="", metavar="FILE", help="(default RUN_DIR/evaluations.csv)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("plot", help="plot a run: Pareto front (default), hypervolume, lottery or success rate")
    s.add_argument("run_dir")
    s.add_argument("--pareto", metavar="A,B[,C]", help="2 or 3 metrics (default: the env's objective metrics)")
    s.add_argument("--hypervolume", action="store_true", help="hypervolume vs samples per agent")
    s.add_argument("--lottery", action="store_true", help="final result over hyper-parameter settings per agent")
    s.add_argument("--success", action="store_true", help="success rate at the target spec vs samples")
    s.add_argument("--env", help="env label (default: the run's first env)")
    s.add_argument("-o", "--output", help="image file (default RUN_DIR/<kind>.png)")
    s.set_defaults(func=cmd_plot)

    s = sub.add_parser("report", help="one self-contained HTML page of a run's plots and tables")
    s.add_argument("run_dir")
    s.add_argument("-o", "--output", help="HTML file (default RUN_DIR/report.html)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("proxy", help="train proxy cost models on a run's log; report RMSE, Kendall tau, speedup")
    s.add_argument("run_dir")
    s.add_argument("--env", help="env label (default: every env of the run)")
    s.add_argument("--model", default="mlp,forest", help="mlp, forest, gbm (comma-separated)")
    s.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of distinct designs")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", help="directory for the proxy files (default RUN_DIR/proxy)")
    s.set_defaults(func=cmd_proxy)
