"""Checking helpers for the chapters: how far apart two results are, gradients by central finite
differences, and the PyTorch twins of the book's networks (LeNet; chapter 10's blocks, VGG-style net
and small ResNet).

The chapters compare every result they compute with PyTorch or with finite differences; these are the
few lines they would otherwise each write again. ``torch`` is imported only by the functions that need
it (it is a test dependency of cnnbook, not a run-time one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import torch

__all__ = ["as_numpy", "tensor", "maxdiff", "central_difference", "torch_lenet5", "torch_twin_of_lenet",
           "torch_basic_block", "torch_branches", "torch_small_vgg", "torch_small_resnet", "torch_twin",
           "torchvision_models"]


def as_numpy(a: Any) -> np.ndarray:
    """A NumPy view of ``a``: a torch tensor (detached, on the CPU), or anything ``np.asarray`` takes."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def tensor(a: Any, requires_grad: bool = False) -> "torch.Tensor":
    """A float64 torch tensor holding a copy of ``a`` (a leaf that records gradients if asked)."""
    import torch

    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def maxdiff(a: Any, b: Any) -> float:
    """``max |a - b|`` over all entries, for NumPy arrays, torch tensors or numbers.

    The shapes must agree, up to axes of length 1 (a number against a one-element array is fine, an
    ``(H, W)`` map against ``(1, 1, H, W)`` too); anything else raises ``ValueError`` rather than broadcast.
    """
    a, b = as_numpy(a), as_numpy(b)
    if a.shape != b.shape:
        if np.squeeze(a).shape != np.squeeze(b).shape:
            raise ValueError(f"maxdiff: shapes differ, {a.shape} and {b.shape}")
        a, b = np.squeeze(a), np.squeeze(b)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def central_difference(f: Callable[[], float], a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar ``f()`` with respect to every entry of the array ``a``, numerically.

    ``dL/da_i ~ (f(a + eps e_i) - f(a - eps e_i)) / (2 eps)``: ``f`` takes no argument and reads ``a``,
    which is changed in place entry by entry and restored. The error is O(eps^2) for a smooth ``f`` plus
    rounding of about ``1e-16 |f| / eps``. Returns an array of ``a``'s shape.
    """
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError("central_difference: a must be a float NumPy array (it is changed in place)")
    if not eps > 0:
        raise ValueError(f"central_difference: eps must be > 0, got {eps}")
    grad = np.zeros_like(a, dtype=np.float64)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        up = float(f())
        a[idx] = keep - eps
        down = float(f())
        a[idx] = keep
        grad[idx] = (up - down) / (2 * eps)
    return grad


def torch_lenet5(activation: str = "sigmoid", pool: str = "avg") -> "torch.nn.Sequential":
    """The LeNet-style network of chapter 8 written with ``torch.nn`` (float32, torch's initialisation).

    conv 1->6 5x5 padding 2, pool 2/2, conv 6->16 5x5, pool 2/2, flatten, linear 400->120->84->10, with
    ``activation`` ('sigmoid' or 'relu') after every convolution and hidden linear layer and ``pool``
    ('avg' or 'max'). Written independently of :func:`cnnbook.models.lenet5`, with the same layer indices
    (so the same ``state_dict`` keys): comparing the two checks the NumPy network.
    """
    import torch

    acts = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
    pools = {"avg": torch.nn.AvgPool2d, "max": torch.nn.MaxPool2d}
    if activation not in acts:
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    if pool not in pools:
        raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
    Act, Pool = acts[activation], pools[pool]
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, kernel_size=5, padding=2), Act(), Pool(kernel_size=2, stride=2),
        torch.nn.Conv2d(6, 16, kernel_size=5), Act(), Pool(kernel_size=2, stride=2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 5 * 5, 120), Act(),
        torch.nn.Linear(120, 84), Act(),
        torch.nn.Linear(84, 10),
    )


def torch_twin_of_lenet(model, activation: str, pool: str) -> "torch.nn.Sequential":
    """:func:`torch_lenet5` holding the weights of the cnnbook ``model`` (in the model's dtype)."""
    import torch

    state = model.state_dict()
    twin = torch_lenet5(activation, pool)
    if next(iter(state.values())).dtype == np.float64:
        twin = twin.double()
    twin.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return twin


# --------------------------------------------------------------------------------------------------
# chapter 10: the twins of the residual block, the branches, the small VGG and the small ResNet
# --------------------------------------------------------------------------------------------------
def torch_twin(model, twin: "torch.nn.Module") -> "torch.nn.Module":
    """``twin`` holding the weights and buffers of the cnnbook ``model`` (converted to the model's float
    dtype), in ``model``'s mode (``train`` or ``eval``)."""
    import torch

    state = model.state_dict()
    floats = [v.dtype for v in state.values() if v.dtype.kind == "f"]
    if floats and floats[0] == np.float64:
        twin = twin.double()
    twin.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return twin.train(model.training)


def torch_basic_block(in_channels: int, out_channels: int, stride: int = 1, shortcut: bool = True,
                      batch_norm: bool = True) -> "torch.nn.Module":
    """torchvision's ``BasicBlock`` written out with ``torch.nn`` (no torchvision needed): the twin of
    :class:`cnnbook.nn.BasicBlock`, with the same attribute names (``conv1``, ``bn1``, ``conv2``, ``bn2``,
    ``downsample``) and so the same ``state_dict`` keys."""
    import torch

    class BasicBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(out_channels) if batch_norm else torch.nn.Identity()
            self.conv2 = torch.nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(out_channels) if batch_norm else torch.nn.Identity()
            self.downsample = None
            if shortcut and (stride != 1 or in_channels != out_channels):
                layers = [torch.nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)]
                if batch_norm:
                    layers.append(torch.nn.BatchNorm2d(out_channels))
                self.downsample = torch.nn.Sequential(*layers)

        def forward(self, x):
            out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            if shortcut:
                out = out + (x if self.downsample is None else self.downsample(x))
            return torch.relu(out)

    return BasicBlock()


def torch_branches(*branches: "torch.nn.Module") -> "torch.nn.Module":
    """The twin of :class:`cnnbook.nn.Branches`: ``torch.cat([b(x) for b in branches], dim=1)``, the
    branches named ``0``, ``1``, ..."""
    import torch

    class Branches(torch.nn.ModuleList):
        def forward(self, x):
            return torch.cat([branch(x) for branch in self], dim=1)

    return Branches(branches)


def torch_small_vgg(widths: tuple[int, ...] = (8, 16), convs_per_block: int = 2, image_size: int = 28,
                    classes: int = 10) -> "torch.nn.Sequential":
    """:func:`cnnbook.models.small_vgg` written with ``torch.nn`` (same layer indices)."""
    import torch

    layers, c, size = [], 1, image_size
    for width in widths:
        for _ in range(convs_per_block):
            layers += [torch.nn.Conv2d(c, width, 3, padding=1), torch.nn.ReLU()]
            c = width
        layers.append(torch.nn.MaxPool2d(2))
        size //= 2
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(c * size * size, classes))


def torch_small_resnet(widths: tuple[int, ...] = (8, 16, 32), blocks_per_stage: int = 1, shortcut: bool = True,
                       batch_norm: bool = True, stem_stride: int = 1, classes: int = 10) -> "torch.nn.Sequential":
    """:func:`cnnbook.models.small_resnet` written with ``torch.nn`` and :func:`torch_basic_block` (same
    layer indices, so the same ``state_dict`` keys)."""
    import torch

    layers = [torch.nn.Conv2d(1, widths[0], 3, stem_stride, padding=1, bias=False)]
    if batch_norm:
        layers.append(torch.nn.BatchNorm2d(widths[0]))
    layers.append(torch.nn.ReLU())
    c = widths[0]
    for stage, width in enumerate(widths):
        for block in range(blocks_per_stage):
            layers.append(torch_basic_block(c, width, 2 if stage > 0 and block == 0 else 1, shortcut, batch_norm))
            c = width
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(c, classes)]
    return torch.nn.Sequential(*layers)


def torchvision_models():
    """``torchvision.models``, imported for its model *definitions* only (no weights are downloaded).

    The torchvision wheel that matches torch 2.13.0 ships C++ operators (``nms``, ``roi_align``, ...) that
    this CPU build of torch does not load; ``import torchvision`` then fails in
    ``torchvision._meta_registrations`` ("operator torchvision::nms does not exist"), which registers
    shape functions for exactly those operators. The classification models never call them, so that one
    module is replaced by an empty one before the import: the model definitions import and build as usual.
    """
    import sys
    import types

    if "torchvision" not in sys.modules:
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision.models

    return torchvision.models
