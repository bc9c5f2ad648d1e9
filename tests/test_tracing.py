"""The tracing relations of the explorers (cnnbook.explorer.tracing) against torch's autograd.

The window of an output cell is exactly the set of input pixels whose gradient is non-zero when that
one output is back-propagated (random non-zero weights, so no tap cancels), and the kernel taps used
are the weight entries with a non-zero gradient; for a transposed convolution, the stamps that land on
an output pixel are found the same way. The relations of the book's explorers are checked too.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from cnnbook.explorer import BOOK
from cnnbook.explorer.tracing import CONV_DEFAULTS, Field, Ratio, Window, torch_call



@pytest.fixture(autouse=True)
def _float64_by_default():
    """These tests build tensors in float64; the default is restored so no other test sees it."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _by_output(rel: Window, in_shape, out_shape) -> dict:
    found: dict = {}
    for out, inp, k in rel.pairs(in_shape, out_shape):
        ins, ks = found.setdefault(out, (set(), set()))
        ins.add(inp)
        ks.add(k)
    return found


def _grads(fn, x_shape, w_shape, out_cell, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(x_shape, generator=g) + 0.5).requires_grad_()
    w = (torch.rand(w_shape, generator=g) + 0.5).requires_grad_()
    y = fn(x, w)
    y[(0, 0) + tuple(out_cell)].backward()
    nz = lambda t: {tuple(map(int, ix)) for ix in torch.nonzero(t.grad[0, 0])}  # noqa: E731
    return y.shape[-2:], nz(x), nz(w)


CONV_CASES = [(n, k, s, p, d) for n, k, s, p, d in itertools.product([5, 7], [1, 2, 3], [1, 2, 3], [0, 1, 2],
                                                                      [1, 2])
              if n + 2 * p >= d * (k - 1) + 1 and p <= k][::3]


@pytest.mark.parametrize("n, k, s, p, d", CONV_CASES)
@pytest.mark.parametrize("shown", [0, 1])
def test_the_window_of_a_convolution_output_is_where_autograd_sends_its_gradient(n, k, s, p, d, shown):
    shown = shown * p  # the input panel draws all its padding, or none
    rel = Window("y", "x", k, stride=s, padding=p, dilation=d, kernel="w", shown_padding=shown)
    f = lambda x, w: torch.nn.functional.conv2d(x, w, stride=s, padding=p, dilation=d)  # noqa: E731
    out_shape = f(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k)).shape[-2:]
    panel_in = (n + 2 * shown, n + 2 * shown)
    traced = _by_output(rel, panel_in, tuple(out_shape))
    for cell in itertools.product(range(out_shape[0]), range(out_shape[1])):
        _, gx, gw = _grads(f, (1, 1, n, n), (1, 1, k, k), cell)
        ins, taps = traced.get(cell, (set(), set()))
        # panel coordinates -> input coordinates; padding cells drawn in the panel carry no pixel
        pixels = {(r - shown, c - shown) for r, c in ins if 0 <= r - shown < n and 0 <= c - shown < n}
        assert pixels == gx, cell
        taps_on_pixels = {kk for (o, i, kk) in rel.pairs(panel_in, tuple(out_shape))
                          if o == cell and 0 <= i[0] - shown < n and 0 <= i[1] - shown < n}
        assert taps_on_pixels == gw, cell
        if shown == p:  # the whole padded window is drawn: every tap has its cell
            assert len(ins) == len(taps) == k * k


@pytest.mark.parametrize("n, k, s, p, d", [(3, 3, 2, 0, 1), (3, 2, 2, 1, 1), (2, 3, 3, 1, 2), (4, 3, 1, 2, 1),
                                           (3, 3, 2, 2, 2)])
def test_the_stamps_of_a_transposed_convolution_are_where_autograd_sends_the_gradient(n, k, s, p, d):
    rel = Window("y", "x", k, stride=s, padding=p, dilation=d, kernel="w", transposed=True)
    f = lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p, dilation=d)  # noqa: E731
    out_shape = tuple(f(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k)).shape[-2:])
    traced = _by_output(rel, (n, n), out_shape)
    for cell in itertools.product(range(out_shape[0]), range(out_shape[1])):
        _, gx, gw = _grads(f, (1, 1, n, n), (1, 1, k, k), cell)
        ins, taps = traced.get(cell, (set(), set()))
        assert ins == gx and taps == gw, cell


