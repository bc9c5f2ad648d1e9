"""cnnbook.data: the digits set (shapes, split, normalisation), the IDX reader on files written here, the
shipped files and the sample images. (That a non-editable install finds the files: test_install.py.)"""
import gzip
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_digits, load_sample_image

from cnnbook.data import (FILES, load_digit18, load_digits28, load_photo, read_bytes, read_idx, read_image,
                          sample_digit, sample_photo, small_grid)

SHIPPED = Path(__file__).resolve().parents[1] / "src" / "cnnbook" / "data" / "files"


# ----------------------------------------------------------------------------------------------
# IDX: the tests write the files byte by byte with struct, following the format's description
# ----------------------------------------------------------------------------------------------
def idx_bytes(code: int, values: np.ndarray, big_endian_format: str) -> bytes:
    """Magic 0x0000<code><ndim>, big-endian uint32 sizes, then the values big-endian."""
    header = bytes([0, 0, code, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    body = struct.pack(f">{values.size}{big_endian_format}", *values.ravel().tolist())
    return header + body


CASES = [  # (type code, struct format, values)
    (0x08, "B", np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10),    # images, 3-D
    (0x08, "B", np.array([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], dtype=np.uint8)),       # labels, 1-D
    (0x09, "b", np.array([[-128, -1], [0, 127]], dtype=np.int8)),
    (0x0B, "h", np.array([-30000, -2, 3, 30000], dtype=np.int16)),
    (0x0C, "i", np.array([[-2**31, 1], [65536, 2**31 - 1]], dtype=np.int32)),
    (0x0D, "f", np.array([[0.5, -1.25, 3e8]], dtype=np.float32)),
    (0x0E, "d", np.array([np.pi, -np.e, 1e-300], dtype=np.float64)),
]


@pytest.mark.parametrize("code,fmt,values", CASES)
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, code, fmt, values, compress):
    raw = idx_bytes(code, values, fmt)
    path = tmp_path / ("data.idx.gz" if compress else "data.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path)
    assert out.shape == values.shape
    assert out.dtype == values.dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_read_idx_mnist_header_example(tmp_path):
    # The first bytes of MNIST's train-labels file: magic 0x00000801, 60000 items (0x0000EA60).
    raw = bytes.fromhex("00000801" "00000003") + bytes([5, 0, 4])
    (tmp_path / "labels").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [5, 0, 4])
    assert struct.unpack(">I", bytes.fromhex("00000803"))[0] == 2051  # the images file's magic


def test_read_idx_gzip_recognised_by_content_not_name(tmp_path):
    values = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path = tmp_path / "no_extension"
    path.write_bytes(gzip.compress(idx_bytes(0x08, values, "B")))
    np.testing.assert_array_equal(read_idx(str(path)), values)


@pytest.mark.parametrize("raw,match", [
    (bytes.fromhex("01000801") + bytes(4), "bad IDX magic number 0x01000801: the first two bytes must be zero"),
    (bytes.fromhex("00000A01") + struct.pack(">I", 1) + bytes(1), "type code 0x0A is not one of"),
    (bytes.fromhex("0000"), "truncated IDX file: 2 bytes, the magic number needs 4"),
    (bytes.fromhex("00000803") + struct.pack(">2I", 2, 28), "the header of a 3-D array needs 16"),
    (bytes.fromhex("00000802") + struct.pack(">2I", 2, 3) + bytes(5), r"shape \(2, 3\) of uint8 needs 18 bytes, got 17"),
    (bytes.fromhex("00000D01") + struct.pack(">I", 2) + bytes(7), r"shape \(2,\) of float32 needs 16 bytes, got 15"),
    (bytes.fromhex("00000801") + struct.pack(">I", 2) + bytes(3), r"1 unexpected bytes after the data"),
])
def test_read_idx_bad_files(tmp_path, raw, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=match):
        read_idx(path)


def test_read_idx_truncated_gzip(tmp_path):
    blob = gzip.compress(idx_bytes(0x08, np.arange(100, dtype=np.uint8), "B"))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="damaged or truncated gzip data"):
        read_idx(path)


