"""DRAM traffic of one GEMM on a systolic array: an explicit tiling/reuse model of SCALE-Sim 3.0.0.

Counts are words (SCALE-Sim: 1 word = 1 byte) for ONE group; the caller multiplies by the groups.
Closed form, O(1) per layer (~20 ns; no per-fold or per-access loops).

Buffer. SCALE-Sim's CALC-mode read buffer groups missed words into sets of floor(S/100) (S = SRAM
words) and, after 50 sets, moves its active half past them: reuse survives only inside an *epoch*
of E = 50*floor(S/100) (~S/2) fetched words. So reads = misses = sum over epochs of the distinct
words each epoch's stretch of the stream touches. The model: misses = A*E/L*, where A is the number
of accesses and L* the stream length whose footprint (distinct words) is E.

Streams (R x C array; column folds outer, row folds inner, for every dataflow):
- os: the ifmap (M x K im2col) is re-streamed once per column fold (ceil(N/C) passes); a fold is R
  output pixels read tap by tap (k order), skewed by one line per array row. A K x C filter block is
  re-read by the ceil(M/R) row folds of its column fold.
- ws: the ifmap is re-streamed once per column fold; a fold is an R-wide slice of K read over all M
  pixels (skewed). Each filter word is read once (K*N).
- is: each im2col element is read once (overlapping windows still share words); a fold is C output
  pixels read tap by tap, unskewed. The whole filter (K*N) is re-streamed per column fold
  (ceil(M/C) passes).

Ifmap reuse (conv window overlap). Pixels are HWC, im2col address ((oy*sh + a)*W + ox*sw + b)*C
+ ch, so neighbouring outputs share words through taps (a, b). Per axis, n outputs spaced s apart
with t taps each touch min(n*t, (n-1)*s + t) pixels; footprints are products of these unions.
- U (compulsory) = touched rows x touched columns x C (windows hanging past the ceil-rule edge read
  nothing there). U < E: everything fits, reads = U (exact). No window overlap (1x1, stride >= filter,
  GEMMs): every pass re-reads everything, reads = passes * valid accesses (exact). Passes are a whole
  pass apart, so when U >= E they never share an epoch.
- Fold fits (F_fold <= E): epochs span several folds. L* comes from the footprint of n consecutive
  output pixels (os/is) or kappa consecutive k values (ws, averaged over the slice offset: a slice
  straddling two filter rows pays both halos unless the rows share pixel rows), rescaled so that a
  whole pass holds exactly U.
- Fold does not fit: epochs cut folds; every fold (full and partial) costs max(F_fold, A_fold*E/L*).
  L* blends two window footprints: the *stationary* one, F_fold/T_fold * (lam + sum over a word's
  reuse gaps of min(lam, gap)), where a word's uses form a lattice of output-row and tap-column steps
  costing |Ew - sh*fw*C| and |1 - sw*C| lines under the skew (os, ws) or sh*fw*C and sw*C k steps
  (is); and the *aligned* output-pixel x k box from the fold start (epochs lock onto fold starts).
  ws uses the stationary window (its folds are long); is weights the box 0.8; os weights the box by
  1 - 3*(skew ramp share of the fold's lines) (log-linear blend of the two L*).
All footprints are piecewise linear between a few nodes, so L* is found by one scan + interpolation.

Filters are exact: os blocks of B = K*C words, each re-read ceil(M/R) times, either never fit
(B >= E: every access misses) or refetch E - f words when the block fills the epoch at fill f
(periodic in the block index, closed form); is repeats the whole filter (all-miss iff K*N >= E and
ceil(M/C) > 1); ws reads K*N. Ofmap writes: os M*N, ws/is ceil(K/R)*M*N (every partial sum is
written; SCALE-Sim's write buffer pads < 4*C words more).

Limits. SCALE-Sim's epoch flush phase-locks onto the fold structure, so its counts are not monotone
in SRAM size (e.g. ws, stride-2 layers, many column folds: the last filter row of one pass and the
first of the next share pixel rows). This model is monotone (more SRAM never adds traffic) and runs
between those resonances; see tests/test_systolic_dram.py for the measured error distribution.
"""
import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _epoch(words):
    """Epoch E (words): 50 sets of floor(S/100). Below 100 words SCALE-Sim never completes a set and
    never flushes (an unbounded buffer); we use S/2 there instead, so less SRAM never helps."""
    if words >= 100:
        return 50.0 * math.floor(words / 100.0)
    return max(words, 1) * 0.5