def test_flip_draws_the_taps_rotated_and_the_gradient_is_the_full_correlation_with_rot180():
    """dL/dX = conv_transpose2d(G, W): each dX cell sums G[i, j] W[u, v]; the kernel panel shows rot180(W)."""
    k, s, n = 3, 2, 5
    rel = Window("dx", "g", k, stride=s, kernel="rot", transposed=True, flip=True)
    plain = Window("dx", "g", k, stride=s, kernel="w", transposed=True)
    g_shape = (2, 2)
    a = sorted(rel.pairs(g_shape, (n, n)))
    b = sorted((o, i, (k - 1 - t[0], k - 1 - t[1])) for o, i, t in plain.pairs(g_shape, (n, n)))
    assert a == b
    rng = np.random.default_rng(0)
    G, W = rng.integers(-3, 4, g_shape).astype(float), rng.integers(-3, 4, (k, k)).astype(float)
    rot = W[::-1, ::-1]
    x = torch.zeros(1, 1, n, n, requires_grad=True)
    y = torch.nn.functional.conv2d(x, torch.tensor(W)[None, None], stride=s)
    y.backward(torch.tensor(G)[None, None])
    want = x.grad[0, 0].numpy()
    got = np.zeros((n, n))
    for (r, c), (i, j), (u, v) in rel.pairs(g_shape, (n, n)):
        got[r, c] += G[i, j] * rot[u, v]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1), (2, 1, 1), (3, 3, 0)])
def test_a_pooling_window_is_where_the_average_sends_its_gradient(k, s, p):
    n = 7
    rel = Window("y", "x", k, stride=s, padding=p, op="avg", shown_padding=p)
    x = torch.rand(1, 1, n, n, requires_grad=True)
    y = torch.nn.functional.avg_pool2d(x, k, stride=s, padding=p)
    traced = _by_output(rel, (n + 2 * p, n + 2 * p), tuple(y.shape[-2:]))
    for cell in itertools.product(range(y.shape[-2]), range(y.shape[-1])):
        x.grad = None
        y[(0, 0) + cell].backward(retain_graph=True)
        gx = {tuple(map(int, ix)) for ix in torch.nonzero(x.grad[0, 0])}
        ins = {(r - p, c - p) for r, c in traced[cell][0] if 0 <= r - p < n and 0 <= c - p < n}
        assert ins == gx


def test_linked_lights_the_window_of_an_output_and_the_readers_of_an_input():
    rel = Window("y", "x", 2, stride=2, kernel="w")
    lit = rel.linked("y", (1, 0), (5, 5), (2, 2))
    assert lit == {"x": {(2, 0), (2, 1), (3, 0), (3, 1)}, "w": {(0, 0), (0, 1), (1, 0), (1, 1)}}
    assert rel.linked("x", (3, 1), (5, 5), (2, 2)) == {"y": {(1, 0)}, "w": {(1, 1)}}
    assert rel.linked("x", (4, 4), (5, 5), (2, 2)) == {"y": set(), "w": set()}  # the stride skips it


def test_window_rejects_bad_declarations():
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        Window("y", "x", 2, stride=0)
    with pytest.raises(ValueError, match="op must be one of"):
        Window("y", "x", 2, op="min")
    with pytest.raises(ValueError, match="takes no kernel panel"):
        Window("y", "x", 2, op="max", kernel="w")
    with pytest.raises(ValueError, match="shown_padding must be >= 0"):
        Window("y", "x", 2, shown_padding=-1)


def test_torch_call_leaves_out_torch_defaults():
    assert torch_call("conv2d", "x", "w", defaults=CONV_DEFAULTS, stride=2, padding=1, dilation=1) == \
        "torch.nn.functional.conv2d(x, w, stride=2, padding=1)"
    assert torch_call("max_pool2d", "x", "2") == "torch.nn.functional.max_pool2d(x, 2)"


def _build(entry):
    """The explorer of a BOOK entry; LeNet's with a one-epoch model (what it traces and the PyTorch call
    it shows do not depend on the weights; its page's model is checked on the website)."""
    if entry.factory.endswith(":lenet_explorer"):
        return type(entry)(entry.chapter, entry.factory, {**entry.args, "epochs": 1}).build()
    return entry.build()


