"""The fixed small training budget of the `trained` oracle: Adam with a one-cycle learning rate,
cross-entropy, no augmentation, batch statistics frozen for the test pass."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budget:
    """Training hyper-parameters; part of the cache key, so changing one retrains."""
    epochs: int = 8
    batch_size: int = 64
    lr: float = 0.01

    def to_config(self) -> dict:
        return asdict(self)


def train_and_evaluate(model, x_train, y_train, x_test, y_test, budget: Budget, seed: int) -> dict:
    """Train `model` in place for `budget` and return its test top-1 `accuracy` (fraction),
    final `train_loss` and `train_time_s`. Deterministic given `seed` on one CPU thread."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    model = model.to(memory_format=torch.channels_last)
    n = len(y_train)
    steps = budget.epochs * -(-n // budget.batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=budget.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=budget.lr, total_steps=steps)
    start = time.perf_counter()
    model.train()
    loss_sum, seen = 0.0, 0
    for epoch in range(budget.epochs):
        order = torch.randperm(n, generator=gen)
        loss_sum, seen = 0.0, 0
        for i in range(0, n, budget.batch_size):
            idx = order[i:i + budget.batch_size]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
    return {"accuracy": evaluate(model, x_test, y_test, budget.batch_size * 8),
            "train_loss": loss_sum / max(seen, 1), "train_time_s": time.perf_counter() - start}


def evaluate(model, x, y, batch_size: int = 512) -> float:
    """Top-1 accuracy (fraction) of `model` in eval mode."""
    import torch
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(y), batch_size):
            correct += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(y)


def _activations(model) -> list:
    import torch
    return [m for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]


def activation_ranges(model, x_calib, quantile: float = 0.9999) -> list[float]:
    """Upper clipping bound of every ReLU/ReLU6 output (module order): the `quantile` of all its
    values over the images `x_calib`, with `model` in eval mode."""
    import torch
    tops: dict = {}

    def record(mod, _inp, out):
        flat = out.detach().flatten().float()
        if len(flat) > 1 << 24:  # torch.quantile's limit: a seeded random subset (never a strided one)
            flat = flat[torch.randperm(len(flat), generator=torch.Generator().manual_seed(0))[:1 << 24]]
        tops[mod] = float(torch.quantile(flat, quantile))
    acts = _activations(model)
    hooks = [m.register_forward_hook(record) for m in acts]
    model.eval()
    try:
        with torch.inference_mode():
            model(x_calib)
    finally:
        for h in hooks:
            h.remove()
    return [tops[m] for m in acts]


def quantized_accuracy(model, ranges: list[float], x_test, y_test, weight_bits: int, act_bits: int) -> float:
    """Top-1 accuracy after post-training quantisation (fake-quantised in float): conv and linear
    weights symmetric per output channel to `weight_bits`; every ReLU/ReLU6 output unsigned to
    `act_bits` over [0, its bound in `ranges`] (from `activation_ranges`). No quantisation-aware
    training, so it is a lower bound on what FINN-style QAT (e.g. Brevitas) reaches."""
    import copy

    import torch
    q = copy.deepcopy(model).eval()
    with torch.no_grad():
        for m in q.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                w = m.weight
                levels = 2 ** (weight_bits - 1) - 1
                scale = w.abs().flatten(1).amax(1).clamp_min(1e-12) / levels
                shape = (-1,) + (1,) * (w.dim() - 1)
                w.copy_(torch.round(w / scale.view(shape)).clamp(-levels, levels) * scale.view(shape))
    levels = 2 ** act_bits - 1

    def fake_quant(top):
        step = max(top, 1e-12) / levels
        return lambda mod, i, o: torch.round(o.clamp(0, top) / step) * step
    hooks = [m.register_forward_hook(fake_quant(top)) for m, top in zip(_activations(q), ranges)]
    try:
        return evaluate(q, x_test, y_test)
    finally:
        for h in hooks:
            h.remove()
