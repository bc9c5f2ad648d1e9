"""Training a :mod:`cnnbook.nn` model: minibatch SGD with momentum, the loop, accuracy.

The optimiser and the minibatch order are deterministic and documented, so the same steps can be
replayed in torch: :func:`batch_indices` gives the index arrays :func:`fit` uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np
from numpy.typing import ArrayLike

from . import functional as F
from .nn import Module, Parameter

__all__ = ["SGD", "History", "batch_indices", "train_step", "fit", "predict", "evaluate",
           "gradient_norms", "layer_output_stds"]


class SGD:
    """Stochastic gradient descent with momentum, step for step ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g`` (``weight_decay`` first adds ``wd * p`` to ``g``)::

        b = g                      (first step)
        b = momentum * b + g       (later steps)
        p = p - lr * b

    With ``momentum=0`` this is plain ``p -= lr * g``. Parameters whose ``grad`` is ``None`` are
    skipped, as in torch. The update is in place, in the parameter's dtype.
    """

    def __init__(self, parameters: Iterable[Parameter], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.params = list(parameters)
        if not self.params:
            raise ValueError("SGD got an empty parameter list")
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self.momentum_buffers: list[np.ndarray | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Set every gradient to ``None`` (torch's default ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = self.momentum_buffers[i]
                if buf is None:
                    buf = self.momentum_buffers[i] = np.array(g, dtype=p.data.dtype, copy=True)
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            p.data -= (self.lr * g).astype(p.data.dtype, copy=False)


@dataclass
class History:
    """What :func:`fit` records.

    ``loss``: the minibatch loss of every step; ``epoch``: the epoch (0-based) of every step;
    ``train_accuracy``: per epoch, the fraction of training examples classified right by the model
    *as it was* when their minibatch was seen; ``val_accuracy``: per epoch, the accuracy on the
    validation set after the epoch (empty without ``validation``).
    """

    loss: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)

    def epoch_loss(self) -> np.ndarray:
        """Mean minibatch loss of each epoch."""
        loss, ep = np.asarray(self.loss), np.asarray(self.epoch)
        return np.array([loss[ep == e].mean() for e in range(int(ep.max()) + 1)]) if len(ep) else loss


def batch_indices(n: int, batch_size: int, epochs: int, seed: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(epoch, indices)`` for every minibatch :func:`fit` draws.

    Each epoch is a fresh permutation ``np.random.default_rng(seed).permutation(n)`` (the same
    generator continues from epoch to epoch) cut into consecutive chunks of ``batch_size``; the
    last chunk may be smaller (torch's ``DataLoader`` with ``drop_last=False``).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]


def train_step(model: Module, optimizer: SGD, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """One SGD step on a minibatch: forward, mean cross-entropy, backward, update.

    Returns ``(loss, logits)`` (the logits before the update).
    """
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    model.backward_parameters(F.cross_entropy_backward(logits, y))
    optimizer.step()
    return float(loss), logits


def fit(model: Module, x: ArrayLike, y: ArrayLike, *, epochs: int, batch_size: int = 64, lr: float = 0.1,
        momentum: float = 0.0, seed: int = 0, validation: tuple[ArrayLike, ArrayLike] | None = None,
        progress: bool = True, gamma: float = 1.0) -> History:
    """Train ``model`` on ``(x, y)`` with minibatch SGD and cross-entropy.

    Parameters
    ----------
    model : cnnbook.nn.Module
        Maps ``x`` of shape ``(B, ...)`` to logits ``(B, K)``.
    x, y : ndarray
        Inputs ``(N, ...)`` (converted to the model's parameter dtype) and int class labels ``(N,)``.
    epochs, batch_size, lr, momentum : training configuration (:class:`SGD`).
    seed : int
        Minibatch order (see :func:`batch_indices`); the initial weights are the model's business.
    validation : tuple (x_val, y_val), optional
        Evaluated after every epoch into ``History.val_accuracy``.
    progress : bool
        Show a tqdm progress bar (``tqdm.auto``: a widget in notebooks, text in a terminal). It writes
        to stderr; pass ``False`` in scripts and book builds.
    gamma : float
        Learning-rate decay: epoch ``e`` (0-based) uses ``lr * gamma**e``, as
        ``torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)`` stepped after every epoch. The
        default 1 keeps ``lr`` constant.

    Returns
    -------
    History
    """
    params = list(model.parameters())
    dtype = params[0].data.dtype if params else np.float32
    x = np.asarray(x, dtype=dtype)
    y = np.asarray(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    optimizer = SGD(params, lr=lr, momentum=momentum)
    history = History()
    n = x.shape[0]
    steps_per_epoch = -(-n // batch_size)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="step")
    correct = 0
    try:
        for step, (epoch, idx) in enumerate(batch_indices(n, batch_size, epochs, seed)):
            loss, logits = train_step(model, optimizer, x[idx], y[idx])
            history.loss.append(loss)
            history.epoch.append(epoch)
            correct += int((logits.argmax(axis=1) == y[idx]).sum())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4f}", refresh=False)
            if (step + 1) % steps_per_epoch == 0:          # end of an epoch
                history.train_accuracy.append(correct / n)
                correct = 0
                if validation is not None:
                    history.val_accuracy.append(evaluate(model, *validation))
                optimizer.lr *= gamma                      # ExponentialLR.step()
    finally:
        if bar is not None:
            bar.close()
    return history


def predict(model: Module, x: ArrayLike, batch_size: int = 512) -> np.ndarray:
    """Predicted classes ``argmax(logits)`` for ``x``, in chunks of ``batch_size``."""
    params = list(model.parameters())
    dtype = params[0].data.dtype if params else np.float32
    x = np.asarray(x, dtype=dtype)
    return np.concatenate([model(x[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, x.shape[0], batch_size)])


def evaluate(model: Module, x: ArrayLike, y: ArrayLike, batch_size: int = 512) -> float:
    """Accuracy: the fraction of ``x`` whose predicted class equals ``y``."""
    return float(np.mean(predict(model, x, batch_size) == np.asarray(y)))


# --------------------------------------------------------------------------------------------------
# diagnostics (chapter 10): how the signal and the gradient fare through a deep network
# --------------------------------------------------------------------------------------------------
def gradient_norms(model: Module, x: ArrayLike, y: ArrayLike) -> dict[str, float]:
    """The norm ``||dL/dW||`` of every convolution and linear weight (the parameters with two or more
    axes), in layer order, for one minibatch and the mean cross-entropy ``L``. The gradients are zeroed
    first and left as computed; nothing is updated."""
    params = list(model.parameters())
    dtype = params[0].data.dtype if params else np.float32
    x, y = np.asarray(x, dtype=dtype), np.asarray(y)
    model.zero_grad()
    logits = model(x)
    model.backward_parameters(F.cross_entropy_backward(logits, y))
    return {name: float(np.linalg.norm(p.grad)) for name, p in model.named_parameters() if p.data.ndim >= 2}


def layer_output_stds(model: Module, x: ArrayLike, of: tuple[type, ...] | None = None) -> list[float]:
    """The standard deviation of the output of every top-level layer of a sequential ``model`` (its
    entries in order, e.g. the blocks of a ResNet), for the input ``x``; with ``of``, only of the layers
    of those types (e.g. ``(nn.ReLU, nn.BasicBlock)``: a ResNet's stem and its blocks)."""
    params = list(model.parameters())
    out = np.asarray(x, dtype=params[0].data.dtype if params else np.float32)
    stds = []
    for layer in model:
        out = layer(out)
        if of is None or isinstance(layer, of):
            stds.append(float(np.std(out)))
    return stds