def _views(entry, limit=40):
    ex = _build(entry)
    settings = list(ex.settings())
    rng = np.random.default_rng(0)
    picked = [settings[i] for i in sorted(rng.choice(len(settings), min(limit, len(settings)), replace=False))]
    return ex, [(s, ex.view(**s)) for s in picked]


TRACED = [b for b in BOOK if b.factory.rpartition(":")[2] in
          {"conv_steps", "conv_arithmetic", "pixel_picker", "pooling_explorer", "transposed_dilated",
           "kernel_gallery", "equivariance", "receptive_field_explorer", "lenet_explorer", "family_costs"}]
#: Explorers whose every setting is checked (a few hundred cheap ones); the others: a sample of 40.
EVERY_SETTING = {"family_costs"}


@pytest.mark.parametrize("entry", TRACED, ids=[b.factory.rpartition(":")[2] for b in TRACED])
def test_the_book_explorers_trace_what_they_compute(entry):
    """For the traced explorers of the book: recomputing each traced output cell from the panels' own
    numbers over its window (as the page's equation line does) gives the output panel's number; a
    quotient lights one numerator and one denominator, and their quotient is the picked cell."""
    _, views = _views(entry, limit=10 ** 6 if entry.factory.rpartition(":")[2] in EVERY_SETTING else 40)
    traced = 0
    for setting, view in views:
        panels = {p.name: np.asarray(p.array, dtype=float) for p in view.panels if p.name}
        for rel in view.trace:
            x, y = panels[rel.input], panels[rel.output]
            if rel.op == "ratio":
                for o, a, b in rel.pairs():
                    lit = rel.linked(rel.output, o)
                    assert lit == ({rel.input: {a}} if (rel.input, a) == (rel.denominator, b)
                                   else {rel.input: {a}, rel.denominator: {b}}), (setting, o, lit)
                    quotient = x[a] / panels[rel.denominator][b]  # the lit cells' numbers
                    np.testing.assert_allclose(quotient, y[o], rtol=1e-12, err_msg=f"{setting} {rel.output}{o}")
                traced += 1
                continue
            if rel.op == "field":  # its equation shows the unit's own value; every unit reads some input
                assert all(rel.cells(cell, x.shape)[0] and rel.cells(cell, x.shape)[1] for cell in np.ndindex(*y.shape))
                traced += 1
                continue
            w = panels[rel.kernel] if rel.kernel else None
            sums = np.zeros(y.shape) + (rel.bias or 0.0)
            best = np.full(y.shape, -np.inf)
            for (a, b), (r, c), (u, v) in rel.pairs(x.shape, y.shape):
                xv = x[r, c]
                if rel.op == "max":
                    best[a, b] = max(best[a, b], xv) if not np.isnan(xv) else best[a, b]
                else:
                    sums[a, b] += (0.0 if np.isnan(xv) else xv) * (w[u, v] if w is not None else 1.0)
            kh, kw = (rel.kernel_size,) * 2 if isinstance(rel.kernel_size, int) else rel.kernel_size
            got = best if rel.op == "max" else (sums / (kh * kw) if rel.op == "avg" else sums)
            np.testing.assert_allclose(got, y, rtol=0, atol=1e-9, err_msg=str(setting))
            traced += 1
    assert traced, f"{entry.factory} declares no tracing relation"


