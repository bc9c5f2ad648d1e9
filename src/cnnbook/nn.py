"""Layers with a forward and a backward pass, built on :mod:`cnnbook.functional`.

The classes mirror ``torch.nn``: same names, constructor arguments and defaults, and the same
``state_dict`` keys and shapes, so the weights of a ``torch.nn.Sequential`` of the same structure load
directly::

    model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})

What is different from torch: there is no autograd. Each layer remembers what its backward needs
from the last ``forward`` call (attributes named ``saved_input`` / ``saved_input_shape``), and
``backward(grad_output)`` returns ``grad_input``, *adding* the parameter gradients into each
``Parameter.grad`` as torch does (call ``zero_grad()`` between steps). ``backward_parameters(grad_output)``
adds the same parameter gradients and returns nothing: where the input needs no gradient (a network's
input, as in a training step) its layer skips computing it, as torch does for an input without
``requires_grad``.

As in torch, a module is in training mode until ``eval()`` (``train()`` switches back; ``training``
tells): batch normalization and dropout behave differently in the two modes. Buffers (batch
normalization's running statistics) are state but not parameters: ``state_dict`` holds both, under
torch's keys (``running_mean``, ``running_var``, ``num_batches_tracked``).

Chapter 10 adds :class:`BatchNorm2d`, :class:`AdaptiveAvgPool2d`, :class:`Dropout`, the residual
:class:`BasicBlock` and :class:`Branches` (branches side by side, their outputs concatenated along the
channels, as in an Inception block).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from numbers import Integral
from typing import Iterator, Mapping

import numpy as np
from numpy.typing import ArrayLike

from . import functional as F
from .arguments import IntOrTuple, Padding, conv_padding, positive_tuple
from .functional.pooling import _max_pool2d_backward_saved, _max_pool2d_saving
from .shapes import conv_output_size

__all__ = [
    "Parameter", "Module", "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "ReLU", "Sigmoid",
    "Flatten", "Sequential",
    "TiledConv2d", "LocallyConnected2d",
    "BatchNorm2d", "AdaptiveAvgPool2d", "Dropout", "BasicBlock", "Branches",
]


def _as_rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    """``None`` (fresh entropy), an int seed, or a ``numpy.random.Generator`` (used as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, Integral):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def _as_float_dtype(dtype: object) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


