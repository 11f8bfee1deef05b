"""`archgym bench`: run the search benchmark suite and print (and, with --report, write) its leaderboard.

    archgym bench                                  # every suite task x every suite agent x 20 seeds
    archgym bench --tasks codesign-fpga --agents random,hill_climbing,tpe --seeds 5 --budget 300
    archgym bench --report --docs docs             # + RUN_DIR/leaderboard.html, docs/leaderboard.md
    archgym sweep experiments/lottery.yaml --out runs/lottery     # the lottery's tuning sweep
    archgym bench --held-out --lottery runs/lottery --suite-run runs/bench-v2-suite --report --docs docs

A benchmark run is a sweep (resumable; RUN_DIR/experiment.yaml reruns with `archgym sweep`).
"""
from __future__ import annotations

import sys
from pathlib import Path

LEADERBOARD_CMD = "archgym bench --report --docs docs"


def parse_seeds(text: str | None):
    """'20' (a count), '10-29' (a range) or '0,3,7' (a list) -> int or list; None stays None."""
    from archgym.experiments.bench import BenchError
    if text is None:
        return None
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1))
        if "," in text:
            return [int(x) for x in text.split(",") if x.strip()]
        return int(text)
    except ValueError:
        raise BenchError(f"--seeds: expected a count (20), a range (10-29) or a list (0,3,7), got {text!r}") from None


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [n.strip() for n in text.split(",") if n.strip()]


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_bench(args) -> int:
    from archgym.analysis import bench as analysis
    from archgym.experiments import bench
    suite = bench.load_suite(args.suite)
    if not args.held_out and (args.lottery is not None or args.suite_run is not None):
        raise bench.BenchError(f"{'--lottery' if args.lottery is not None else '--suite-run'}: only with --held-out")
    if args.held_out:
        return _held_out(args, suite)
    p = bench.plan(suite, _names(args.tasks), _names(args.agents), parse_seeds(args.seeds), args.budget)
    out = Path(args.out) if args.out else Path("runs") / p.name
    if not _run(p, out, args):
        return 1
    results = analysis.load_results(out, suite, report=_note)
    _print(results, p)
    if args.report:
        _write_report(args, out, p, analysis.leaderboard(results), results, None)
    return 0


def _held_out(args, suite) -> int:
    """The lottery's report: each agent's tuned setting (chosen on the tuning seeds of the tuning
    tasks) against its default, on held-out seeds of the tuning tasks and on the suite's tasks. On
    the suite's tasks the defaults are the leaderboard's own runs (`--suite-run`): no default was
    tuned, so those runs are held out too, and only the tuned settings that differ run here."""
    from archgym.analysis import bench as analysis
    from archgym.analysis.lottery import choose_settings
    from archgym.experiments import bench
    lottery_dir = Path(args.lottery or "runs/lottery")
    if not (lottery_dir / "log.sqlite").is_file():
        raise bench.BenchError(f"--lottery: {lottery_dir} holds no lottery run; run `archgym sweep "
                               f"experiments/lottery.yaml --out {lottery_dir}` first")
    suite_run = Path(args.suite_run or f"runs/bench-v{suite.version}-suite")
    if not (suite_run / "log.sqlite").is_file():
        raise bench.BenchError(f"--suite-run: {suite_run} holds no suite run; run `archgym bench --out {suite_run}` first")
    names = _names(args.tasks) or [*suite.tuning_tasks, *suite.tasks]
    for n in names:
        suite.task(n)
    tuned, choice = choose_settings(lottery_dir, suite, report=_note)
    agents = _names(args.agents) or list(tuned)
    seeds, out = parse_seeds(args.seeds), Path(args.out or f"runs/bench-v{suite.version}-heldout")
    tuning = [n for n in names if n in suite.tuning_tasks]
    held = [n for n in names if n in suite.tasks]
    runs, p = [], None
    if tuning:
        p = bench.plan(suite, tuning, agents, seeds, args.budget, True, tuned)
        runs.append(out / "tuning-tasks")
        if not _run(p, runs[-1], args):
            return 1
    if held and any(tuned[a] != {h.name: h.default for h in _agent(a).hyperparams} for a in agents if a in tuned):
        p_held = bench.plan(suite, held, agents, seeds, args.budget, True, tuned, defaults=False)
        runs.append(out / "suite-tasks")
        if not _run(p_held, runs[-1], args):
            return 1
        p = p or p_held
    if held:
        runs.append((suite_run, lambda df: df["agent"].isin(agents)))
    results = analysis.load_results(runs, suite, report=_note)
    results = {n: results[n] for n in names if n in results}
    _print(results, p)
    if args.report:
        _write_report(args, out, p, analysis.leaderboard(results), results, choice)
    return 0