# ----------------------------------------------------------------------------------------------
# load_digits28
# ----------------------------------------------------------------------------------------------
def test_digits28_shapes_split_and_dtypes():
    x_train, y_train, x_test, y_test = load_digits28()
    assert x_train.shape == (1437, 1, 28, 28) and x_test.shape == (360, 1, 28, 28)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # stratified: each class keeps its share of sklearn's counts (178..183 per class) within one image
    total = np.bincount(load_digits().target)
    assert np.all(np.abs(np.bincount(y_test) - 0.2 * total) <= 1)


def test_digits28_normalisation_and_border():
    x_train, _, x_test, _ = load_digits28()
    assert abs(float(x_train.mean())) < 1e-4 and abs(float(x_train.std()) - 1) < 1e-4
    background = x_train[0, 0, 0, 0]
    # the 4-pixel frame around the 20x20 digit holds only background (zero ink)
    frame = np.ones((28, 28), bool)
    frame[4:24, 4:24] = False
    assert np.all(x_train[:, 0][:, frame] == background) and np.all(x_test[:, 0][:, frame] == background)
    assert background < 0  # zero ink standardised: below the mean


def test_digits28_matches_the_8x8_scans():
    # Shrinking the 20x20 centre back to 8x8 by area averaging recovers the original scan's layout:
    # the enlarged image is strongly correlated with the sklearn image it came from.
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    _, originals, _, labels = train_test_split(digits.images, digits.target, test_size=0.2,
                                               stratify=digits.target, random_state=0)
    _, _, x_test, y_test = load_digits28()
    np.testing.assert_array_equal(labels, y_test)
    for k in range(5):
        small = cv2.resize(x_test[k, 0, 4:24, 4:24], (8, 8), interpolation=cv2.INTER_AREA)
        r = np.corrcoef(small.ravel(), originals[k].ravel())[0, 1]
        assert r > 0.95


def test_digits28_is_deterministic_and_returns_copies():
    a = load_digits28()
    a[0][...] = 0.0                      # the caller may scribble on what it got
    b = load_digits28()
    assert not np.all(b[0] == 0.0)
    c = load_digits28()
    for u, v in zip(b, c):
        np.testing.assert_array_equal(u, v)
    assert load_digits28(seed=1)[1].tolist() != b[1].tolist()


def test_digit18_of_the_notes():
    img = load_digit18()
    assert img.shape == (18, 18) and img.dtype == np.uint8
    assert img.max() == 255 and img[0].sum() == 0 and img[-1].sum() == 0
    assert img[1, :6].tolist() == [0, 0, 0, 1, 12, 0]     # the notes' second row starts 0,0,0,1,12,0


# ----------------------------------------------------------------------------------------------
# the shipped files and the sample images
# ----------------------------------------------------------------------------------------------
def test_files_lists_exactly_the_shipped_folder_and_reads_each_file():
    assert sorted(FILES) == sorted(p.name for p in SHIPPED.iterdir())
    for name in FILES:
        assert read_bytes(name) == (SHIPPED / name).read_bytes()
    with pytest.raises(ValueError, match="name must be one of"):
        read_bytes("../pyproject.toml")
    with pytest.raises(ValueError, match="'digit18.csv' is not an image OpenCV can decode"):
        read_image("digit18.csv")


def test_read_image_decodes_as_cv2_imread():
    for name in ("photo_china.jpg", "digit18.png", "shapes.png"):
        for flags in (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE):
            np.testing.assert_array_equal(read_image(name, flags), cv2.imread(str(SHIPPED / name), flags))
    np.testing.assert_array_equal(read_image("digit18.png", cv2.IMREAD_GRAYSCALE), load_digit18())


