"""Write a benchmark's results into its own generated block of a docs page (other blocks are kept)."""
from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# a Python expression: this process's own peak resident MiB (Linux). Not ru_maxrss, which "is preserved across
# an execve" (getrusage(2)): a child started from a process holding 400 MiB reports 400 MiB whatever it uses
OWN_PEAK_MIB = "int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}"


def write_generated(doc: Path, name: str, command: str, markdown: str) -> None:
    """Replace (or append) the block `<!-- BEGIN GENERATED: name (by `command`) -->` ...
    `<!-- END GENERATED: name -->` of a docs page (the format docs/ headline numbers use)."""
    text = doc.read_text() if doc.exists() else ""
    block = f"<!-- BEGIN GENERATED: {name} (by `{command}`) -->\n{markdown.strip()}\n<!-- END GENERATED: {name} -->"
    pattern = re.compile(rf"<!-- BEGIN GENERATED: {re.escape(name)} .*?<!-- END GENERATED: {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def publish(name: str, script: str | Path, argv: list[str] | None, markdown: str, write: bool) -> None:
    """Print a benchmark's block and, if `write`, put it in docs/benchmarks.md as block `name`, with the
    command that reruns `script` with argv."""
    print(markdown)
    if write:
        write_generated(DOC, name, command_line(script, argv), markdown)


def command_line(script: str | Path, argv: list[str] | None = None) -> str:
    """How to rerun `script` (a path in the repository) with argv (default: this process's arguments),
    from the repository's root; --no-write, which only keeps the docs as they are, is left out."""
    argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--no-write"]
    return " ".join(["python", Path(script).resolve().relative_to(DOC.parents[1]).as_posix(), *argv])


def windowed(fn, window_s: float):
    """fn, a timing (out, wall s, CPU s, ...), made to time as many back-to-back calls as fill about window_s
    seconds, per call: timed in windows as long as one run of the peer tool, a short run of ours meets the same
    mix of this shared host's quiet and busy moments instead of finding a quiet one that the peer never gets."""
    k = max(1, round(window_s / fn()[1]))

    def run():
        outs = [fn() for _ in range(k)]
        return outs[-1][0], sum(o[1] for o in outs) / k, sum(o[2] for o in outs) / k
    return run


def interleaved(rounds: int, runs: dict) -> dict:
    """{key: the fastest (by wall time, the tuple's second item) of `rounds` calls of runs[key]}, called
    round by round, one of each per round, so that a change in the machine's load (single runs on these
    shared cores swing by 1.5-2x) falls on every tool alike instead of on whichever ran then."""
    fastest = {}
    for _ in range(rounds):
        for key, fn in runs.items():
            r = fn()
            if key not in fastest or r[1] < fastest[key][1]:
                fastest[key] = r
    return fastest


def fresh_starts(code: str, *args: str, warm_runs: int = 3) -> tuple[list[float], list[float]]:
    """(cold, warm): the numbers the last line of a fresh `python -c code *args` prints, first with an empty
    numba cache (NUMBA_CACHE_DIR: it compiles), then the fastest (by the first number) of warm_runs with it filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}

        def run() -> list[float]:
            out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True)
            return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]
        cold = run()
        return cold, min((run() for _ in range(warm_runs)), key=lambda r: r[0])
