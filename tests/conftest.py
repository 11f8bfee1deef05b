"""Parallel runs (`make test`: pytest-xdist, `-n 2 --dist loadgroup`): each test module runs whole on
one worker, so its module-scoped fixtures are computed once; tests marked `xdist_group("ray")`, from
several modules, run on one worker one after another (two local Ray clusters on 2 cores would fight).
Before the workers start, the kernels compile in two processes at once (tests/warm_kernels.py)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):  # the xdist controller
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        halves = {half: subprocess.Popen([sys.executable, str(HERE / "warm_kernels.py"), half], env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                  for half in ("dram", "rest")}
        for half, p in halves.items():
            err = p.communicate()[1]
            if p.returncode:  # the tests still run (and fail where the kernel is broken); only the warm-up is lost
                last = err.strip().splitlines()[-1] if err.strip() else f"exit code {p.returncode}"
                print(f"tests/warm_kernels.py {half} failed, kernels compile in the tests instead: {last}")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.partition("::")[0]))
