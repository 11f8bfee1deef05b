"""Exact re-implementation of SCALE-Sim 3.0.0's DRAM read counts (CALC mode), for tests.

SCALE-Sim's CALC-mode read buffer (``ReadBufferEstimateBw``) behaves as an *epoch-flush* cache:
every missed address joins a set of ``P = floor(S/100)`` words (S = SRAM size in words); after
50 full sets (``E = 50*P`` misses, half the SRAM) the active window moves past them and every
earlier miss is forgotten. So an access hits iff its address was missed earlier in the current
epoch ``floor(misses_so_far / E)``; DRAM reads = number of misses (the final partial epoch is
flushed too). ``P == 0`` (SRAM < 100 words) never completes a set: every unique address is read
once. Each layer (and each depthwise channel) starts with an empty buffer.

The streams replay SCALE-Sim's demand matrices, operand by operand, in its order: column folds
outer, row folds inner; inside a fold, skewed blocks are read by anti-diagonal lines (line t holds
element (t - c, c) for columns c ascending) and unskewed blocks row by row. Addresses: ifmap is
the im2col of an HWC image (``((r*W + col)*C + ch``, -1 outside the image, which SCALE-Sim skips),
filter is ``n*K + k``. GEMMs are 1x1 convolutions of an M x 1 x K image, exactly as SCALE-Sim
loads them.

Everything here is re-derived from SCALE-Sim's behaviour; no SCALE-Sim code is copied. It matches
SCALE-Sim's ifmap and filter DRAM reads exactly on every fixture layer. Not reproduced: ofmap DRAM
writes (SCALE-Sim's write buffer pads partial lines; ``ofmap_writes`` gives the unpadded count).
Cost: one pass over the accesses (~ms for small layers, ~0.1 s for a large conv on a small array).
"""
import numpy as np
from numba import njit

OS, WS, IS = 0, 1, 2
_INF = 1 << 62


@njit(cache=True)
def epoch_words(words):
    """Misses per epoch E (words) of a read buffer of `words` words (0 means never flushes)."""
    return 50 * (words // 100)


@njit(cache=True, inline="always")
def _touch(last, addr, q, e):
    """One access to `addr` with `q` misses so far; returns the new miss count."""
    ep = q // e
    if last[addr] == ep:
        return q
    last[addr] = ep
    return q + 1


@njit(cache=True, inline="always")
def _ifaddr(m, k, h, w, c, fw, sh, sw, ew):
    """im2col address of ifmap element (m, k), or -1 outside the image."""
    orow = m // ew
    ocol = m - orow * ew
    crow = k // (fw * c)
    rem = k - crow * fw * c
    ccol = rem // c
    ch = rem - ccol * c
    r = orow * sh + crow
    col = ocol * sw + ccol
    if r >= h or col >= w:
        return -1
    return (r * w + col) * c + ch


@njit(cache=True)
def ifmap_reads(rows, cols, df, h, w, c, fh, fw, sh, sw, eh, ew, n, words):
    """SCALE-Sim ifmap DRAM reads (words) of one layer/group; `words` = ifmap SRAM words."""
    m_ = eh * ew
    k_ = fh * fw * c
    e = epoch_words(words)
    if e == 0:
        e = _INF
    last = np.full(h * w * c, -1, np.int64)
    q = 0
    if df == OS:  # folds: N/cols outer, M/rows inner; block K x rw, skewed, col c -> m
        for fc in range((n + cols - 1) // cols):
            for fr in range((m_ + rows - 1) // rows):
                m0 = fr * rows
                rw = min(rows, m_ - m0)
                for t in range(k_ + rw - 1):
                    for cc in range(max(0, t - k_ + 1), min(rw, t + 1)):
                        a = _ifaddr(m0 + cc, t - cc, h, w, c, fw, sh, sw, ew)
                        if a >= 0:
                            q = _touch(last, a, q, e)
    elif df == WS:  # folds: N/cols outer, K/rows inner; block M x rw, skewed, col c -> k
        for fc in range((n + cols - 1) // cols):
            for fr in range((k_ + rows - 1) // rows):
                k0 = fr * rows
                rw = min(rows, k_ - k0)
                for t in range(m_ + rw - 1):
                    for cc in range(max(0, t - m_ + 1), min(rw, t + 1)):
                        a = _ifaddr(t - cc, k0 + cc, h, w, c, fw, sh, sw, ew)
                        if a >= 0:
                            q = _touch(last, a, q, e)
    else:  # IS folds: M/cols outer, K/rows inner; stationary block rw x cw, rows reversed
        for fc in range((m_ + cols - 1) // cols):
            m0 = fc * cols
            cw = min(cols, m_ - m0)
            for fr in range((k_ + rows - 1) // rows):
                k0 = fr * rows
                rw = min(rows, k_ - k0)
                for r in range(rw - 1, -1, -1):
                    for cc in range(cw):
                        a = _ifaddr(m0 + cc, k0 + r, h, w, c, fw, sh, sw, ew)
                        if a >= 0:
                            q = _touch(last, a, q, e)
    return q


@njit(cache=True)
def filter_reads(rows, cols, df, m_, n, k_, words):
    """SCALE-Sim filter DRAM reads (words) of one layer/group; `words` = filter SRAM words."""
    e = epoch_words(words)
    if e == 0:
        e = _INF
    if df == WS:  # every filter word is used by exactly one fold
        return k_ * n
    last = np.full(k_ * n, -1, np.int64)
    q = 0
    if df == OS:  # folds: N/cols outer, M/rows inner; block K x cw, skewed, col c -> n
        for fc in range((n + cols - 1) // cols):
            n0 = fc * cols
            cw = min(cols, n - n0)
            for fr in range((m_ + rows - 1) // rows):
                for t in range(k_ + cw - 1):
                    for cc in range(max(0, t - k_ + 1), min(cw, t + 1)):
                        q = _touch(last, (n0 + cc) * k_ + t - cc, q, e)
    else:  # IS folds: M/cols outer, K/rows inner; block N x rw, skewed, col c -> k
        for fc in range((m_ + cols - 1) // cols):
            for fr in range((k_ + rows - 1) // rows):
                k0 = fr * rows
                rw = min(rows, k_ - k0)
                for t in range(n + rw - 1):
                    for cc in range(max(0, t - n + 1), min(rw, t + 1)):
                        q = _touch(last, (t - cc) * k_ + k0 + cc, q, e)
    return q


def ofmap_writes(rows, cols, df, m_, n, k_):
    """Ofmap DRAM writes (words) without SCALE-Sim's write-buffer padding (a few partial lines)."""
    if df == OS:
        return m_ * n
    return -(-k_ // rows) * m_ * n


def layer_reads(row, rows, cols, df, ifmap_words, filter_words):
    """(ifmap_reads, filter_reads) for one layer-table row, all groups (words)."""
    from archgym.core.workloads.table import C, EH, EW, FH, FW, G, H, K, M, N, SH, SW, W
    g = int(row[G])
    ri = ifmap_reads(rows, cols, df, int(row[H]), int(row[W]), int(row[C]) // g, int(row[FH]),
                     int(row[FW]), int(row[SH]), int(row[SW]), int(row[EH]), int(row[EW]),
                     int(row[N]), ifmap_words)
    rf = filter_reads(rows, cols, df, int(row[M]), int(row[N]), int(row[K]), filter_words)
    return g * ri, g * rf
