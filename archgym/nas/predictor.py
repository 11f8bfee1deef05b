"""A small MLP regressor (trained in torch, evaluated in numpy so env steps stay torch-free)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class NumpyMLP:
    """ReLU MLP forward pass with the weights of a trained torch model; output de-standardised."""

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], y_mean: float, y_std: float):
        self.weights, self.y_mean, self.y_std = weights, y_mean, y_std

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float64)
        for i, (w, b) in enumerate(self.weights):
            h = h @ w + b
            if i < len(self.weights) - 1:
                np.maximum(h, 0.0, out=h)
        return h[:, 0] * self.y_std + self.y_mean


def fit_mlp(x: np.ndarray, y: np.ndarray, hidden: Sequence[int] = (64, 64), steps: int = 1500,
            lr: float = 3e-3, weight_decay: float = 1e-4, holdout: float = 0.2, seed: int = 0):
    """Fit on a seeded (1 - holdout) split, full-batch Adam; returns (NumpyMLP, report) where the
    report holds held-out `rmse` (target units), `kendall_tau`, and the split sizes."""
    import torch
    from scipy.stats import kendalltau

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = int(round(holdout * len(y))) if holdout > 0 else 0
    test, train = order[:n_test], order[n_test:]
    y_mean, y_std = float(y[train].mean()), float(y[train].std() or 1.0)
    xt = torch.tensor(x[train], dtype=torch.float32)
    yt = torch.tensor((y[train] - y_mean) / y_std, dtype=torch.float32)[:, None]
    torch.manual_seed(seed)
    sizes = [x.shape[1], *hidden, 1]
    layers: list = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(net(xt), yt)
        loss.backward()
        opt.step()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    model = NumpyMLP([(m.weight.detach().double().numpy().T.copy(), m.bias.detach().double().numpy().copy())
                      for m in linears], y_mean, y_std)
    report = {"n_train": len(train), "n_test": len(test), "rmse": float("nan"), "kendall_tau": float("nan")}
    if len(test) >= 2:
        pred = model(x[test])
        report["rmse"] = float(np.sqrt(np.mean((pred - y[test]) ** 2)))
        report["kendall_tau"] = float(kendalltau(pred, y[test]).statistic)
    return model, report
