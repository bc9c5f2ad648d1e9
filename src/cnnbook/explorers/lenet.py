"""Explorer of chapter 8: a handwritten test digit passing through the trained LeNet, one stage at a time
(input, conv1 + activation, pool1, conv2 + activation, pool2), with the class probabilities."""
from __future__ import annotations

import functools

import numpy as np

from ..explorer import Dropdown, Explorer, Field, Panel, View, explorer_factory
from ..explorer.tracing import CONV_DEFAULTS, POOL_DEFAULTS, torch_call

__all__ = ["lenet_explorer", "STAGES", "stage_layers", "stage_call"]

#: The stages shown, as (name, label, index of the last LeNet layer applied; -1 = the input itself).
STAGES = (
    ("input", "input digit", -1),
    ("conv1", "conv1 + activation", 1),
    ("pool1", "pool1", 2),
    ("conv2", "conv2 + activation", 4),
    ("pool2", "pool2", 5),
)
_LAST_LAYER = {name: index for name, _, index in STAGES}


def _examples(y_test: np.ndarray, predicted: np.ndarray, n_wrong: int) -> dict[str, int]:
    """Drop-down options: the first test digit of every class, then up to ``n_wrong`` misread ones."""
    options = {}
    for c in range(10):
        k = int(np.flatnonzero(y_test == c)[0])
        options[f"a {c} (test #{k})"] = k
    for k in np.flatnonzero(predicted != y_test)[:n_wrong]:
        options[f"test #{k}: a {y_test[k]} read as {predicted[k]}"] = int(k)
    return options


def _stage_text(stage: str, model, acts: list) -> str:
    """The output-size arithmetic of a stage, from the model's layers, evaluated with :mod:`cnnbook.shapes`.

    ``acts[i]`` is the input of layer ``i`` (``acts[0]`` the digit): its width is the size the layer sees.
    """
    from ..arguments import int_tuple
    from ..shapes import conv_output_size_text, pool_output_size_text

    if stage == "input":
        channels, height, width = acts[0].shape[1:]
        return f"{channels} channel, {height}×{width} (standardised grey levels)"
    last = _LAST_LAYER[stage]
    if stage.startswith("conv"):
        conv, activation, index = model[last - 1], model[last], last - 1
        (k, _), (s, _), (d, _) = conv.kernel_size, conv.stride, conv.dilation
        p = conv.padding[1]
        size = conv_output_size_text(acts[index].shape[-1], k, s, p, d)
        padding = f"padding {p}" if p else "no padding"
        return (f"{conv.out_channels} kernels {conv.in_channels}×{k}×{k}, {padding}: {size}, "
                f"then {type(activation).__name__.lower()}")
    pool, (channels, height, width) = model[last], acts[last + 1].shape[1:]
    kind = {"MaxPool2d": "max", "AvgPool2d": "average"}[type(pool).__name__]
    k, s, p, d = (int_tuple(getattr(pool, name, 1), name, 2)[1]  # the width axis; AvgPool2d has no dilation
                  for name in ("kernel_size", "stride", "padding", "dilation"))
    size = pool_output_size_text(acts[last].shape[-1], k, s, p, d, pool.ceil_mode)
    text = f"{kind} pooling {k}×{k}, stride {s}: {size}"
    if last + 1 == len(model) or type(model[last + 1]).__name__ == "Flatten":
        text += f"; {channels}·{height}·{width} = {channels * height * width} features"
    return text


def _window(layer) -> tuple[int, int, int, int] | None:
    """``(k, s, p, d)`` of a convolution or pooling layer (along the width; LeNet's are square), else None."""
    from ..arguments import int_tuple

    if not hasattr(layer, "kernel_size"):
        return None
    return tuple(int_tuple(getattr(layer, name, 1), name, 2)[1]  # AvgPool2d has no dilation
                 for name in ("kernel_size", "stride", "padding", "dilation"))


def stage_layers(model, stage: str) -> list[tuple[int, int, int, int]]:
    """``(k, s, p, d)`` of every convolution and pooling layer from the digit up to ``stage`` (the
    activations act pixel by pixel: they leave the receptive field as it is)."""
    return [w for w in map(_window, model[:_LAST_LAYER[stage] + 1]) if w is not None]


#: The torch function of each activation of the model, by its class name.
_ACTIVATIONS = {"ReLU": "torch.relu", "Sigmoid": "torch.sigmoid", "Tanh": "torch.tanh"}