@njit(cache=True, inline="always")
def _u1(no, s, nt, size):
    """Distinct pixels along one axis: `no` outputs spaced `s` apart, `nt` taps each, clipped."""
    v = no * nt if nt <= s else (no - 1.0) * s + nt
    return min(size, v)


@njit(cache=True, inline="always")
def _span(e, f, s, size):
    """(valid output-tap pairs, touched pixels) along one axis (no padding, SCALE-Sim ceil rule)."""
    v = e * f
    j0 = math.floor((size - f) / s) + 1.0 if size >= f else 0.0  # first window past the edge
    if j0 < e:  # SCALE-Sim skips (-1) the addresses of windows hanging over the edge
        j1 = min(e, math.ceil(size / s))  # windows from j1 on lie entirely outside
        if j1 > j0:
            v -= (j1 - j0) * ((j0 * s + f - size) + ((j1 - 1.0) * s + f - size)) * 0.5
        v -= f * (e - j1)
    t = v if s >= f else min(size, (e - 1.0) * s + f)
    return max(v, 1.0), max(t, 1.0)


@njit(cache=True, inline="always")
def _lattice_solve(q, na, nb, a, b):
    """lam >= 0 with lam + sum over a word's reuse gaps of min(lam, gap) = q (na x nb uses)."""
    if na * nb <= 1.0:
        return q
    if a >= (nb - 1.0) * b:  # output-row steps (a) do not interleave with tap-column steps (b)
        p, r, a2 = na * (nb - 1.0), na - 1.0, a - (nb - 1.0) * b
        if b <= a2:
            x1, x2, s1 = b, a2, 1.0 + r
        else:
            x1, x2, s1 = a2, b, 1.0 + p
        s0 = 1.0 + p + r
        f1 = s0 * x1
        if q <= f1:
            return q / s0
        f2 = f1 + s1 * (x2 - x1)
        if q <= f2:
            return x1 + (q - f1) / s1
        return x2 + (q - f2)
    cnt = na * nb - 1.0
    g = ((na - 1.0) * a + (nb - 1.0) * b) / cnt  # interleaved: mean gap
    if q <= (1.0 + cnt) * g:
        return q / (1.0 + cnt)
    return q - cnt * g


# ---- footprints (words) -------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _fm(n, h, w, c, fh, fw, sh, sw, ew, tx):
    """Footprint of n consecutive output pixels x all taps."""
    if n < ew:
        return min(fh, h) * _u1(n, sw, fw, w) * c
    return _u1(n / ew, sh, fh, h) * tx * c


@njit(cache=True)
def _fm_solve(e, lo, hi, corr, u, h, w, c, fh, fw, sh, sw, ew, tx):
    """n in [lo, hi] with min(u, _fm(n) + corr*n) = e (linear between the nodes), hi if never."""
    nw = (w - fw) / sw + 1.0 if sw <= fw else w / fw  # one output row reaches the image width
    nh = ((h - fh) / sh + 1.0 if sh <= fh else h / fh) * ew  # rows reach the image height
    px, pd = lo, min(u, _fm(lo, h, w, c, fh, fw, sh, sw, ew, tx) + corr * lo)
    if pd >= e:
        return lo
    for x in (nw, float(ew), nh, hi):
        if x <= px:
            continue
        x = min(x, hi)
        d = min(u, _fm(x, h, w, c, fh, fw, sh, sw, ew, tx) + corr * x)
        if d >= e:
            return px + (x - px) * (e - pd) / (d - pd)
        px, pd = x, d
    return hi


@njit(cache=True, inline="always")
def _box_solve(e, n, h, w, c, fh, fw, sh, sw, ew):
    """k-range kap whose aligned box (n output pixels x first kap k values) has footprint e."""
    if n > ew:
        orow, ocol = n / ew, float(ew)
    else:
        orow, ocol = 1.0, n
    ro, co = min(h, orow), min(w, ocol)
    if e <= ro * co * c:  # inside one tap: every (pixel, channel) distinct
        return e / (ro * co)
    cols = e / (ro * c)  # one filter row: columns needed
    cf = _u1(ocol, sw, fw, w)
    if cols <= cf:
        tau = cols / ocol if cols <= ocol * sw else cols - (ocol - 1.0) * sw
        return max(tau, 1.0) * c
    rows = e / (cf * c)  # several filter rows
    ta = rows / orow if rows <= orow * sh else rows - (orow - 1.0) * sh
    return max(ta, 1.0) * fw * c


