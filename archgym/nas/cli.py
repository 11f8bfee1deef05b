"""`archgym demo`: the small end-to-end co-design search (see archgym/nas/demo.py)."""
from __future__ import annotations


def register(subparsers) -> None:
    s = subparsers.add_parser("demo", help="co-design search on CoDesign-Systolic-v0 + accuracy-vs-latency Pareto plot")
    s.add_argument("--budget", type=int, default=50_000, help="evaluations per search (joint and sequential)")
    s.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per search")
    s.add_argument("--agents", default="ga,regularized_evolution,random",
                   help="comma-separated agents of the joint searches; the first also runs inside the sequential baseline")
    s.add_argument("--out", default="runs/demo", help="directory of the Pareto plot (pareto.png)")
    s.add_argument("--no-exact", action="store_true", help="skip enumerating the whole space for the exact optimum")
    s.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from agents import AGENTS
    from archgym.errors import ArchGymError, unknown
    from archgym.nas.demo import run_demo
    if args.budget < 2:
        raise ArchGymError(f"--budget must be at least 2 evaluations, got {args.budget}")
    if args.seeds < 1:
        raise ArchGymError(f"--seeds must be at least 1, got {args.seeds}")
    agents = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    bad = [a for a in agents if a not in AGENTS]
    if bad or not agents:
        raise unknown("agent", bad[0] if bad else "", list(AGENTS))
    run_demo(budget=args.budget, seeds=args.seeds, agents=agents, out=args.out, exact=not args.no_exact)
    return 0
