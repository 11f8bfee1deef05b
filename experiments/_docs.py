"""Generated blocks of docs/*.md, shared with the benchmarks (benchmarks/_report.py)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_bench_report", ROOT / "benchmarks" / "_report.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
write_generated = _module.write_generated
machine = _module.machine


def command_of(script: str, argv=None) -> str:
    """The command line that ran experiments/`script` (argv: main's, or sys.argv's)."""
    return _module.command_line(ROOT / "experiments" / script, argv)


def publish(blocks: dict[str, str], command: str, docs: bool = True) -> int:
    """Write each {name: markdown} as a generated block of docs/codesign.md (made by `command`) and print them."""
    if docs:
        for name, text in blocks.items():
            write_generated(ROOT / "docs" / "codesign.md", name, command, text)
    print("\n\n".join(blocks.values()))
    return 0