def test_photo_is_small_and_is_the_sample_image_in_bgr_order():
    assert len(read_bytes("photo_china.jpg")) < 100_000
    bgr = load_photo()
    assert bgr.shape == (160, 240, 3) and bgr.dtype == np.uint8
    rgb = cv2.resize(load_sample_image("china.jpg"), (240, 160), interpolation=cv2.INTER_AREA)
    err_rgb = np.abs(bgr[:, :, ::-1].astype(float) - rgb).mean()
    err_bgr = np.abs(bgr.astype(float) - rgb).mean()
    # JPEG at quality 90 leaves a mean error of about 3.4 grey levels; forgetting BGR->RGB gives about 18
    assert err_rgb < 5.0 and err_bgr > 3 * err_rgb


@pytest.mark.parametrize("height, width, crop", [
    (64, 96, (slice(0, 427), slice(0, 640))),        # 427x640 has the aspect ratio 2:3 already
    (16, 16, (slice(0, 427), slice(106, 533))),      # the central 427x427 square
    (107, 160, (slice(0, 427), slice(0, 639))),      # 427 * 160/107 = 638.50 -> 639 columns, from the left
])
def test_sample_photo_is_the_opencv_grey_of_the_central_crop(height, width, crop):
    # OpenCV's own route: RGB -> grey (BT.601 weights) in float32, then area averaging. Both steps are
    # linear, so grey-then-shrink (cnnbook) and shrink-then-grey (here) agree to float32 rounding.
    rgb = load_sample_image("china.jpg")[crop].astype(np.float32) / 255.0
    small = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    want = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    got = sample_photo("china.jpg", height, width)
    assert got.shape == (height, width) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert 0.0 <= got.min() < got.max() <= 1.0


def test_sample_photo_is_a_fresh_copy_and_rejects_bad_arguments():
    a = sample_photo()
    a[...] = 0.0
    assert sample_photo().max() > 0.5
    assert sample_photo("flower.jpg").shape == (64, 96)
    with pytest.raises(ValueError, match=r"name must be one of \('china.jpg', 'flower.jpg'\), got 'cat.jpg'"):
        sample_photo("cat.jpg")
    with pytest.raises(ValueError, match="height and width must be at least 1, got 0 and 5"):
        sample_photo(height=0, width=5)


def test_sample_digit_and_small_grid():
    d = sample_digit(0, 16)
    assert d.shape == (16, 16) and d[:4].sum() == 0 and d[-4:].sum() == 0 and 0.9 < d.max() <= 1.0
    np.testing.assert_array_equal(d[4:12, 4:12] * 16, load_digits().images[0])
    with pytest.raises(ValueError, match="canvas must be at least 8, got 4"):
        sample_digit(0, 4)
    g = small_grid(7, 0)
    assert g.shape == (7, 7) and g.dtype == np.float64 and set(np.unique(g)) <= set(range(10))
    np.testing.assert_array_equal(g, small_grid(7, 0))
    assert not np.array_equal(g, small_grid(7, 1))


def test_shift_digits_moves_each_image_by_its_own_shift_against_torch_roll():
    """Against torch.roll on a zero-bordered canvas: with a border wider than the shift, rolling moves
    the ink exactly as a shift does and brings only zeros in."""
    import torch

    from cnnbook.data import shift_digits

    rng = np.random.default_rng(1)
    x = np.zeros((6, 1, 12, 12))
    x[:, :, 3:9, 3:9] = rng.random((6, 1, 6, 6)) + 0.1            # ink inside a 3-pixel border
    moved = shift_digits(x, 3, seed=4)
    shifts = np.random.default_rng(4).integers(-3, 4, size=(6, 2))
    for i, (dy, dx) in enumerate(shifts):
        want = torch.roll(torch.from_numpy(x[i]), shifts=(int(dy), int(dx)), dims=(1, 2)).numpy()
        np.testing.assert_array_equal(moved[i], want)
    assert len({tuple(s) for s in shifts}) > 1                     # not all the same shift
    np.testing.assert_array_equal(shift_digits(x, 0), x)
    with pytest.raises(ValueError, match="max_shift must be smaller than the image"):
        shift_digits(x, 12)
    with pytest.raises(ValueError, match="images must be 4-D"):
        shift_digits(x[0], 1)
