"""The `archgym` command.

Exit status: 0 success; 1 a sweep or comparison with failed runs; 2 bad input, a missing or
unreadable file, or a damaged log (one line on stderr); 130 interrupted; 70 a bug in archgym (a
traceback, which says so). Output piped into `head` and closed early ends quietly with status 0.
Results go to stdout, progress and notes to stderr.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import sqlite3
import sys

EXIT_BAD_INPUT = 2
EXIT_BUG = 70  # sysexits.h EX_SOFTWARE: an internal software error
EXIT_INTERRUPTED = 130


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows each option's default (when it has a real one)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if "%(default)" in text or default is None or default is False or default == argparse.SUPPRESS or default == []:
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return f"{text} (default: %(default)s)"
        return text


def add_command(sub, name: str, summary: str, examples: str, description: str | None = None):
    """A sub-command parser with `summary` in `archgym --help` and its examples under its own --help."""
    lines = [f"  {e}" for e in examples.strip().splitlines()]
    return sub.add_parser(name, help=summary, description=description or summary, formatter_class=HelpFormatter,
                          epilog="example" + ("s" if len(lines) > 1 else "") + ":\n" + "\n".join(lines))


# --- NAME=VALUE options ---------------------------------------------------------------------------------------------
def parse_sets(pairs: list[str], flag: str = "--set") -> dict:
    """['rows=32', 'dataflow=ws'] -> {'rows': 32, 'dataflow': 'ws'} (ints, floats, booleans, [lists]
    and {mappings} in YAML flow style, else strings)."""
    from archgym.core.errors import ArchGymError
    out = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ArchGymError(f"{flag} expects NAME=VALUE, got {pair!r}")
        out[key.strip()] = parse_value(raw.strip(), f"{flag} {key.strip()}")
    return out


def parse_value(raw: str, where: str = "value"):
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if raw[:1] in ("[", "{"):
        return parse_yaml(raw, where)
    return {"true": True, "false": False}.get(raw.lower(), raw)


def parse_yaml(text: str, where: str):
    """A YAML/JSON flow value from the command line (yaml.safe_load: no code, no custom tags)."""
    import yaml

    from archgym.core.errors import ArchGymError
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ArchGymError(f"{where}: not valid YAML/JSON ({getattr(e, 'problem', None) or e}): {text!r}") from None


# --- list ---------------------------------------------------------------------------------------------------------
def cmd_list(args) -> int:
    import simulators
    from archgym.core import workloads
    from archgym.core.workloads.traces import BUILTIN
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
    print("workloads (systolic, fpga: --workload):\n  " + ", ".join(workloads.names()))
    print("traces (dram: --trace):\n  " + ", ".join(BUILTIN))
    return 0


# --- simulate -----------------------------------------------------------------------------------------------------
_INPUT_HELP = {"workload": "a built-in network name (see `archgym list`) or a SCALE-Sim topology CSV path",
               "trace": "a memory trace: a built-in name (see `archgym list`) or a trace file path"}


def simulator_input(sim) -> tuple[str, object]:
    """(name, default) of what a simulator runs on: ('workload', 'resnet18') or ('trace', 'stream')."""
    second = list(inspect.signature(sim.simulate).parameters.values())[1]
    return second.name, second.default


def cmd_simulate(args) -> int:
    import simulators
    from archgym.core.errors import ArchGymError
    sim = simulators.get(args.simulator)
    kind, default = simulator_input(sim)
    wrong = "trace" if kind == "workload" else "workload"
    if getattr(args, wrong) is not None:
        raise ArchGymError(f"the {args.simulator} simulator runs on --{kind} ({_INPUT_HELP[kind]}), not --{wrong}")
    if args.requests and args.simulator != "dram":
        raise ArchGymError("--requests is for the dram simulator (per-request detail)")
    design = parse_sets(args.set)
    source = getattr(args, kind)
    given = default if source is None else source
    if kind == "workload":
        from archgym import workloads
        given = workloads.load(given)  # built-in names, SCALE-Sim CSVs and ONNX models
    result = sim.simulate(design, given, **({"requests": True} if args.requests else {}))
    used = {**sim.PARAMETERS.default(), **design}
    shown = source if source is not None else f"{default} (default)"
    if args.json:
        print(json.dumps({"simulator": args.simulator, kind: source if source is not None else default,
                          "design": used, **result.to_json()}))
    else:
        from archgym.report.labels import split_unit, with_unit
        print(f"simulator: {args.simulator}\n{kind}: {shown}")
        print("design: " + ", ".join(f"{k}={v}" for k, v in used.items()) + "  (unset parameters take their defaults)")
        for k, v in result.metrics.items():
            text = f"{v:.6g}" if isinstance(v, float) else f"{v}"
            human = with_unit(k, v) if split_unit(k)[1] is not None and isinstance(v, float) else ""
            print(f"  {k:28s} {text}" + (f"  ({human})" if human and human != text else ""))
    return 0


# --- the parser and main ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="archgym", formatter_class=HelpFormatter,
        description="Co-design neural networks and the hardware that runs them: simulators, search agents, "
                    "sweeps and the figures that compare them.",
        epilog="start here:\n  archgym list\n  archgym compare archgym/Systolic-ResNet18-Small-v0 --agents ga,tpe,random "
               "--seeds 5 --budget 500 --out runs/compare\n\n`archgym COMMAND --help` shows each command's options, "
               "defaults and an example.\nexit status: 0 ok, 1 some runs failed, 2 bad input, 70 a bug in archgym, "
               "130 interrupted.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = add_command(sub, "list", "registered envs, simulators, agents, workloads and traces", "archgym list")
    s.set_defaults(func=cmd_list)

    s = add_command(sub, "simulate", "run one design through a simulator and print its metrics",
                    "archgym simulate systolic --workload resnet50 --set rows=64 --set dataflow=os\n"
                    "archgym simulate dram --trace random --set page_policy=closed --json")
    s.add_argument("simulator", help="systolic, dram or fpga")
    s.add_argument("--workload", help="systolic, fpga: " + _INPUT_HELP["workload"] + " (default: resnet18 / cnv)")
    s.add_argument("--trace", help="dram: " + _INPUT_HELP["trace"] + " (default: stream)")
    s.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a design parameter; repeat for several (unset ones take their defaults)")
    s.add_argument("--json", action="store_true", help="print one JSON object: simulator, input, design, metrics, detail")
    s.add_argument("--requests", action="store_true", help="dram: include per-request detail")
    s.set_defaults(func=cmd_simulate)

    for register in _extra_commands():
        register(sub)
    return p


def _extra_commands():
    """Sub-commands that live with the code they drive (search, compare, sweep, plot, report, demo)."""
    from importlib import import_module
    for module in ("archgym.cli.search", "archgym.cli.runs", "archgym.cli.demo", "archgym.cli.bench"):
        try:
            yield import_module(module).register
        except ModuleNotFoundError as e:
            if e.name is None or not module.startswith(e.name):
                raise


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, sqlite3.DatabaseError):
        text += " (the run's log.sqlite is damaged or not an archgym log)"
    return text


def _quiet_broken_pipe() -> None:
    """The reader (e.g. `head`) closed the pipe: send the rest of stdout nowhere, so that Python's
    final flush does not fail again (the recipe of the Python docs, 'Note on SIGPIPE')."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv=None) -> int:
    quiet = os.environ.get("ARCHGYM_PROGRESS")  # --quiet sets it for one command (archgym.progress)
    try:
        return _main(argv)
    finally:
        if quiet is None:
            os.environ.pop("ARCHGYM_PROGRESS", None)
        else:
            os.environ["ARCHGYM_PROGRESS"] = quiet


def _main(argv) -> int:
    from archgym.core.errors import ArchGymError
    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except KeyboardInterrupt:
        print("archgym: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ArchGymError, OSError, sqlite3.DatabaseError) as e:
        print(f"archgym: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:
        import traceback
        traceback.print_exc()
        command = " ".join(["archgym", *(sys.argv[1:] if argv is None else map(str, argv))])
        print(f"archgym: this is a bug in archgym, not a problem with your input. Please report it with the "
              f"traceback above and the command: {command}", file=sys.stderr)
        return EXIT_BUG