def test_a_ratio_lights_numerator_and_denominator_and_the_quotients_they_enter():
    """The costs explorer's relation, worked by hand: the depthwise separable panel's [1, 1] is its [0, 1]
    over the standard panel's [0, 1]; a count lights the quotients that use it (the standard layer's
    counts: every layer's); a cell that is neither lights nothing."""
    cells = (((1, 0), (0, 0), (0, 0)), ((1, 1), (0, 1), (0, 1)))
    std = Ratio("standard", "standard", "standard", cells)
    dw = Ratio("depthwise", "depthwise", "standard", cells, labels=("parameters", "multiplies"))
    assert dw.linked("depthwise", (1, 1)) == {"depthwise": {(0, 1)}, "standard": {(0, 1)}}
    assert dw.linked("depthwise", (0, 0)) == {"depthwise": {(1, 0)}}
    assert dw.linked("standard", (0, 1)) == {"depthwise": {(1, 1)}}
    assert dw.linked("standard", (1, 1)) == {}
    assert std.linked("standard", (1, 0)) == {"standard": {(0, 0)}}
    assert std.linked("standard", (0, 0)) == {"standard": {(1, 0)}}
    assert dw.to_json() == {"kind": "ratio", "out": "depthwise", "in": "depthwise", "den": "standard",
                            "kernel": None, "op": "ratio", "cells": [[1, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 1]],
                            "labels": ["parameters", "multiplies"], "sym": ["y", "a", "b"], "decimals": 4}
    with pytest.raises(ValueError, match="quotients must list at least one"):
        Ratio("y", "a", "b", ())
    with pytest.raises(ValueError, match="an output cell must be a"):
        Ratio("y", "a", "b", (((1, -1), (0, 0), (0, 0)),))
    with pytest.raises(ValueError, match="each output cell once"):
        Ratio("y", "a", "b", (((1, 0), (0, 0), (0, 0)), ((1, 0), (0, 1), (0, 1))))
    with pytest.raises(ValueError, match="its own numerator"):
        Ratio("y", "y", "b", (((0, 0), (0, 0), (0, 0)),))
    with pytest.raises(ValueError, match="labels must give one word per quotient"):
        Ratio("y", "a", "b", cells, labels=("parameters",))


def test_the_receptive_field_explorers_field_is_the_pixels_its_unit_reaches():
    """The field of the unit the explorer shades is where its output (the number of paths) is non-zero,
    and every top unit holds how many pixels it reaches."""
    from cnnbook.explorers.receptive import field_frame, receptive_field_explorer

    ex = receptive_field_explorer()
    for setting in ex.settings():
        view = ex.view(**setting)
        rel, = view.trace
        panels = {p.name: p.array for p in view.panels if p.name}
        n, unit = field_frame(**setting)
        lit = rel.linked(rel.output, (unit, unit), (n, n), panels["top"].shape)[rel.input]
        assert lit == {tuple(map(int, rc)) for rc in np.argwhere(view.output > 0)}, setting
        assert (panels["top"] == len(lit)).all()


def test_the_backprop_explorers_gradient_is_torchs_grad_input():
    from cnnbook.explorers.backprop import pixel_picker

    ex = pixel_picker()
    for setting in ex.settings():
        view = ex.view(**setting)
        panels = {p.name: p.array for p in view.panels if p.name}
        w = torch.tensor(np.asarray(panels["rotW"])[::-1, ::-1].copy())[None, None]
        x = torch.zeros(1, 1, 5, 5, requires_grad=True)
        torch.nn.functional.conv2d(x, w, stride=setting["stride"]).backward(torch.tensor(panels["G"])[None, None])
        np.testing.assert_array_equal(panels["dX"], x.grad[0, 0].numpy())
        assert view.torch_call.startswith("torch.nn.functional.conv_transpose2d(G, w")


STACKS = [[(3, 1, 0, 1)], [(5, 1, 2, 1), (2, 2, 0, 1)], [(3, 2, 1, 1), (3, 1, 1, 2)], [(3, 1, 0, 2), (2, 2, 0, 1)],
          [(5, 1, 2, 1), (2, 2, 0, 1), (5, 1, 0, 1), (2, 2, 0, 1)], [(3, 1, 1, 1), (3, 2, 0, 3), (2, 1, 1, 1)]]


