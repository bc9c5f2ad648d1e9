"""Chapter 10's layers and networks against their torch twins: BatchNorm2d (training and evaluation mode,
buffers in the state_dict), AdaptiveAvgPool2d, Dropout, the residual BasicBlock (identity and projection
shortcut), Branches; the small VGG-style net and the small ResNet: same keys, same forward and backward,
and 20 SGD-momentum steps equal to torch's within 1e-6 (float64) from the same weights."""
import numpy as np
import pytest
import torch

from cnnbook import functional as F
from cnnbook import nn
from cnnbook.check import (torch_basic_block, torch_branches, torch_small_resnet, torch_small_vgg,
                           torch_twin)
from cnnbook.data import load_handwritten_digits
from cnnbook.models import small_resnet, small_vgg
from cnnbook.training import SGD, batch_indices, train_step
from helpers import torch_sgd_losses


@pytest.fixture(autouse=True)
def one_thread():
    """Single-threaded BLAS and torch (see test_lenet.py: two-thread pools are slower on a shared machine)."""
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


def _same_forward_and_backward(model, twin, x, rng, rtol=1e-9):
    """Forward equal; a random upstream gradient; input and parameter gradients equal; the buffers after
    the pass (running statistics moved in training mode) equal."""
    y = model(x)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = twin(xt)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=rtol, atol=1e-12)
    g = rng.standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    gx = model.backward(g)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=rtol, atol=1e-12, err_msg="grad_input")
    tgrads = dict(twin.named_parameters())
    assert sorted(tgrads) == sorted(dict(model.named_parameters()))
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name].grad.numpy(), rtol=rtol, atol=1e-12, err_msg=name)
    tstate = twin.state_dict()
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, tstate[name].numpy(), rtol=rtol, atol=1e-12, err_msg=name)
    return y


def _keys_and_shapes(model, twin):
    ours = {k: v.shape for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in twin.state_dict().items()}
    assert list(ours) == list(theirs)                  # torch's order too
    assert ours == theirs


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_training_then_evaluation_equals_torch(momentum):
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64)
    layer.weight.data[:] = rng.standard_normal(3)
    layer.bias.data[:] = rng.standard_normal(3)
    twin = torch_twin(layer, torch.nn.BatchNorm2d(3, momentum=momentum))
    _keys_and_shapes(layer, twin)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    for _ in range(3):                                 # three training batches move the running statistics
        _same_forward_and_backward(layer, twin, rng.standard_normal((4, 3, 5, 5)) * 3 + 1, rng)
        layer.zero_grad(), twin.zero_grad()
    assert int(layer.num_batches_tracked) == 3 and layer.state_dict()["num_batches_tracked"].dtype == np.int64
    layer.eval(), twin.eval()
    assert not layer.training
    _same_forward_and_backward(layer, twin, rng.standard_normal((2, 3, 4, 4)), rng)
    assert int(layer.num_batches_tracked) == 3         # evaluation records nothing


def test_batchnorm2d_without_running_statistics_and_dtype():
    rng = np.random.default_rng(1)
    layer = nn.BatchNorm2d(2, affine=False, track_running_stats=False, dtype=np.float64).eval()
    twin = torch.nn.BatchNorm2d(2, affine=False, track_running_stats=False).double().eval()
    assert layer.state_dict() == {} and not list(layer.parameters())
    _same_forward_and_backward(layer, twin, rng.standard_normal((3, 2, 3, 3)), rng)   # batch statistics
    bn = nn.BatchNorm2d(2).double()
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\)"):
        bn(np.ones((2, 2)))


def test_load_state_dict_writes_buffers_in_place():
    layer = nn.BatchNorm2d(2, dtype=np.float64)
    running = layer.running_mean
    layer.load_state_dict({k: v.numpy() for k, v in torch.nn.BatchNorm2d(2).state_dict().items()} |
                          {"running_mean": np.array([1.0, 2.0])})
    assert layer.running_mean is running and layer.running_mean.tolist() == [1.0, 2.0]


