"""Read SCALE-Sim topology CSVs (conv and GEMM formats) with SCALE-Sim's own conventions.

- The header tells the formats apart: `Layer name, IFMAP Height, ...` (conv) or `Layer, M, N, K` (GEMM).
- Conv rows: name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride. No padding;
  output size is SCALE-Sim's ceil((H - F + S) / S), not PyTorch's floor.
- A layer whose name contains `DP` is depthwise: SCALE-Sim runs C separate layers with C=1, which
  is our grouped row with G=C, N=Num Filter and K=Fh*Fw.
- Blank rows (also all-comma rows) are skipped and columns after the required ones are ignored;
  SCALE-Sim itself crashes on such files (its Resnet50.csv), we read them.
"""
from __future__ import annotations

from pathlib import Path

from archgym.core import validate
from archgym.core.errors import ArchGymError, WorkloadError
from archgym.core.workloads.table import Workload, conv_row, linear_row

CONV_FIELDS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides")
GEMM_FIELDS = ("Layer name", "M", "N", "K")


def is_gemm_header(header: str) -> bool:
    cells = [c.strip().lower() for c in header.split(",")]
    return cells[1:4] == ["m", "n", "k"]


def read_topology(path: str | Path) -> Workload:
    """Parse a SCALE-Sim topology CSV into a Workload; WorkloadError names file, line and field."""
    path = Path(path)
    lines = validate.text(path, "topology CSV", validate.MAX_TEXT_BYTES, WorkloadError).splitlines()
    if not lines or not lines[0].strip():
        raise WorkloadError(f"{path}:1: empty file; expected a SCALE-Sim header line")
    gemm = is_gemm_header(lines[0])
    fields = GEMM_FIELDS if gemm else CONV_FIELDS
    if not gemm and "ifmap" not in lines[0].lower():
        raise WorkloadError(f"{path}:1: unrecognised header {lines[0].strip()!r}; expected "
                            f"'{', '.join(CONV_FIELDS)},' or '{', '.join(GEMM_FIELDS)},'")
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        if not any(cells):
            continue
        while cells and cells[-1] == "":
            cells.pop()
        if len(cells) < len(fields):
            raise WorkloadError(f"{path}:{lineno}: expected {len(fields)} fields ({', '.join(fields)}), got {len(cells)}")
        name = cells[0]
        if not name:
            raise WorkloadError(f"{path}:{lineno}: field 'Layer name' is empty")
        values = []
        for field, cell in zip(fields[1:], cells[1:len(fields)]):
            try:
                v = int(cell)
            except ValueError:
                raise WorkloadError(f"{path}:{lineno}: field {field!r}: {cell!r} is not an integer") from None
            if v <= 0:
                raise WorkloadError(f"{path}:{lineno}: field {field!r}: {v} must be positive")
            values.append(v)
        try:
            if gemm:
                m, n, k = values
                row = linear_row(k, n, tokens=m)
            else:
                h, w, fh, fw, c, nf, s = values
                if fh > h or fw > w:
                    raise WorkloadError(f"filter {fh}x{fw} is larger than the input {h}x{w}")
                groups = c if "DP" in name else 1
                row = conv_row(h, w, c, nf * groups, fh, fw, stride=s, groups=groups, ceil_mode=True)
        except ArchGymError as e:
            raise type(e)(f"{path}:{lineno}: layer {name!r}: {e}") from None
        rows.append((name, row))
        if len(rows) > validate.MAX_LAYERS:
            raise validate.LimitError(f"{path}:{lineno}: more than {validate.MAX_LAYERS:,} layers (archgym.core.validate)")
    if not rows:
        raise WorkloadError(f"{path}: no layers after the header")
    return Workload.from_rows(path.stem, rows)
