"""The history table's counts (cnnbook.architectures, computed by cnnbook.shapes) against the torch
definitions of the same networks: torchvision's AlexNet, VGG-16, GoogLeNet, ResNet-18 and ResNet-50 (built
on torch's meta device: shapes only, no weights), NiN written here with torch.nn, and the book's LeNet.
Parameters are counted from the torch modules; multiply-adds from the output shapes torch computes."""
import numpy as np
import pytest
import torch

from cnnbook import architectures as A
from cnnbook.check import torch_lenet5, torchvision_models


def _torch_nin(classes=1000):
    def block(c_in, c_out, k, s, p):
        return [torch.nn.Conv2d(c_in, c_out, k, s, p), torch.nn.ReLU(), torch.nn.Conv2d(c_out, c_out, 1),
                torch.nn.ReLU(), torch.nn.Conv2d(c_out, c_out, 1), torch.nn.ReLU()]
    return torch.nn.Sequential(*block(3, 96, 11, 4, 0), torch.nn.MaxPool2d(3, 2), *block(96, 256, 5, 1, 2),
                               torch.nn.MaxPool2d(3, 2), *block(256, 384, 3, 1, 1), torch.nn.MaxPool2d(3, 2),
                               torch.nn.Dropout(0.5), *block(384, classes, 3, 1, 1), torch.nn.AdaptiveAvgPool2d(1))


def _torch_model(name):
    if name == "LeNet":
        return torch_lenet5()
    if name == "NiN":
        return _torch_nin()
    models = torchvision_models()
    return {"AlexNet": lambda: models.alexnet(),
            "VGG-16": lambda: models.vgg16(),
            "GoogLeNet": lambda: models.googlenet(aux_logits=False, init_weights=False),
            "ResNet-18": lambda: models.resnet18(),
            "ResNet-50": lambda: models.resnet50()}[name]()


def _multiply_adds(model, shape):
    """Multiply-adds of the convolutions and linear layers of one image, from torch's output shapes."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total += output[0].numel() * module.in_channels // module.groups * kh * kw
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        out = model.eval()(torch.zeros((1, *shape), device="meta"))
    for h in handles:
        h.remove()
    return total, tuple(out.shape[1:])


@pytest.mark.parametrize("name", list(A.ARCHITECTURES))
def test_counts_equal_the_torch_models(name):
    with torch.device("meta"):                      # shapes only: nothing is allocated or initialised
        model = _torch_model(name)
    ours = A.summarize(A.ARCHITECTURES[name], A.INPUT_SHAPES[name])
    assert ours.parameters == sum(p.numel() for p in model.parameters())
    multiplies, out_shape = _multiply_adds(model, A.INPUT_SHAPES[name])
    assert ours.multiplies == multiplies
    assert int(np.prod(ours.output_shape)) == int(np.prod(out_shape))


def test_published_counts_and_depths():
    """The numbers the papers and torchvision's documentation give: AlexNet 61.1 M parameters, VGG-16
    138.4 M and 15.47 G multiply-adds, ResNet-50 25.6 M and 4.09 G; depth is in the names."""
    s = {name: A.summarize(spec, A.INPUT_SHAPES[name]) for name, spec in A.ARCHITECTURES.items()}
    assert s["LeNet"].parameters == 61_706
    assert s["AlexNet"].parameters == 61_100_840
    assert s["VGG-16"].parameters == 138_357_544 and round(s["VGG-16"].multiplies / 1e9, 2) == 15.47
    assert s["ResNet-50"].parameters == 25_557_032 and round(s["ResNet-50"].multiplies / 1e9, 2) == 4.09
    assert {n: v.depth for n, v in s.items()} == {"LeNet": 5, "AlexNet": 8, "VGG-16": 16, "NiN": 12,
                                                  "GoogLeNet": 22, "ResNet-18": 18, "ResNet-50": 50}


def test_bad_specifications():
    with pytest.raises(ValueError, match="the branches give different sizes"):
        A.summarize((A.Concat(((A.Conv(2, 1),), (A.Conv(2, 3),))),), (1, 8, 8))
    with pytest.raises(ValueError, match="body gives"):
        A.summarize((A.Residual((A.Conv(4, 3, padding=1),)),), (2, 8, 8))
    with pytest.raises(TypeError, match="not a layer record"):
        A.summarize(("conv",), (1, 8, 8))
