"""Offline image-classification data for the `trained` oracle (no downloads).

`digits-canvas`: scikit-learn's 8x8 handwritten digits (1,797 images, shipped with sklearn),
each upscaled to 10x10 and pasted at a random position of a 16x16 canvas with Gaussian pixel
noise. The shift and noise make capacity, receptive field and input resolution matter, where the
raw 8x8 digits saturate near 98% for almost any network. Train and test images come from
disjoint digit images. Users can pass any map-style torch Dataset of (image CxHxW, label) pairs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from archgym.core.errors import ArchGymError, unknown


class DatasetError(ArchGymError):
    """A dataset whose items are not (C x H x W image, integer label) pairs matching the space."""


@dataclass
class ImageData:
    """Train and test images (float32 N x C x H x W) and labels (int64 N), as torch tensors."""
    name: str
    x_train: object
    y_train: object
    x_test: object
    y_test: object
    _resized: dict = field(default_factory=dict, repr=False)

    def at(self, resolution: int):
        """(x_train, y_train, x_test, y_test) with images resized to resolution x resolution
        (bilinear, anti-aliased; channels-last, which makes depthwise convs ~3x faster on CPU)."""
        if resolution not in self._resized:
            import torch
            import torch.nn.functional as F

            def resize(x):
                if x.shape[-2:] != (resolution, resolution):
                    x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
                return x.contiguous(memory_format=torch.channels_last)
            self._resized[resolution] = (resize(self.x_train), self.y_train, resize(self.x_test), self.y_test)
        return self._resized[resolution]

    def check(self, in_channels: int, num_classes: int, space: str) -> None:
        """DatasetError unless the images have `in_channels` channels and labels fit `num_classes`."""
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x.shape[1] != in_channels:
                raise DatasetError(f"dataset {self.name!r} ({split}): images have {x.shape[1]} channels but space "
                                   f"{space!r} expects {in_channels}; build the space with in_channels={x.shape[1]}")
            if int(y.max()) >= num_classes:
                raise DatasetError(f"dataset {self.name!r} ({split}): label {int(y.max())} does not fit space {space!r} "
                                   f"with {num_classes} classes; build the space with num_classes={int(y.max()) + 1}")


@lru_cache(maxsize=4)
def digits_canvas(seed: int = 0, canvas: int = 16, digit: int = 10, noise: float = 0.15,
                  test_fraction: float = 0.2, test_copies: int = 3) -> ImageData:
    """The `digits-canvas` task (see the module docstring). Deterministic given `seed`."""
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(d.images))
    n_test = int(round(test_fraction * len(order)))
    big = F.interpolate(torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None], size=(digit, digit),
                        mode="bilinear", align_corners=False).numpy()[:, 0]

    def paste(ids):
        x = np.zeros((len(ids), 1, canvas, canvas), dtype=np.float32)
        rc = rng.integers(0, canvas - digit + 1, size=(len(ids), 2))
        for i, (j, (r, c)) in enumerate(zip(ids, rc)):
            x[i, 0, r:r + digit, c:c + digit] = big[j]
        x += rng.normal(0.0, noise, x.shape).astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(d.target[ids].astype(np.int64))

    x_tr, y_tr = paste(order[n_test:])
    x_te, y_te = paste(np.repeat(order[:n_test], test_copies))
    return ImageData(f"digits-canvas(seed={seed})", x_tr, y_tr, x_te, y_te)


def from_dataset(train, test=None, *, name: str = "user dataset", test_fraction: float = 0.2, seed: int = 0) -> ImageData:
    """Materialise map-style torch Datasets of (image C x H x W, int label) pairs into tensors.
    Without `test`, a seeded `test_fraction` of `train` is held out."""
    x, y = _stack(train, f"{name} (train)")
    if test is None:
        if len(y) < 2:
            raise DatasetError(f"{name}: need at least 2 items to hold out a test split, got {len(y)}")
        order = np.random.default_rng(seed).permutation(len(y))
        k = max(1, int(round(test_fraction * len(y))))
        return ImageData(name, x[order[k:]], y[order[k:]], x[order[:k]], y[order[:k]])
    xt, yt = _stack(test, f"{name} (test)")
    if xt.shape[1:] != x.shape[1:]:
        raise DatasetError(f"{name}: test images have shape {tuple(xt.shape[1:])} but train images {tuple(x.shape[1:])}")
    return ImageData(name, x, y, xt, yt)


def _stack(dataset, name: str):
    import torch
    try:
        n = len(dataset)
    except TypeError:
        raise DatasetError(f"{name}: expected a map-style torch Dataset (with __len__ and __getitem__), "
                           f"got {type(dataset).__name__}") from None
    if n == 0:
        raise DatasetError(f"{name}: the dataset is empty")
    xs, ys = [], []
    for i in range(n):
        item = dataset[i]
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise DatasetError(f"{name}: item {i} must be an (image, label) pair, got {type(item).__name__}")
        x, y = torch.as_tensor(item[0]), torch.as_tensor(item[1])
        if x.dim() != 3 or not x.is_floating_point():
            raise DatasetError(f"{name}: item {i}: the image must be a float tensor of shape (C, H, W), "
                               f"got {x.dtype} of shape {tuple(x.shape)}")
        if xs and x.shape != xs[0].shape:
            raise DatasetError(f"{name}: item {i}: image shape {tuple(x.shape)} differs from item 0's {tuple(xs[0].shape)}")
        if y.numel() != 1 or y.is_floating_point() or y.is_complex() or int(y) < 0:
            raise DatasetError(f"{name}: item {i}: the label must be one non-negative integer class index, got {item[1]!r}")
        xs.append(x.float())
        ys.append(int(y))
    return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)


DATASETS = {"digits-canvas": digits_canvas}


def load_data(dataset="digits-canvas", test=None, seed: int = 0) -> ImageData:
    """A built-in dataset name, an ImageData, or a torch Dataset (with an optional test Dataset).
    `seed` draws the built-in task, or the held-out split of a user Dataset without `test`."""
    if isinstance(dataset, ImageData):
        return dataset
    if isinstance(dataset, str):
        if dataset not in DATASETS:
            raise unknown("dataset", dataset, list(DATASETS) + ["<a torch Dataset>"])
        return DATASETS[dataset](seed=seed)
    return from_dataset(dataset, test, seed=seed)
