"""Chapter 10: the depth explorer's gradient norms against torch, for the same network and weights.
(The explorer contract, static and live, is tested over the registry in test_explorer_contract.py.)"""
import numpy as np
import pytest
import torch

from cnnbook.check import torch_small_resnet, torch_twin
from cnnbook.data import load_handwritten_digits
from cnnbook.explorers.depth import WIDTHS, depth_explorer
from cnnbook.models import small_resnet


@pytest.fixture(scope="module")
def explorer():
    return depth_explorer()


@pytest.mark.parametrize("blocks, shortcut, batch_norm", [(1, True, True), (3, False, False), (2, True, False)])
def test_gradient_norms_equal_torch(explorer, blocks, shortcut, batch_norm):
    view = explorer.view(blocks=blocks, shortcut=shortcut, batch_norm=batch_norm)
    assert view.output.shape == (2 + 6 * blocks,)                 # the depth: stem, two per block, linear
    model = small_resnet(WIDTHS, blocks, shortcut=shortcut, batch_norm=batch_norm, stem_stride=2, seed=0)
    twin = torch_twin(model, torch_small_resnet(WIDTHS, blocks, shortcut, batch_norm, stem_stride=2))
    x, y, _, _ = load_handwritten_digits()
    torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[:16])), torch.from_numpy(y[:16])).backward()
    expected = [p.grad.norm().item() for k, p in twin.named_parameters() if p.ndim >= 2 and "downsample" not in k]
    np.testing.assert_allclose(view.output, expected, rtol=1e-4)   # float32 on both sides
    assert f"{expected[0]:.2e}" in view.text


def test_plain_network_without_batch_norm_starves_its_layers(explorer):
    """The chapter's observation, as the explorer shows it: 20 layers without shortcuts or batch norm pass
    almost nothing back (the signal has died out on the way up, so every gradient is below 1e-6); the
    same layers with shortcuts keep the first layer's gradient within a factor 10 of the last one's."""
    plain = explorer.view(blocks=3, shortcut=False, batch_norm=False).output
    residual = explorer.view(blocks=3, shortcut=True, batch_norm=False).output
    assert plain.max() < 1e-6
    assert residual[0] > 1e-3 and residual[0] / residual[-2] > 1e-1
