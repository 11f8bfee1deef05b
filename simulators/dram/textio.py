"""Fast reading of DRAMSim3 (`0x<addr> READ|WRITE <cycle>`) and DRAMSys .stl (`<cycle>: read|write
0x<addr>`) text traces: a numba parser over raw byte blocks, for the end-to-end path of a simulation.

The reference reader, archgym.core.workloads.traces.TraceFile, parses one line per Python loop
iteration (about 1 us per request, more than the kernel itself). This reader accepts only the
strict common form of each line (one space/tab-separated token each, hex or decimal address,
decimal cycle, read/write/r/w/ld/st in any case, '\n' endings) with the same checks (address
within int64, cycle within MAX_TRACE_CYCLES, cycles non-decreasing). At the first line outside
that form it hands the rest of the file to the reference reader, which parses it or raises its
own error naming file:line, so results and errors are the reference's (tests/test_dram_stream.py).
"""
from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

import numpy as np
from numba import njit

from archgym.core import validate
from archgym.core.workloads import traces as tr

LINE_BYTES = 32             # bytes read per chunk row (a DRAMSim3 line of a 16 GiB trace is about 25)
MAX_ADDRESS = tr.MAX_ADDRESS
FORMATS = {"dramsim3": 0, "stl": 1}


@njit(cache=True, _nrt=False, forceinline=True)
def _blank(b):
    return b == 32 or b == 9


@njit(cache=True, _nrt=False, forceinline=True)
def _gap(buf, i, end):
    """The index after the blanks at buf[i:], or -1 if there is none."""
    if i >= end or not _blank(buf[i]):
        return -1
    while i < end and _blank(buf[i]):
        i += 1
    return i


@njit(cache=True, _nrt=False, forceinline=True)
def _number(buf, i, end, hex_ok):
    """(value, next index) of the number at buf[i:]; value -1 if not a number (or >= 2^63)."""
    if hex_ok and i + 2 < end and buf[i] == 48 and (buf[i + 1] == 120 or buf[i + 1] == 88):
        i += 2
        v = np.int64(0)
        n = 0
        while i < end:
            b = buf[i]
            if 48 <= b <= 57:
                d = b - 48
            elif 97 <= b <= 102:
                d = b - 87
            elif 65 <= b <= 70:
                d = b - 55
            else:
                break
            if v > (MAX_ADDRESS >> 4):
                return -1, i
            v = v * 16 + d
            n += 1
            i += 1
        return (v if n else -1), i
    if hex_ok and i + 1 < end and buf[i] == 48 and 48 <= buf[i + 1] <= 57:
        return -1, i                                   # int(x, 0) refuses leading zeros
    v = np.int64(0)
    n = 0
    while i < end and 48 <= buf[i] <= 57:
        if v > (MAX_ADDRESS - 9) // 10:
            return -1, i
        v = v * 10 + (buf[i] - 48)
        n += 1
        i += 1
    return (v if n else -1), i


@njit(cache=True, _nrt=False, forceinline=True)
def _direction(buf, i, end):
    """(0 read / 1 write / -1 other, next index) of read|write|r|w|ld|st in any case."""
    j = i
    while j < end and not _blank(buf[j]) and buf[j] != 10:
        j += 1
    n = j - i
    w = np.int64(0)
    for k in range(i, j):
        w = w * 256 + (buf[k] | 32)                  # lower case
    if (n == 4 and w == 0x72656164) or (n == 1 and w == 0x72) or (n == 2 and w == 0x6C64):   # read, r, ld
        return 0, j
    if (n == 5 and w == 0x7772697465) or (n == 1 and w == 0x77) or (n == 2 and w == 0x7374):  # write, w, st
        return 1, j
    return -1, j


@njit(cache=True, _nrt=False, nogil=True)
def parse(buf, fmt, out, prev, max_cycle):
    """Parse the complete lines of buf into out rows (address, is_write, cycle) until out is full.
    Returns (rows parsed, bytes consumed, last cycle, ok); ok is False at the first line outside
    the strict form or failing a check (rows and bytes then stop before that line)."""
    end = buf.shape[0]
    i = 0
    k = 0
    while i < end and k < out.shape[0]:
        start = i
        if fmt == 0:                                   # 0x<addr> <dir> <cycle>
            a, i = _number(buf, i, end, True)
            c = 0
        else:                                          # <cycle>: <dir> <addr>
            c, i = _number(buf, i, end, False)
            a = 0 if i < end and buf[i] == 58 else -1
            i += 1
        i = _gap(buf, i, end)
        if a < 0 or c < 0 or i < 0:
            return k, start, prev, False
        w, i = _direction(buf, i, end)
        i = _gap(buf, i, end)
        if w < 0 or i < 0:
            return k, start, prev, False
        if fmt == 0:
            c, i = _number(buf, i, end, False)
        else:
            a, i = _number(buf, i, end, True)
        while i < end and _blank(buf[i]):
            i += 1
        if a < 0 or c < 0 or c > max_cycle or c < prev or i >= end or buf[i] != 10:
            return k, start, prev, False
        i += 1
        out[k, 0] = a
        out[k, 1] = w
        out[k, 2] = c
        prev = c
        k += 1
    return k, i, prev, True


def chunks(f: tr.TraceFile) -> Iterator[np.ndarray]:
    """The (k, 3) int64 rows of a trace file in order, parsed here where the lines allow, else by
    the reference reader (see the module docstring)."""
    if f.format not in FORMATS:
        yield from f.chunks()
        return
    done = 0
    try:
        with (gzip.open(f.path, "rb") if f.path.suffix == ".gz" else open(f.path, "rb")) as h:
            rest, prev, ok = b"", 0, True
            out = np.empty((tr.CHUNK, 3), np.int64)     # at most CHUNK rows a chunk, as the reference reader
            while ok:
                block = h.read(tr.CHUNK * LINE_BYTES)
                data = rest + block
                if not block:                           # the last line may lack its newline
                    data += b"" if data.endswith(b"\n") or not data else b"\n"
                cut = data.rfind(b"\n") + 1
                buf = np.frombuffer(data, np.uint8, cut)
                pos = 0
                while ok and pos < cut:
                    k, used, prev, ok = parse(buf[pos:], FORMATS[f.format], out, prev, validate.MAX_TRACE_CYCLES)
                    pos += used
                    if k:
                        done += k
                        yield out[:k].copy()
                rest = data[cut:]
                if not block:
                    if ok and done:
                        return
                    break
    except (OSError, EOFError, zlib.error):
        pass
    skip = done                   # the reference reader parses the rest, or raises its error
    for c in f.chunks():
        if skip < len(c):
            yield c[skip:]
        skip = max(skip - len(c), 0)
