"""Memory traces: an int64 array of shape (n, 3), columns (address in bytes, is_write, arrival cycle).

Arrival cycles are non-decreasing. They count cycles of the trace's clock: DRAMSys `.stl` files
(ArchGym's traces) tick at 800 MHz, every other source at the DRAM clock (`TraceFile.clock_mhz`
says which; None means the DRAM clock).

- Generators: `stream`, `random`, `strided`, `mixed` (seeded with `np.random.default_rng`), and
  `reference_trace`, the DRAMSim3 comparison traces of shared/reference/dram.md.
- Readers: DRAMSys `.stl` (`<cycle>:  read|write  0x<addr>`), DRAMSim3 (`0x<addr> READ|WRITE
  <cycle>`) and Ramulator (`0x<addr> R|W`, or `R|W|LD|ST 0x<addr>`; one request per cycle).
  Files are read in chunks (`TraceFile.chunks`), so a huge trace never becomes a Python list; a
  `.gz` suffix is read through gzip. A malformed line raises WorkloadError naming `file:line`.
- Built-in names: ArchGym's traces shipped in archgym/data/traces (`stream`, `random`, `cloud-1`,
  `cloud-2`, `chstone-aes_32`, `mediabench-jpegdecode_32`) and our read/write mix `mix_w33`.
"""
from __future__ import annotations

import gzip
import zlib
import random as _pyrandom
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from archgym.core import validate
from archgym.core.errors import WorkloadError, unknown

LINE_BYTES = 64
MAX_ADDRESS = 2**63 - 1    # addresses are int64
ADDRESS, IS_WRITE, ARRIVAL = range(3)
CHUNK = 1 << 18            # requests per chunk when streaming a file
STL_CLOCK_MHZ = 800.0      # DRAMSys trace-player clock of ArchGym's traces
BUILTIN = ("stream", "random", "cloud-1", "cloud-2", "chstone-aes_32", "mediabench-jpegdecode_32",
           "mix_w33")   # mix_w33: ours, half sequential half random, 33% writes (tests/fixtures/dram/README.md)


# --- generators ----------------------------------------------------------------------------------
def _assemble(addr: np.ndarray, write_fraction: float, gap: int, rng: np.random.Generator) -> np.ndarray:
    if not 0.0 <= write_fraction <= 1.0:
        raise WorkloadError(f"write_fraction must be in [0, 1], got {write_fraction}")
    if gap < 0:
        raise WorkloadError(f"gap must be >= 0 cycles, got {gap}")
    n = len(addr)
    if (n - 1) * gap > validate.MAX_TRACE_CYCLES:
        raise _span_error(f"a trace of {n:,} requests {gap:,} cycles apart", (n - 1) * gap)
    out = np.empty((n, 3), dtype=np.int64)
    out[:, ADDRESS] = addr
    out[:, IS_WRITE] = rng.random(n) < write_fraction
    out[:, ARRIVAL] = np.arange(n, dtype=np.int64) * gap
    return out


def _check_n(n: int) -> int:
    return validate.integer(n, "n (requests of a generated trace)", 1, validate.MAX_TRACE_REQUESTS, WorkloadError)


def strided(n: int, stride: int = LINE_BYTES, *, start: int = 0, gap: int = 1,
            write_fraction: float = 0.0, seed: int = 0) -> np.ndarray:
    """Addresses start, start+stride, ... (bytes); one request every `gap` cycles."""
    n = _check_n(n)
    if stride < 0 or start < 0:
        raise WorkloadError(f"stride and start must be >= 0, got {stride}, {start}")
    addr = start + np.arange(n, dtype=np.int64) * stride
    return _assemble(addr, write_fraction, gap, np.random.default_rng(seed))


def stream(n: int, *, start: int = 0, gap: int = 1, write_fraction: float = 0.0, seed: int = 0) -> np.ndarray:
    """Sequential 64 B lines from `start`."""
    return strided(n, LINE_BYTES, start=start, gap=gap, write_fraction=write_fraction, seed=seed)


def random(n: int, *, span: int = 1 << 30, gap: int = 1, write_fraction: float = 0.0, seed: int = 0) -> np.ndarray:
    """Uniformly random 64 B lines in [0, span) bytes."""
    n = _check_n(n)
    if span < LINE_BYTES:
        raise WorkloadError(f"span must be at least {LINE_BYTES} bytes, got {span}")
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, span // LINE_BYTES, n, dtype=np.int64) * LINE_BYTES
    return _assemble(addr, write_fraction, gap, rng)