@pytest.mark.parametrize("stack", STACKS, ids=str)
def test_a_field_through_a_stack_is_where_autograd_sends_a_units_gradient(stack):
    """Convolutions (k, s, p, d) with random positive weights (no cancellation): the input pixels with a
    non-zero gradient of every unit are exactly the unit's Field, padding clipped, dilation's holes left out."""
    n = 17
    rel = Field.through("y", "x", stack)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 1, n, n, generator=g, requires_grad=True)
    h = x
    for k, s, p, d in stack:
        h = torch.nn.functional.conv2d(h, torch.rand(1, 1, k, k, generator=g) + 0.5, stride=s, padding=p, dilation=d)
    out_shape = tuple(h.shape[-2:])
    for cell in itertools.product(range(out_shape[0]), range(out_shape[1])):
        grad = torch.autograd.grad(h[(0, 0) + cell], x, retain_graph=True)[0][0, 0]
        want = {tuple(map(int, ix)) for ix in torch.nonzero(grad)}
        assert rel.linked("y", cell, (n, n), out_shape) == {"x": want}, cell
    # an input pixel lights exactly the units whose field holds it
    for pixel in [(0, 0), (n // 2, 3), (n - 1, n - 1)]:
        readers = {o for o in itertools.product(range(out_shape[0]), range(out_shape[1]))
                   if pixel in rel.linked("y", o, (n, n), out_shape)["x"]}
        assert rel.linked("x", pixel, (n, n), out_shape) == {"y": readers}


def test_field_declarations_and_their_json():
    # {0, 2, 4} (k 3, d 2), then that and itself 2 further (k 2, d 2); padding 1 starts it one pixel early
    rel = Field.through("y", "x", [(3, 1, 1, 2), (2, 1, 0, 2)], symbols=("y", "x"))
    assert rel.to_json() == {"kind": "field", "out": "y", "in": "x", "kernel": None, "op": "field",
                             "start": [-1, -1], "jump": [1, 1], "offsets": [[0, 2, 4, 6], [0, 2, 4, 6]],
                             "sym": ["y", "x"], "fn": "f", "decimals": 2}
    assert Field("y", "x", 1, (1, 2), ([0, 1], [0])).cells((1, 1), (3, 3)) == ([2], [])  # clipped away
    with pytest.raises(ValueError, match="jump must be an int >= 1"):
        Field("y", "x", 0, 0, [0])
    with pytest.raises(ValueError, match="offsets must be a sequence of ints >= 0"):
        Field("y", "x", 0, 1, [])
    with pytest.raises(ValueError, match="layer 1: padding must be an int >= 0"):
        Field.through("y", "x", [(3, 1, 0, 1), (3, 1, -1, 1)])


# ------------------------------------------------------------------------------------------ PyTorch calls
def _t(a) -> torch.Tensor:
    """A panel's 2-D array as a (1, 1, H, W) float64 tensor."""
    return torch.tensor(np.ascontiguousarray(a, dtype=np.float64))[None, None]


def _unpad(a: np.ndarray, p: int) -> np.ndarray:
    return a[p:a.shape[0] - p, p:a.shape[1] - p] if p else a


def _lenet_names(ex, setting, view, panels):
    """The digit ``x`` and the weights ``w1, b1, w2, b2`` of the (one-epoch) model of the explorer."""
    from cnnbook.data import load_handwritten_digits
    from cnnbook.models import trained_lenet

    x_test = load_handwritten_digits()[2]
    state = trained_lenet(1)[0].state_dict()
    names = {"x": torch.tensor(x_test[setting["example"]:setting["example"] + 1], dtype=torch.float64)}
    for n, index in ((1, 0), (2, 3)):
        names[f"w{n}"] = torch.tensor(state[f"{index}.weight"], dtype=torch.float64)
        names[f"b{n}"] = torch.tensor(state[f"{index}.bias"], dtype=torch.float64)
    return names, view.output[None]


def _depth_names(ex, setting, view, panels):
    """No names: the depth explorer's code builds its network and loads its digits itself. It runs as in a
    reader's fresh session, in torch's default float32 (the autouse fixture restores float64 after)."""
    torch.set_default_dtype(torch.float32)
    return {}, view.output


#: For each explorer with a PyTorch call: the names it uses, bound to the view's panels (the input pixels
#: without the padding the panel draws, the weights as torch takes them), and what the call must give.
CALL_NAMES = {
    "conv_arithmetic": lambda ex, st, v, P: ({"x": _t(_unpad(P["input"], st["padding"]))}, v.output),
    "conv_steps": lambda ex, st, v, P: (
        {"x": _t(P["input"]), "w": _t(P["kernel"] if st["operation"] == "cross-correlation" else P["kernel"][::-1, ::-1])},
        v.output),
    "pixel_picker": lambda ex, st, v, P: ({"G": _t(P["G"]), "w": _t(P["rotW"][::-1, ::-1])}, P["dX"]),
    "pooling_explorer": lambda ex, st, v, P: ({"x": _t(_unpad(P["input"], st["padding"]))}, v.output),
    "transposed_dilated": lambda ex, st, v, P: (
        {"x": _t(P["input"] if st["operation"] == "transposed" else _unpad(P["input"], st["padding"]))}, v.output),
    "kernel_gallery": lambda ex, st, v, P: (
        {"x": _t(P["input"]), "w": _t(P["kernel"] if st["operation"] == "cross-correlation" else P["kernel"][::-1, ::-1])},
        v.output),
    "equivariance": lambda ex, st, v, P: (
        {"x": _t(np.roll(P["shifted"], (-st["dy"], -st["dx"]), axis=(0, 1))), "w": _t(P["kernel"])}, v.output),
    "lenet_explorer": _lenet_names,
    "family_costs": lambda ex, st, v, P: ({}, v.output[:4, 0]),
    "depth_explorer": _depth_names,
}


#: The depth explorer's norms span ten orders of magnitude (the vanishing gradients are below 1e-6):
#: relative only, or the small ones would pass whatever they are. 1e-4, not 1e-5: they are float32
#: gradients through up to 32 layers with batch normalization, where cnnbook and torch add up in
#: different orders (the first layer's norm of the deepest network differs by 1.5e-5 relative).
TOLERANCE = {"depth_explorer": {"rtol": 1e-4, "atol": 0.0}}


def _run_call(code: str, names: dict):
    """Run the lines of a call before the last, then evaluate the last (the call) with ``names`` bound."""
    *body, last = code.strip().split("\n")
    scope = {"torch": torch, **names}
    exec("\n".join(body), scope)
    return eval(last, scope)


@pytest.mark.parametrize("entry", BOOK, ids=[b.factory.rpartition(":")[2] for b in BOOK])
def test_the_pytorch_call_of_every_view_computes_what_it_shows(entry):
    """The call under a view, run by torch with its names bound to the view's own panels (or the model's
    weights), gives the view's output: what the reader copies reproduces what the explorer shows."""
    key = entry.factory.rpartition(":")[2]
    ex = _build(entry)
    settings = list(ex.settings())
    rng = np.random.default_rng(3)
    picked = [settings[i] for i in sorted(rng.choice(len(settings), min(12, len(settings)), replace=False))]
    calls = 0
    for setting in picked:
        view = ex.view(**setting)
        if not view.torch_call:
            continue
        assert key in CALL_NAMES, f"{entry.factory} shows a PyTorch call the test cannot bind: {view.torch_call}"
        panels = {p.name: np.asarray(p.array, dtype=float) for p in view.panels if p.name}
        names, want = CALL_NAMES[key](ex, setting, view, panels)
        got = _run_call(view.torch_call, names)
        got = np.asarray(got.detach().numpy() if isinstance(got, torch.Tensor) else got, dtype=float)
        if got.ndim == 4 and np.ndim(want) == 2:
            got = got[0, 0]
        np.testing.assert_allclose(got, want, **TOLERANCE.get(key, {"rtol": 1e-5, "atol": 1e-5}),
                                   err_msg=f"{view.torch_call} at {setting}")
        calls += 1
    assert calls or key not in CALL_NAMES, f"{entry.factory}: no view of the sample shows its PyTorch call"


def test_the_spatially_separable_call_is_a_rank_one_kernel_per_channel_pair():
    """The costs explorer's spatially separable layer in torch equals a convolution whose kernels are
    W[o, c] = a_oc b_oc^T (column times row), so its parameter count is that layer's."""
    from cnnbook.explorers.costs import family_call

    scope = {"torch": torch}
    exec(family_call(3, 4, 3, 9, 1), scope)
    first, shuffle, second = scope["spatially_separable"]
    a = first.weight.detach()[:, 0, :, 0].reshape(3, 4, 3)   # [c, o, u]: channel c·4 + o of the first layer
    b = second.weight.detach()[:, :, 0, :]                  # [o, c, v]
    w = torch.einsum("cou,ocv->ocuv", a, b)
    x = torch.rand(2, 3, 9, 9, dtype=first.weight.dtype)
    want = torch.nn.functional.conv2d(x, w, second.bias.detach())
    torch.testing.assert_close(scope["spatially_separable"](x), want, rtol=1e-5, atol=1e-6)