@njit(cache=True, inline="always")
def _fr(x, ry, w, c, ew, sw):
    """Footprint of x consecutive k values inside one filter row (ry valid pixel rows)."""
    return ry * c * _u1(ew, sw, x / c, w)


@njit(cache=True, inline="always")
def _ifr(x, ry, w, c, ew, sw):
    """Integral of _fr from 0 to x."""
    t = x / c
    tw = w / ew if w <= ew * sw else w - (ew - 1.0) * sw  # taps at which a row clips at W
    tt = min(t, tw)
    if tt <= sw:
        v = ew * tt * tt * 0.5
    else:
        v = ew * sw * sw * 0.5 + (ew - 1.0) * sw * (tt - sw) + (tt * tt - sw * sw) * 0.5
    if t > tw:
        v += w * (t - tw)
    return ry * c * c * v


@njit(cache=True, inline="always")
def _fk(kap, p, aligned, ry, h, w, c, fh, fw, sh, sw, ew, tx):
    """Footprint of kap consecutive k values x all outputs.

    p: probability that a window shorter than one filter row straddles two rows (kap/(fw*C) for a
    random offset); aligned: the window is whole filter rows (else its offset is random).
    """
    t = fw * c
    ta = kap / t
    if sh == 1.0:  # neighbouring filter rows share all but one pixel row: straddling is cheap
        if kap < t:
            return _fr(kap, ry, w, c, ew, sw)
        return min(h, ry - 1.0 + ta) * tx * c
    if kap < t:  # a straddling slice pays the halo of both of its parts
        return (1.0 - p) * _fr(kap, ry, w, c, ew, sw) + p * 2.0 * _ifr(kap, ry, w, c, ew, sw) / kap
    if aligned:
        es, nr = ta * _fr(t, ry, w, c, ew, sw), ta
    else:  # partial filter rows at both ends
        es, nr = 2.0 * _ifr(t, ry, w, c, ew, sw) / t + (ta - 1.0) * _fr(t, ry, w, c, ew, sw), ta + 1.0
    if sh < fh:  # filter rows sh apart share pixel rows
        es *= _u1(ry, sh, nr, 1e300) / (nr * ry)
    return es


@njit(cache=True)
def _fk_solve(e, lo, hi, corr, u, ry, h, w, c, fh, fw, sh, sw, ew, tx):
    """kap in [lo, hi] with min(u, _fk(kap) + corr*kap) = e (linear between nodes), hi if never."""
    t = fw * c
    tw = (w / ew if w <= ew * sw else w - (ew - 1.0) * sw) * c
    x4 = (h - ry + 1.0) * t if sh == 1.0 else (sh - 1.0) * t
    px, pd = lo, min(u, _fk(lo, lo / t, False, ry, h, w, c, fh, fw, sh, sw, ew, tx) + corr * lo)
    if pd >= e:
        return lo
    for x in (sw * c, tw, t, x4, hi):
        if x <= px:
            continue
        x = min(x, hi)
        d = min(u, _fk(x, x / t, False, ry, h, w, c, fh, fw, sh, sw, ew, tx) + corr * x)
        if d >= e:
            return px + (x - px) * (e - pd) / (d - pd)
        px, pd = x, d
    return hi


@njit(cache=True, inline="always")
def _slice_straddle(s, t, fh, k):
    """Fraction of the k slices (s < t values) that straddle a filter-row boundary."""
    a, b = s, t
    while b > 0:  # gcd
        a, b = b, a % b
    inner = (fh - 1) - (fh - 1) // (s // a)  # row boundaries not on a slice boundary
    return min(1.0, max(0.0, inner * s / k))


# ---- ifmap: epochs inside one fold --------------------------------------------------------------

