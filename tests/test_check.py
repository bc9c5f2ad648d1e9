"""cnnbook.check, the chapters' checking helpers, against known answers and torch."""
import numpy as np
import pytest
import torch

from cnnbook.check import central_difference, maxdiff, tensor, torch_lenet5, torch_twin_of_lenet
from cnnbook.models import lenet5


def test_maxdiff_of_arrays_tensors_and_numbers():
    assert maxdiff(np.array([1.0, -2.0, 3.0]), torch.tensor([1.5, -2.0, 1.0])) == 2.0
    assert maxdiff(3, 3) == 0.0
    assert maxdiff(np.float64(2.0), torch.tensor([1.0])) == 1.0      # a number against a 1-element array
    assert maxdiff(np.ones((2, 3)), np.zeros((1, 1, 2, 3))) == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        maxdiff(np.zeros(3), np.zeros((3, 2)))


def test_tensor_is_a_float64_copy():
    a = np.arange(4, dtype=np.float32)
    t = tensor(a, requires_grad=True)
    assert t.dtype == torch.float64 and t.requires_grad
    a[0] = 9
    assert t[0].item() == 0.0


def test_central_difference_of_a_cubic_is_its_derivative():
    """d/dx sum(x^3) = 3x^2; the central difference is exact for a cubic up to eps^2 and rounding."""
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    keep = x.copy()
    grad = central_difference(lambda: float(np.sum(x ** 3)), x, eps=1e-5)
    np.testing.assert_allclose(grad, 3 * keep ** 2, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(x, keep)              # restored entry by entry
    with pytest.raises(TypeError, match="float NumPy array"):
        central_difference(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps must be > 0"):
        central_difference(lambda: 0.0, x, eps=0.0)


@pytest.mark.parametrize("activation,pool", [("sigmoid", "avg"), ("relu", "max")])
def test_torch_twin_computes_what_the_numpy_lenet_computes(activation, pool):
    model = lenet5(activation, pool, seed=2, dtype=np.float64)
    twin = torch_twin_of_lenet(model, activation, pool)
    assert list(twin.state_dict()) == list(model.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28))
    np.testing.assert_allclose(model(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(torch_lenet5(activation, pool)[1], {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation])
    with pytest.raises(ValueError, match="activation must be"):
        torch_lenet5("tanh")