def stage_call(model, stage: str) -> str:
    """The PyTorch call from the digit ``x`` to the output of ``stage``, with the model's activation and
    pooling: the weights and biases of the ``n``-th convolution are ``w<n>``, ``b<n>``, e.g.
    ``torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(x, w1, b1, padding=2)), 2)``."""
    call, convs = "x", 0
    for layer in model[:_LAST_LAYER[stage] + 1]:
        kind = type(layer).__name__
        if kind == "Conv2d":
            convs += 1
            k, s, p, d = _window(layer)
            call = torch_call("conv2d", call, f"w{convs}", f"b{convs}", defaults=CONV_DEFAULTS,
                              stride=s, padding=p, dilation=d)
        elif kind in _ACTIVATIONS:
            call = f"{_ACTIVATIONS[kind]}({call})"
        elif kind in ("MaxPool2d", "AvgPool2d"):
            k, s, p, _ = _window(layer)
            function = "max_pool2d" if kind == "MaxPool2d" else "avg_pool2d"
            call = torch_call(function, call, str(k), defaults={**POOL_DEFAULTS, "stride": k}, stride=s, padding=p)
        else:
            raise ValueError(f"stage {stage!r}: no PyTorch call for a {kind} layer")
    return "" if call == "x" else call


@explorer_factory
def lenet_explorer(epochs: int | None = None, n_wrong: int = 2) -> Explorer:
    """A test digit of :func:`cnnbook.data.load_handwritten_digits` through the LeNet-style network trained
    by :func:`cnnbook.models.trained_lenet` (``epochs``
    overrides the recipe's, for quick tests).

    Controls: the digit (the first test example of each class, then ``n_wrong`` misclassified ones) and
    the stage. Output: the activations ``(C, H, W)`` after that stage for that digit. Panels: the digit
    (after the input stage), every channel as an image (one colour scale per stage, so channels
    compare), and the ten softmax probabilities of the network's output. Text: the stage's output-size
    arithmetic and the prediction. Tracing: a unit of a map lights its receptive field on the digit
    (:meth:`~cnnbook.explorer.tracing.Field.through` the stage's convolution and pooling layers, the
    padding clipped); the PyTorch call chains the stage's layers from the digit ``x``.
    """
    from ..functional import log_softmax
    from ..data import load_handwritten_digits
    from ..models import trained_lenet
    from ..training import predict

    model, _ = trained_lenet(epochs)
    _, _, x_test, y_test = load_handwritten_digits()
    examples = _examples(y_test, predict(model, x_test), n_wrong)

    @functools.lru_cache(maxsize=None)
    def activations(example: int) -> list:
        """The digit and the output of every layer after it (one forward pass per digit)."""
        acts = [x_test[example:example + 1]]
        for layer in model:
            acts.append(layer(acts[-1]))
        return acts

    def compute(example: int, stage: str) -> View:
        acts = activations(example)
        y = acts[_LAST_LAYER[stage] + 1][0]
        p = np.exp(log_softmax(acts[-1], dim=1)[0])
        guess = int(p.argmax())
        cmap = "gray" if stage == "input" else "viridis"
        lo, hi = (float(y.min()), float(y.max())) if stage == "input" else (0.0, float(y.max()) or 1.0)
        scale = max(1, 84 // y.shape[-1])
        panels, trace = [], []
        if stage != "input":
            digit = acts[0][0, 0]
            panels.append(Panel("digit (pick a pixel, or a unit of a map)", digit, numbers=False,
                                vmin=float(digit.min()), vmax=float(digit.max()), scale=3, name="digit"))
            layers = stage_layers(model, stage)
            trace = [Field.through(f"map{c}", "digit", layers, symbols=(f"map {c}", "digit"))
                     for c in range(y.shape[0])]
        panels += [Panel(f"map {c}" if stage != "input" else "input", y[c], numbers=False, cmap=cmap,
                         vmin=lo, vmax=hi, scale=scale, name=f"map{c}" if stage != "input" else None)
                   for c in range(y.shape[0])]
        panels.append(Panel("softmax p(0) … p(9)", p[None, :], numbers=True, cmap="Blues",
                            vmin=0.0, vmax=1.3, decimals=2))
        text = (f"{_stage_text(stage, model, acts)}.  True class {y_test[example]}, "
                f"predicted {guess} (p = {p[guess]:.3f}).")
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=stage_call(model, stage))

    default = int(np.flatnonzero(y_test == 3)[0])  # the digit of the chapter's feature-map figure
    return Explorer(
        compute,
        [Dropdown("example", examples, default=default, label="test digit"),
         Dropdown("stage", {label: name for name, label, _ in STAGES}, default="conv1", label="stage")],
        name="lenet-stages",
        title="A test digit through the trained LeNet, stage by stage",
    )