def mixed(n: int, *, sequential_fraction: float = 0.5, write_fraction: float = 0.0, span: int = 1 << 30,
          gap: int = 1, seed: int = 0) -> np.ndarray:
    """Each request continues the sequential stream (next 64 B line) with probability
    `sequential_fraction`, else jumps to a random line in [0, span)."""
    n = _check_n(n)
    if not 0.0 <= sequential_fraction <= 1.0:
        raise WorkloadError(f"sequential_fraction must be in [0, 1], got {sequential_fraction}")
    rng = np.random.default_rng(seed)
    lines = span // LINE_BYTES
    jump = rng.random(n) >= sequential_fraction
    jump[0] = True
    targets = rng.integers(0, lines, n, dtype=np.int64)
    # line i = target of the last jump at or before i, plus the distance since that jump
    last = np.maximum.accumulate(np.where(jump, np.arange(n), 0))
    addr = ((targets[last] + np.arange(n) - last) % lines) * LINE_BYTES
    return _assemble(addr, write_fraction, gap, rng)


def reference_trace(kind: str, write_fraction: float = 0.0, n: int = 20000, gap: int = 1) -> np.ndarray:
    """The DRAMSim3/Ramulator comparison traces of dram.md, made with Python `random.Random(1)`:
    address 64*i (stream) or randrange(0, 2**34 // 64) * 64 (random), then WRITE if
    rng.random() < write_fraction; request i arrives at cycle i * gap (DRAM clock)."""
    if kind not in ("stream", "random"):
        raise unknown("reference trace", kind, ("stream", "random"))
    rng = _pyrandom.Random(1)
    out = np.empty((n, 3), dtype=np.int64)
    for i in range(n):  # the reference's own recipe; 20 000 draws of Python's Mersenne Twister
        out[i, ADDRESS] = 64 * i if kind == "stream" else rng.randrange(0, 2**34 // 64) * 64
        out[i, IS_WRITE] = rng.random() < write_fraction
        out[i, ARRIVAL] = i * gap
    return out


GENERATORS = {"stream": stream, "random": random, "strided": strided, "mixed": mixed}


# --- readers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceFile:
    """A trace file read lazily in chunks. `clock_mhz` is the clock of its arrival cycles
    (None: the DRAM clock). `format` is 'stl', 'dramsim3' or 'ramulator'."""
    path: Path
    format: str
    clock_mhz: float | None

    def chunks(self, size: int | None = None) -> Iterator[np.ndarray]:
        """(k, 3) int64 arrays of at most `size` (default CHUNK) requests, in file order."""
        try:
            yield from self._chunks(size or CHUNK)
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:  # gzip's, and binary text
            raise WorkloadError(f"{self.path}: cannot read this {self.format} trace: {_reason(e)}") from None

    def _chunks(self, size: int) -> Iterator[np.ndarray]:
        parse = _PARSERS[self.format]
        buf = np.empty((size, 3), dtype=np.int64)
        k, prev, index = 0, 0, 0
        with _open_text(self.path) as f:
            for lineno, line in enumerate(f, 1):
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                try:
                    addr, is_write, cycle = parse(s.split(), index)
                except (ValueError, IndexError, KeyError):
                    raise WorkloadError(f"{self.path}:{lineno}: malformed {self.format} trace line {s[:60]!r}; "
                                        f"expected {_EXPECTED[self.format]}") from None
                if addr < 0 or cycle < 0:
                    raise WorkloadError(f"{self.path}:{lineno}: negative address or cycle in {s[:60]!r}")
                if addr > MAX_ADDRESS:
                    raise WorkloadError(f"{self.path}:{lineno}: address {addr:#x} is beyond 64-bit addresses")
                if cycle > validate.MAX_TRACE_CYCLES:
                    raise _span_error(f"{self.path}:{lineno}", cycle)
                if cycle < prev:
                    raise WorkloadError(f"{self.path}:{lineno}: arrival cycle {cycle} is before the previous "
                                        f"request's {prev}; trace cycles must be non-decreasing")
                buf[k] = addr, is_write, cycle
                prev, k, index = cycle, k + 1, index + 1
                if k == size:
                    yield buf.copy()
                    k = 0
        if index == 0:
            raise WorkloadError(f"{self.path}: empty trace (no requests)")
        if k:
            yield buf[:k].copy()

    def load(self) -> np.ndarray:
        """The whole trace as one array."""
        return np.concatenate(list(self.chunks()))


def _parse_stl(tok: list[str], index: int):
    if not tok[0].endswith(":"):
        raise ValueError
    return int(tok[2], 0), _direction(tok[1]), int(tok[0][:-1])


def _parse_dramsim3(tok: list[str], index: int):
    if len(tok) != 3:
        raise ValueError
    return int(tok[0], 0), _direction(tok[1]), int(tok[2])


def _parse_ramulator(tok: list[str], index: int):
    if len(tok) != 2:
        raise ValueError
    if tok[0].lower().startswith("0x"):
        return int(tok[0], 16), _direction(tok[1]), index
    return int(tok[1], 0), _direction(tok[0]), index


def _direction(word: str) -> int:
    return {"read": 0, "write": 1, "r": 0, "w": 1, "ld": 0, "st": 1}[word.lower()]


_PARSERS = {"stl": _parse_stl, "dramsim3": _parse_dramsim3, "ramulator": _parse_ramulator}
_EXPECTED = {"stl": "'<cycle>:<tab>read|write<tab>0x<address>'",
             "dramsim3": "'0x<address> READ|WRITE <cycle>'",
             "ramulator": "'0x<address> R|W' or 'R|W|LD|ST 0x<address>'"}


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def _reason(e: BaseException) -> str:
    if isinstance(e, UnicodeDecodeError):
        return "it is not a text file"
    if isinstance(e, EOFError):
        return "the compressed file is truncated"
    return str(e) or type(e).__name__


def _span_error(where: str, cycle: int) -> validate.LimitError:
    return validate.LimitError(
        f"{where}: arrival cycle {cycle:,} is beyond the limit of {validate.MAX_TRACE_CYCLES:,} cycles (idle gaps this "
        f"long make the DRAM model step through every refresh interval; archgym.core.validate.MAX_TRACE_CYCLES)")


def sniff(path: Path) -> str:
    """Guess a trace file's format from its first request line."""
    try:
        return _sniff(path)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
        raise WorkloadError(f"{path}: cannot read this trace: {_reason(e)}") from None


def _sniff(path: Path) -> str:
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            tok = line.split()
            if not tok or tok[0].startswith("#"):
                continue
            if tok[0].endswith(":"):
                return "stl"
            if len(tok) == 3:
                return "dramsim3"
            if len(tok) == 2:
                return "ramulator"
            raise WorkloadError(f"{path}:{lineno}: unrecognised trace line {line.strip()[:60]!r}; expected "
                                f"DRAMSys .stl, DRAMSim3 or Ramulator format")
    raise WorkloadError(f"{path}: empty trace (no requests)")


def open_trace(source: str | Path) -> TraceFile:
    """A built-in trace name or a file path -> TraceFile (format sniffed from its content)."""
    if isinstance(source, str) and source in BUILTIN:
        path = Path(str(resources.files("archgym").joinpath("data", "traces", f"{source}.stl.gz")))
        return TraceFile(path, "stl", STL_CLOCK_MHZ)
    path = Path(source)
    if not path.is_file():
        raise unknown("trace (not a built-in name or a file)", str(source), BUILTIN)
    fmt = sniff(path)
    return TraceFile(path, fmt, STL_CLOCK_MHZ if fmt == "stl" else None)


def check(trace) -> np.ndarray:
    """Validate an in-memory trace: int (n, 3), n >= 1, non-negative, is_write in {0, 1}, and
    arrival cycles non-decreasing (traces are sorted by arrival). Returns it as int64."""
    arr = np.asarray(trace)
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.dtype.kind not in "iub":
        raise WorkloadError(f"a trace array must be integer with shape (n, 3) (address, is_write, arrival_cycle), "
                            f"got dtype {arr.dtype} shape {arr.shape}")
    if len(arr) == 0:
        raise WorkloadError("empty trace (no requests)")
    if arr.dtype.kind == "u" and arr.max() > MAX_ADDRESS:
        raise WorkloadError("trace values must fit in int64")
    arr = arr.astype(np.int64, copy=False)
    if (arr[:, ADDRESS] < 0).any() or (arr[:, ARRIVAL] < 0).any():
        raise WorkloadError(f"trace request {int(np.argmax((arr[:, ADDRESS] < 0) | (arr[:, ARRIVAL] < 0)))} "
                            f"has a negative address or arrival cycle")
    if not np.isin(arr[:, IS_WRITE], (0, 1)).all():
        raise WorkloadError("trace column is_write must hold only 0 and 1")
    if arr[:, ARRIVAL].max() > validate.MAX_TRACE_CYCLES:
        i = int(np.argmax(arr[:, ARRIVAL] > validate.MAX_TRACE_CYCLES))
        raise _span_error(f"trace request {i}", int(arr[i, ARRIVAL]))
    down = np.flatnonzero(np.diff(arr[:, ARRIVAL]) < 0)
    if len(down):
        i = int(down[0]) + 1
        raise WorkloadError(f"trace arrival cycles must be non-decreasing: request {i} arrives at cycle "
                            f"{arr[i, ARRIVAL]}, after request {i - 1} at cycle {arr[i - 1, ARRIVAL]}")
    return arr
