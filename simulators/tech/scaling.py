"""Logic energy and area across technology nodes: Stillmaker & Baas (2017), as Accelergy applies it.

Source: A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration 58 (2017) 74-81, doi:10.1016/j.vlsi.2017.02.002.
Energy at node n and supply V is the paper's fitted polynomial a*V^2 + b*V + c; area follows its
node-to-node ratio table. The coefficients and the choice of rows (bulk 130-65 nm, LP 45 and 32 nm,
HP 20-7 nm) are those of Accelergy's library plug-in (Accelergy-Project/accelergy-library-plug-in
@ba4e9dac, scaling.py, MIT), checked value by value against wromaszkan/nodeScale @0676b74e (MIT).
Between tabulated nodes both tables are interpolated linearly in the node's position in the list,
as that plug-in does, so our scale factors reproduce Accelergy's (45 -> 32 nm at 0.8 V: 0.6593,
the factor in timeloop-accelergy-exercises' eyeriss_like accelergy.log). Outside 7..130 nm: an error.
"""
from __future__ import annotations

import math

from archgym.core.errors import DesignError

NODES_NM = (130, 90, 65, 45, 32, 20, 16, 14, 10, 7)
# (a, b, c) per node: E ~ a*V^2 + b*V + c (Stillmaker & Baas 2017 energy fits)
ENERGY_POLY = (
    (7.171, -6.709, 2.904), (4.762, -4.781, 2.092), (3.755, -4.398, 1.975), (1.103, -0.362, 0.2767),
    (0.9559, -0.7823, 0.471), (0.373, -0.1582, 0.04104), (0.2958, -0.1241, 0.03024),
    (0.2363, -0.09675, 0.02239), (0.2068, -0.09311, 0.02375), (0.1776, -0.09097, 0.02447),
)
# AREA_RATIO[i][j] = area at NODES_NM[j] / area at NODES_NM[i] (Stillmaker & Baas 2017)
AREA_RATIO = (
    (1, 0.44, 0.23, 0.16, 0.072, 0.033, 0.03, 0.027, 0.016, 0.0092),
    (2.3, 1, 0.53, 0.35, 0.16, 0.075, 0.067, 0.061, 0.036, 0.021),
    (4.3, 1.9, 1, 0.66, 0.31, 0.14, 0.13, 0.12, 0.068, 0.039),
    (6.4, 2.8, 1.5, 1, 0.46, 0.21, 0.19, 0.17, 0.1, 0.059),
    (14, 6.1, 3.3, 2.2, 1, 0.46, 0.41, 0.38, 0.22, 0.13),
    (30, 13, 7.1, 4.7, 2.2, 1, 0.89, 0.82, 0.48, 0.28),
    (34, 15, 7.9, 5.3, 2.4, 1.1, 1, 0.91, 0.54, 0.31),
    (37, 16, 8.7, 5.8, 2.7, 1.2, 1.1, 1, 0.59, 0.34),
    (63, 28, 15, 9.8, 4.5, 2.1, 1.9, 1.7, 1, 0.58),
    (110, 48, 25, 17, 7.8, 3.6, 3.2, 2.9, 1.7, 1),
)
VDD_V = 0.8  # Accelergy's default supply for the scaling polynomials


def _position(nm: float) -> float:
    """Fractional index of `nm` in NODES_NM (descending), linear between neighbours."""
    if not (NODES_NM[-1] <= nm <= NODES_NM[0]):
        raise DesignError(f"technology node {nm:g} nm is outside Stillmaker & Baas's {NODES_NM[-1]}..{NODES_NM[0]} nm")
    for i in range(len(NODES_NM) - 1):
        hi, lo = NODES_NM[i], NODES_NM[i + 1]
        if lo <= nm <= hi:
            return i + (hi - nm) / (hi - lo)
    return float(len(NODES_NM) - 1)


def _energy_factor(nm: float, vdd: float) -> float:
    x = _position(nm)
    i, f = math.floor(x), x - math.floor(x)
    j = min(i + 1, len(NODES_NM) - 1)
    poly = lambda k: sum(c * vdd ** (2 - p) for p, c in enumerate(ENERGY_POLY[k]))  # noqa: E731
    return (1 - f) * poly(i) + f * poly(j)


def energy_scale(from_nm: float, to_nm: float, vdd: float = VDD_V) -> float:
    """Dynamic energy at `to_nm` / dynamic energy at `from_nm` (same design, supply `vdd`)."""
    return _energy_factor(to_nm, vdd) / _energy_factor(from_nm, vdd)


def area_scale(from_nm: float, to_nm: float) -> float:
    """Area at `to_nm` / area at `from_nm` (bilinear in the ratio table)."""
    x, y = _position(from_nm), _position(to_nm)
    x0, y0 = math.floor(x), math.floor(y)
    x1, y1 = min(x0 + 1, len(NODES_NM) - 1), min(y0 + 1, len(NODES_NM) - 1)
    fx, fy = x - x0, y - y0
    return ((1 - fx) * (1 - fy) * AREA_RATIO[x0][y0] + (1 - fx) * fy * AREA_RATIO[x0][y1]
            + fx * (1 - fy) * AREA_RATIO[x1][y0] + fx * fy * AREA_RATIO[x1][y1])