class Parameter:
    """A trainable array: ``data`` (the values) and ``grad`` (``None`` until a backward pass)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def accumulate(self, grad: np.ndarray) -> None:
        """Add ``grad`` into ``self.grad`` (torch accumulates gradients the same way)."""
        grad = np.asarray(grad, dtype=self.data.dtype)
        if self.grad is None:
            self.grad = grad.copy()
        else:
            self.grad += grad

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: a registry of parameters (``_parameters``), buffers (``_buffers``: state that is not
    trained, e.g. running statistics) and child layers (``_modules``), and the mode (``training``)."""

    def __init__(self) -> None:
        self._parameters: OrderedDict[str, Parameter | None] = OrderedDict()
        self._buffers: OrderedDict[str, np.ndarray] = OrderedDict()
        self._modules: OrderedDict[str, Module] = OrderedDict()
        self.training = True

    def __getattr__(self, name: str) -> "Module":
        """A child layer by name, as in torch (``block.conv1``); only called when no attribute matches."""
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # -- mode ----------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (``mode=True``) or evaluation mode, for this module and every child."""
        self.training = bool(mode)
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_parameters(self, grad_output: np.ndarray) -> None:
        """The parameter gradients of :meth:`backward`, added into ``.grad``, without returning ``dL/dx``
        (a layer that can skip computing it does)."""
        self.backward(grad_output)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- parameters ----------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, Parameter)`` with torch's dotted names, e.g. ``("0.weight", p)``."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, child in self._modules.items():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self) -> Iterator[Parameter]:
        """Yield every ``Parameter`` (the order of ``named_parameters``)."""
        for _, p in self.named_parameters():
            yield p

    def zero_grad(self) -> None:
        """Forget the gradients (``grad = None``, as torch's default ``set_to_none=True``)."""
        for p in self.parameters():
            p.grad = None

    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Module, str, str]]:
        """``(key, owner, name, kind)`` for every parameter and buffer, in torch's ``state_dict`` order:
        a module's parameters, then its buffers, then its children's."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, self, name, "parameter"
        for name in self._buffers:
            yield prefix + name, self, name, "buffer"
        for name, child in self._modules.items():
            yield from child._named_state(prefix + name + ".")

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, array)`` for every buffer (e.g. ``("1.running_mean", a)``)."""
        for key, owner, name, kind in self._named_state(prefix):
            if kind == "buffer":
                yield key, owner._buffers[name]

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of the parameter and buffer arrays under torch's key names, in torch's order."""
        return OrderedDict((key, (owner._parameters[name].data if kind == "parameter"
                                  else owner._buffers[name]).copy())
                           for key, owner, name, kind in self._named_state())

    def load_state_dict(self, state_dict: Mapping[str, ArrayLike], strict: bool = True) -> None:
        """Copy arrays (NumPy, or anything ``np.asarray`` accepts) into the parameters and buffers.

        The values are converted to each entry's dtype. With ``strict`` (torch's default), the
        keys must match exactly; shapes must always match. Buffers are written in place (a layer's
        running statistics stay the same arrays).
        """
        entries = {key: (owner, name, kind) for key, owner, name, kind in self._named_state()}
        if strict:
            missing = [k for k in entries if k not in state_dict]
            unexpected = [k for k in state_dict if k not in entries]
            if missing or unexpected:
                raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for key, value in state_dict.items():
            if key not in entries:
                continue
            owner, name, kind = entries[key]
            value = np.asarray(value)
            current = owner._parameters[name].data if kind == "parameter" else owner._buffers[name]
            if value.shape != current.shape:
                raise ValueError(f"load_state_dict: {key} has shape {value.shape}, "
                                 f"the model expects {current.shape}")
            if kind == "parameter":
                owner._parameters[name].data = value.astype(current.dtype, copy=True)
            else:
                current[...] = value.astype(current.dtype)

    # -- dtype ---------------------------------------------------------------------------------
    def to(self, dtype: object) -> "Module":
        """Convert every parameter (and its gradient) and every float buffer to ``dtype`` (float32 or
        float64), in place. Integer buffers (``num_batches_tracked``) stay int64, as in torch."""
        dt = _as_float_dtype(dtype)
        for p in self.parameters():
            p.data = p.data.astype(dt)
            if p.grad is not None:
                p.grad = p.grad.astype(dt)
        for key, owner, name, kind in list(self._named_state()):
            if kind == "buffer" and owner._buffers[name].dtype.kind == "f":
                owner._set_buffer(name, owner._buffers[name].astype(dt))
        return self

    def _set_buffer(self, name: str, value: np.ndarray) -> None:
        """Register (or replace) the buffer ``name``, also reachable as the attribute ``name``."""
        self._buffers[name] = value
        setattr(self, name, value)

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # -- display -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Conv2d(Module):
    """2-D convolution layer (a cross-correlation), ``torch.nn.Conv2d``'s arguments.

    Forward ``y = conv2d(x, weight, bias, stride, padding, dilation, groups)`` with ``x`` of shape
    ``(N, C_in, H, W)``, ``weight`` ``(C_out, C_in/groups, kH, kW)``, ``bias`` ``(C_out,)`` and
    ``y`` ``(N, C_out, H_out, W_out)``, ``H_out = floor((H + 2p - d(k-1) - 1)/s) + 1``.

    Initialisation as torch's default (``kaiming_uniform_`` with ``a = sqrt(5)``): weight and bias
    drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, ``fan_in = C_in/groups * kH * kW``, using
    ``rng`` (an int seed or a ``numpy.random.Generator``) so a model is reproducible.
    Only ``padding_mode='zeros'`` exists here.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                 padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", *, dtype: object = np.float32,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if isinstance(groups, bool) or not isinstance(groups, Integral) or groups < 1:
            raise ValueError(f"groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels ({in_channels}) and "
                             f"out_channels ({out_channels})")
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode must be 'zeros' (the only mode implemented), got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = positive_tuple(kernel_size, "kernel_size", 2)
        self.stride = positive_tuple(stride, "stride", 2)
        self.dilation = positive_tuple(dilation, "dilation", 2)
        self.padding = conv_padding(padding, self.stride, 2)
        self.padding_mode = padding_mode

        dt, gen = _as_float_dtype(dtype), _as_rng(rng)
        kh, kw = self.kernel_size
        fan_in = self.in_channels // self.groups * kh * kw
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = Parameter(_uniform(gen, bound, (self.out_channels, self.in_channels // self.groups,
                                                      kh, kw), dt))
        self.bias = Parameter(_uniform(gen, bound, (self.out_channels,), dt)) if bias else None
        self._parameters["weight"] = self.weight
        self._parameters["bias"] = self.bias
        self.saved_input: np.ndarray | None = None

    def _conv_args(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        b = None if self.bias is None else self.bias.data
        return F.conv2d(x, self.weight.data, b, **self._conv_args())

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Return ``dL/dx``; add ``dL/dW`` and ``dL/db`` into the parameters' ``.grad``."""
        return self._backward(grad_output, True)

    def backward_parameters(self, grad_output: np.ndarray) -> None:
        """Add ``dL/dW`` and ``dL/db`` into the parameters' ``.grad``; ``dL/dx`` is not computed."""
        self._backward(grad_output, False)

    def _backward(self, grad_output: np.ndarray, input_grad: bool) -> np.ndarray | None:
        grad_input, grad_weight, grad_bias = F.conv2d_backward(
            grad_output, self.saved_input, self.weight.data, **self._conv_args(),
            output_mask=(input_grad, True, self.bias is not None))
        self.weight.accumulate(grad_weight)
        if self.bias is not None:
            self.bias.accumulate(grad_bias)
        return grad_input

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Max pooling, ``torch.nn.MaxPool2d``'s arguments (``stride`` defaults to ``kernel_size``).

    Backward sends each output gradient to the position of its window's maximum: in training mode the
    forward pass keeps the arg-max of every window (as torch's layer keeps its indices), else it is
    found again from the saved input (:func:`cnnbook.functional.max_pool2d_backward`).
    ``return_indices=True`` is not offered by the layer (use the functional form).
    """

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 dilation: IntOrTuple = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise ValueError("return_indices=True is not supported by the MaxPool2d layer; "
                             "use cnnbook.functional.max_pool2d(..., return_indices=True)")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, bool(ceil_mode)
        self.return_indices = False
        self.saved_input: np.ndarray | None = None
        self.saved_argmax: np.ndarray | None = None

    def _pool_args(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    ceil_mode=self.ceil_mode)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input, self.saved_argmax = x, None
        if not self.training:
            return F.max_pool2d(x, self.kernel_size, **self._pool_args())
        y, self.saved_argmax = _max_pool2d_saving(x, self.kernel_size, **self._pool_args())
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        if self.saved_argmax is None:
            return F.max_pool2d_backward(grad_output, self.saved_input, self.kernel_size, **self._pool_args())
        return _max_pool2d_backward_saved(grad_output, self.saved_input, self.saved_argmax, self.kernel_size,
                                          **self._pool_args())

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling, ``torch.nn.AvgPool2d``'s arguments (``stride`` defaults to ``kernel_size``).

    Backward spreads each output gradient evenly over its window
    (:func:`cnnbook.functional.avg_pool2d_backward`); ``divisor_override``, when given, replaces the
    window size as the divisor.
    """

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        self.saved_input: np.ndarray | None = None

    def _pool_args(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, ceil_mode=self.ceil_mode,
                    count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        return F.avg_pool2d(x, self.kernel_size, **self._pool_args())

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.avg_pool2d_backward(grad_output, self.saved_input, self.kernel_size, **self._pool_args())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Linear(Module):
    """Fully connected layer ``y = x W^T + b``: ``x`` ``(N, in_features)``, ``W`` ``(out_features,
    in_features)``, ``b`` ``(out_features,)``. Initialised like torch: ``U(-1/sqrt(in), 1/sqrt(in))``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, dtype: object = np.float32,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt, gen = _as_float_dtype(dtype), _as_rng(rng)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(_uniform(gen, bound, (self.out_features, self.in_features), dt))
        self.bias = Parameter(_uniform(gen, bound, (self.out_features,), dt)) if bias else None
        self._parameters["weight"] = self.weight
        self._parameters["bias"] = self.bias
        self.saved_input: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        return F.linear(x, self.weight.data, None if self.bias is None else self.bias.data)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, grad_weight, grad_bias = F.linear_backward(grad_output, self.saved_input,
                                                               self.weight.data)
        self.weight.accumulate(grad_weight)
        if self.bias is not None:
            self.bias.accumulate(grad_bias)
        return grad_input

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _Activation(Module):
    """An element-wise activation: ``forward`` keeps its input for ``backward`` (the gradient of an
    activation depends on its input)."""

    def __init__(self) -> None:
        super().__init__()
        self.saved_input: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        return self._function(x)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return self._gradient(grad_output, self.saved_input)


class ReLU(_Activation):
    """``max(x, 0)``; backward passes the gradient where the saved input is positive."""

    _function, _gradient = staticmethod(F.relu), staticmethod(F.relu_backward)


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``; backward multiplies by ``sigma(x)(1 - sigma(x))`` of the saved input."""

    _function, _gradient = staticmethod(F.sigmoid), staticmethod(F.sigmoid_backward)


class Flatten(Module):
    """Merge dimensions ``start_dim .. end_dim`` into one (default: everything but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self.saved_input_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self.saved_input_shape = x.shape
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if start > end:
            raise ValueError(f"Flatten: start_dim ({self.start_dim}) comes after end_dim ({self.end_dim}) "
                             f"for a {x.ndim}-D input")
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return np.asarray(grad_output).reshape(self.saved_input_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse. Children are named ``"0"``, ``"1"``,
    ... so the parameter keys are torch's (``"0.weight"``, ``"0.bias"``, ``"3.weight"``, ...)."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} must be a cnnbook.nn.Module, got {type(layer).__name__}")
            self._modules[str(i)] = layer

    def __getitem__(self, i: int | slice) -> "Module":
        items = list(self._modules.items())
        if isinstance(i, slice):              # keeps the names, as torch does
            sub = Sequential()
            sub._modules.update(items[i])
            return sub
        return items[i][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        for layer in reversed(self._modules.values()):
            grad_output = layer.backward(grad_output)
        return grad_output

    def backward_parameters(self, grad_output: np.ndarray) -> None:
        """:meth:`backward` without ``dL/dx``: the first layer only adds its parameter gradients."""
        layers = list(self._modules.values())
        for layer in reversed(layers[1:]):
            grad_output = layer.backward(grad_output)
        if layers:
            layers[0].backward_parameters(grad_output)


# --------------------------------------------------------------------------------------------------
# chapter 9: layers that share their kernels less (tiled) or not at all (locally connected)
# --------------------------------------------------------------------------------------------------
class TiledConv2d(Module):
    """Tiled convolution layer: ``t_h x t_w`` kernels cycled over the output positions
    (:func:`cnnbook.functional.conv2d_tiled`); torch has no such layer, the arguments follow ``Conv2d``.

    ``weight`` is ``(C_out, t_h, t_w, C_in, k_h, k_w)`` and ``bias`` ``(C_out, t_h, t_w)`` (state_dict keys
    ``weight`` and ``bias``); output position ``(i, j)`` uses kernel ``(i mod t_h, j mod t_w)``.
    Initialised like ``Conv2d``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with ``fan_in = C_in k_h k_w``.
    """

    _forward = staticmethod(F.conv2d_tiled)
    _backward = staticmethod(F.conv2d_tiled_backward)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, tile_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, bias: bool = True, *,
                 dtype: object = np.float32, rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = positive_tuple(kernel_size, "kernel_size", 2)
        self.tile_size = positive_tuple(tile_size, "tile_size", 2)
        self.stride = positive_tuple(stride, "stride", 2)
        self.dilation = positive_tuple(dilation, "dilation", 2)
        self.padding = conv_padding(padding, self.stride, 2)
        dt, gen = _as_float_dtype(dtype), _as_rng(rng)
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        sets = (self.out_channels, *self.tile_size)
        self.weight = Parameter(_uniform(gen, bound, (*sets, self.in_channels, *self.kernel_size), dt))
        self.bias = Parameter(_uniform(gen, bound, sets, dt)) if bias else None
        self._parameters["weight"] = self.weight
        self._parameters["bias"] = self.bias
        self.saved_input: np.ndarray | None = None

    def _conv_args(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        b = None if self.bias is None else self.bias.data
        return self._forward(x, self.weight.data, b, **self._conv_args())

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Return ``dL/dx``; add ``dL/dW`` and ``dL/db`` into the parameters' ``.grad``."""
        grad_input, grad_weight, grad_bias = self._backward(grad_output, self.saved_input, self.weight.data,
                                                            **self._conv_args())
        self.weight.accumulate(grad_weight)
        if self.bias is not None:
            self.bias.accumulate(grad_bias)
        return grad_input

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"tile_size={self.tile_size}, stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + (", bias=False" if self.bias is None else "")


class LocallyConnected2d(TiledConv2d):
    """Locally connected (unshared convolution) layer: a kernel of its own at every output position
    (:func:`cnnbook.functional.conv2d_unshared`); torch has no such layer (Keras calls it
    ``LocallyConnected2D``), the arguments follow ``Conv2d`` plus the ``input_size`` it is made for.

    ``weight`` is ``(C_out, H_out, W_out, C_in, k_h, k_w)`` and ``bias`` ``(C_out, H_out, W_out)``, with
    ``(H_out, W_out)`` the output size on an ``input_size`` image (:func:`cnnbook.shapes.conv_output_size`).
    """

    _forward = staticmethod(F.conv2d_unshared)
    _backward = staticmethod(F.conv2d_unshared_backward)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, input_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, bias: bool = True, *,
                 dtype: object = np.float32, rng: int | np.random.Generator | None = None) -> None:
        size = positive_tuple(input_size, "input_size", 2)
        k, s = positive_tuple(kernel_size, "kernel_size", 2), positive_tuple(stride, "stride", 2)
        d, p = positive_tuple(dilation, "dilation", 2), conv_padding(padding, s, 2)
        out = size if p == "same" else conv_output_size(size, k, s, (0, 0) if p == "valid" else p, d)
        super().__init__(in_channels, out_channels, k, out, s, padding, d, bias, dtype=dtype, rng=rng)
        self.input_size = size

    def extra_repr(self) -> str:
        return super().extra_repr().replace("tile_size=", "input_size=" + str(self.input_size) + ", output_size=")


# --------------------------------------------------------------------------------------------------
# chapter 10: batch normalization, global pooling, dropout, residual and multi-branch blocks
# --------------------------------------------------------------------------------------------------
class BatchNorm2d(Module):
    """Batch normalization over the channels of an (N, C, H, W) input, ``torch.nn.BatchNorm2d``'s
    arguments (:func:`cnnbook.functional.batch_norm`).

    Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros), shape (C,), when ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0) when
    ``track_running_stats``. In training mode the batch statistics normalise and the running ones move
    towards them by ``momentum`` (``momentum=None``: the cumulative average, factor
    ``1/num_batches_tracked``); in evaluation mode the running statistics normalise.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, dtype: object = np.float32) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, Integral) or num_features < 1:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt, c = _as_float_dtype(dtype), self.num_features
        self.weight = Parameter(np.ones(c, dt)) if affine else None
        self.bias = Parameter(np.zeros(c, dt)) if affine else None
        self._parameters["weight"] = self.weight
        self._parameters["bias"] = self.bias
        if self.track_running_stats:
            self._set_buffer("running_mean", np.zeros(c, dt))
            self._set_buffer("running_var", np.ones(c, dt))
            self._set_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.running_mean = self.running_var = None
        self.saved_input: np.ndarray | None = None
        self.saved_batch_statistics = True

    def _uses_batch_statistics(self) -> bool:
        return self.training or not self.track_running_stats

    def forward(self, x: np.ndarray) -> np.ndarray:
        if np.ndim(x) != 4:
            raise ValueError(f"BatchNorm2d: expected a 4-D input (N, C, H, W), got shape {np.shape(x)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        self.saved_input, self.saved_batch_statistics = x, self._uses_batch_statistics()
        w = None if self.weight is None else self.weight.data
        b = None if self.bias is None else self.bias.data
        return F.batch_norm(x, self.running_mean, self.running_var, w, b, training=self.saved_batch_statistics,
                            momentum=factor, eps=self.eps)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Return ``dL/dx`` (through the batch statistics in training mode); add ``dL/dgamma``,
        ``dL/dbeta`` into the parameters' ``.grad``."""
        w = None if self.weight is None else self.weight.data
        grad_input, grad_weight, grad_bias = F.batch_norm_backward(
            grad_output, self.saved_input, self.running_mean, self.running_var, w, None,
            training=self.saved_batch_statistics, eps=self.eps)
        if self.weight is not None:
            self.weight.accumulate(grad_weight)
            self.bias.accumulate(grad_bias)
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input size, ``torch.nn.AdaptiveAvgPool2d``
    (:func:`cnnbook.functional.adaptive_avg_pool2d`); ``output_size=1`` is global average pooling."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size
        self.saved_input: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_input = x
        return F.adaptive_avg_pool2d(x, self.output_size)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.adaptive_avg_pool2d_backward(grad_output, self.saved_input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Dropout(Module):
    """Dropout, ``torch.nn.Dropout``: in training mode every value is zeroed with probability ``p`` and the
    rest scaled by ``1/(1 - p)``; the identity in evaluation mode. The masks come from ``rng`` (an int
    seed or a ``numpy.random.Generator``), so a run repeats; the last one is kept in ``saved_mask``."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
        if inplace:
            raise ValueError("inplace=True is not supported; leave it False")
        self.p, self.inplace, self.rng = float(p), False, _as_rng(rng)
        self.saved_mask: np.ndarray | None = None
        self.saved_training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved_training = self.training
        if not self.training:
            return F.dropout(x, self.p, training=False)
        self.saved_mask = F.dropout_mask(np.shape(x), self.p, self.rng)
        return F.dropout(x, self.p, mask=self.saved_mask)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        if not self.saved_training:
            return np.asarray(grad_output)
        return F.dropout_backward(grad_output, self.saved_mask, self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BasicBlock(Module):
    """The residual block of ResNet-18/34 (torchvision's ``BasicBlock``, with its ``state_dict`` keys).

    ``y = relu(F(x) + S(x))`` with the residual branch ``F = bn2 . conv2 . relu . bn1 . conv1`` (3x3
    convolutions without bias, padding 1, the first with ``stride``) and the shortcut ``S``: the identity,
    or, when the shape changes (``stride != 1`` or ``in_channels != out_channels``), the projection
    ``downsample`` = 1x1 convolution with ``stride`` and batch normalization (keys ``downsample.0``,
    ``downsample.1``). ``shortcut=False`` drops ``S`` (a plain block: the same layers, no addition);
    ``batch_norm=False`` drops the batch normalizations (for experiments; torchvision always has them).

    Backward: the gradient of the sum reaches both branches unchanged, ``dL/dx = F'^T g + S'^T g`` (``g``
    after the last ReLU), so with an identity shortcut ``g`` itself arrives at ``x`` whatever ``F`` does.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: bool = True,
                 batch_norm: bool = True, *, dtype: object = np.float32,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        gen = _as_rng(rng)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.shortcut, self.batch_norm = bool(shortcut), bool(batch_norm)
        self._modules["conv1"] = Conv2d(in_channels, out_channels, 3, stride, 1, bias=False, dtype=dtype, rng=gen)
        if self.batch_norm:
            self._modules["bn1"] = BatchNorm2d(out_channels, dtype=dtype)
        self._modules["relu1"] = ReLU()
        self._modules["conv2"] = Conv2d(out_channels, out_channels, 3, 1, 1, bias=False, dtype=dtype, rng=gen)
        if self.batch_norm:
            self._modules["bn2"] = BatchNorm2d(out_channels, dtype=dtype)
        if self.shortcut and (stride != 1 or in_channels != out_channels):
            projection = [Conv2d(in_channels, out_channels, 1, stride, bias=False, dtype=dtype, rng=gen)]
            if self.batch_norm:
                projection.append(BatchNorm2d(out_channels, dtype=dtype))
            self._modules["downsample"] = Sequential(*projection)
        self._modules["relu2"] = ReLU()
        self._branch = [name for name in ("conv1", "bn1", "relu1", "conv2", "bn2") if name in self._modules]

    def residual(self, x: np.ndarray) -> np.ndarray:
        """``F(x)``: the residual branch alone, before the addition."""
        for name in self._branch:
            x = self._modules[name](x)
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.residual(x)
        if self.shortcut:
            out = out + (self.downsample(x) if "downsample" in self._modules else x)
        return self.relu2(out)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        g = self.relu2.backward(grad_output)               # the gradient of the sum F(x) + S(x)
        grad = g
        for name in reversed(self._branch):
            grad = self._modules[name].backward(grad)
        if not self.shortcut:
            return grad
        return grad + (self.downsample.backward(g) if "downsample" in self._modules else g)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, stride={self.stride}, shortcut={self.shortcut}, "
                f"batch_norm={self.batch_norm}")


class Branches(Module):
    """Branches applied to the same input, their outputs concatenated along the channels (``dim=1``):
    the multi-branch idea of an Inception block. Children are named ``"0"``, ``"1"``, ... like
    :class:`Sequential`. torch has no such layer; its twin is a module whose forward is
    ``torch.cat([b(x) for b in branches], 1)``.

    Backward: the upstream gradient is cut along the channels into one piece per branch, and the
    gradients the branches return for their common input add up.
    """

    def __init__(self, *branches: Module) -> None:
        super().__init__()
        if not branches:
            raise ValueError("Branches needs at least one branch")
        for i, branch in enumerate(branches):
            if not isinstance(branch, Module):
                raise TypeError(f"Branches: branch {i} must be a cnnbook.nn.Module, got {type(branch).__name__}")
            self._modules[str(i)] = branch
        self.saved_channels: list[int] = []

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def forward(self, x: np.ndarray) -> np.ndarray:
        outputs = [branch(x) for branch in self._modules.values()]
        self.saved_channels = [y.shape[1] for y in outputs]
        return np.concatenate(outputs, axis=1)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        pieces = np.split(np.asarray(grad_output), np.cumsum(self.saved_channels)[:-1], axis=1)
        return sum(branch.backward(g) for branch, g in zip(self._modules.values(), pieces))
