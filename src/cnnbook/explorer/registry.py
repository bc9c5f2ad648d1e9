"""The registry of explorers: how an explorer is built again from its page, and which ones the book shows.

- :func:`explorer_factory` decorates a function that builds an :class:`~cnnbook.explorer.model.Explorer`
  from JSON-serialisable arguments; the explorer remembers ``module:function`` and the arguments
  (``data-factory`` and ``data-args`` on the page), and the function is listed in :data:`FACTORIES`.
- :func:`rebuild` builds it again from those two attributes.
- :data:`BOOK` lists every explorer the book shows, with the chapter and the arguments it passes: the
  contract test of ``tests/`` runs over it, and checks the built website shows exactly these.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .model import Explorer, jsonable

#: Every decorated factory imported so far, by its ``module:qualname``.
FACTORIES: dict[str, Callable[..., Explorer]] = {}


def _bound_arguments(func: Callable, args: tuple, kwargs: Mapping[str, Any]) -> dict:
    """The arguments of a call of ``func`` by name, defaults filled in, as JSON can write them."""
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = jsonable(dict(bound.arguments))
    try:
        json.dumps(arguments)
    except TypeError as exc:
        raise TypeError(f"the arguments of explorer factory {func.__qualname__} must be JSON-"
                        f"serialisable (they are written into the page): {exc}") from None
    return arguments


def explorer_factory(func: Callable[..., Explorer]) -> Callable[..., Explorer]:
    """Decorate a function that builds an :class:`Explorer` from JSON-serialisable arguments.

    The explorer it returns remembers ``module:function`` (:attr:`Explorer.factory`) and the arguments
    with their defaults filled in (:attr:`Explorer.args`), so a test can rebuild it with :func:`rebuild`
    and recompute any setting shown on the website.
    """
    key = f"{func.__module__}:{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Explorer:
        arguments = _bound_arguments(func, args, kwargs)
        ex = func(*args, **kwargs)
        if not isinstance(ex, Explorer):
            raise TypeError(f"explorer factory {key} must return an Explorer, got {type(ex).__name__}")
        ex.factory, ex.args = key, arguments
        return ex

    FACTORIES[key] = wrapper
    return wrapper


def factory(name: str) -> Callable[..., Explorer]:
    """The factory called ``name`` (``module:function``, as in ``data-factory``), importing its module."""
    module, sep, qualname = name.partition(":")
    if not sep or not module or not qualname:
        raise ValueError(f"factory must be 'module:function', got {name!r}")
    importlib.import_module(module)
    if name not in FACTORIES:
        raise ValueError(f"{name!r} is not decorated with @explorer_factory")
    return FACTORIES[name]


def rebuild(factory_name: str, args: Mapping[str, Any]) -> Explorer:
    """Build again the explorer a page names in ``data-factory`` / ``data-args``."""
    return factory(factory_name)(**args)


@dataclass(frozen=True)
class BookExplorer:
    """An explorer the book shows: ``factory`` called with ``args`` in chapter ``chapter`` (the page's
    name, e.g. ``"03_cross_correlation"``)."""

    chapter: str
    factory: str
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def page_args(self) -> dict:
        """``data-args`` on the page: :attr:`args` with the factory's defaults filled in."""
        return _bound_arguments(factory(self.factory), (), self.args)

    def build(self) -> Explorer:
        """The explorer, as the chapter builds it."""
        return rebuild(self.factory, self.args)


#: Every explorer of the book, in the order of the chapters.
BOOK: tuple[BookExplorer, ...] = (
    BookExplorer("01_why_convolution", "cnnbook.explorers.gallery:equivariance"),
    BookExplorer("02_convolution", "cnnbook.explorers.arithmetic:conv_steps"),
    BookExplorer("03_cross_correlation", "cnnbook.explorers.gallery:kernel_gallery"),
    BookExplorer("04_padding_stride_channels", "cnnbook.explorers.arithmetic:conv_arithmetic"),
    BookExplorer("04_padding_stride_channels", "cnnbook.explorers.receptive:receptive_field_explorer"),
    BookExplorer("05_backprop", "cnnbook.explorers.backprop:pixel_picker"),
    BookExplorer("06_pooling", "cnnbook.explorers.pooling:pooling_explorer"),
    BookExplorer("07_transposed_dilated", "cnnbook.explorers.transposed:transposed_dilated"),
    BookExplorer("08_lenet", "cnnbook.explorers.lenet:lenet_explorer"),
    # chapter 9
    BookExplorer("09_fast_convolution", "cnnbook.explorers.costs:family_costs"),
)
