"""The classic networks as layer specifications, and what they cost, counted by :mod:`cnnbook.shapes`.

A specification is a tuple of layer records (:class:`Conv`, :class:`Pool`, :class:`AdaptivePool`,
:class:`BatchNorm`, :class:`Linear`, and the two ways of combining paths: :class:`Concat`, branches side
by side as in an Inception block, and :class:`Residual`, a body plus a shortcut added to it).
:func:`summarize` walks one from an input shape ``(C, H, W)``: every output shape comes from
:func:`cnnbook.shapes.conv_output_size` / :func:`~cnnbook.shapes.pool_output_size` /
:func:`~cnnbook.shapes.adaptive_pool_output_size`, every count from :func:`~cnnbook.shapes.conv_parameters`,
:func:`~cnnbook.shapes.conv_multiplies`, :func:`~cnnbook.shapes.linear_parameters`,
:func:`~cnnbook.shapes.linear_multiplies` and :func:`~cnnbook.shapes.batch_norm_parameters`.

Conventions: *depth* is the number of weighted layers (convolutions and linear layers) on the longest path
from input to output, the count in the networks' names (VGG-16, ResNet-50; projection shortcuts do not
count); *multiply-adds* are those of the convolutions and linear layers for one image (pooling, batch
normalization and activations are left out: they are a few percent at most). Activations and dropout
hold no parameters and are not listed.

:data:`ARCHITECTURES` holds the book's LeNet and the ImageNet networks as ``torchvision`` defines them
(AlexNet, VGG-16, GoogLeNet, ResNet-18, ResNet-50; NiN as in its paper, which torchvision does not have).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from . import shapes

__all__ = ["Conv", "Pool", "AdaptivePool", "BatchNorm", "Linear", "Concat", "Residual", "Layer",
           "LayerCount", "Summary", "summarize", "ARCHITECTURES", "INPUT_SHAPES", "YEARS",
           "lenet", "alexnet", "vgg16", "nin", "googlenet", "resnet18", "resnet50"]


# --------------------------------------------------------------------------------------------------
# layer records
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conv:
    """A 2-D convolution to ``out_channels`` (``torch.nn.Conv2d``'s arguments)."""

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    bias: bool = True
    groups: int = 1


@dataclass(frozen=True)
class Pool:
    """Max (``kind="max"``) or average pooling (``torch.nn.MaxPool2d`` / ``AvgPool2d``)."""

    kernel_size: int
    stride: int | None = None
    padding: int = 0
    ceil_mode: bool = False
    kind: str = "max"


@dataclass(frozen=True)
class AdaptivePool:
    """Adaptive average pooling to ``output_size`` (1: global average pooling)."""

    output_size: int


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalization over the channels (2 C parameters)."""


@dataclass(frozen=True)
class Linear:
    """A fully connected layer; its input is flattened first."""

    out_features: int
    bias: bool = True


@dataclass(frozen=True)
class Concat:
    """Branches applied to the same input, concatenated along the channels (an Inception block)."""

    branches: tuple
    name: str = "concat"


@dataclass(frozen=True)
class Residual:
    """``body(x) + shortcut(x)``; an empty ``shortcut`` is the identity (a residual block)."""

    body: tuple
    shortcut: tuple = ()
    name: str = "residual"


Layer = Union[Conv, Pool, AdaptivePool, BatchNorm, Linear, Concat, Residual]


# --------------------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerCount:
    """One top-level layer of a summary: its kind, its output shape, parameters, multiply-adds per image,
    and the depth (weighted layers on its longest path) it adds."""

    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    multiplies: int
    depth: int


@dataclass(frozen=True)
class Summary:
    """What :func:`summarize` returns: the totals and the per-layer rows."""

    depth: int
    parameters: int
    multiplies: int
    output_shape: tuple[int, ...]
    layers: tuple[LayerCount, ...]


def _walk(layers: tuple, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int, int, list[LayerCount]]:
    """``(output shape, parameters, multiplies, depth, rows)`` of a sequence of layers from ``shape``."""
    rows, params, mults, depth = [], 0, 0, 0
    for layer in layers:
        shape, p, m, d = _one(layer, shape)
        rows.append(LayerCount(type(layer).__name__ if not isinstance(layer, (Concat, Residual)) else layer.name,
                               shape, p, m, d))
        params, mults, depth = params + p, mults + m, depth + d
    return shape, params, mults, depth, rows


def _one(layer: Layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int, int]:
    """``(output shape, parameters, multiplies, depth)`` of one layer on an input of ``shape``."""
    if isinstance(layer, Linear):
        n_in = 1
        for s in shape:
            n_in *= s
        return ((layer.out_features,), shapes.linear_parameters(n_in, layer.out_features, layer.bias),
                shapes.linear_multiplies(n_in, layer.out_features), 1)
    c, h, w = shape
    if isinstance(layer, Conv):
        out = shapes.conv_output_size((h, w), layer.kernel_size, layer.stride, layer.padding)
        k = (layer.kernel_size, layer.kernel_size)
        return ((layer.out_channels, *out),
                shapes.conv_parameters(c, layer.out_channels, k, layer.groups, layer.bias),
                shapes.conv_multiplies(c, layer.out_channels, k, out, layer.groups), 1)
    if isinstance(layer, Pool):
        out = shapes.pool_output_size((h, w), layer.kernel_size, layer.stride, layer.padding,
                                      ceil_mode=layer.ceil_mode)
        return (c, *out), 0, 0, 0
    if isinstance(layer, AdaptivePool):
        return (c, *shapes.adaptive_pool_output_size((h, w), layer.output_size)), 0, 0, 0
    if isinstance(layer, BatchNorm):
        return shape, shapes.batch_norm_parameters(c), 0, 0
    if isinstance(layer, Concat):
        outs = [_walk(tuple(branch), shape) for branch in layer.branches]
        spatial = {o[0][1:] for o in outs}
        if len(spatial) != 1:
            raise ValueError(f"{layer.name}: the branches give different sizes {sorted(spatial)}")
        return ((sum(o[0][0] for o in outs), *spatial.pop()), sum(o[1] for o in outs), sum(o[2] for o in outs),
                max(o[3] for o in outs))
    if isinstance(layer, Residual):
        body, short = _walk(tuple(layer.body), shape), _walk(tuple(layer.shortcut), shape)
        if body[0] != short[0]:
            raise ValueError(f"{layer.name}: body gives {body[0]} but the shortcut {short[0]}")
        return body[0], body[1] + short[1], body[2] + short[2], max(body[3], short[3])
    raise TypeError(f"not a layer record: {layer!r}")


def summarize(layers: tuple, input_shape: tuple[int, int, int]) -> Summary:
    """Depth, parameters and multiply-adds per image of a specification, from an input ``(C, H, W)``."""
    shape, params, mults, depth, rows = _walk(tuple(layers), tuple(input_shape))
    return Summary(depth=depth, parameters=params, multiplies=mults, output_shape=shape, layers=tuple(rows))


# --------------------------------------------------------------------------------------------------
# the networks
# --------------------------------------------------------------------------------------------------
def lenet() -> tuple:
    """The book's LeNet-style network (chapter 8) for 1x28x28 digits."""
    return (Conv(6, 5, padding=2), Pool(2, kind="avg"), Conv(16, 5), Pool(2, kind="avg"),
            Linear(120), Linear(84), Linear(10))


def alexnet(classes: int = 1000) -> tuple:
    """AlexNet (2012) as ``torchvision.models.alexnet``: five convolutions (11x11 stride 4, 5x5, three
    3x3), three max poolings, an adaptive 6x6 average pooling, three linear layers."""
    return (Conv(64, 11, 4, 2), Pool(3, 2), Conv(192, 5, padding=2), Pool(3, 2),
            Conv(384, 3, padding=1), Conv(256, 3, padding=1), Conv(256, 3, padding=1), Pool(3, 2),
            AdaptivePool(6), Linear(4096), Linear(4096), Linear(classes))


def vgg16(classes: int = 1000) -> tuple:
    """VGG-16 (2014, configuration D) as ``torchvision.models.vgg16``: thirteen 3x3 convolutions in five
    blocks, each block closed by a 2x2 max pooling, then three linear layers."""
    layers: list = []
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [Conv(width, 3, padding=1)] * convs + [Pool(2, 2)]
    return (*layers, AdaptivePool(7), Linear(4096), Linear(4096), Linear(classes))


def nin(classes: int = 1000) -> tuple:
    """Network in Network (2013) for ImageNet: four blocks of a convolution and two 1x1 convolutions
    (the "micro networks"), max pooling between them, and global average pooling over the last block's
    ``classes`` channels instead of fully connected layers (as Dive into Deep Learning writes it)."""
    def block(width, k, s, p):
        return [Conv(width, k, s, p), Conv(width, 1), Conv(width, 1)]
    return (*block(96, 11, 4, 0), Pool(3, 2), *block(256, 5, 1, 2), Pool(3, 2), *block(384, 3, 1, 1),
            Pool(3, 2), *block(classes, 3, 1, 1), AdaptivePool(1))


def _conv_bn(width: int, k: int, stride: int = 1, padding: int = 0) -> tuple:
    """torchvision's ``BasicConv2d`` and ResNet's convolutions: a convolution without bias, batch norm."""
    return (Conv(width, k, stride, padding, bias=False), BatchNorm())


def _inception(c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int) -> Concat:
    """An Inception block: 1x1; 1x1 then 3x3; 1x1 then the "5x5" branch; 3x3 max pooling then 1x1.
    torchvision (whose counts these are) uses a 3x3 kernel in the "5x5" branch, and batch norm."""
    return Concat((
        _conv_bn(c1, 1),
        (*_conv_bn(c3_reduce, 1), *_conv_bn(c3, 3, padding=1)),
        (*_conv_bn(c5_reduce, 1), *_conv_bn(c5, 3, padding=1)),
        (Pool(3, 1, 1, ceil_mode=True), *_conv_bn(pool_proj, 1)),
    ), name="inception")


def googlenet(classes: int = 1000) -> tuple:
    """GoogLeNet (2014) as ``torchvision.models.googlenet`` without the auxiliary classifiers: a stem of
    three convolutions, nine Inception blocks, global average pooling, one linear layer."""
    return (*_conv_bn(64, 7, 2, 3), Pool(3, 2, ceil_mode=True), *_conv_bn(64, 1), *_conv_bn(192, 3, padding=1),
            Pool(3, 2, ceil_mode=True),
            _inception(64, 96, 128, 16, 32, 32), _inception(128, 128, 192, 32, 96, 64),
            Pool(3, 2, ceil_mode=True),
            _inception(192, 96, 208, 16, 48, 64), _inception(160, 112, 224, 24, 64, 64),
            _inception(128, 128, 256, 24, 64, 64), _inception(112, 144, 288, 32, 64, 64),
            _inception(256, 160, 320, 32, 128, 128),
            Pool(2, 2, ceil_mode=True),
            _inception(256, 160, 320, 32, 128, 128), _inception(384, 192, 384, 48, 128, 128),
            AdaptivePool(1), Linear(classes))


def _resnet(block: str, counts: tuple[int, ...], classes: int) -> tuple:
    """torchvision's ResNet: a 7x7 stem and a max pooling, four stages of blocks (64, 128, 256, 512 wide;
    the first block of stages 2-4 halves the size, stride 2 on its 3x3 convolution), global average
    pooling, one linear layer. A projection shortcut (1x1 convolution, batch norm) where the shape changes."""
    expansion = 1 if block == "basic" else 4
    layers: list = [*_conv_bn(64, 7, 2, 3), Pool(3, 2, 1)]
    c = 64
    for stage, (width, n) in enumerate(zip((64, 128, 256, 512), counts)):
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            out = width * expansion
            if block == "basic":
                body = (*_conv_bn(width, 3, stride, 1), *_conv_bn(width, 3, 1, 1))
            else:
                body = (*_conv_bn(width, 1), *_conv_bn(width, 3, stride, 1), *_conv_bn(out, 1))
            shortcut = _conv_bn(out, 1, stride) if stride != 1 or c != out else ()
            layers.append(Residual(body, shortcut, name=f"{block} block"))
            c = out
    return (*layers, AdaptivePool(1), Linear(classes))


def resnet18(classes: int = 1000) -> tuple:
    """ResNet-18 (2015) as ``torchvision.models.resnet18``: 2, 2, 2, 2 basic blocks (two 3x3 convolutions)."""
    return _resnet("basic", (2, 2, 2, 2), classes)


def resnet50(classes: int = 1000) -> tuple:
    """ResNet-50 (2015) as ``torchvision.models.resnet50``: 3, 4, 6, 3 bottleneck blocks (1x1 down to the
    width, 3x3, 1x1 up to four times the width)."""
    return _resnet("bottleneck", (3, 4, 6, 3), classes)


#: Every network of the history table, by name, as a specification, in the order of publication.
ARCHITECTURES = {"LeNet": lenet(), "AlexNet": alexnet(), "NiN": nin(), "VGG-16": vgg16(),
                 "GoogLeNet": googlenet(), "ResNet-18": resnet18(), "ResNet-50": resnet50()}
#: The input each was made for: 28x28 digits for the book's LeNet, 224x224 colour images for the others.
INPUT_SHAPES = {name: (1, 28, 28) if name == "LeNet" else (3, 224, 224) for name in ARCHITECTURES}
#: The year each was published (LeNet-5: 1998).
YEARS = {"LeNet": 1998, "AlexNet": 2012, "VGG-16": 2014, "NiN": 2013, "GoogLeNet": 2014,
         "ResNet-18": 2015, "ResNet-50": 2015}