def test_adaptive_avg_pool_and_dropout_layers():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 5))
    _same_forward_and_backward(nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2)), x, rng)
    drop = nn.Dropout(0.3, rng=5)
    y = drop(x)
    np.testing.assert_array_equal(y != 0, drop.saved_mask)
    np.testing.assert_allclose(y, np.where(drop.saved_mask, x / 0.7, 0))
    g = rng.standard_normal(x.shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    (xt * torch.from_numpy(drop.saved_mask) / 0.7).backward(torch.from_numpy(g))   # torch's formula, same mask
    np.testing.assert_allclose(drop.backward(g), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(nn.Dropout(0.3, rng=5)(x), y)                     # reproducible
    drop.eval()
    np.testing.assert_array_equal(drop(x), torch.nn.Dropout(0.3).eval()(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(drop.backward(g), g)


@pytest.mark.parametrize("c_in, c_out, stride, shortcut, batch_norm", [
    (4, 4, 1, True, True),        # identity shortcut
    (4, 6, 2, True, True),        # projection shortcut: downsample.0 (1x1 conv), downsample.1 (batch norm)
    (4, 6, 1, True, False),       # projection without batch norm
    (4, 4, 2, False, True),       # plain block: no addition
])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_basic_block_equals_torch(c_in, c_out, stride, shortcut, batch_norm, mode):
    rng = np.random.default_rng(3)
    block = nn.BasicBlock(c_in, c_out, stride, shortcut, batch_norm, dtype=np.float64, rng=4)
    for key, buf in block.named_buffers():             # non-trivial running statistics for evaluation mode
        if buf.dtype.kind == "f":
            buf[...] = rng.random(buf.shape) + 0.5
    block.train(mode == "train")
    twin = torch_twin(block, torch_basic_block(c_in, c_out, stride, shortcut, batch_norm))
    _keys_and_shapes(block, twin)
    keys = {k.split(".")[0] for k in block.state_dict()}
    assert keys == {"conv1", "conv2"} | ({"bn1", "bn2"} if batch_norm else set()) | \
        ({"downsample"} if shortcut and (stride != 1 or c_in != c_out) else set())
    _same_forward_and_backward(block, twin, rng.standard_normal((3, c_in, 6, 6)), rng)


def test_identity_shortcut_passes_the_gradient_through_the_addition():
    """With the residual branch's last batch-norm scale at 0, F(x) = 0 and y = relu(x): the gradient
    reaching x is the upstream one where x > 0, whatever the convolutions are."""
    rng = np.random.default_rng(6)
    block = nn.BasicBlock(3, 3, dtype=np.float64, rng=0)
    block.bn2.weight.data[:] = 0.0
    x = rng.standard_normal((2, 3, 5, 5))
    g = rng.standard_normal(x.shape)
    np.testing.assert_allclose(block(x), np.maximum(x, 0), atol=1e-15)
    np.testing.assert_allclose(block.backward(g), np.where(x > 0, g, 0.0), atol=1e-12)


def test_branches_concatenate_and_equal_torch():
    rng = np.random.default_rng(7)
    ours = nn.Branches(nn.Conv2d(3, 2, 1, dtype=np.float64, rng=0),
                       nn.Sequential(nn.Conv2d(3, 2, 1, dtype=np.float64, rng=1), nn.ReLU(),
                                     nn.Conv2d(2, 4, 3, padding=1, dtype=np.float64, rng=2)),
                       nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(3, 1, 1, dtype=np.float64, rng=3)))
    twin = torch_twin(ours, torch_branches(
        torch.nn.Conv2d(3, 2, 1),
        torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1), torch.nn.ReLU(), torch.nn.Conv2d(2, 4, 3, padding=1)),
        torch.nn.Sequential(torch.nn.MaxPool2d(3, 1, 1), torch.nn.Conv2d(3, 1, 1))))
    _keys_and_shapes(ours, twin)
    y = _same_forward_and_backward(ours, twin, rng.standard_normal((2, 3, 5, 5)), rng)
    assert y.shape == (2, 2 + 4 + 1, 5, 5)


NETWORKS = {
    "vgg": (lambda: small_vgg(dtype=np.float64, seed=1), lambda: torch_small_vgg()),
    "resnet": (lambda: small_resnet(dtype=np.float64, seed=1), lambda: torch_small_resnet()),
    "resnet-stem2": (lambda: small_resnet(stem_stride=2, dtype=np.float64, seed=2),
                     lambda: torch_small_resnet(stem_stride=2)),
}
#: Learning rates at which 20 steps lower the loss (without batch normalization the VGG net needs less).
LR = {"vgg": 0.02, "resnet": 0.05, "resnet-stem2": 0.05}


@pytest.mark.parametrize("name", NETWORKS)
def test_networks_have_torch_keys_and_equal_forward_backward(name):
    build, build_twin = NETWORKS[name]
    model = build()
    twin = torch_twin(model, build_twin())
    _keys_and_shapes(model, twin)
    x, _, _, _ = load_handwritten_digits()
    # a little noise: on the digits' flat background the activations entering a max pooling are equal
    # in exact arithmetic, so which one wins depends on the last bit of rounding (ours and torch's sum in
    # different orders) and the gradient would be routed by chance; tie-breaking has its own tests
    x = x[:8].astype(np.float64) + 1e-3 * np.random.default_rng(9).standard_normal((8, *x.shape[1:]))
    _same_forward_and_backward(model, twin, x, np.random.default_rng(8), rtol=1e-8)


def test_small_resnet_layout():
    model = small_resnet()
    assert [type(m).__name__ for m in model] == ["Conv2d", "BatchNorm2d", "ReLU", "BasicBlock", "BasicBlock",
                                                 "BasicBlock", "AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert "4.downsample.0.weight" in model.state_dict() and "3.downsample.0.weight" not in model.state_dict()
    plain = small_resnet(shortcut=False, blocks_per_stage=3)
    convs = [k for k in plain.state_dict() if k.endswith("conv1.weight") or k.endswith("conv2.weight")]
    assert len(convs) + 2 == 20                        # stem + 18 block convolutions + linear: 20 layers
    assert not any("downsample" in k for k in plain.state_dict())


@pytest.mark.parametrize("name", NETWORKS)
def test_twenty_sgd_momentum_steps_equal_torch(name):
    """Float64, same initial weights, same 20 minibatches in training mode: every loss within 1e-6 of
    torch's, then the weights, the running statistics and the evaluation-mode outputs."""
    x, y, x_test, _ = load_handwritten_digits()
    x = x.astype(np.float64)
    build, build_twin = NETWORKS[name]
    model = build()
    twin = torch_twin(model, build_twin())
    opt = SGD(model.parameters(), lr=LR[name], momentum=0.9)
    batches = [idx for _, idx in batch_indices(len(x), 32, epochs=1, seed=0)][:20]
    ours = [train_step(model, opt, x[idx], y[idx])[0] for idx in batches]
    theirs = torch_sgd_losses(twin, x, y, batches, lr=LR[name], momentum=0.9)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert np.mean(ours[-5:]) < np.mean(ours[:5])      # training did something
    for key, t in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key], t.numpy(), rtol=0, atol=1e-6, err_msg=key)
    model.eval(), twin.eval()
    xe = x_test[:16].astype(np.float64)
    np.testing.assert_allclose(model(xe), twin(torch.from_numpy(xe)).detach().numpy(), rtol=0, atol=1e-6)


