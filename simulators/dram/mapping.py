"""Address mappings as DRAMSys writes them: for each field, the address bits (LSB first) that form
it, where a field bit may be the XOR of several address bits.

A field bit is stored as a bit mask over the address; its value is the parity of `address & mask`
(DRAMSys 4.0 `simulation/AddressDecoder.cpp` `decodeAddress`, which applies its XOR pairs before
decoding; HEAD's GF(2) matrix in `simulation/AddressDecoder.cpp` is the same idea). Banks are
numbered DRAMSys's way: bank-group bits index the group within a rank, bank bits the bank within
its group. A mapping must use every address bit below its top bit exactly once (a bijection), so
that addresses beyond 2^bits are an error here rather than wrapping as in DRAMSys.
"""
from __future__ import annotations

from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archgym.core.errors import DesignError
from simulators.dram.standards import REQUEST_BYTES, Standard

FIELDS = ("byte", "column", "bankgroup", "bank", "row", "rank", "channel")
# DRAMSys key of each field (4.0 CONGEN and HEAD addressmapping use the same names)
KEYS = {"BYTE_BIT": "byte", "COLUMN_BIT": "column", "BANKGROUP_BIT": "bankgroup", "BANK_BIT": "bank",
        "ROW_BIT": "row", "RANK_BIT": "rank", "CHANNEL_BIT": "channel"}

# named mappings above the 64 B burst offset, most significant field first (DRAMSim3 notation:
# ro row, ch channel, ra rank, ba bank, bg bank group, co column)
NAMED = {
    "rochrababgco": ("ro", "ch", "ra", "ba", "bg", "co"),     # DRAMSim3's default
    "rorababgcoch": ("ro", "ra", "ba", "bg", "co", "ch"),     # channels interleaved every 64 B
    "row_bank_column": ("ro", "ch", "ra", "bg", "ba", "co"),  # row | bank | column (DRAMSys DDR3 rbc)
    "bank_row_column": ("ch", "ra", "bg", "ba", "ro", "co"),  # bank | row | column
    "bank_bankgroup_row_column": ("ch", "ra", "ba", "bg", "ro", "co"),  # DRAMSys DDR4 brc
}
_SHORT = {"ro": "row", "ch": "channel", "ra": "rank", "ba": "bank", "bg": "bankgroup", "co": "column"}


@dataclass(frozen=True)
class AddressMapping:
    """field -> tuple of address bit masks, LSB of the field first."""
    name: str
    fields: dict

    @property
    def address_bits(self) -> int:
        return max((m.bit_length() for masks in self.fields.values() for m in masks), default=0)

    @property
    def capacity_bytes(self) -> int:
        return 1 << self.address_bits

    def width(self, field: str) -> int:
        return len(self.fields.get(field, ()))

    def decode(self, addresses: np.ndarray) -> dict[str, np.ndarray]:
        """Field values of int64 byte addresses (vectorised)."""
        a = np.asarray(addresses, dtype=np.int64)
        out = {}
        for f in FIELDS:
            v = np.zeros(a.shape, np.int64)
            for k, lo, n in _runs(self.fields.get(f, ())):
                v |= (((a >> lo) & ((1 << n) - 1)) if n else _parity(a & lo)) << k
            out[f] = v
        return out


def _runs(masks) -> list[tuple[int, int, int]]:
    """A field's bit masks as (field bit k, address bit lo, n): n consecutive single address bits
    from lo land at field bits k.., one shift and mask (a named mapping's field is one run); n = 0:
    mask `lo` is an XOR of several address bits (its parity lands at bit k)."""
    runs: list[list[int]] = []
    for k, mask in enumerate(masks):
        if mask & (mask - 1):
            runs.append([k, mask, 0])
        elif runs and runs[-1][2] and runs[-1][1] + runs[-1][2] == mask.bit_length() - 1:
            runs[-1][2] += 1
        else:
            runs.append([k, mask.bit_length() - 1, 1])
    return [tuple(r) for r in runs]


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for s in (32, 16, 8, 4, 2, 1):
        x ^= x >> s
    return x & 1


def sizes(std: Standard, channels: int, ranks: int) -> dict[str, int]:
    """The number of values each field must take for a memory system (DRAMSys's consistency check)."""
    return {"byte": std.devices * std.width // 8, "column": std.columns, "bankgroup": std.bankgroups,
            "bank": std.banks_per_group, "row": std.rows, "rank": ranks, "channel": channels}


def named(name: str, std: Standard, channels: int, ranks: int) -> AddressMapping:
    """One of the NAMED field orders as bit lists: byte and low column bits (the 64 B burst offset)
    at the bottom, then the fields from least significant up."""
    n = sizes(std, channels, ranks)
    byte_bits = (n["byte"] - 1).bit_length()
    low_col = (REQUEST_BYTES - 1).bit_length() - byte_bits           # column bits inside a burst
    fields = {"byte": list(range(byte_bits)), "column": list(range(byte_bits, byte_bits + low_col))}
    bit = byte_bits + low_col
    for short in reversed(NAMED[name]):
        f = _SHORT[short]
        w = (n[f] - 1).bit_length() - (low_col if f == "column" else 0)
        fields.setdefault(f, []).extend(range(bit, bit + w))
        bit += w
    return AddressMapping(name, {f: tuple(1 << b for b in bits) for f, bits in fields.items() if bits})


