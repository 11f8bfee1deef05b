"""The TechModel: CACTI SRAM table, Horowitz/Aladdin logic, Stillmaker & Baas scaling, DRAM energy per bit."""
import csv

import numpy as np
import pytest

from archgym.core.errors import DesignError
from simulators import dram
from simulators.tech import DEFAULT, TechModel, logic, scaling
from simulators.tech.sram import TABLE


def cacti_rows():
    with open(TABLE) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_the_shipped_table_says_where_it_came_from():
    header = [line for line in TABLE.read_text().splitlines() if line.startswith("#")]
    text = "\n".join(header)
    for needed in ("scripts/build_sram_table.py", "zigzag-dse 3.9.1", "itrs-lstp", "300 K", "command:"):
        assert needed in text
    nodes = sorted({int(r["tech_nm"]) for r in cacti_rows()})
    assert nodes == [22, 28, 32, 40, 45, 65, 90] and DEFAULT.nodes_nm == tuple(nodes)


def test_grid_points_are_the_table():
    for r in cacti_rows()[::37]:
        got = DEFAULT.sram(int(r["size_bytes"]), int(r["width_bits"]), int(r["tech_nm"]))
        w = float(r["width_bits"])
        assert got["read_pj_per_bit"] == pytest.approx(float(r["read_pj"]) / w, rel=1e-12)
        assert got["write_pj_per_bit"] == pytest.approx(float(r["write_pj"]) / w, rel=1e-12)
        assert got["leakage_mw"] == pytest.approx(float(r["leakage_mw"]), rel=1e-12)
        assert got["area_mm2"] == pytest.approx(float(r["area_mm2"]), rel=1e-12)


def test_between_grid_points_energy_and_area_grow_with_size():
    sizes = np.geomspace(600, 15e6, 40)
    for nm in (22, 45, 90):
        e = [DEFAULT.sram(s, 64, nm)["read_pj_per_bit"] for s in sizes]
        a = [DEFAULT.sram(s, 64, nm)["area_mm2"] for s in sizes]
        assert np.all(np.diff(a) > 0) and np.all(np.diff(e) > -1e-9)


def test_wide_ports_on_tiny_banks_use_the_widest_row_cacti_could_build():
    # CACTI found no 512 B array with 256-bit rows; such an access costs what the 128-bit rows do per bit
    assert DEFAULT.sram(512, 256, 45) == DEFAULT.sram(512, 128, 45)
    assert DEFAULT.sram(1 << 20, 4096, 45) == DEFAULT.sram(1 << 20, 256, 45)  # wider than the table: 256-bit rate


@pytest.mark.parametrize("call,match", [
    (lambda: DEFAULT.sram(256, 64, 45), r"SRAM bank of 256 B is outside the CACTI table \(512\.\.16777216 B\)"),
    (lambda: DEFAULT.sram(4096, 64, 16), r"'tech_nm': 16 nm is outside the technology tables; supported nodes: "
                                         r"22, 28, 32, 40, 45, 65, 90 nm"),
    (lambda: DEFAULT.mac_pj(4, 32, 45), r"'bits': 4 is outside the arithmetic energy table; supported 8\.\.32 bits"),
    (lambda: scaling.energy_scale(45, 5), r"technology node 5 nm is outside Stillmaker & Baas's 7\.\.130 nm"),
])
def test_out_of_table_is_an_error_naming_the_range(call, match):
    with pytest.raises(DesignError, match=match):
        call()


def test_unknown_dram_standard_is_the_dram_simulators_error():
    with pytest.raises(DesignError, match=r"'standard': 'ddr9' is not allowed; allowed values"):
        TechModel(dram_standard="ddr9")


def test_logic_figures_and_scaling_are_the_cited_ones():
    assert logic.mac_pj(8, 32) == pytest.approx(0.2 + 0.1) and logic.mac_pj(32, 32) == pytest.approx(3.1 + 0.1)
    assert logic.mult_um2(32) == pytest.approx(3495) and logic.add_pj(32) == pytest.approx(0.1)
    # 16 bits: the power law through Horowitz's 8- and 32-bit multiplies; a 64-bit accumulator is two 32-bit adds
    assert logic.mac_pj(16, 64) == pytest.approx(0.2 * 2 ** (np.log(3.1 / 0.2) / np.log(4)) + 2 * 0.1)
    assert scaling.energy_scale(45, 32) == pytest.approx(0.6593, abs=5e-5)  # Accelergy's logged factor
    assert scaling.area_scale(45, 65) == pytest.approx(1.5) and scaling.area_scale(90, 45) == pytest.approx(0.35)
    assert DEFAULT.mac_pj(8, 32, 22) == pytest.approx(0.3 * scaling.energy_scale(45, 22))
    assert DEFAULT.register_pj_per_bit(40) == pytest.approx(0.009)


@pytest.mark.parametrize("standard", ["ddr4_2400", "lpddr4_3200"])
def test_dram_energy_per_bit_is_the_dram_models(standard):
    """A longer sequential stream through simulators.dram gives the same pJ/bit within 2% (background
    and refresh amortise the same way), reads and writes separately."""
    read, write = TechModel(dram_standard=standard).dram_pj_per_bit()
    n = 32768
    addr = np.arange(n, dtype=np.int64) * 64
    for is_write, expected in ((0, read), (1, write)):
        trace = np.stack([addr, np.full(n, is_write), np.zeros(n, np.int64)], axis=1)
        m = dram.simulate({"standard": standard}, trace).metrics
        assert m["energy_j"] * 1e12 / (n * 512) == pytest.approx(expected, rel=0.02)
    assert 2 < write < 25 and 2 < read < 25  # pJ/bit: DDR4 ~10, LPDDR4 ~5 (Horowitz's 20 includes the I/O)
