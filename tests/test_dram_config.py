"""DRAMSys JSON configurations as input: DRAMSys 4.0 files (ArchGym's) and DRAMSys 5 files, bit-list
and XOR address mappings, the env's `dramsys_config`, and bad files."""
import copy
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401  (registers the envs)
from archgym.core.errors import DesignError
from archgym.core.workloads import traces as tr
from simulators import dram
from simulators.dram import dramsys, mapping
from simulators.dram.standards import STANDARDS

FIX = Path(__file__).parent / "fixtures" / "dram" / "dramsys5"
DDR3 = dramsys.example("ddr3-example.json")
POLICY = {"page_policy": "open", "scheduler": "fifo", "scheduler_buffer": "bankwise", "request_buffer_size": 1,
          "resp_queue": "fifo", "refresh_policy": "no_refresh", "refresh_max_postponed": 1,
          "refresh_max_pulledin": 1, "power_down_policy": "no_power_down", "arbiter": "simple",
          "max_active_transactions": 1}   # ArchGym's policy.json


def same_standard(a, b):
    skip = {"name"}
    return {k: v for k, v in vars(a).items() if k not in skip} == {k: v for k, v in vars(b).items() if k not in skip}


def test_archgym_ddr3_example_is_the_named_ddr3_system():
    cfg = dramsys.load(DDR3)
    assert same_standard(cfg.system.standard, STANDARDS["ddr3_1600"])
    assert (cfg.system.channels, cfg.system.ranks) == (1, 1) and cfg.knobs == POLICY
    assert cfg.traces == (("random", 800.0),)          # ArchGym's random.stl, a built-in trace
    a = tr.random(5000, span=1 << 30, seed=4)[:, 0]
    named = dram.named_system("ddr3_1600", 1, 1, "row_bank_column").mapping
    for f in mapping.FIELDS:
        np.testing.assert_array_equal(cfg.system.mapping.decode(a)[f], named.decode(a)[f])
    ours = dram.simulate(POLICY | {"standard": "ddr3_1600", "address_mapping": "row_bank_column"}, "random").metrics
    assert dram.simulate(config=DDR3).metrics == ours


def test_ddr4_4gb_part_by_name_and_from_both_memspec_formats():
    four = dramsys.memspec(json.loads((dramsys.DATA_DIR / "configs/memspecs/JEDEC_4Gb_DDR4-2400_8bit_A.json")
                                      .read_text()), "4.0")[0]
    five = dramsys.load(FIX / "ddr4-2400-example.json").system.standard
    named = STANDARDS["ddr4_2400_4gb"]
    assert same_standard(four, named)
    assert five.clock_mhz == pytest.approx(1200, rel=1e-3)          # DRAMSys 5 gives tCK = 833 ps
    assert all(getattr(five, k) == pytest.approx(getattr(named, k)) for k in vars(named) if k not in ("name", "clock_mhz"))
    brc = dramsys.load(FIX / "ddr4-2400-example.json").system.mapping
    a = tr.random(5000, span=1 << 32, seed=5)[:, 0]
    ours = dram.named_system("ddr4_2400_4gb", 1, 1, "bank_bankgroup_row_column").mapping
    assert all((brc.decode(a)[f] == ours.decode(a)[f]).all() for f in mapping.FIELDS)
    # ArchGym's 1 GiB random trace touches only bank 0 of each bank group under this mapping
    banks = dram.decode(tr.open_trace("random").load(), dram.named_system(
        "ddr4_2400_4gb", 1, 1, "bank_bankgroup_row_column"), (3, 2))[:, 3]
    assert sorted(set(banks.tolist())) == [0, 4, 8, 12]


def test_dramsys5_inline_configs_and_xor_mapping():
    cfg = dramsys.load(FIX / "ddr3-inline.json")
    assert cfg.knobs["page_policy"] == "closed" and cfg.knobs["scheduler"] == "fr_fcfs_grp"
    assert cfg.knobs["refresh_policy"] == "all_bank"     # DRAMSys 5's default (4.0's is NoRefresh)
    a = np.array([1 << 13, 1 << 16, (1 << 13) | (1 << 16), 5 << 16])
    f = cfg.system.mapping.decode(a)
    assert f["bank"].tolist() == [1, 1, 0, 5] and f["row"].tolist() == [0, 1, 1, 5]   # bank bit 0 = a13 ^ a16
    assert dram.simulate({}, tr.stream(300), config=FIX / "ddr3-inline.json").metrics["n_requests"] == 300


def test_dramsys4_xor_pairs_apply_in_order():
    m = mapping.from_json({"CONGEN": {"BYTE_BIT": [0], "COLUMN_BIT": [1], "ROW_BIT": [2], "BANK_BIT": [3],
                                      "XOR": [{"FIRST": 2, "SECOND": 3}, {"FIRST": 1, "SECOND": 2}]}}, "m.json")
    a = np.arange(16)
    f = m.decode(a)
    bit = lambda k: (a >> k) & 1  # noqa: E731
    np.testing.assert_array_equal(f["row"], bit(2) ^ bit(3))
    np.testing.assert_array_equal(f["column"], bit(1) ^ bit(2) ^ bit(3))   # uses the already-XORed bit 2


def test_env_takes_a_dramsys_config():
    env = gym.make("archgym/DRAMController-v0", dramsys_config=str(DDR3), trace="random")
    check_env(env.unwrapped)
    ev = env.unwrapped.evaluator
    assert ev.space.default() == POLICY                  # the mcconfig is the default design
    assert ev.system.standard.cl == 10 and ev.system.mapping.name.endswith("am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json")
    out = ev(ev.space.to_indices(POLICY)[None])
    assert out["latency_s"][0] == dram.simulate(config=DDR3).metrics["latency_s"]
    assert ev.simulate(POLICY).metrics["latency_s"] == out["latency_s"][0]
    with pytest.raises(DesignError, match="set by the DRAMSys config"):
        gym.make("archgym/DRAMController-v0", dramsys_config=str(DDR3), standard="ddr4_2400")


