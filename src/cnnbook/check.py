"""Checking helpers for the chapters: how far apart two results are, gradients by central finite
differences, and the PyTorch twin of the book's LeNet.

The chapters compare every result they compute with PyTorch or with finite differences; these are the
few lines they would otherwise each write again. ``torch`` is imported only by the functions that need
it (it is a test dependency of cnnbook, not a run-time one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import torch

__all__ = ["as_numpy", "tensor", "maxdiff", "central_difference", "torch_lenet5", "torch_twin_of_lenet"]


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
