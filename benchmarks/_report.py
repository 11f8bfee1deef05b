"""Write a benchmark's results into its own generated block of a docs page (other blocks are kept)."""
from __future__ import annotations

import platform
import re
import sys
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
def machine() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}"


def write_generated(doc: Path, name: str, command: str, markdown: str) -> None:
    """Replace (or append) the block `<!-- BEGIN GENERATED: name (by `command`) -->` ...
    `<!-- END GENERATED: name -->` of a docs page (the format docs/ headline numbers use)."""
    text = doc.read_text() if doc.exists() else ""
    block = f"<!-- BEGIN GENERATED: {name} (by `{command}`) -->\n{markdown.strip()}\n<!-- END GENERATED: {name} -->"
    pattern = re.compile(rf"<!-- BEGIN GENERATED: {re.escape(name)} .*?<!-- END GENERATED: {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def command_line(script: str | Path, argv: list[str] | None = None) -> str:
    """How to rerun `script` (a path in the repository) with argv (default: this process's arguments),
    from the repository's root; --no-write, which only keeps the docs as they are, is left out."""
    argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--no-write"]
    return " ".join(["python", Path(script).resolve().relative_to(DOC.parents[1]).as_posix(), *argv])