# --- bad files: an error naming the file and the key, and nothing loaded ---------------------------
def edited(tmp_path, what, change):
    """A copy of ArchGym's ddr3-example resources with one file changed by `change(obj)`."""
    src = dramsys.DATA_DIR
    for p in src.rglob("*.json"):
        dst = tmp_path / p.relative_to(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        obj = json.loads(p.read_text())
        if p.name == what:
            obj = copy.deepcopy(obj)
            change(obj)
        dst.write_text(json.dumps(obj))
    return tmp_path / "simulations" / "ddr3-example.json"


def _del(path):
    def f(obj):
        *keys, last = path
        for k in keys:
            obj = obj[k]
        del obj[last]
    return f


def _set(path, value):
    def f(obj):
        *keys, last = path
        for k in keys:
            obj = obj[k]
        obj[last] = value
    return f


MEMSPEC, AM, MC = "MICRON_1Gb_DDR3-1600_8bit_G.json", "am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json", "policy.json"


@pytest.mark.parametrize("what,change,text", [
    (MEMSPEC, _del(["memspec", "memtimingspec", "RCD"]), f"{MEMSPEC}: memspec.memtimingspec: missing key 'RCD'"),
    (MEMSPEC, _set(["memspec", "memtimingspec", "FOO"], 3), f"{MEMSPEC}: memspec.memtimingspec: unknown key 'FOO'"),
    (MEMSPEC, _set(["memspec", "memtimingspec", "RC"], 30), "impossible timing RC 30 < RAS 28 + RP 10"),
    (MEMSPEC, _set(["memspec", "memoryType"], "LPDDR4"), "memoryType 'LPDDR4' is not supported"),
    (MEMSPEC, _set(["memspec", "memarchitecturespec", "width"], 16), "one burst must carry 64 B"),
    (MEMSPEC, _set(["memspec", "mempowerspec", "idd0"], "a lot"), "idd0 must be a non-negative number"),
    (AM, _set(["CONGEN", "ROW_BIT", 0], 13), f"{AM}: address bit 13 is mapped twice (BANK_BIT and ROW_BIT)"),
    (AM, _set(["CONGEN", "ROW_BIT"], list(range(16, 29)) + [30]), f"{AM}: address bit 29 is not mapped"),
    (AM, _set(["CONGEN", "ROW_BIT"], list(range(16, 29))), f"{AM}: ROW_BIT has 13 bits but the memory has 16384"),
    (AM, _set(["CONGEN", "CHIP_BIT"], [30]), f"{AM}: unknown key CONGEN.CHIP_BIT"),
    (MC, _set(["mcconfig", "Schedular"], "FrFcfs"), f"{MC}: mcconfig: unknown key 'Schedular'"),
    (MC, _set(["mcconfig", "Scheduler"], "Magic"), f"{MC}: mcconfig.Scheduler 'Magic' is not supported"),
    (MC, _set(["mcconfig", "CmdMux"], "Strict"), "mcconfig.CmdMux = 'Strict' is not modelled"),
    (MC, _set(["mcconfig", "RequestBufferSize"], 0), f"{MC}: mcconfig.RequestBufferSize"),
    ("ddr3-example.json", _del(["simulation", "memspec"]), "ddr3-example.json: simulation: missing key 'memspec'"),
    ("ddr3-example.json", _set(["simulation", "mcconfig"], "nope.json"), "simulation.mcconfig: file 'nope.json' not found"),
])
def test_bad_dramsys_files_name_the_file_and_key(tmp_path, what, change, text):
    sim = edited(tmp_path, what, change)
    with pytest.raises(DesignError) as e:
        dram.simulate(config=sim)
    assert text in str(e.value)
    with pytest.raises(DesignError):                     # the env refuses it at construction
        gym.make("archgym/DRAMController-v0", dramsys_config=str(sim))
    assert dramsys.load(edited(tmp_path / "ok", "none", None)).knobs == POLICY   # nothing half-loaded


def test_not_json(tmp_path):
    bad = tmp_path / "sim.json"
    bad.write_text("{\"simulation\": ")
    with pytest.raises(DesignError, match="sim.json: not valid JSON"):
        dramsys.load(bad)


def test_config_fixes_the_memory_system():
    with pytest.raises(DesignError, match="parameter 'ranks' is set by the DRAMSys config"):
        dram.simulate({"ranks": 2}, "stream", config=DDR3)


def test_decode_by_runs_equals_decode_bit_by_bit():
    # decode extracts runs of consecutive address bits with one shift; a bit-by-bit parity decode is the spec
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 40, 5000)
    gapped = mapping.AddressMapping("gapped", {"bank": (1 << 6, 1 << 7, (1 << 9) | (1 << 20), 1 << 10, 1 << 12),
                                               "row": tuple(1 << b for b in range(13, 30))})
    for m in [gapped] + [mapping.named(n, STANDARDS["ddr4_2400"], 2, 2) for n in mapping.NAMED]:
        got = m.decode(a)
        for f in mapping.FIELDS:
            want = sum((np.bitwise_count(a & mask) & 1).astype(np.int64) << k for k, mask in enumerate(m.fields.get(f, ())))
            np.testing.assert_array_equal(got[f], want if f in m.fields else 0, err_msg=f"{m.name} {f}")
    assert mapping._runs(gapped.fields["bank"]) == [(0, 6, 2), (2, (1 << 9) | (1 << 20), 0), (3, 10, 1), (4, 12, 1)]
