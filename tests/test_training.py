"""cnnbook.training: SGD step for step against torch.optim.SGD, the minibatch order, fit's history,
evaluate/predict."""
import numpy as np
import pytest
import torch

from cnnbook import nn
from cnnbook.training import SGD, History, batch_indices, evaluate, fit, predict, train_step


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.5, 1e-2)])
def test_sgd_matches_torch(momentum, weight_decay, rng):
    shapes = [(3, 4), (5,)]
    ours = [nn.Parameter(rng.standard_normal(s)) for s in shapes]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    opt = SGD(ours, lr=0.1, momentum=momentum, weight_decay=weight_decay)
    topt = torch.optim.SGD(theirs, lr=0.1, momentum=momentum, weight_decay=weight_decay)
    for step in range(6):
        for p, t in zip(ours, theirs):
            g = rng.standard_normal(p.data.shape)
            p.grad = g.copy()
            t.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-13, atol=1e-13)


def test_sgd_skips_parameters_without_gradient_and_keeps_dtype():
    a, b = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(2, np.float32))
    opt = SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = np.array([1.0, 2.0])          # float64 gradient on a float32 parameter
    opt.step()
    np.testing.assert_array_equal(a.data, [0.5, 0.0])
    assert a.data.dtype == np.float32
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None


def test_sgd_momentum_worked_example():
    # b1 = g1 = 1, p1 = 0 - 0.1*1 = -0.1; b2 = 0.9*1 + 1 = 1.9, p2 = -0.1 - 0.19 = -0.29
    p = nn.Parameter(np.zeros(1))
    opt = SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = np.ones(1)
        opt.step()
    np.testing.assert_allclose(p.data, [-0.29])


def test_sgd_bad_arguments():
    p = nn.Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="lr must be >= 0"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match="momentum must be >= 0"):
        SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)


def test_batch_indices_cover_every_example_once_per_epoch():
    batches = list(batch_indices(10, 4, epochs=3, seed=5))
    assert [len(idx) for _, idx in batches] == [4, 4, 2] * 3
    assert [e for e, _ in batches] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for e in range(3):
        seen = np.concatenate([idx for ep, idx in batches if ep == e])
        assert sorted(seen.tolist()) == list(range(10))
    # the documented recipe: one generator, one permutation per epoch
    gen = np.random.default_rng(5)
    np.testing.assert_array_equal(np.concatenate([idx for _, idx in batches[3:6]]),
                                  (gen.permutation(10), gen.permutation(10))[1])
    again = [idx.tolist() for _, idx in batch_indices(10, 4, epochs=3, seed=5)]
    assert again == [idx.tolist() for _, idx in batches]
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        list(batch_indices(10, 0, epochs=1))


def blobs(rng, n=120):
    """Three well separated Gaussian clusters in 2-D: a problem a linear model solves."""
    y = np.arange(n) % 3
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    return centres[y] + rng.standard_normal((n, 2)), y


def test_fit_learns_and_records_history(rng, capsys):
    x, y = blobs(rng)
    model = nn.Sequential(nn.Linear(2, 3, dtype=np.float64, rng=0))
    hist = fit(model, x, y, epochs=5, batch_size=32, lr=0.1, momentum=0.9, seed=0,
               validation=(x, y), progress=False)
    assert isinstance(hist, History)
    assert len(hist.loss) == 5 * 4 and hist.epoch == [e for e in range(5) for _ in range(4)]
    assert len(hist.train_accuracy) == 5 and len(hist.val_accuracy) == 5
    assert hist.loss[-1] < hist.loss[0] and hist.val_accuracy[-1] > 0.95
    assert hist.epoch_loss().shape == (5,)
    np.testing.assert_allclose(hist.epoch_loss()[0], np.mean(hist.loss[:4]))
    assert hist.val_accuracy[-1] == evaluate(model, x, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""          # progress=False prints nothing


def test_fit_progress_bar_goes_to_stderr(rng, capsys):
    x, y = blobs(rng, n=30)
    fit(nn.Linear(2, 3, rng=0), x, y, epochs=1, batch_size=10, progress=True)
    captured = capsys.readouterr()
    assert "3/3" in captured.err and captured.out == ""


def test_fit_replays_in_torch_with_batch_indices(rng):
    """fit == the documented loop (batch_indices + train_step) == torch on the same batches."""
    x, y = blobs(rng, n=50)
    model = nn.Linear(2, 3, dtype=np.float64, rng=1)
    twin = torch.nn.Linear(2, 3).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    hist = fit(model, x, y, epochs=2, batch_size=16, lr=0.2, momentum=0.9, seed=3, progress=False)
    topt = torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9)
    torch_losses = []
    for _, idx in batch_indices(len(x), 16, epochs=2, seed=3):
        loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        topt.zero_grad()
        loss.backward()
        topt.step()
        torch_losses.append(loss.item())
    np.testing.assert_allclose(hist.loss, torch_losses, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.weight.data, twin.weight.detach().numpy(), atol=1e-12)


def test_fit_gamma_is_torch_exponential_lr(rng):
    """gamma: epoch e trains with lr * gamma**e, as torch's ExponentialLR stepped after every epoch."""
    x, y = blobs(rng, n=50)
    model = nn.Linear(2, 3, dtype=np.float64, rng=2)
    twin = torch.nn.Linear(2, 3).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    hist = fit(model, x, y, epochs=3, batch_size=16, lr=0.4, momentum=0.9, seed=1, gamma=0.5,
               progress=False)
    topt = torch.optim.SGD(twin.parameters(), lr=0.4, momentum=0.9)
    schedule = torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.5)
    torch_losses, last_epoch = [], 0
    for epoch, idx in batch_indices(len(x), 16, epochs=3, seed=1):
        if epoch != last_epoch:
            schedule.step()
            last_epoch = epoch
        loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        topt.zero_grad()
        loss.backward()
        topt.step()
        torch_losses.append(loss.item())
    assert topt.param_groups[0]["lr"] == 0.1                  # 0.4 * 0.5**2 in the last epoch
    np.testing.assert_allclose(hist.loss, torch_losses, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.weight.data, twin.weight.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        fit(model, x, y, epochs=1, gamma=0.0, progress=False)


def test_train_step_returns_loss_and_logits_before_update(rng):
    x, y = blobs(rng, n=9)
    model = nn.Linear(2, 3, dtype=np.float64, rng=0)
    before = model(x)
    loss, logits = train_step(model, SGD(model.parameters(), lr=0.1), x, y)
    np.testing.assert_array_equal(logits, before)
    z = before - before.max(1, keepdims=True)
    expected = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(9), y])      # mean cross-entropy
    assert loss == pytest.approx(expected, rel=1e-12)


def test_predict_and_evaluate():
    model = nn.Linear(2, 2, bias=False, dtype=np.float64, rng=0)
    model.load_state_dict({"weight": np.eye(2)})               # logits = x: class = argmax of x
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0], [5.0, -1.0]])
    np.testing.assert_array_equal(predict(model, x, batch_size=3), [0, 1, 1, 0])
    assert evaluate(model, x, np.array([0, 1, 0, 0])) == 0.75


def test_fit_checks_lengths(rng):
    with pytest.raises(ValueError, match="x and y must have the same length, got 4 and 3"):
        fit(nn.Linear(2, 2, rng=0), np.zeros((4, 2)), np.zeros(3, int), epochs=1, progress=False)
