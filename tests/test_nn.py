"""cnnbook.nn layers against torch.nn modules with the same weights: forward values, the gradient
of the input and of every parameter (autograd, random upstream gradient), state_dict keys/shapes,
initialisation, dtypes and bad arguments."""
import math

import numpy as np
import pytest
import torch

from cnnbook import nn



def torch_twin(layer, torch_layer):
    """Load the NumPy layer's parameters into the torch layer (float64) and return it."""
    torch_layer = torch_layer.double()
    torch_layer.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    return torch_layer


def check_against_torch(layer, torch_layer, x, rng, atol=1e-10):
    """Forward, backward (random upstream gradient), parameter gradients: NumPy == torch autograd."""
    torch_layer = torch_twin(layer, torch_layer)
    y = layer(x)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = torch_layer(xt)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=atol)
    g = rng.standard_normal(y.shape)
    gx = layer.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-9, atol=atol)
    torch_grads = dict(torch_layer.named_parameters())
    names = [name for name, _ in layer.named_parameters()]
    assert names == list(torch_grads)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, torch_grads[name].grad.numpy(), rtol=1e-9, atol=atol,
                                   err_msg=name)
    return y


CONV_CASES = [
    dict(in_channels=1, out_channels=6, kernel_size=5, padding=2),
    dict(in_channels=6, out_channels=16, kernel_size=5),
    dict(in_channels=3, out_channels=4, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(in_channels=4, out_channels=6, kernel_size=3, dilation=2, groups=2, bias=False),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding="same"),
    dict(in_channels=2, out_channels=3, kernel_size=(2, 3), padding="valid", stride=2),
]


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_layer_matches_torch(kwargs, rng):
    layer = nn.Conv2d(**kwargs, dtype=np.float64, rng=1)
    x = rng.standard_normal((3, kwargs["in_channels"], 11, 10))
    check_against_torch(layer, torch.nn.Conv2d(**kwargs), x, rng)


POOL_CASES = [
    dict(kernel_size=2, stride=2),
    dict(kernel_size=2),                          # stride defaults to kernel_size
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(1, 2), ceil_mode=True),
]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kwargs", POOL_CASES)
def test_maxpool2d_layer_matches_torch(kwargs, training, rng):
    """In training mode the layer keeps the arg-max from its forward pass; in eval mode its backward
    finds it again from the saved input. Both route the gradient as torch does."""
    x = rng.permutation(2 * 3 * 9 * 8).reshape(2, 3, 9, 8) / 7.0    # distinct values: no ties
    check_against_torch(nn.MaxPool2d(**kwargs).train(training), torch.nn.MaxPool2d(**kwargs), x, rng)


def test_maxpool2d_layer_large_input_with_ties_matches_torch(rng):
    """An input large enough for the pooling to split its samples between threads (the saved arg-max
    is split with them), with many ties (ReLU-like zeros): first maximum in scan order, as torch."""
    x = np.maximum(rng.standard_normal((8, 16, 64, 64)), 0) * (rng.random((8, 16, 64, 64)) < 0.5)
    check_against_torch(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x, rng)


@pytest.mark.parametrize("kwargs", POOL_CASES + [dict(kernel_size=3, stride=2, padding=1,
                                                      count_include_pad=False),
                                                 dict(kernel_size=3, stride=2, padding=1, divisor_override=4)])
def test_avgpool2d_layer_matches_torch(kwargs, rng):
    x = rng.standard_normal((2, 3, 9, 8))
    check_against_torch(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), x, rng)


def test_pool_stride_default_is_kernel_size():
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d((2, 3)).stride == (2, 3)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_layer_matches_torch(bias, rng):
    layer = nn.Linear(7, 5, bias=bias, dtype=np.float64, rng=3)
    check_against_torch(layer, torch.nn.Linear(7, 5, bias=bias), rng.standard_normal((4, 7)), rng)


@pytest.mark.parametrize("make", [lambda m: m.ReLU(), lambda m: m.Sigmoid()], ids=["relu", "sigmoid"])
def test_activation_layers_match_torch(make, rng):
    x = rng.standard_normal((3, 2, 4, 5)) * 3
    check_against_torch(make(nn), make(torch.nn), x, rng)


@pytest.mark.parametrize("start_dim,end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    y = check_against_torch(nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim), x, rng)
    assert y.shape == torch.nn.Flatten(start_dim, end_dim)(torch.zeros(2, 3, 4, 5)).shape


def test_sequential_matches_torch(rng):
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, dtype=np.float64, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3, stride=2, dtype=np.float64, rng=1), nn.Sigmoid(), nn.AvgPool2d(2, 1),
        nn.Flatten(), nn.Linear(3, 5, dtype=np.float64, rng=2),
    )
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 3, 3, stride=2), torch.nn.Sigmoid(), torch.nn.AvgPool2d(2, 1),
        torch.nn.Flatten(), torch.nn.Linear(3, 5),
    )
    assert list(model.state_dict()) == list(twin.state_dict()) == [
        "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"]
    check_against_torch(model, twin, rng.standard_normal((3, 2, 12, 12)), rng)
    assert len(model) == 8 and isinstance(model[2], nn.MaxPool2d)
    assert list(model[3:].state_dict()) == ["3.weight", "3.bias", "7.weight", "7.bias"]  # names kept


@pytest.mark.parametrize("first", ["conv", "linear", "relu"])
def test_backward_parameters_matches_torch_without_input_grad(first, rng):
    """``backward_parameters``: the parameter gradients of torch's autograd for an input that needs no
    gradient, nothing returned, for a first layer that skips dX (Conv2d) or not (the default)."""
    head = {"conv": (nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64, rng=0), torch.nn.Conv2d(2, 3, 3, padding=1)),
            "linear": (nn.Flatten(), torch.nn.Flatten()), "relu": (nn.ReLU(), torch.nn.ReLU())}[first]
    channels = 3 if first == "conv" else 2
    model = nn.Sequential(head[0], nn.Flatten(), nn.Linear(channels * 16, 4, dtype=np.float64, rng=1))
    twin = torch_twin(model, torch.nn.Sequential(head[1], torch.nn.Flatten(), torch.nn.Linear(channels * 16, 4)))
    x = rng.standard_normal((3, 2, 4, 4))
    g = rng.standard_normal((3, 4))
    model(x)
    assert model.backward_parameters(g) is None
    twin(torch.from_numpy(x)).backward(torch.from_numpy(g))
    torch_grads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, torch_grads[name].grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=name)


def test_state_dict_shapes_match_torch_and_load_directly():
    layer = nn.Conv2d(6, 16, 5, rng=0)
    twin = torch.nn.Conv2d(6, 16, 5).float()
    ours = layer.state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in twin.state_dict().items()}
    layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    np.testing.assert_array_equal(layer.weight.data, twin.weight.detach().numpy())
    assert layer.weight.data.dtype == np.float32
    ours["weight"][...] = 0                        # state_dict returns copies
    assert np.any(layer.weight.data != 0)


def test_load_state_dict_errors():
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(KeyError, match=r"missing keys \['bias'\]"):
        layer.load_state_dict({"weight": np.zeros((2, 3))})
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        layer.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2), "extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"weight has shape \(3, 2\), the model expects \(2, 3\)"):
        layer.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)})
    layer.load_state_dict({"bias": np.ones(2)}, strict=False)
    np.testing.assert_array_equal(layer.bias.data, [1, 1])


@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Conv2d(6, 16, 5, rng=0), 150),
    (lambda: nn.Conv2d(8, 12, (3, 2), groups=4, rng=0), 2 * 3 * 2),
    (lambda: nn.Linear(400, 120, rng=0), 400),
])
def test_default_initialisation_is_torchs_uniform(make, fan_in):
    # torch: kaiming_uniform_(a=sqrt(5)) => U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same bound
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert np.abs(w).max() > 0.9 * bound                             # the whole range is used
    assert abs(w.var() - bound**2 / 3) < 0.15 * bound**2 / 3           # variance of U(-a, a) is a^2/3
    assert w.dtype == np.float32 and b.dtype == np.float32


def test_initialisation_is_seeded():
    a, b, c = nn.Conv2d(1, 6, 5, rng=7), nn.Conv2d(1, 6, 5, rng=7), nn.Conv2d(1, 6, 5, rng=8)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    gen = np.random.default_rng(0)                                   # a shared generator advances
    d, e = nn.Linear(3, 3, rng=gen), nn.Linear(3, 3, rng=gen)
    assert not np.array_equal(d.weight.data, e.weight.data)


def test_gradients_accumulate_until_zero_grad(rng):
    layer = nn.Linear(3, 2, dtype=np.float64, rng=0)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    first = layer.weight.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * first)
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_dtype_float32_default_and_double(rng):
    layer = nn.Conv2d(2, 3, 3, rng=0)
    x32 = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    y = layer(x32)
    assert y.dtype == np.float32
    layer.backward(np.ones_like(y))
    assert layer.weight.grad.dtype == np.float32
    layer.double()
    assert layer.weight.data.dtype == np.float64 and layer.weight.grad.dtype == np.float64
    assert layer(x32.astype(np.float64)).dtype == np.float64
    assert nn.Linear(2, 2, dtype=np.float64, rng=0).weight.dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        nn.Linear(2, 2, dtype=np.int32)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        nn.Conv2d(0, 3, 3)
    with pytest.raises(ValueError, match=r"groups=2 must divide in_channels \(3\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        nn.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        nn.Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="out_features must be a positive int"):
        nn.Linear(3, 0)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Generator"):
        nn.Linear(3, 2, rng="seed")
    with pytest.raises(TypeError, match="layer 1 must be a cnnbook.nn.Module"):
        nn.Sequential(nn.ReLU(), torch.nn.ReLU())
