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


# --- Unix habits: pipes, help, exit statuses --------------------------------------------------------------------------
def shell(command: str, cwd=None, unbuffered: bool = False):
    """`command` in bash with pipefail, `archgym` meaning this checkout's CLI; Python's stdout
    block-buffered (as in a user's shell) unless `unbuffered`."""
    import os
    import shlex
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(PYTHONPATH=os.pathsep.join(sys.path), **({"PYTHONUNBUFFERED": "1"} if unbuffered else {}))
    archgym = f"{shlex.quote(sys.executable)} -m archgym.cli"
    return subprocess.run(["bash", "-c", "set -o pipefail; " + command.replace("archgym ", archgym + " ", 1)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


@pytest.mark.parametrize("unbuffered", [False, True])  # the pipe breaks at Python's final flush, or at a write
@pytest.mark.parametrize("command", [
    "archgym list | head -1",
    "archgym simulate systolic --workload resnet18 --json | head -c 100",
    "archgym --help | head -2",
    "archgym simulate dram --trace stream --requests --json | head -c 10",
])
def test_piping_into_head_ends_quietly(command, unbuffered):
    proc = shell(command, unbuffered=unbuffered)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout


COMMANDS = ["list", "simulate", "search", "compare", "sweep", "export", "plot", "report", "proxy", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_an_example_and_defaults(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert f"archgym {command}" in out.split("example")[-1]  # an example under "example:"
    if command in ("search", "compare", "sweep", "plot", "proxy", "demo"):
        assert "(default: " in out


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in COMMANDS) and "exit status" in out


def test_a_bug_prints_a_traceback_that_says_so(monkeypatch, capsys):
    import archgym.cli as cli

    def broken(args):
        raise RuntimeError("boom")
    monkeypatch.setattr(cli, "cmd_list", broken)
    assert main(["list"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err and "this is a bug in archgym" in err


@pytest.mark.parametrize("setup,args,message", [
    (None, ["report", "{tmp}/nothing"], "is not a run directory (no log.sqlite)"),
    ("garbage", ["report", "{tmp}/bad"], "log.sqlite is damaged or not an archgym log"),
    ("garbage", ["plot", "{tmp}/bad"], "log.sqlite is damaged or not an archgym log"),
    (None, ["sweep", "{tmp}/missing.yaml"], "does not exist"),
    (None, ["simulate", "systolic", "--workload", "{tmp}/missing.csv"], "missing.csv"),
])
def test_files_and_damaged_logs_exit_2_with_one_line(tmp_path, setup, args, message):
    if setup == "garbage":
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "log.sqlite").write_bytes(b"not a database" * 100)
    proc = run(*[a.format(tmp=tmp_path) for a in args])
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr


# --- simulate: what it ran ------------------------------------------------------------------------------------------
def test_simulate_echoes_input_and_design(capsys):
    assert main(["simulate", "systolic", "--set", "rows=64"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "simulator: systolic" and out[1] == "workload: resnet18 (default)"
    assert out[2].startswith("design: rows=64, cols=32, dataflow=ws")
    assert any(line.split()[0] == "latency_s" and line.endswith("s)") for line in out[3:])  # human unit beside it
    assert main(["simulate", "dram", "--trace", "random", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["simulator"] == "dram" and data["trace"] == "random" and data["design"]["page_policy"] == "open"


@pytest.mark.parametrize("args,message", [
    (["simulate", "dram", "--workload", "resnet18"], "the dram simulator runs on --trace"),
    (["simulate", "systolic", "--trace", "random"], "the systolic simulator runs on --workload"),
    (["simulate", "fpga", "--trace", "stream"], "the fpga simulator runs on --workload"),
])
def test_simulate_keeps_workload_and_trace_apart(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


# --- search: env kwargs apart from hyper-parameters, and a record of the run ------------------------------------------
def test_search_records_env_workload_objective_design_and_seed(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "archgym/Systolic-v0", "--env-kwarg", "workload=resnet50", "--env-kwarg", "space=small",
                 "--objective", "{mode: weighted, weights: {latency_s: 2, energy_j: 1}}", "--agent", "ga",
                 "--set", "population=8", "--budget", "40", "--seed", "2", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "env:       archgym/Systolic-v0 (workload=resnet50, space=small): systolic array on resnet50" in text
    assert "objective: weighted over latency_s, energy_j, area_mm2; reward = −2·log10 latency − log10 energy − log10 area" in text
    assert "agent:     ga (population=8," in text and "seed 2, budget 40 evaluations" in text
    s = json.loads((out / "summary.json").read_text())
    assert s["env"] == "archgym/Systolic-v0" and s["env_kwargs"] == {"workload": "resnet50", "space": "small"}
    assert s["workload"] == "resnet50" and s["seed"] == 2 and s["hparams"]["population"] == 8
    assert s["objective"]["mode"] == "weighted" and s["objective"]["weights"] == {"latency_s": 2.0, "energy_j": 1.0}
    assert set(s["best_design"]) == {"rows", "cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
                                     "dram_bytes_per_cycle"}
    assert "reward = −2·log10 latency" in s["reward"] and s["evaluations"] == 40
    import pandas as pd
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 40 and history["reward"].max() == pytest.approx(s["best_score"])
    # rerunning the same command into the same folder is fine
    assert main(["search", "archgym/Systolic-v0", "--env-kwarg", "workload=resnet50", "--env-kwarg", "space=small",
                 "--objective", "{mode: weighted, weights: {latency_s: 2, energy_j: 1}}", "--agent", "ga",
                 "--set", "population=8", "--budget", "40", "--seed", "2", "--out", str(out), "--no-progress"]) == 0
    # another search into the folder of a search replaces it; into the folder of a comparison it is refused
    assert main(["search", "archgym/Systolic-v0", "--agent", "ga", "--budget", "20", "--seed", "3", "--out", str(out),
                 "--no-progress"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 3 and len(archgym_load(out)) == 20
    assert main(["compare", "archgym/Systolic-ResNet18-Small-v0", "--agents", "random", "--seeds", "2", "--budget", "5",
                 "--workers", "1", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["search", "archgym/Systolic-v0", "--agent", "ga", "--budget", "20", "--out", str(tmp_path / "c")]) == 2
    assert "holds experiment" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--set", "workload=resnet50"], "use --env-kwarg workload=resnet50"),
    (["--env-kwarg", "wrkload=resnet50"], "--env-kwarg wrkload"),
    (["--env-kwarg", "workload=nonet"], "unknown workload 'nonet'"),
    (["--objective", "sideways"], "unknown objective mode 'sideways'"),
    (["--objective", "{mode: product"], "--objective: not valid YAML/JSON"),
    (["--env-kwarg", "objective=product"], "give the objective with --objective"),
    (["--seed", "-1"], "seed must be a non-negative integer"),
])
def test_search_bad_input(args, message, tmp_path):
    proc = run("search", "archgym/Systolic-ResNet18-Small-v0", "--agent", "ga", "--budget", "10",
               "--out", str(tmp_path / "x"), *args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr


# --- compare: sweep + figures + report in one command ---------------------------------------------------------------
def test_compare_runs_the_sweep_then_figures_and_report(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", "archgym/Systolic-ResNet18-Small-v0", "--agents", "random,ga", "--seeds", "2", "--budget", "30",
            "--workers", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "final results over 2 seeds" in text and "final regret %, median" in text and "report:" in text
    for name in ("convergence.png", "final.png", "pareto.png", "hypervolume.png", "success.png", "report.html"):
        assert (out / name).stat().st_size > 10_000, name
    spec = (out / "experiment.yaml").read_text()
    assert "archgym compare archgym/Systolic-ResNet18-Small-v0 --agents random,ga" in spec
    import yaml
    data = yaml.safe_load(spec)
    assert data["agents"] == ["random", "ga"] and data["seeds"] == 2 and data["budget"] == 30
    assert data["envs"][0]["pareto"] == ["latency_s", "energy_j"]
    df = archgym_load(out)
    assert len(df) == 2 * 2 * 30 and set(df["seed"]) == {0, 1}
    assert main(args) == 0  # the same command again resumes: nothing left to run
    assert "0 run now" in capsys.readouterr().out


def archgym_load(run_dir):
    import archgym
    return archgym.load(run_dir)


@pytest.mark.parametrize("args,message", [
    (["--agents", "ga,nope"], "unknown agent (in --agents) 'nope'"),
    (["--agents", "ga", "--seeds", "0"], "--seeds must be at least 1"),
    (["--agents", "ga", "--budget", "0"], "budget must be a positive integer"),
    (["--agents", "ga", "--env-kwarg", "trace=random"], "--env-kwarg trace"),
])
def test_compare_bad_input(args, message, tmp_path):
    base = ["compare", "archgym/Systolic-ResNet18-Small-v0", "--budget", "10", "--out", str(tmp_path / "c")]
    proc = run(*base, *args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
