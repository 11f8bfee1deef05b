"""Write a benchmark's results into its own section of docs/benchmarks.md (other sections are kept)."""
from __future__ import annotations

import platform
import re
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured by the scripts in `benchmarks/` on the machine named in each section (speed is measured
by these scripts, never by timed tests). Re-run a script to refresh its section.
"""


def machine() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}"


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Replace (or append) the section between <!-- BEGIN name --> and <!-- END name -->."""
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text() if doc.exists() else HEADER
    block = f"<!-- BEGIN {name} -->\n{markdown.strip()}\n<!-- END {name} -->"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def write_generated(doc: Path, name: str, command: str, markdown: str) -> None:
    """Replace (or append) the block `<!-- BEGIN GENERATED: name (by `command`) -->` ...
    `<!-- END GENERATED: name -->` of a docs page (the format docs/ headline numbers use)."""
    text = doc.read_text() if doc.exists() else ""
    block = f"<!-- BEGIN GENERATED: {name} (by `{command}`) -->\n{markdown.strip()}\n<!-- END GENERATED: {name} -->"
    pattern = re.compile(rf"<!-- BEGIN GENERATED: {re.escape(name)} .*?<!-- END GENERATED: {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)
