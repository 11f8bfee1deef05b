"""The `archgym` command: JSON output, exit status 2 and a one-line error on bad input."""
import json
import subprocess
import sys

import pytest

from archgym.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "archgym.cli", *args], capture_output=True, text=True, timeout=300)


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "archgym/Systolic-v0" in out and "resnet50" in out and "systolic" in out


def test_simulate_systolic_json(capsys):
    assert main(["simulate", "systolic", "--workload", "resnet18", "--set", "rows=32", "--set", "cols=32",
                 "--set", "dataflow=ws", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["latency_s"] > 0 and len(data["layers"]) == 23
    assert data["layers"][0]["name"] == "conv1" and data["layers"][0]["compute_cycles"] > 0


def test_simulate_dram_json_with_requests(capsys):
    assert main(["simulate", "dram", "--trace", "stream", "--set", "page_policy=closed", "--json", "--requests"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["bandwidth_gbps"] > 0 and "layers" not in data
    assert len(next(iter(data["requests"].values()))) == 10000  # ArchGym's stream trace has 10,000 requests


@pytest.mark.parametrize("args,message", [
    (["simulate", "systolic", "--set", "rows=0"], "parameter 'rows': 0 is not allowed"),
    (["simulate", "systolic", "--set", "dataflow=xx"], "parameter 'dataflow': 'xx' is not allowed"),
    (["simulate", "systolic", "--set", "rows"], "--set expects NAME=VALUE"),
    (["simulate", "systolic", "--workload", "nonet"], "unknown workload 'nonet'"),
    (["simulate", "warp-drive"], "unknown simulator 'warp-drive'"),
    (["simulate", "systolic", "--requests"], "--requests is for the dram simulator"),
    (["simulate", "dram", "--trace", "nonexistent.stl"], "nonexistent.stl"),
    (["simulate", "dram", "--set", "request_buffer_size=0"], "request_buffer_size"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr
