"""Write the small sample images of ``src/cnnbook/data/files/`` that are generated rather than stored by hand.

- ``digit18.png``: the 18x18 grey-scale digit of the study notes, from ``digit18.csv`` (the pixel
  values, 0 black .. 255 white, are data copied from the notes and kept in that CSV);
- ``shapes.png``: a 96x96 grey-scale test drawing (a filled square, a ring, a triangle and a diagonal
  line on black), drawn with OpenCV: every edge orientation in one small picture.

Both are deterministic. Run from the repository root:

    .venv/bin/python data/make_samples.py
"""
from pathlib import Path

import cv2
import numpy as np

FILES = Path(__file__).resolve().parents[1] / "src" / "cnnbook" / "data" / "files"


def digit18() -> np.ndarray:
    return np.loadtxt(FILES / "digit18.csv", delimiter=",", dtype=np.uint8)


def shapes(size: int = 96) -> np.ndarray:
    img = np.zeros((size, size), np.uint8)
    cv2.rectangle(img, (8, 8), (38, 38), color=255, thickness=-1)               # filled square
    cv2.circle(img, (68, 24), 15, color=200, thickness=4)                       # ring
    triangle = np.array([[12, 88], [44, 88], [28, 56]], np.int32)
    cv2.fillPoly(img, [triangle], color=160)                                    # triangle
    cv2.line(img, (56, 88), (88, 52), color=255, thickness=3)                   # diagonal line
    return img


def main() -> None:
    for name, img in (("digit18.png", digit18()), ("shapes.png", shapes())):
        out = FILES / name
        if not cv2.imwrite(str(out), img):
            raise RuntimeError(f"could not write {out}")
        print(f"wrote {out} {img.shape}")


if __name__ == "__main__":
    main()
