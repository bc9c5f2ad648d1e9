"""Explorer of chapter 8: a handwritten test digit passing through the trained LeNet, one stage at a time
(input, conv1 + activation, pool1, conv2 + activation, pool2), with the class probabilities."""
from __future__ import annotations

import functools

import numpy as np

from ..explorer import Dropdown, Explorer, Panel, View, explorer_factory

__all__ = ["lenet_explorer", "STAGES"]

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


@explorer_factory
def lenet_explorer(epochs: int | None = None, n_wrong: int = 2) -> Explorer:
    """A test digit of :func:`cnnbook.data.load_handwritten_digits` through the LeNet-style network trained
    by :func:`cnnbook.models.trained_lenet` (``epochs``
    overrides the recipe's, for quick tests).

    Controls: the digit (the first test example of each class, then ``n_wrong`` misclassified ones) and
    the stage. Output: the activations ``(C, H, W)`` after that stage for that digit. Panels: every
    channel as an image (one colour scale per stage, so channels compare), and the ten softmax
    probabilities of the network's output. Text: the stage's output-size arithmetic and the prediction.
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
        panels = [Panel(f"map {c}" if y.shape[0] > 1 else "input", y[c], numbers=False, cmap=cmap,
                        vmin=lo, vmax=hi, scale=scale) for c in range(y.shape[0])]
        panels.append(Panel("softmax p(0) … p(9)", p[None, :], numbers=True, cmap="Blues",
                            vmin=0.0, vmax=1.3, decimals=2))
        text = (f"{_stage_text(stage, model, acts)}.  True class {y_test[example]}, "
                f"predicted {guess} (p = {p[guess]:.3f}).")
        return View(output=y, panels=panels, text=text)

    default = int(np.flatnonzero(y_test == 3)[0])  # the digit of the chapter's feature-map figure
    return Explorer(
        compute,
        [Dropdown("example", examples, default=default, label="test digit"),
         Dropdown("stage", {label: name for name, label, _ in STAGES}, default="conv1", label="stage")],
        name="lenet-stages",
        title="A test digit through the trained LeNet, stage by stage",
    )
