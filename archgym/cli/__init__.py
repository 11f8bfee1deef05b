"""The `archgym` command. Exit status 0 on success, 2 on bad input with a one-line error."""
from __future__ import annotations

import argparse
import json
import sys


def parse_sets(pairs: list[str]) -> dict:
    """['rows=32', 'dataflow=ws'] -> {'rows': 32, 'dataflow': 'ws'} (ints, floats, else strings)."""
    from archgym.core.errors import ArchGymError
    out = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ArchGymError(f"--set expects NAME=VALUE, got {pair!r}")
        out[key.strip()] = parse_value(raw.strip())
    return out


def parse_value(raw: str):
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(raw.lower(), raw)


# --- list ---------------------------------------------------------------------------------------
def cmd_list(args) -> int:
    import simulators
    from archgym.core import workloads
    from archgym.envs.registration import describe
    print("envs:")
    for env_id, text in describe().items():
        print(f"  {env_id:40s} {text}")
    print("simulators:\n  " + ", ".join(simulators.NAMES))
    try:
        from agents import AGENTS
        print("agents:\n  " + ", ".join(AGENTS))
    except ImportError:
        pass
    print("workloads:\n  " + ", ".join(workloads.names()))
    return 0


# --- simulate -----------------------------------------------------------------------------------
def cmd_simulate(args) -> int:
    import simulators
    from archgym.core.errors import ArchGymError
    sim = simulators.get(args.simulator)
    design = parse_sets(args.set)
    source = args.trace if args.trace is not None else args.workload
    options = {"requests": True} if args.requests else {}
    if args.requests and args.simulator != "dram":
        raise ArchGymError("--requests is for the dram simulator (per-request detail)")
    result = sim.simulate(design, source, **options) if source is not None else sim.simulate(design, **options)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        for k, v in result.metrics.items():
            print(f"{k:28s} {v:.6g}" if isinstance(v, float) else f"{k:28s} {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="archgym", description="NN + hardware co-design gym")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="registered envs, simulators, agents and workloads")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("simulate", help="run one design through a simulator")
    s.add_argument("simulator", help="systolic, dram or fpga")
    s.add_argument("--workload", help="built-in network name or SCALE-Sim topology CSV path")
    s.add_argument("--trace", help="memory trace: stream, random, or a trace file path (dram)")
    s.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="design parameter")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--requests", action="store_true", help="dram: include per-request detail")
    s.set_defaults(func=cmd_simulate)

    for register in _extra_commands():
        register(sub)
    return p


def _extra_commands():
    """Sub-commands that live with the code they drive (search, sweep, plot, report, demo)."""
    from importlib import import_module
    for module in ("archgym.cli.search", "archgym.cli.runs", "archgym.cli.demo", "archgym.cli.bench"):
        try:
            yield import_module(module).register
        except ModuleNotFoundError as e:
            if e.name is None or not module.startswith(e.name):
                raise


def main(argv=None) -> int:
    from archgym.core.errors import ArchGymError
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ArchGymError as e:
        print(f"archgym: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"archgym: error: {e}", file=sys.stderr)
        return 2


