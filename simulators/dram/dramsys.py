"""DRAMSys JSON configurations as input: a simulation file with its memspec, address mapping,
mcconfig and simconfig, in DRAMSys 4.0's format (the one ArchGym ran: sub-configs are file names
under `<resources>/configs/{memspecs,amconfigs,mcconfigs,simulator}/`, currents in mA, `clkMhz`)
or DRAMSys 5's (sub-configs inline or paths relative to the simulation file, currents in A, `tCK`
in seconds). Formats: DRAMSys 4.0 `configuration/Configuration.cpp` `setParameter`,
`configuration/memspec/MemSpecDDR3.cpp`/`MemSpecDDR4.cpp`, `simulation/AddressDecoder.cpp`;
DRAMSys 5 `configuration/json/*.h` and DRAMUtils' memspec reader.

`load(path)` reads everything first and returns a frozen `DRAMSysConfig`; any problem raises a
DesignError naming the file and the key, so nothing is half-loaded. DDR3 and DDR4 memspecs are
supported (the memory types of ArchGym's space); keys DRAMSys reads are required, keys it does not
know are errors, and mcconfig/simconfig keys take DRAMSys's defaults when absent.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from archgym.core.errors import DesignError
from simulators.dram import mapping as M
from simulators.dram.layout import MAX_ACTIVE
from simulators.dram.standards import REQUEST_BYTES, Standard

DATA_DIR = Path(str(resources.files("archgym").joinpath("data", "dramsys")))   # ArchGym's DRAMSys 4.0 configs


@dataclass(frozen=True)
class MemorySystem:
    """A memory: its standard (timing, currents), channels, ranks per channel and address mapping."""
    standard: Standard
    channels: int
    ranks: int
    mapping: M.AddressMapping
    address_offset: int = 0   # subtracted from every address before decoding (simconfig AddressOffset)

    @property
    def capacity_bytes(self) -> int:
        return self.mapping.capacity_bytes


@dataclass(frozen=True)
class DRAMSysConfig:
    path: str
    system: MemorySystem
    knobs: dict                      # our controller knob names -> values (from the mcconfig)
    simconfig: dict = field(default_factory=dict)
    traces: tuple = ()               # tracesetup: (trace name or path, player clock in MHz)


# --- mcconfig: DRAMSys key -> (our knob, DRAMSys value -> ours, or the (low, high) range of a number) ----
MCCONFIG = {
    "PagePolicy": ("page_policy", {"Open": "open", "OpenAdaptive": "open_adaptive", "Closed": "closed",
                                   "ClosedAdaptive": "closed_adaptive"}),
    "Scheduler": ("scheduler", {"Fifo": "fifo", "FrFcfs": "fr_fcfs", "FrFcfsGrp": "fr_fcfs_grp"}),
    "SchedulerBuffer": ("scheduler_buffer", {"Bankwise": "bankwise", "ReadWrite": "read_write", "Shared": "shared"}),
    "RequestBufferSize": ("request_buffer_size", (1, MAX_ACTIVE)),
    "RespQueue": ("resp_queue", {"Fifo": "fifo", "Reorder": "reorder"}),
    "RefreshPolicy": ("refresh_policy", {"NoRefresh": "no_refresh", "AllBank": "all_bank", "Rankwise": "all_bank",
                                         "PerBank": "per_bank", "Bankwise": "per_bank"}),
    "RefreshMaxPostponed": ("refresh_max_postponed", (0, 8)),
    "RefreshMaxPulledin": ("refresh_max_pulledin", (0, 8)),
    "PowerDownPolicy": ("power_down_policy", {"NoPowerDown": "no_power_down", "Staggered": "staggered"}),
    "Arbiter": ("arbiter", {"Simple": "simple", "Fifo": "fifo", "Reorder": "reorder"}),
    "MaxActiveTransactions": ("max_active_transactions", (1, MAX_ACTIVE)),
}
# defaults for absent keys: DRAMSys 4.0 configuration/Configuration.h; DRAMSys 5 controller/McConfig.h
DEFAULTS_4 = {"PagePolicy": "Open", "Scheduler": "Fifo", "SchedulerBuffer": "Bankwise", "RequestBufferSize": 8,
              "RespQueue": "Fifo", "RefreshPolicy": "NoRefresh", "RefreshMaxPostponed": 0, "RefreshMaxPulledin": 0,
              "PowerDownPolicy": "NoPowerDown", "Arbiter": "Simple", "MaxActiveTransactions": 64}
DEFAULTS_5 = {**DEFAULTS_4, "Scheduler": "FrFcfs", "RefreshPolicy": "AllBank"}
# keys we accept only at the value that leaves the model unchanged (value -> why)
FIXED_MC = {"CmdMux": "Oldest", "ArbitrationDelayFw": 0, "ArbitrationDelayBw": 0, "ThinkDelayFw": 0,
            "ThinkDelayBw": 0, "PhyDelayFw": 0, "PhyDelayBw": 0, "RefreshManagement": False}
IGNORED_MC = {"PowerDownTimeout"}     # parsed but never used by DRAMSys 4.0 (removed in 5)

SIMCONFIG = {"SimulationName", "DatabaseRecording", "PowerAnalysis", "EnableWindowing", "WindowSize", "Debug",
             "ThermalSimulation", "SimulationProgressBar", "AddressOffset", "UseMalloc", "CheckTLM2Protocol",
             "ECCControllerMode", "ErrorChipSeed", "ErrorCSVFile", "StoreMode", "SimulationTime", "TogglingRate"}
FIXED_SIM = {"ThermalSimulation": False, "ECCControllerMode": "Disabled"}

# --- memspec keys (DRAMSys 4.0 MemSpec*.cpp, DRAMSys 5 / DRAMUtils MemSpecDDR3/DDR4) -------------------
ARCH = {"burstLength", "dataRate", "nbrOfBanks", "nbrOfColumns", "nbrOfRanks", "nbrOfRows", "width",
        "nbrOfChannels"}
ARCH_OPTIONAL = {"nbrOfBankGroups", "nbrOfDevicesOnDIMM", "nbrOfDevices", "RefMode", "maxBurstLength"}
TIMING = {"DDR3": {"AL", "CCD", "CKE", "CKESR", "FAW", "RAS", "RC", "RCD", "REFI", "RFC", "RL", "RP", "RRD", "RTP",
                   "WL", "WR", "WTR", "XP", "RTRS"},
          "DDR4": {"AL", "CCD_L", "CCD_S", "CKE", "CKESR", "FAW", "RAS", "RC", "RCD", "REFI", "RL", "RP", "RRD_L",
                   "RRD_S", "RTP", "WL", "WR", "WTR_L", "WTR_S", "XP", "RTRS"}}
TIMING_OPTIONAL = {"CL", "DQSCK", "XPDLL", "XS", "XSDLL", "ACTPDEN", "PRPDEN", "REFPDEN", "REFM", "RFC", "RFC1",
                   "RFC2", "RFC4", "RPRE", "WPRE", "clkMhz", "tCK"}
POWER_4 = {"DDR3": {"idd0", "idd2n", "idd2p0", "idd2p1", "idd3n", "idd3p0", "idd3p1", "idd4r", "idd4w", "idd5",
                    "idd6", "vdd"}}
POWER_4["DDR4"] = POWER_4["DDR3"] | {"idd02", "idd62", "vdd2"}
POWER_5 = {"DDR3": POWER_4["DDR3"],
           "DDR4": {"vdd", "idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd6n", "idd2p", "idd3p", "vpp", "ipp0",
                    "ipp2n", "ipp3n", "ipp4r", "ipp4w", "ipp6n", "ipp2p", "ipp3p", "idd5B", "ipp5B", "idd5F2",
                    "ipp5F2", "idd5F4", "ipp5F4", "vddq", "iBeta_vdd", "iBeta_vpp"}}
SPEC_KEYS = {"memoryId", "memoryType", "memarchitecturespec", "memtimingspec", "mempowerspec"}
SPEC_OPTIONAL = {"bankwisespec", "memimpedancespec", "prepostamble"}


def _num(obj: Mapping, key: str, where: str, integer: bool = True, positive: bool = False):
    if key not in obj:
        raise DesignError(f"{where}: missing key {key!r}")
    v = obj[key]
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok or v < 0 or (positive and v <= 0):
        kind = "a non-negative integer" if integer else "a non-negative number"
        raise DesignError(f"{where}: {key} must be {kind}{' above 0' if positive else ''}, got {v!r}")
    return v


def _keys(obj, required: set, optional: set, where: str) -> None:
    if not isinstance(obj, Mapping):
        raise DesignError(f"{where}: expected an object, got {type(obj).__name__}")
    for k in obj:
        if k not in required and k not in optional:
            raise DesignError(f"{where}: unknown key {k!r}")
    for k in sorted(required):
        if k not in obj:
            raise DesignError(f"{where}: missing key {k!r}")


def memspec(obj: Mapping, where: str) -> tuple[Standard, int, int]:
    """(Standard, channels, ranks) from a DRAMSys memspec object `{"memspec": {...}}` (4.0 or 5)."""
    _keys(obj, {"memspec"}, set(), where)
    spec = obj["memspec"]
    _keys(spec, SPEC_KEYS, SPEC_OPTIONAL, f"{where}: memspec")
    kind = spec["memoryType"]
    if kind not in TIMING:
        raise DesignError(f"{where}: memspec.memoryType {kind!r} is not supported; supported: DDR3, DDR4")
    a, t, p = spec["memarchitecturespec"], spec["memtimingspec"], spec["mempowerspec"]
    wa, wt, wp = (f"{where}: memspec.{k}" for k in ("memarchitecturespec", "memtimingspec", "mempowerspec"))
    v5 = "tCK" in t if isinstance(t, Mapping) else False
    _keys(a, ARCH | ({"nbrOfDevices"} if v5 else {"nbrOfDevicesOnDIMM"}) | ({"nbrOfBankGroups"} if kind == "DDR4" else set()),
          ARCH_OPTIONAL, wa)
    _keys(t, TIMING[kind] | ({"tCK"} if v5 else {"clkMhz"}) | ({"REFM"} if kind == "DDR4" else set())
          | ({"RFC1"} if v5 and kind == "DDR4" else {"RFC"}), TIMING_OPTIONAL, wt)
    _keys(p, (POWER_5 if v5 else POWER_4)[kind], set(), wp)
    arch = {k: _num(a, k, wa, positive=True) for k in a if k not in ("RefMode",)}
    tm = {k: _num(t, k, wt, integer=k != "tCK", positive=k in ("tCK", "clkMhz")) for k in t}
    pw = {k: _num(p, k, wp, integer=False) for k in p}
    ma = 1000.0 if v5 else 1.0           # DRAMSys 5 gives currents in A, 4.0 in mA
    clock = 1e-6 / tm["tCK"] if v5 else float(tm["clkMhz"])
    bg = arch.get("nbrOfBankGroups", 1)
    ranks, banks = arch["nbrOfRanks"], arch["nbrOfBanks"]
    if banks % bg:
        raise DesignError(f"{wa}: nbrOfBanks {banks} is not a multiple of nbrOfBankGroups {bg}")
    devices = arch["nbrOfDevices" if v5 else "nbrOfDevicesOnDIMM"]
    if arch["dataRate"] != 2:
        raise DesignError(f"{wa}: dataRate must be 2 (double data rate), got {arch['dataRate']}")
    burst_bytes = devices * arch["width"] * arch["burstLength"] // 8
    if burst_bytes != REQUEST_BYTES:
        raise DesignError(f"{wa}: one burst must carry {REQUEST_BYTES} B (nbrOfDevices x width x burstLength / 8), "
                          f"got {burst_bytes} B")
    refm = tm.get("REFM", 1)
    if kind == "DDR4" and refm not in (1, 2, 4):
        raise DesignError(f"{wt}: REFM must be 1, 2 or 4, got {refm}")
    rfc = tm["RFC1" if v5 and refm == 1 else ("RFC" if refm == 1 else f"RFC{refm}")] if kind == "DDR4" else tm["RFC"]
    refi = tm["REFI"] // refm
    if tm["AL"] != 0:
        raise DesignError(f"{wt}: AL (additive latency) must be 0, got {tm['AL']}")
    if tm["RC"] < tm["RAS"] + tm["RP"]:
        raise DesignError(f"{wt}: impossible timing RC {tm['RC']} < RAS {tm['RAS']} + RP {tm['RP']}")
    for k in ("RCD", "RP", "RAS", "RL", "WL", "REFI"):
        if tm[k] <= 0:
            raise DesignError(f"{wt}: {k} must be above 0, got {tm[k]}")
    if rfc >= refi:
        raise DesignError(f"{wt}: impossible timing RFC {rfc} >= REFI {refi}")
    s, l = ("_S", "_L") if kind == "DDR4" else ("", "")
    nbanks = banks // ranks
    if v5:
        cur = {"idd0": pw["idd0"], "idd2n": pw["idd2n"], "idd3n": pw["idd3n"], "idd4r": pw["idd4r"],
               "idd4w": pw["idd4w"], "idd2p": pw.get("idd2p", pw.get("idd2p1")), "idd3p": pw.get("idd3p", pw.get("idd3p1")),
               "idd5": pw.get("idd5B", pw.get("idd5")), "ipp0": pw.get("ipp0", 0.0),
               "idd6": pw.get("idd6n", pw.get("idd6"))}
        cur = {k: v * ma for k, v in cur.items()}
        vpp = pw.get("vpp", 0.0)
        rho = spec.get("bankwisespec", {}).get("factRho", 1.0) if isinstance(spec.get("bankwisespec"), Mapping) else 1.0
        ibeta = pw["iBeta_vdd"] * ma if pw.get("iBeta_vdd", pw["idd0"]) != pw["idd0"] else None
    else:
        cur = {"idd0": pw["idd0"], "idd2n": pw["idd2n"], "idd3n": pw["idd3n"], "idd4r": pw["idd4r"],
               "idd4w": pw["idd4w"], "idd2p": pw["idd2p1"], "idd3p": pw["idd3p1"], "idd5": pw["idd5"],
               "ipp0": pw.get("idd02", 0.0), "idd6": pw["idd6"]}
        vpp, rho, ibeta = pw.get("vdd2", 0.0), 1.0, None
    if not 0.0 <= rho <= 1.0:
        raise DesignError(f"{where}: memspec.bankwisespec.factRho must be in [0, 1], got {rho}")
    std = Standard(
        name=str(spec.get("memoryId", Path(where).stem)), clock_mhz=clock, bankgroups=bg // ranks if kind == "DDR4" else 1,
        banks_per_group=banks // bg, rows=arch["nbrOfRows"], columns=arch["nbrOfColumns"],
        burst_length=arch["burstLength"], devices=devices, width=arch["width"],
        cl=tm["RL"], cwl=tm["WL"], trcd=tm["RCD"], trp=tm["RP"], trp_ab=tm["RP"], tras=tm["RAS"], trc=tm["RC"],
        twr=tm["WR"], trtp=tm["RTP"], trrd_s=tm["RRD" + s], trrd_l=tm["RRD" + l], tfaw=tm["FAW"],
        tccd_s=tm["CCD" + s], tccd_l=tm["CCD" + l], twtr_s=tm["WTR" + s], twtr_l=tm["WTR" + l],
        trfc=rfc, trefi=refi, trfc_pb=max(1, rfc // 2), trefi_pb=max(1, refi // nbanks), txp=tm["XP"],
        tcke=tm["CKE"], trtrs=tm["RTRS"], vdd=pw["vdd"], vpp=vpp, rho=float(rho), ibeta=ibeta, **cur)
    if kind == "DDR4" and bg % ranks:
        raise DesignError(f"{wa}: nbrOfBankGroups {bg} is not a multiple of nbrOfRanks {ranks}")
    return std, arch["nbrOfChannels"], ranks


def _read(path: Path, where: str) -> dict:
    try:
        text = path.read_text()
    except OSError as e:
        raise DesignError(f"{where}: cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DesignError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None


def _sub(sim_path: Path, ref, kind: str, folder4: str, v4: bool):
    """(object, where) for a sub-config: inline object (5), a path relative to the simulation file
    (5), or a file name under <resources>/configs/<folder4>/ (4.0; resources = the simulation's
    grandparent directory, DRAMSys 4.0's layout)."""
    where = f"{sim_path}: simulation.{kind}"
    if isinstance(ref, Mapping):
        return (ref if kind in ref else {kind: ref}), where
    if not isinstance(ref, str) or not ref:
        raise DesignError(f"{where} must be a file name or an object, got {ref!r}")
    candidates = [sim_path.parent / ref]
    if v4:
        candidates.insert(0, sim_path.parent.parent / "configs" / folder4 / ref)
    for c in candidates:
        if c.is_file():
            return _read(c, where), str(c)
    raise DesignError(f"{where}: file {ref!r} not found (looked in {', '.join(str(c.parent) for c in candidates)})")


def _mcconfig(obj, where: str, v4: bool) -> dict:
    _keys(obj, {"mcconfig"}, set(), where)
    return mcconfig_knobs(obj["mcconfig"], where, v4)


def mcconfig_knobs(mc: Mapping, where: str = "mcconfig", v4: bool = True) -> dict:
    """Our controller knobs from the body of a DRAMSys mcconfig (absent keys: DRAMSys 4.0's
    defaults, or DRAMSys 5's with v4=False)."""
    allowed = set(MCCONFIG) | set(FIXED_MC) | IGNORED_MC
    _keys(mc, set(), allowed | {"RequestBufferSizeRead", "RequestBufferSizeWrite", "HighWatermark", "LowWatermark",
                                "BlockingReadDelay", "BlockingWriteDelay", "Gearing"}, f"{where}: mcconfig")
    for k in mc:
        if k not in allowed:
            raise DesignError(f"{where}: mcconfig.{k} (a DRAMSys 5 extension) is not modelled; remove it")
        if k in FIXED_MC and mc[k] != FIXED_MC[k]:
            raise DesignError(f"{where}: mcconfig.{k} = {mc[k]!r} is not modelled; only {FIXED_MC[k]!r} is")
    knobs = {}
    for key, (name, table) in MCCONFIG.items():
        v = mc.get(key, (DEFAULTS_4 if v4 else DEFAULTS_5)[key])
        if isinstance(table, tuple):
            if isinstance(v, bool) or not isinstance(v, int) or not table[0] <= v <= table[1]:
                raise DesignError(f"{where}: mcconfig.{key} must be an integer in [{table[0]}, {table[1]}] "
                                  f"(our model's range), got {v!r}")
            knobs[name] = v
        elif v not in table:
            raise DesignError(f"{where}: mcconfig.{key} {v!r} is not supported; valid: {', '.join(table)}")
        else:
            knobs[name] = table[v]
    return knobs


def _simconfig(obj, where: str) -> dict:
    _keys(obj, {"simconfig"}, set(), where)
    sc = obj["simconfig"]
    _keys(sc, set(), SIMCONFIG, f"{where}: simconfig")
    for k, v in FIXED_SIM.items():
        if k in sc and sc[k] != v:
            raise DesignError(f"{where}: simconfig.{k} = {sc[k]!r} is not modelled; only {v!r} is")
    if "StoreMode" in sc and sc["StoreMode"] not in ("NoStorage", "Store"):
        raise DesignError(f"{where}: simconfig.StoreMode {sc['StoreMode']!r} is not modelled; valid: NoStorage, Store")
    if "AddressOffset" in sc:
        _num(sc, "AddressOffset", f"{where}: simconfig")
    return dict(sc)


def load(path) -> DRAMSysConfig:
    """A DRAMSys simulation file (4.0 or 5) and every sub-config it names, validated as a whole."""
    sim_path = Path(path)
    obj = _read(sim_path, str(sim_path))
    _keys(obj, {"simulation"}, set(), str(sim_path))
    sim = obj["simulation"]
    v4 = isinstance(sim, Mapping) and "thermalconfig" in sim
    _keys(sim, {"memspec", "addressmapping", "mcconfig", "simconfig", "tracesetup"},
          {"simulationid", "thermalconfig"}, f"{sim_path}: simulation")
    refs = {k: _sub(sim_path, sim[k], k, folder, v4) for k, folder in
            (("memspec", "memspecs"), ("addressmapping", "amconfigs"), ("mcconfig", "mcconfigs"),
             ("simconfig", "simulator"))}
    std, channels, ranks = memspec(*refs["memspec"])
    am_obj, am_where = refs["addressmapping"]
    if "addressmapping" in am_obj and isinstance(sim["addressmapping"], Mapping):
        am_obj = {"addressmapping": am_obj["addressmapping"]}
    amap = M.from_json(am_obj, am_where)
    M.check_sizes(amap, std, channels, ranks, am_where)
    knobs = _mcconfig(*refs["mcconfig"], v4)
    sc = _simconfig(*refs["simconfig"])
    traces = []
    for i, entry in enumerate(sim["tracesetup"] if isinstance(sim["tracesetup"], list) else [None]):
        w = f"{sim_path}: simulation.tracesetup[{i}]"
        if not isinstance(entry, Mapping) or "name" not in entry or "clkMhz" not in entry:
            raise DesignError(f"{w} must be an object with 'name' and 'clkMhz'")
        if entry.get("type", "player") != "player":
            raise DesignError(f"{w}: type {entry['type']!r} is not supported; only trace players are")
        _keys(entry, {"name", "clkMhz"}, {"type", "dataLength", "maxPendingReadRequests",
                                          "maxPendingWriteRequests"}, w)
        if entry.get("dataLength", REQUEST_BYTES) != REQUEST_BYTES:
            raise DesignError(f"{w}: dataLength must be {REQUEST_BYTES}, got {entry['dataLength']}")
        traces.append((_trace_path(sim_path, entry["name"], v4), float(_num(entry, "clkMhz", w, integer=False,
                                                                             positive=True))))
    if not traces:
        raise DesignError(f"{sim_path}: simulation.tracesetup lists no trace")
    system = MemorySystem(std, channels, ranks, amap, int(sc.get("AddressOffset", 0)))
    return DRAMSysConfig(str(sim_path), system, knobs, sc, tuple(traces))


def _trace_path(sim_path: Path, name: str, v4: bool) -> str:
    """A trace file next to the configs (4.0: <resources>/traces/), else the name itself, which may
    be one of archgym's built-in traces (ArchGym's stream.stl, random.stl, ... by stem)."""
    for c in ([sim_path.parent.parent / "traces" / name] if v4 else []) + [sim_path.parent / name]:
        if c.is_file():
            return str(c)
    return Path(name).stem if name.endswith(".stl") else name


def example(name: str = "ddr3-example.json") -> Path:
    """A shipped DRAMSys 4.0 simulation file (archgym/data/dramsys/simulations/)."""
    return DATA_DIR / "simulations" / name