def _agent(name: str):
    from agents import AGENTS
    return AGENTS[name]


def _run(p, out: Path, args) -> bool:
    """Run (or resume) a plan's sweep; False if a cell failed."""
    from archgym.experiments import bench
    try:
        summary = bench.run(p, out, args.executor, args.workers, args.address, progress=False if args.quiet else None)
    except KeyboardInterrupt:
        print("archgym: interrupted; run the same command again to resume", file=sys.stderr)
        raise SystemExit(130) from None
    print(summary)
    return not summary.failed


def _print(results, p) -> None:
    for name, r in results.items():
        print(f"\n{name} ({r.budget} evaluations): median regret at " + ", ".join(str(b) for b in r.checkpoints))
        for row in r.summary().to_dict(orient="records"):
            print(f"  {row['agent']:24s} " + "  ".join(f"{100 * row[f'regret@{b}']:9.3g}%" for b in r.checkpoints))


def _write_report(args, out: Path, p, data, results, choice) -> None:
    from archgym.analysis.bench import to_json
    from archgym.report import leaderboard
    from archgym.report.leaderboard import write_block
    (out / "leaderboard.json").write_text(to_json(data))
    if p.held_out:
        from archgym.report import lottery_page
        md = lottery_page.markdown(results, choice, p.seeds)
        (out / "lottery.md").write_text(md)
        html_text = leaderboard.build_html(data, results, f"archgym lottery, held-out seeds {p.seeds[0]}-{p.seeds[-1]}",
                                           note=f"Run directory {out}.")
        (out / "lottery.html").write_text(html_text, encoding="utf-8")
        if args.docs:
            command = (f"archgym bench --held-out --lottery {args.lottery or 'runs/lottery'} --suite-run "
                       f"{args.suite_run or 'runs/' + p.name.rsplit('-', 1)[0] + '-suite'} --report --docs {args.docs}")
            write_block(Path(args.docs) / "lottery.md", "lottery", command, md)
        print(f"wrote {out / 'lottery.md'}, {out / 'lottery.html'}")
        return
    md = leaderboard.leaderboard_markdown(data)
    (out / "leaderboard.md").write_text(md)
    html_text = leaderboard.build_html(data, results, f"archgym search benchmark, suite v{p.name.split('-v')[-1]}",
                                       note=f"Run directory {out}; seeds {p.seeds[0]}-{p.seeds[-1]}.")
    (out / "leaderboard.html").write_text(html_text, encoding="utf-8")
    if args.docs:
        doc = Path(args.docs) / "leaderboard.md"
        write_block(doc, "leaderboard", LEADERBOARD_CMD, md)
        write_block(doc, "overhead", LEADERBOARD_CMD, leaderboard.overhead_markdown(results))
    print(f"wrote {out / 'leaderboard.md'}, {out / 'leaderboard.html'}")


def register(sub) -> None:
    s = sub.add_parser("bench", help="run the search benchmark suite and rank agents against exact optima",
                       description=__doc__.split("\n\n")[0])
    s.add_argument("--tasks", help="comma-separated suite tasks (default: every suite task)")
    s.add_argument("--agents", help="comma-separated agents (default: the suite's agents)")
    s.add_argument("--seeds", help="a count (20), a range (10-29) or a list (0,3,7) (default: the suite's 20 seeds; "
                                   "10-29 with --held-out)")
    s.add_argument("--budget", type=int, help="evaluations per search (default: each task's budget)")
    s.add_argument("--held-out", action="store_true",
                   help="compare each agent's default and lottery-tuned setting on seeds the lottery never saw")
    s.add_argument("--lottery", help="the lottery's tuning run directory (with --held-out; default runs/lottery)")
    s.add_argument("--suite-run", help="the suite run whose default settings the tuned ones are compared with "
                                       "(with --held-out; default runs/bench-v<version>-suite)")
    s.add_argument("--report", action="store_true", help="write RUN_DIR/leaderboard.{md,html,json}")
    s.add_argument("--docs", help="with --report: also update the generated blocks of DOCS/leaderboard.md "
                                  "(or DOCS/lottery.md with --held-out)")
    s.add_argument("--out", help="run directory (default runs/bench-v<version>-<suite|heldout>)")
    s.add_argument("--suite", help="suite YAML (default: the one shipped with archgym)")
    s.add_argument("--executor", choices=("local", "ray"), default="local")
    s.add_argument("--workers", type=int, help="parallel workers (default: every core)")
    s.add_argument("--address", help="Ray cluster address (with --executor ray)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_bench)