def test_gradient_norms_and_layer_output_stds_equal_torch():
    from cnnbook.training import gradient_norms, layer_output_stds
    model = small_resnet(blocks_per_stage=2, shortcut=False, dtype=np.float64, seed=3)
    twin = torch_twin(model, torch_small_resnet(blocks_per_stage=2, shortcut=False))
    x, y, _, _ = load_handwritten_digits()
    xb, yb = x[:8].astype(np.float64), y[:8]
    norms = gradient_norms(model, xb, yb)
    torch.nn.functional.cross_entropy(twin(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
    expected = {k: p.grad.norm().item() for k, p in twin.named_parameters() if p.ndim >= 2}
    assert list(norms) == list(expected)
    np.testing.assert_allclose(list(norms.values()), list(expected.values()), rtol=1e-9)
    stds, out = layer_output_stds(model, xb), torch.from_numpy(xb)
    for layer, std in zip(twin, stds):
        out = layer(out)
        np.testing.assert_allclose(std, out.detach().numpy().std(), rtol=1e-9)
    blocks = layer_output_stds(model, xb, of=(nn.BasicBlock,))
    assert len(blocks) == 6 and blocks == [v for v, m in zip(stds, model) if isinstance(m, nn.BasicBlock)]


def test_layers_reject_bad_arguments_like_torch():
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        torch.nn.Dropout(1.5)
    with pytest.raises(TypeError, match="branch 1 must be a cnnbook.nn.Module"):
        nn.Branches(nn.ReLU(), "conv")
    with pytest.raises(ValueError, match="at least one branch"):
        nn.Branches()


def test_train_and_eval_reach_every_layer():
    model = small_resnet()
    assert all(m.training for m in model)
    model.eval()
    assert not any(m.training for m in model) and not model[3].bn1.training
    model.train()
    assert model[4].downsample[1].training