@njit(cache=True)
def _fold_os_is(e, ss, skew, k, h, w, c, fh, fw, sh, sw, ew, tx):
    """Reads of one os/is fold of ss output pixels x all k (accesses ss*k)."""
    ff = _fm(ss, h, w, c, fh, fw, sh, sw, ew, tx)
    if e >= ff:
        return ff
    if ss > ew:
        orow, ocol = ss / ew, float(ew)
    else:
        orow, ocol = 1.0, ss
    na = orow * fh / _u1(orow, sh, fh, h)  # uses of a word inside the fold, per axis
    nb = ocol * fw / _u1(ocol, sw, fw, w)
    af = ss * k
    if skew:  # os: line t reads (pixel j, k = t - j); reuse steps cost these many lines
        a, b = abs(ew - sh * fw * c), abs(1.0 - sw * c)
        tl = k + ss - 1.0
    else:  # is: k-major, no skew
        a, b = sh * fw * c, sw * c
        tl = k
    l_st = _lattice_solve(e * tl / ff, na, nb, a, b) * af / tl  # stationary window
    if (not skew) or k >= ss:  # aligned window: k-major box over the fold's pixels
        l_al = min(k, _box_solve(e, ss, h, w, c, fh, fw, sh, sw, ew)) * ss
    else:  # a skewed fold wider than K runs pixel-major
        l_al = _fm_solve(e, 1.0, ss, 0.0, ff, h, w, c, fh, fw, sh, sw, ew, tx) * k
    # Epochs lock onto fold starts (aligned box) unless the skew ramp (ss of the tl lines) mixes
    # pixels and taps (stationary lattice); log-linear blend of the two window lengths.
    wal = max(0.0, 1.0 - 3.0 * ss / tl) if skew else 0.8
    lx = math.exp((1.0 - wal) * math.log(max(l_st, 1e-9)) + wal * math.log(max(l_al, 1e-9)))
    return max(ff, af * e / lx)


@njit(cache=True)
def _fold_ws(e, ss, p, aligned, m, ry, h, w, c, fh, fw, sh, sw, eh, ew, tx, vx):
    """Reads of one ws fold (a k slice of ss values over all m outputs)."""
    ff = _fk(ss, p, aligned, ry, h, w, c, fh, fw, sh, sw, ew, tx)
    if e >= ff:
        return ff
    af = ss * m
    t = fw * c
    if ss <= c:
        na, nb = 1.0, 1.0
    elif ss < t:
        na, nb = 1.0, max(1.0, af / ff)
    else:
        ta = ss / t
        na, nb = eh * ta / _u1(eh, sh, ta, h), vx / tx
    tl = m + ss - 1.0
    lam = _lattice_solve(e * tl / ff, na, nb, abs(ew - sh * fw * c), abs(1.0 - sw * c))
    return max(ff, af * e / max(lam * af / tl, 1e-9))


@njit(cache=True)
def ifmap_reads(rows, cols, dataflow, m, n, k, h, w, c, fh, fw, sh, sw, eh, ew, words):
    """Ifmap DRAM reads (words) of one group; `words` = ifmap SRAM capacity in words."""
    e = _epoch(words)
    tk, fh_ = fw * c, fh  # integer filter-row length (k values)
    h, w, c, fh, fw = float(h), float(w), float(c), float(fh), float(fw)
    sh, sw, eh, ew, fm_, fk_ = float(sh), float(sw), float(eh), float(ew), float(m), float(k)
    vy, ty = _span(eh, fh, sh, h)
    vx, tx = _span(ew, fw, sw, w)
    u = ty * tx * c
    if u < e:  # everything fits: compulsory only
        return u
    n1 = vy * vx * c  # valid accesses per pass
    passes = 1.0 if dataflow == 2 else math.ceil(n / cols)
    ntot = passes * n1
    if vy == ty and vx == tx:  # no window overlap: every pass re-reads every word
        return ntot
    vfrac = n1 / (fm_ * fk_)
    # Epochs inside folds: every fold (full ones and the partial last one) pays at least its footprint.
    # Epochs across folds (once E exceeds a random window of one fold): the multi-fold footprint.
    # Both are non-increasing in E; taking the smaller keeps the switch continuous and monotone.
    if dataflow != 1:
        s = float(min(rows if dataflow == 0 else cols, m))
        nfull = math.floor(fm_ / s)
        rem = fm_ - nfull * s
        tot = nfull * _fold_os_is(e, s, dataflow == 0, fk_, h, w, c, fh, fw, sh, sw, ew, tx)
        if rem > 0.0:
            tot += _fold_os_is(e, rem, dataflow == 0, fk_, h, w, c, fh, fw, sh, sw, ew, tx)
        miss = passes * tot
        corr = (u - _fm(fm_, h, w, c, fh, fw, sh, sw, ew, tx)) / fm_  # a whole pass holds exactly u
        if e >= min(u, _fm(s, h, w, c, fh, fw, sh, sw, ew, tx) + corr * s):
            npx = _fm_solve(e, s, fm_, corr, u, h, w, c, fh, fw, sh, sw, ew, tx)
            miss = min(miss, ntot * e / (npx * fk_ * vfrac))
    else:
        si = min(rows, k)
        s = float(si)
        ry = vy / fh  # valid pixel rows per filter row
        t = fw * c
        if si < tk:  # slices shorter than a filter row: the fraction that straddles one
            p = _slice_straddle(si, tk, fh_, k)
        else:
            p = 1.0
        aligned = si % tk == 0
        nfull = math.floor(fk_ / s)
        rem = fk_ - nfull * s
        tot = nfull * _fold_ws(e, s, p, aligned, fm_, ry, h, w, c, fh, fw, sh, sw, eh, ew, tx, vx)
        if rem > 0.0:
            tot += _fold_ws(e, rem, rem / t, False, fm_, ry, h, w, c, fh, fw, sh, sw, eh, ew, tx, vx)
        miss = passes * tot
        corr = (u - _fk(fk_, 1.0, False, ry, h, w, c, fh, fw, sh, sw, ew, tx)) / fk_  # pass holds u
        if e >= min(u, _fk(s, s / t, False, ry, h, w, c, fh, fw, sh, sw, ew, tx) + corr * s):
            kap = _fk_solve(e, s, fk_, corr, u, ry, h, w, c, fh, fw, sh, sw, ew, tx)
            miss = min(miss, ntot * e / (kap * fm_ * vfrac))
    return min(ntot, max(u, miss))


