"""The small files shipped inside the package (``cnnbook/data/files/``), read with
:mod:`importlib.resources` so that they are found in any installation, editable or not."""
from __future__ import annotations

from importlib import resources

import numpy as np

#: Every file shipped in ``cnnbook/data/files/`` (the scripts of the repository's ``data/`` folder
#: wrote or describe them).
FILES = ("digit18.csv", "digit18.png", "photo_china.jpg", "shapes.png")


def read_bytes(name: str) -> bytes:
    """The contents of the shipped file ``name`` (one of :data:`FILES`)."""
    if name not in FILES:
        raise ValueError(f"name must be one of {FILES}, got {name!r}")
    return resources.files(__package__).joinpath("files", name).read_bytes()


def read_image(name: str, flags: int | None = None) -> np.ndarray:
    """The shipped image ``name`` decoded by OpenCV, exactly as ``cv2.imread`` would read the file.

    ``flags`` are ``cv2.imread``'s (default ``cv2.IMREAD_COLOR``: uint8 ``(H, W, 3)`` in **BGR** order;
    ``cv2.IMREAD_GRAYSCALE``: uint8 ``(H, W)``).
    """
    import cv2

    raw = np.frombuffer(read_bytes(name), dtype=np.uint8)
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR if flags is None else flags)
    if image is None:
        raise ValueError(f"{name!r} is not an image OpenCV can decode")
    return image
