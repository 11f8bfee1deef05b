"""Thread-count guards for small models on a small machine."""
from contextlib import contextmanager


@contextmanager
def one_torch_thread():
    """Run torch on one thread: archgym's MLPs are tiny, and on a busy 2-core machine extra OpenMP
    threads fighting numba's made SB3 PPO 20x slower (measured). The previous setting is restored."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