@njit(cache=True, inline="always")
def _os_blocks(nb, b, fr, e):
    """Reads of nb consecutive os filter blocks of b words, each re-read by fr >= 2 row folds.

    b >= E: every access misses. Else each block misses once, and the block that fills the epoch
    refetches its head. SCALE-Sim's exact count is the sawtooth nb*b + floor((nb-1)/j)*(E - j*b),
    j = ceil(E/b) - 1 (the fill restarts at b after every refetch); we take the mean over E of that
    tooth, floor((nb-1)/j)*b/2, which keeps the model monotone in E.
    """
    if nb <= 0.0:
        return 0.0
    if b >= e:
        return nb * fr * b
    j = math.ceil(e / b) - 1.0
    return nb * b + math.floor((nb - 1.0) / j) * b * 0.5


@njit(cache=True)
def filter_reads(rows, cols, dataflow, m, n, k, words):
    """Filter DRAM reads (words) of one group: exact for ws, is, and os when blocks fit (no re-read)
    or never fit; otherwise the mean of SCALE-Sim's sawtooth (see _os_blocks)."""
    e = _epoch(words)
    kn = float(k) * n
    if dataflow == 1:  # ws reads each filter word once
        return kn
    if dataflow == 2:  # the whole filter once per column fold (ceil(M/cols) passes)
        p = math.ceil(m / cols)
        return kn if (kn < e or p == 1.0) else p * kn
    fr = math.ceil(m / rows)  # os: block K x cols re-read by every row fold
    if fr == 1.0:
        return kn
    nb = math.floor(n / cols)
    br = float(k) * (n - nb * cols)  # the last, narrower block
    tot = _os_blocks(nb, float(k) * cols, fr, e)
    if br >= e:
        tot += fr * br
    elif br > 0.0:  # it fills the epoch with probability ~br/E and then refetches ~br/2
        tot += br * (1.0 + 0.5 * br / e)
    return tot


@njit(cache=True)
def dram_traffic(rows, cols, dataflow, m, n, k, kind, h, w, c_per_group, fh, fw, sh, sw, eh, ew,
                 ifmap_words, filter_words, ofmap_words):
    """(ifmap_reads, filter_reads, ofmap_writes) in words for one group's GEMM.

    dataflow 0=os, 1=ws, 2=is; kind 0=conv, 1=linear, 2=matmul (GEMMs are 1x1 convolutions of an
    M x 1 x K image, so they take the same path); *_words = SRAM capacities in words.
    """
    if m <= 0 or n <= 0 or k <= 0:
        return 0, 0, 0
    ri = ifmap_reads(rows, cols, dataflow, m, n, k, h, w, c_per_group, fh, fw, sh, sw, eh, ew,
                     ifmap_words)
    ri = np.int64(ri + 0.5)
    rf = np.int64(filter_reads(rows, cols, dataflow, m, n, k, filter_words) + 0.5)
    if dataflow == 0:
        wo = m * n
    else:
        wo = (k + rows - 1) // rows * m * n
    return ri, rf, wo
