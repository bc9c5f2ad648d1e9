"""Chapter 9: the cost explorer of the convolution family, every setting checked against torch.

For each setting the five rows (standard, depthwise separable, spatially separable, grouped, unshared)
must hold the parameters of the equivalent torch layers and the multiplications torch's FLOP counter
counts when the equivalent computation runs (on the ``meta`` device: shapes only, no arithmetic), and
the predicted ratios the notes' formulas written out here. (The explorer contract, static and live, is
tested over the registry in test_explorer_contract.py.)"""
import pytest
import torch
import torch.nn.functional as TF
from torch.utils.flop_counter import FlopCounterMode

from cnnbook.explorers.costs import LAYERS, family_costs

META = dict(device="meta")


def flops_over_2(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() // 2


def torch_costs(c_in, c_out, k, n, g):
    """(parameters, multiplies) of each layer, from torch layers and computations."""
    x = torch.zeros(1, c_in, n, n, **META)
    n_out = n - k + 1

    def params(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())

    def conv(x, c_out, kernel, groups=1):
        return TF.conv2d(x, torch.zeros(c_out, x.shape[1] // groups, *kernel, **META), groups=groups)

    standard = (params(torch.nn.Conv2d(c_in, c_out, k, **META)), flops_over_2(lambda: conv(x, c_out, (k, k))))
    depthwise = (params(torch.nn.Conv2d(c_in, c_in, k, groups=c_in, **META), torch.nn.Conv2d(c_in, c_out, 1, **META)),
                 flops_over_2(lambda: conv(conv(x, c_in, (k, k), c_in), c_out, (1, 1))))
    # separable kernels a b^T: a column pass per (c, o) pair, then a row pass summed over c, plus the bias
    spatial = (c_out * c_in * k + c_out * c_in * k + c_out,
               flops_over_2(lambda: conv(conv(x, c_in * c_out, (k, 1), c_in), c_out, (1, k), c_out)))
    grouped = (params(torch.nn.Conv2d(c_in, c_out, k, groups=g, **META)), flops_over_2(lambda: conv(x, c_out, (k, k), g)))
    positions = n_out * n_out
    weight = torch.zeros(positions, c_out, c_in * k * k, **META)
    cols = torch.zeros(positions, c_in * k * k, 1, **META)
    unshared = (weight.numel() + c_out * positions, flops_over_2(lambda: torch.bmm(weight, cols)))
    return [standard, depthwise, spatial, grouped, unshared]


@pytest.fixture(scope="module")
def explorer():
    return family_costs()


def test_every_setting_equals_torch_and_the_formulas(explorer):
    settings = list(explorer.settings())
    assert 1 < len(settings) <= 600
    for s in settings:
        c_in, c_out, k, n, g = s["in_channels"], s["out_channels"], s["kernel_size"], s["size"], s["groups"]
        out = explorer.view(**s).output
        assert out.shape == (len(LAYERS), 5)
        want = torch_costs(c_in, c_out, k, n, g)
        for row, (p, m) in zip(out, want):
            assert (row[0], row[1]) == (p, m), s
            assert row[2] == pytest.approx(p / want[0][0]) and row[3] == pytest.approx(m / want[0][1])
        predicted = [1, 1 / c_out + 1 / k ** 2, 1 / k + 1 / (k * (1 - (k - 1) / n)), 1 / g, 1]
        assert out[:, 4] == pytest.approx(predicted, rel=1e-12), s
        assert out[1, 3] == pytest.approx(out[1, 4], rel=1e-12)      # depthwise: the notes' ratio is exact
        assert out[2, 3] == pytest.approx(out[2, 4], rel=1e-12)      # spatially separable: exact too


def test_the_default_setting_shows_its_formulas(explorer):
    view = explorer.view()
    text = " ".join(p.title for p in view.panels)
    assert "1/C_out + 1/k² = 1/64 + 1/9" in text and "→ 2/k" in text and "1/g = 1/4" in text
    assert view.text.startswith("n_out = ⌊(56 + 2·0 − 1·(3 − 1) − 1)/1⌋ + 1 = 54")
