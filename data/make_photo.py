"""Write the small photograph the book reads with OpenCV: ``src/cnnbook/data/files/photo_china.jpg``.

The picture is scikit-learn's bundled sample image ``china.jpg`` (a temple, 427x640 RGB), shrunk to
160x240 with area averaging and saved by OpenCV as a JPEG (quality 90, about 14 KB). Chapter 3 reads it
back with ``cnnbook.data.load_photo`` (OpenCV's decoder, as ``cv2.imread``: channels in BGR order).
Run from the repository root:

    .venv/bin/python data/make_photo.py
"""
from pathlib import Path

import cv2
from sklearn.datasets import load_sample_image

OUT = Path(__file__).resolve().parents[1] / "src" / "cnnbook" / "data" / "files" / "photo_china.jpg"


def main() -> None:
    rgb = load_sample_image("china.jpg")                      # (427, 640, 3) uint8, RGB order
    small = cv2.resize(rgb, (240, 160), interpolation=cv2.INTER_AREA)  # cv2 sizes are (width, height)
    bgr = small[:, :, ::-1]                                   # OpenCV writes BGR
    if not cv2.imwrite(str(OUT), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90]):
        raise RuntimeError(f"could not write {OUT}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {small.shape[0]}x{small.shape[1]})")


if __name__ == "__main__":
    main()
