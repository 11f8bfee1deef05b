"""Zero-cost proxies: score an untrained network from one forward (and backward) pass."""
from __future__ import annotations


def naswot(model, x) -> float:
    """NASWOT (Mellor et al., 'Neural Architecture Search without Training', ICML 2021):
    log|K| where K[i, j] counts the ReLU units on which images i and j agree (both on or both
    off), summed over every ReLU/ReLU6 of `model`, for the image batch `x` (N x C x H x W)."""
    import torch
    n = len(x)
    k = torch.zeros(n, n, dtype=torch.float64)

    def hook(_module, _inp, out):
        c = (out.detach().flatten(1) > 0).double()
        k.add_(c @ c.T + (1 - c) @ (1 - c).T)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return float(torch.linalg.slogdet(k)[1])


def synflow(model, x) -> float:
    """synflow (Tanaka et al., NeurIPS 2020), as used as a zero-cost proxy by Abdelfattah et al.
    (ICLR 2021): with every weight replaced by its absolute value, an all-ones input of `x`'s
    shape (batch 1) and BatchNorm in eval mode, log of sum |w * d(sum of outputs)/dw|. ReLU6 is
    swapped for ReLU, which is the identity here, as in the original linearised network."""
    import torch
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, torch.nn.ReLU6):
                setattr(module, name, torch.nn.ReLU())
    model = model.double().eval()
    with torch.no_grad():
        for p in model.state_dict().values():
            p.abs_()
    model.zero_grad()
    model(torch.ones((1, *x.shape[1:]), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        total = sum((p * p.grad).abs().sum() for p in model.parameters() if p.grad is not None)
    return float(torch.log(total))


METHODS = {"naswot": naswot, "synflow": synflow}
