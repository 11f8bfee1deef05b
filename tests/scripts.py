"""Load a benchmarks/ or experiments/ script (neither is a package) as a module for a test."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(path: str):
    """The script at `path` (relative to the repository root), imported. Scripts put their folders on
    sys.path for their helpers; it is restored, or benchmarks/agents.py would shadow the `agents` package."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    saved = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module
