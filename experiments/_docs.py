"""Marker-delimited sections of docs/*.md, shared with the benchmarks (benchmarks/_report.py)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_bench_report", ROOT / "benchmarks" / "_report.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
write_section = _module.write_section
write_generated = _module.write_generated
