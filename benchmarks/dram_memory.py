"""Peak memory of the DRAM env against the CLI's flat streaming on a long trace (issue 16's figure:
the env should stay within 1.5x of the CLI). Writes a sequential DRAMSys .stl trace of N requests
(default 10 M, ~250 MB) to a temporary directory and measures each in a fresh process:

    python benchmarks/dram_memory.py [N]

- cli: `archgym simulate dram --trace FILE` (streams the file in chunks);
- env: `gymnasium.make("archgym/DRAMController-v0", trace=FILE)`, reset and one step.
Prints the peak resident memory (ru_maxrss) of each and their ratio.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CLI = ("import resource, sys; from archgym.cli import main; main(['simulate', 'dram', '--trace', sys.argv[1]]); "
       "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
ENV = ("import resource, sys, gymnasium as gym, archgym; env = gym.make('archgym/DRAMController-v0', trace=sys.argv[1]); "
       "env.reset(seed=0); env.step(env.action_space.sample()); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")


def write_trace(path: Path, n: int) -> None:
    """Request i reads 64-byte line i (within 1 GiB) at cycle 2i of the .stl clock."""
    with open(path, "w") as f:
        for lo in range(0, n, 1_000_000):
            i = np.arange(lo, min(n, lo + 1_000_000))
            f.write("".join(f"{c}:\tread\t{a:#x}\n" for c, a in zip((2 * i).tolist(), (64 * i % (1 << 30)).tolist())))


def peak_mib(code: str, trace: Path) -> float:
    out = subprocess.run([sys.executable, "-c", code, str(trace)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(n: int = 10_000_000) -> None:
    with tempfile.TemporaryDirectory() as d:
        trace = Path(d) / "trace.stl"
        write_trace(trace, n)
        cli, env = peak_mib(CLI, trace), peak_mib(ENV, trace)
    print(f"{n:,} requests: cli peak {cli:.0f} MiB, env peak {env:.0f} MiB, env/cli {env / cli:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