def from_json(obj: MappingABC, where: str) -> AddressMapping:
    """A DRAMSys address mapping object: 4.0 `{"CONGEN": {...}}` (plain bit lists, optional XOR list
    of {FIRST, SECOND}, optional SOLUTION list whose ID 0 is used) or HEAD `{"addressmapping":
    {...}}` (an element may be a list of bits that are XORed). `where` names the file in errors."""
    if not isinstance(obj, MappingABC) or len(obj) != 1 or next(iter(obj)) not in ("CONGEN", "addressmapping"):
        raise DesignError(f"{where}: an address mapping needs one top-level key, 'CONGEN' (DRAMSys 4.0) or "
                          f"'addressmapping' (DRAMSys 5), got {list(obj) if isinstance(obj, MappingABC) else obj!r}")
    root = next(iter(obj))
    body = obj[root]
    if root == "CONGEN" and isinstance(body, MappingABC) and "SOLUTION" in body:
        sols = [s for s in body["SOLUTION"] if isinstance(s, MappingABC) and s.get("ID") == 0]
        if not sols:
            raise DesignError(f"{where}: CONGEN.SOLUTION has no entry with ID 0")
        body = {k: v for k, v in sols[0].items() if k != "ID"}
    if not isinstance(body, MappingABC):
        raise DesignError(f"{where}: '{root}' must be an object")
    xor: dict[int, int] = {}   # address bit -> mask after DRAMSys 4.0's XOR pairs, applied in order
    for k, v in body.items():
        if k == "XOR" and root == "CONGEN":
            for i, pair in enumerate(v if isinstance(v, list) else [None]):
                if not (isinstance(pair, MappingABC) and set(pair) == {"FIRST", "SECOND"}
                        and all(_is_bit(pair[x]) for x in pair)):
                    raise DesignError(f"{where}: {root}.XOR[{i}] must be {{\"FIRST\": bit, \"SECOND\": bit}}")
                a, b = pair["FIRST"], pair["SECOND"]
                xor[a] = xor.get(a, 1 << a) ^ xor.get(b, 1 << b)
        elif k not in KEYS:
            raise DesignError(f"{where}: unknown key {root}.{k}; valid: {', '.join([*KEYS, 'XOR'])}")
    fields = {}
    for key, f in KEYS.items():
        if key not in body:
            continue
        masks = []
        for i, b in enumerate(body[key] if isinstance(body[key], list) else [None]):
            if root == "addressmapping" and isinstance(b, list) and b and all(_is_bit(x) for x in b):
                m = 0
                for x in b:
                    m ^= 1 << x
                masks.append(m)
            elif _is_bit(b):
                masks.append(xor.get(b, 1 << b))
            else:
                raise DesignError(f"{where}: {root}.{key}[{i}] must be an address bit number, got {b!r}")
        fields[f] = tuple(masks)
    mapping = AddressMapping(where, fields)
    check_bijective(mapping, where, {f: k for k, f in KEYS.items()})
    return mapping


def _is_bit(b) -> bool:
    return isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 63


def check_bijective(m: AddressMapping, where: str, key_of: MappingABC) -> None:
    """Every address bit below the top mapped bit is used by exactly one field bit, and the field
    bits are independent over GF(2) (so XOR mappings stay one-to-one)."""
    owner: dict[int, str] = {}
    for f, masks in m.fields.items():
        for mask in masks:
            low = (mask & -mask).bit_length() - 1        # a plain bit, or the lowest bit of an XOR
            plain = mask == 1 << low
            if plain and low in owner:
                raise DesignError(f"{where}: address bit {low} is mapped twice ({owner[low]} and {key_of[f]})")
            if plain:
                owner[low] = key_of[f]
    n = m.address_bits
    for b in range(n):
        if b not in owner and not any(mask >> b & 1 for masks in m.fields.values() for mask in masks):
            raise DesignError(f"{where}: address bit {b} is not mapped (bits up to {n - 1} are used)")
    rows = [mask for masks in m.fields.values() for mask in masks]
    if len(rows) != n or _rank_gf2(rows) != n:
        raise DesignError(f"{where}: the {len(rows)} field bits do not map the {n} address bits one-to-one "
                          f"(overlapping or XOR-dependent bits)")


def _rank_gf2(rows: Sequence[int]) -> int:
    pivots: dict[int, int] = {}   # Gaussian elimination over GF(2), pivot = highest set bit
    for r in rows:
        while r:
            h = r.bit_length() - 1
            if h not in pivots:
                pivots[h] = r
                break
            r ^= pivots[h]
    return len(pivots)


def check_sizes(m: AddressMapping, std: Standard, channels: int, ranks: int, where: str) -> None:
    """The field widths agree with the memory's organisation (DRAMSys 4.0 AddressDecoder constructor)."""
    for f, n in sizes(std, channels, ranks).items():
        if n & (n - 1):
            raise DesignError(f"{where}: {f} count {n} is not a power of two")
        if m.width(f) != (n - 1).bit_length():
            key = next(k for k, v in KEYS.items() if v == f)
            raise DesignError(f"{where}: {key} has {m.width(f)} bits but the memory has {n} {f} values "
                              f"({(n - 1).bit_length()} bits)")
