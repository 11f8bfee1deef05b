"""Compile (or load from numba's cache) one half of the simulators' kernels:

    python tests/warm_kernels.py dram    # the DRAM controller kernel and its batch and stream paths
    python tests/warm_kernels.py rest    # the systolic, FPGA and composed-env kernels

tests/conftest.py runs both halves at once before pytest-xdist's workers start, so two workers never
compile the same kernel side by side on a cold cache; a kernel missed here compiles where a test needs it."""
import sys
import tempfile
from pathlib import Path

import numpy as np


def dram() -> None:
    from archgym.core.workloads import traces as tr
    from simulators import dram
    t = tr.random(300, span=1 << 30, write_fraction=0.33, seed=0)
    dram.simulate({}, t)
    vectors = np.stack([dram.PARAMETERS.kernel_vector(dram.PARAMETERS.default())] * 8)
    with tempfile.TemporaryDirectory(prefix="archgym-warm-") as tmp:
        path = Path(tmp) / "t.trace"
        path.write_text("".join(f"{a:#x} {'WRITE' if w else 'READ'} {c}\n" for a, w, c in t))
        for prepared in (dram.prepare(t), dram.Trace(None, None, path=path, n_requests=len(t), chunk_requests=100)):
            for n in (1, len(vectors)):       # simulate_serial and the parallel batch
                dram.evaluate(vectors[:n], prepared)


def rest() -> None:
    import gymnasium as gym
    import archgym  # noqa: F401  (registers the envs)
    from simulators import fpga, systolic
    systolic.simulate({})
    fpga.simulate({})
    for env_id in ("archgym/Systolic-v0", "archgym/FPGADataflow-v0", "archgym/FPGAFolding-v0",
                   "archgym/CoDesign-Systolic-v0", "archgym/NB201-Systolic-v0", "archgym/NB201-FPGA-v0"):
        env = gym.make(env_id).unwrapped
        for n in (1, 64):                 # serial and parallel batch kernels
            env.evaluate(env.space.sample_indices(np.random.default_rng(0), n))


HALVES = {"dram": dram, "rest": rest}

if __name__ == "__main__":
    HALVES[sys.argv[1]]()
