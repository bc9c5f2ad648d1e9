"""The frequency response of a 1-D filter and the Gaussian filter, against numpy/torch FFTs, scipy's
Gaussian window and the closed forms of the book's filters."""
import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import assume, given, strategies as st

import cnnbook
from cnnbook.kernels import gaussian_kernel
from helpers import seeds


@given(k=st.integers(1, 6), n=st.integers(1, 12), seed=seeds)
def test_frequency_response_at_the_dft_frequencies_is_the_fft(k, n, seed):
    assume(n >= k)  # numpy and torch cut a filter longer than the transform to its first n taps
    w = np.random.default_rng(seed).standard_normal(k)
    got = cnnbook.frequency_response(w, 2 * np.pi * np.arange(n) / n)
    np.testing.assert_allclose(got, np.fft.fft(w, n), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, torch.fft.fft(torch.from_numpy(w), n).numpy(), rtol=1e-12, atol=1e-12)


def test_closed_forms_of_the_chapter_filters():
    omega = np.linspace(0, np.pi, 50)
    average = cnnbook.frequency_response(np.full(3, 1 / 3), omega)
    second = cnnbook.frequency_response([1.0, -2.0, 1.0], omega)
    np.testing.assert_allclose(np.abs(average), np.abs(1 + 2 * np.cos(omega)) / 3, atol=1e-14)
    np.testing.assert_allclose(np.abs(second), 4 * np.sin(omega / 2) ** 2, atol=1e-14)
    # the phase of a symmetric 3-tap filter is a delay of one sample: w_hat = e^{-i omega} * real
    np.testing.assert_allclose(second * np.exp(1j * omega), 2 * np.cos(omega) - 2, atol=1e-14)


def test_a_sinusoid_comes_out_scaled_by_the_response():
    w, omega = np.array([1.0, 0.5, 0.25]), 0.7
    t = np.arange(40)
    h = cnnbook.frequency_response(w, omega)
    for part in (np.real, np.imag):  # cos and sin separately: the convolution takes real signals
        y = np.convolve(part(np.exp(1j * omega * t)), w, mode="full")[len(w) - 1: len(t)]
        np.testing.assert_allclose(y, part(h * np.exp(1j * omega * t[len(w) - 1:])), atol=1e-13)


def test_frequency_response_keeps_the_shape_of_omega_and_rejects_bad_filters():
    assert cnnbook.frequency_response([1.0, 1.0], 0.0) == pytest.approx(2.0)
    assert cnnbook.frequency_response([1.0, 1.0], np.zeros((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match="w must be 1-D"):
        cnnbook.frequency_response(np.ones((2, 2)), 0.0)
    with pytest.raises(ValueError, match="w must have at least one tap"):
        cnnbook.frequency_response([], 0.0)
    with pytest.raises(TypeError, match="w must be a real numeric array"):
        cnnbook.frequency_response([1j], 0.0)


@pytest.mark.parametrize("size, sigma", [(1, 1.0), (5, 1.0), (6, 0.7), (11, 2.5)])
def test_gaussian_kernel_matches_scipy_window(size, sigma):
    want = scipy.signal.windows.gaussian(size, std=sigma)
    np.testing.assert_allclose(gaussian_kernel(size, sigma), want / want.sum(), rtol=1e-13)


def test_gaussian_kernel_rejects_bad_arguments():
    for size in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="size must be a positive integer"):
            gaussian_kernel(size, 1.0)
    for sigma in (0, -1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="sigma must be a positive number"):
            gaussian_kernel(5, sigma)
