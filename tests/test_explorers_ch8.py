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
        # one image panel per channel, then the ten probabilities
        assert len(v.panels) == SHAPES[st["stage"]][0] + 1
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
