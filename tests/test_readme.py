"""The README runs as written, so it cannot drift from the code.

Every line of the README's bash blocks is run in order in a scratch directory, with
`.venv/bin/archgym` standing for this checkout's CLI: each must exit 0 and print no traceback,
both as written and with its output piped into `head`. A block with a line labelled with a time
over two minutes (e.g. `# 12-26 min`) is only parsed (its later lines read what that one writes),
and the `make` set-up lines are what runs this suite. The Python block runs as one script.
"""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "README.md").read_text(encoding="utf-8")
LONG_MINUTES = 2


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", TEXT, flags=re.S | re.M)


def minutes(line: str) -> float:
    """The time a line's comment gives it, in minutes (0 when it gives none)."""
    comment = line.partition(" #")[2]
    found = re.findall(r"(\d+)(?:\s*-\s*(\d+))?\s*min", comment)
    return max((float(b or a) for a, b in found), default=1.0 if "a minute" in comment else 0.0)


def lines(block: str) -> list[str]:
    out = [line.strip() for line in block.splitlines()]
    return [line for line in out if line and not line.startswith("#") and not line.startswith("make ")]


def _split() -> tuple[list[str], list[str]]:
    quick, long = [], []
    for block in blocks("bash"):
        these = lines(block)
        (long if any(minutes(line) > LONG_MINUTES for line in these) else quick).extend(these)
    return quick, long


QUICK, LONG = _split()


def test_the_readme_has_the_setup_commands_first_and_labels_long_ones():
    first = blocks("bash")[0].splitlines()
    assert first[0].startswith("make demo") and any(line.startswith("make test") for line in first)
    assert all(".venv/bin/archgym" in line for line in QUICK + LONG)  # runs without activating the venv
    assert LONG and any("sweep" in line for line in LONG)  # the lottery sweep is labelled with its time
    assert any(line.startswith(".venv/bin/archgym compare") for line in QUICK)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch directory with `.venv/bin/archgym` (this checkout's CLI) and the repo's experiments."""
    home = tmp_path_factory.mktemp("readme")
    bin_dir = home / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "archgym"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m archgym.cli \"$@\"\n")
    script.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (home / "experiments").symlink_to(ROOT / "experiments")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return home, env


def bash(command: str, workspace, unbuffered: bool = False) -> subprocess.CompletedProcess:
    home, env = workspace
    env = {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"} | ({"PYTHONUNBUFFERED": "1"} if unbuffered else {})
    return subprocess.run(["bash", "-c", "set -o pipefail; " + command], cwd=home, env=env, capture_output=True,
                          text=True, timeout=600)


def test_every_quick_command_runs_as_written_and_piped(workspace):
    """In README order (later lines read what earlier ones wrote). Prints each one's time (-s)."""
    import time
    for line in QUICK:
        # piped, Python writes unbuffered, so the command stops at its first write after `head` exits
        # (tests/test_cli.py checks the buffered case, where the pipe breaks at the final flush)
        for command, unbuffered in ((line, False), (f"{line.partition(' #')[0].strip()} | head -c 40", True)):
            start = time.perf_counter()
            proc = bash(command, workspace, unbuffered)
            print(f"{time.perf_counter() - start:6.1f} s  {command}")
            assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"
            assert "Traceback" not in proc.stderr + proc.stdout, f"{command}\n{proc.stderr[-2000:]}"
    home, _ = workspace
    assert (home / "runs" / "tpe" / "report.html").is_file()
    assert (home / "runs" / "compare" / "report.html").is_file() and (home / "runs" / "compare" / "final.png").is_file()


@pytest.mark.parametrize("line", LONG)
def test_long_commands_parse(line):
    from archgym.cli import build_parser
    argv = shlex.split(line.partition(" #")[0].partition("|")[0])
    assert argv[0] == ".venv/bin/archgym"
    args = build_parser().parse_args(argv[1:])
    if getattr(args, "file", None):
        assert (ROOT / args.file).is_file()


def test_the_python_block_runs(workspace):
    (code,) = blocks("python")
    home, env = workspace
    proc = subprocess.run([sys.executable, "-c", code], cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
