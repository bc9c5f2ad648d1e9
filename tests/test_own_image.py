"""The reader's own image (cnnbook.explorer.images): decoding with OpenCV, grey, fitting, messages; the live
kernel gallery and pooling explorer on an uploaded file, and their messages for files they cannot use
(never a traceback). The website's in-browser path is checked in tests/test_site.py."""
from __future__ import annotations

import datetime

import cv2
import numpy as np
import pytest
import torch

from cnnbook.explorer.images import ImageError, grey_from_bytes, read_image_bytes
from cnnbook.explorers.gallery import kernel_gallery
from cnnbook.explorers.pooling import pooling_explorer
from cnnbook.kernels import get_kernel


def _png(h: int, w: int, seed: int = 0) -> tuple[bytes, np.ndarray]:
    rgb = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".png", rgb[..., ::-1].copy())  # OpenCV writes BGR
    assert ok
    return data.tobytes(), rgb


def test_grey_is_the_weighted_sum_of_the_rgb_values_scaled_to_one():
    data, rgb = _png(5, 7)
    want = 0.299 * rgb[..., 0] / 255 + 0.587 * rgb[..., 1] / 255 + 0.114 * rgb[..., 2] / 255
    np.testing.assert_allclose(grey_from_bytes(data), want, rtol=1e-12)


def test_a_large_image_is_scaled_down_with_a_message_and_a_small_one_kept():
    data, _ = _png(100, 50)
    image, note = read_image_bytes(data, (16, 16), 3)
    assert image.shape == (16, 8) and "scaled down to 8×16" in note and "50×100" in note
    data, _ = _png(10, 12)
    image, note = read_image_bytes(data, (16, 16), 3)
    assert image.shape == (10, 12) and note == "Showing your image (12×10 pixels, in grey)."


@pytest.mark.parametrize("data, message", [
    (b"", "is empty: choose an image file"),
    (b"this is not an image, just some text", "is not an image OpenCV can read"),
    (_png(2, 5)[0], "is 5×2 pixels: this explorer needs at least 3×3"),
])
def test_files_the_explorer_cannot_use_get_a_clear_message(data, message):
    with pytest.raises(ImageError, match=message):
        read_image_bytes(data, (16, 16), 3, name="“x.png”")


def _upload(live, data: bytes, name: str):
    live.upload.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                          "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


@pytest.mark.parametrize("factory", [kernel_gallery, pooling_explorer])
def test_the_live_explorer_shows_an_uploaded_image_and_messages_instead_of_tracebacks(factory):
    explorer = factory()
    live = explorer.widget()
    book = live.output.value
    data, rgb = _png(40, 300, seed=3)
    _upload(live, data, "wide.png")
    message = live.message.value
    assert "scaled down" in message and "problem" not in message
    view = live.view()
    grey, _ = read_image_bytes(data, explorer.own_image.max_shape, 3)
    x = torch.tensor(grey)[None, None]
    if factory is kernel_gallery:
        w = torch.tensor(get_kernel(live.setting["kernel"]))[None, None]
        want = torch.nn.functional.conv2d(x, w, padding=1)[0, 0].numpy()
    else:
        st = live.setting
        want = torch.nn.functional.max_pool2d(x, st["kernel_size"], stride=st["stride"],
                                              padding=st["padding"])[0, 0].numpy()
    np.testing.assert_allclose(view.output, want, rtol=1e-12, atol=1e-12)
    assert live.output.value != book
    for bad, says in ((b"", "is empty"), (b"GIF89a nonsense", "is not an image"), (_png(2, 2)[0], "2×2 pixels")):
        _upload(live, bad, "bad.png")
        assert says in live.message.value and "cnnbook-image-problem" in live.message.value
        assert "Traceback" not in live.message.value
        np.testing.assert_allclose(live.view().output, want, rtol=1e-12)  # the last good image stays
    live._on_book_image()
    assert live.output.value == book and live.book_image.disabled
