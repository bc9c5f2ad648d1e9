"""Chapter 8: the LeNet stage explorer, every setting checked against the same weights run through a
torch LeNet (intermediate activations, softmax, prediction) and the output sizes written out here.
(The contract every explorer keeps, static and live, is tested over the registry in
test_explorer_contract.py, on the book's fully trained model.)"""
import re

import numpy as np
import pytest
import torch

from cnnbook.check import torch_twin_of_lenet
from cnnbook.data import load_handwritten_digits
from cnnbook.explorers.lenet import STAGES, lenet_explorer
from cnnbook.models import LENET_RECIPE, trained_lenet

torch.set_num_threads(1)

#: (C, H, W) after each stage of LeNet-5 on a 28x28 digit: 28+2*2-5+1 = 28, 28/2 = 14, 14-5+1 = 10, 10/2 = 5.
SHAPES = {"input": (1, 28, 28), "conv1": (6, 28, 28), "pool1": (6, 14, 14), "conv2": (16, 10, 10),
          "pool2": (16, 5, 5)}


def torch_twin(model):
    return torch_twin_of_lenet(model, LENET_RECIPE["activation"], LENET_RECIPE["pool"])


@pytest.fixture(scope="module")
def quick():
    """A one-epoch model keeps this test fast; the page's explorer (full recipe) is checked in the browser."""
    return lenet_explorer(epochs=1), trained_lenet(epochs=1)[0]


def test_every_setting_equals_torch(quick):
    ex, model = quick
    twin = torch_twin(model)
    _, _, x_test, y_test = load_handwritten_digits()
    last = {name: index for name, _, index in STAGES}
    settings = list(ex.settings())
    assert len(settings) == len(ex.controls[0].values) * 5
    for st in settings:
        v = ex.view(**st)
        assert v.shape == SHAPES[st["stage"]]
        with torch.no_grad():
            x = torch.from_numpy(x_test[st["example"]:st["example"] + 1])
            want = x if last[st["stage"]] < 0 else twin[:last[st["stage"]] + 1](x)
            p = torch.softmax(twin(x), dim=1)[0].numpy()
        np.testing.assert_allclose(v.output, want[0].numpy(), rtol=1e-4, atol=1e-5, err_msg=str(st))
        # the digit (after the input stage), one image panel per channel, then the ten probabilities
        assert len(v.panels) == SHAPES[st["stage"]][0] + 1 + (st["stage"] != "input")
        np.testing.assert_allclose(v.panels[-1].array[0], p, rtol=1e-4, atol=1e-6)
        guess = int(re.search(r"predicted (\d)", v.text).group(1))
        assert guess == int(p.argmax())
        assert f"True class {y_test[st['example']]}" in v.text
        # the size arithmetic printed for the stage ends in the stage's spatial size
        if st["stage"] != "input":
            assert f"= {SHAPES[st['stage']][1]}" in v.text


def test_examples_are_one_per_class_then_misread_digits(quick):
    ex, model = quick
    twin = torch_twin(model)
    _, _, x_test, y_test = load_handwritten_digits()
    values = ex.controls[0].values
    assert [int(y_test[k]) for k in values[:10]] == list(range(10))
    assert all(int(np.flatnonzero(y_test == c)[0]) == values[c] for c in range(10))
    with torch.no_grad():
        predicted = twin(torch.from_numpy(x_test[values[10:]])).argmax(1).numpy()
    assert len(values) == 12 and (predicted != y_test[values[10:]]).all()


def _unit_gradients(net, stage_index, x, units):
    """The digit pixels with a non-zero gradient of each unit ``(channel, row, col)`` after layer ``stage_index``."""
    x = x.clone().requires_grad_()
    h = net[:stage_index + 1](x)
    found = []
    for c, i, j in units:
        g = torch.autograd.grad(h[0, c, i, j], x, retain_graph=True)[0][0, 0]
        found.append({tuple(map(int, ix)) for ix in torch.nonzero(g)})
    return found


def _random_units(rng, shape, n):
    c, h, w = shape
    units = {(0, 0, 0), (c - 1, h - 1, w - 1)}
    while len(units) < n:
        units.add((int(rng.integers(c)), int(rng.integers(h)), int(rng.integers(w))))
    return sorted(units)


def test_a_units_field_on_the_digit_holds_every_pixel_torch_finds(quick):
    """The trained weights in torch (relu, max pooling): every digit pixel with a non-zero autograd
    gradient of a random unit lies in the unit's lit field."""
    ex, model = quick
    twin = torch_twin(model).double()
    _, _, x_test, _ = load_handwritten_digits()
    rng = np.random.default_rng(8)
    last = {name: index for name, _, index in STAGES}
    for example in ex.controls[0].values[:3]:
        x = torch.from_numpy(x_test[example:example + 1]).double()
        for stage, shape in SHAPES.items():
            if stage == "input":
                continue
            view = ex.view(example=example, stage=stage)
            rels = {rel.output: rel for rel in view.trace}
            assert [p.name for p in view.panels[1:-1]] == list(rels) and len(rels) == shape[0]
            # units that relu lets through (a dead unit passes no gradient at all)
            alive = np.argwhere(view.output > 0)
            units = [tuple(map(int, u)) for u in alive[rng.choice(len(alive), 12, replace=False)]]
            for (c, i, j), pixels in zip(units, _unit_gradients(twin, last[stage], x, units)):
                lit = rels[f"map{c}"].linked(f"map{c}", (i, j), (28, 28), shape[1:])["digit"]
                assert pixels and pixels <= lit, (example, stage, (c, i, j))


def test_with_ones_and_no_activation_the_field_is_exactly_where_the_gradient_flows(quick):
    """torch's LeNet with every weight 1, biases 0, activations replaced by the identity and max pooling by
    average pooling (a linear stand-in with the same windows): the non-zero gradient of a unit on the digit
    is exactly its field (clipped by conv1's padding)."""
    from cnnbook.check import torch_lenet5

    ex, _ = quick
    net = torch_lenet5("relu", "avg").double()
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, torch.nn.ReLU):
                continue
            for name, param in layer.named_parameters():
                param.fill_(1.0 if name == "weight" else 0.0)
    net = torch.nn.Sequential(*[torch.nn.Identity() if isinstance(m, torch.nn.ReLU) else m for m in net])
    rng = np.random.default_rng(9)
    last = {name: index for name, _, index in STAGES}
    x = torch.ones(1, 1, 28, 28, dtype=torch.float64)
    for stage, shape in SHAPES.items():
        if stage == "input":
            continue
        rels = {rel.output: rel for rel in ex.view(stage=stage).trace}
        units = _random_units(rng, shape, n=20)
        for (c, i, j), pixels in zip(units, _unit_gradients(net, last[stage], x, units)):
            assert rels[f"map{c}"].linked(f"map{c}", (i, j), (28, 28), shape[1:]) == {"digit": pixels}, (stage, c, i, j)
    # a corner unit's field starts 2 pixels before the image (conv1's padding): it is clipped
    # (r = 1 + 4 + 1 + 4·2 = 14 after conv2, from -2 to 11; pool2 adds 1·2: 16, from -2 to 13)
    for stage, last_row in (("conv2", 11), ("pool2", 13)):
        rel = ex.view(stage=stage).trace[0]
        corner = rel.linked(rel.output, (0, 0), (28, 28), SHAPES[stage][1:])["digit"]
        assert corner == {(r, c) for r in range(last_row + 1) for c in range(last_row + 1)}, stage
