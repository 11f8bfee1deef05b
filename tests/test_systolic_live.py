"""Live comparison with SCALE-Sim 3.0.0, run from its own virtualenv in a subprocess.

scalesim 3.0.0 breaks under numpy 2.4, so it lives in a separate venv (`make test` builds
.venv-scalesim; or point ARCHGYM_SCALESIM_PYTHON at any python with scalesim installed).
"""
import csv
import os
import subprocess
from pathlib import Path

import pytest

from simulators import systolic

ROOT = Path(__file__).resolve().parent.parent
GENERATE = ROOT / "tests" / "fixtures" / "scalesim" / "generate.py"


def scalesim_python():
    candidates = [os.environ.get("ARCHGYM_SCALESIM_PYTHON"), ROOT / ".venv-scalesim" / "bin" / "python"]
    for c in candidates:
        if c and Path(c).exists():
            ok = subprocess.run([str(c), "-c", "import scalesim"], capture_output=True).returncode == 0
            if ok:
                return str(c)
    return None


PYTHON = scalesim_python()
pytestmark = pytest.mark.skipif(PYTHON is None, reason="scalesim is not available: run `make test`, or set "
                                "ARCHGYM_SCALESIM_PYTHON to a python with scalesim==3.0.0 and numpy<2.4")


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_live_against_scalesim(tmp_path, df):
    topo = tmp_path / "live.csv"
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                    "Live, 12, 10, 3, 3, 7, 19, 1,\n")
    out = tmp_path / "ref.csv"
    subprocess.run([PYTHON, str(GENERATE), "--topologies", str(tmp_path), "--out", str(out),
                    "--cases", f"live.csv:8x12:{df}:4"], check=True, capture_output=True, timeout=600)
    ref = next(csv.DictReader(out.open()))
    ours = systolic.simulate({"rows": 8, "cols": 12, "dataflow": df, "ifmap_sram_kb": 4, "filter_sram_kb": 4,
                              "ofmap_sram_kb": 4}, topo, accounting="scalesim").layers[0]
    assert ours["compute_cycles"] == int(ref["total_cycles"])
    for key in ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"):
        assert ours[key] == int(ref[key])
    assert ours["overall_util"] == pytest.approx(float(ref["overall_util"]) / 100, rel=1e-12)
    ref_dram = int(ref["ifmap_dram_reads"]) + int(ref["filter_dram_reads"])
    assert ours["ifmap_dram_reads"] + ours["filter_dram_reads"] == pytest.approx(ref_dram, rel=0.10)
