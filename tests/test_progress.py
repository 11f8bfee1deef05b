"""Progress of long work: a bar on a terminal, one plain line per interval in a log, silence on request."""
import io

import pytest

from archgym.progress import LogProgress, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_one_line_per_interval_with_eta(monkeypatch):
    monkeypatch.setenv("ARCHGYM_PROGRESS_INTERVAL", "0")  # a line at every update
    out = io.StringIO()
    with progress(4, "enumerating", "design", file=out) as bar:
        assert isinstance(bar, LogProgress)
        bar.update(1)
        bar.write("a note")
        bar.update(3)
        bar.update(0)  # nothing new: no line
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("enumerating: 1/4 design (25%), 00:00 elapsed, ETA ")
    assert lines[1] == "a note"
    assert lines[2] == "enumerating: 4/4 design (100%), 00:00 elapsed" and len(lines) == 3
    assert "\r" not in out.getvalue()


def test_a_log_line_only_after_the_interval_and_at_the_end(monkeypatch):
    monkeypatch.setenv("ARCHGYM_PROGRESS_INTERVAL", "3600")
    out = io.StringIO()
    with progress(None, "cells", "cell", file=out, initial=2) as bar:
        for _ in range(5):
            bar.update(1)
    assert out.getvalue().splitlines() == ["cells: 7 cell, 00:00 elapsed"]


def test_a_terminal_gets_a_bar_and_quiet_means_quiet(monkeypatch):
    term = Terminal()
    with progress(10, "search", "eval", file=term) as bar:
        bar.update(10)
    assert "\r" in term.getvalue() and "10/10" in term.getvalue()
    monkeypatch.setenv("ARCHGYM_PROGRESS", "0")
    for f in (Terminal(), io.StringIO()):
        with progress(10, "search", "eval", file=f) as bar:
            bar.update(10)
            bar.write("kept quiet")
        assert "10/10" not in f.getvalue()


def test_enumeration_and_sweep_report_progress_in_a_log(tmp_path, capsys, monkeypatch):
    import gymnasium as gym

    import archgym  # noqa: F401
    from archgym.analysis import exhaustive
    from archgym.experiments import load_experiment, run_sweep
    monkeypatch.delenv("ARCHGYM_PROGRESS", raising=False)
    exhaustive(gym.make("archgym/Systolic-ResNet18-Small-v0"))
    err = capsys.readouterr().err
    assert "archgym/Systolic-ResNet18-Small-v0: enumerating every design: 36,750/36,750 design (100%)" in err
    exp = load_experiment({"name": "p", "budget": 20, "seeds": 2, "envs": ["archgym/Systolic-ResNet18-Small-v0"],
                           "agents": ["random"]})
    run_sweep(exp, out=tmp_path / "p", workers=1)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("p: 2 of 2 cells to run (40 evaluations) on local x1")
    assert err[-1].startswith("p: 40/40 eval (100%)")


@pytest.mark.parametrize("argv", [["compare", "archgym/Systolic-ResNet18-Small-v0", "--agents", "random", "--seeds", "1",
                                   "--budget", "10", "--workers", "1", "--quiet"]])
def test_quiet_cli_prints_no_progress_and_restores_the_setting(argv, tmp_path, capsys, monkeypatch):
    import os

    from archgym.cli import main
    monkeypatch.delenv("ARCHGYM_PROGRESS", raising=False)
    assert main([*argv, "--out", str(tmp_path / "q")]) == 0
    assert capsys.readouterr().err == ""
    assert "ARCHGYM_PROGRESS" not in os.environ
