"""Predict-then-check questions: the reader types a number and learns whether it is right, and why.

A chapter cell such as ::

    from cnnbook import quiz
    quiz.number("Output height for n = 7, k = 3, s = 2, p = 1?",
                answer=conv_output_size(7, 3, stride=2, padding=1),
                why="⌊(7 + 2·1 − 3)/2⌋ + 1 = 4")

shows one question with two faces, like the explorers:

* in JupyterLab (a live kernel) an ipywidgets text box, a *Check* button and a message;
* on the static website an HTML form checked by ``quiz.js`` (a package file the site loads once per
  page that has a quiz), with no kernel. The form is a ``<form data-quiz="number">`` with
  ``data-answer``, ``data-tolerance``, ``data-answer-text`` and ``data-why``; its labelled
  ``<input data-quiz-input>`` submits on Enter, and the verdict goes to ``[data-quiz-feedback]`` (an
  ``aria-live`` region); the form then carries ``data-verdict="right" | "wrong" | "invalid"``.

Both faces read the reader's text with the same rule (:data:`NUMBER_PATTERN`, mirrored in ``quiz.js``)
and say the same words (:meth:`NumberQuiz.check`). Accepted: ``4``, `` 4 ``, ``4.0``, ``-0.25``,
``.5``, ``1e-3``, ``1/4``, ``50,348,032`` (groups of three digits separated by ``,``, ``_`` or a space),
and the minus sign ``−``.
"""
from __future__ import annotations

import html
import itertools
import math
import re
from dataclasses import dataclass
from importlib import resources
from numbers import Integral, Real

__all__ = ["number", "NumberQuiz", "Verdict", "parse_number", "NUMBER_PATTERN", "STATIC_FILES"]

#: A decimal number as a reader types it (after trimming, with ``−`` read as ``-``); ``quiz.js`` holds
#: the same pattern. Digits may be grouped by threes with one separator kind: ``,``, ``_`` or a space.
NUMBER_PATTERN = (
    r"^[+-]?(?:[0-9]{1,3}(?:([,_ ])[0-9]{3})(?:\1[0-9]{3})*|[0-9]+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?$"
    r"|^[+-]?\.[0-9]+(?:[eE][+-]?[0-9]+)?$"
)
_NUMBER = re.compile(NUMBER_PATTERN)
#: Decimal-to-binary rounding allowance added to every tolerance (0.1 + 0.2 is accepted as "0.3").
RELATIVE_SLACK = 1e-9
#: The files the website loads once per page with a quiz (copied to ``_static/cnnbook/<name>``).
STATIC_FILES = ("quiz.js", "quiz.css")

_ids = itertools.count()


def static_file(name: str):
    """Path-like handle of one of :data:`STATIC_FILES` inside the installed package."""
    if name not in STATIC_FILES:
        raise ValueError(f"name must be one of {STATIC_FILES}, got {name!r}")
    return resources.files(__name__).joinpath(name)


def _parse_decimal(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    return float(re.sub(r"[,_ ]", "", text))


def parse_number(text: str) -> float | None:
    """The number a reader typed, or ``None`` if ``text`` is not one.

    Leading and trailing white space is ignored; ``−`` (U+2212) counts as a minus sign; ``p/q`` is a
    fraction of two decimals. Infinite or undefined values (``1e999``, ``1/0``) are ``None``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text.strip().replace("\u2212", "-")
    parts = [p.strip() for p in text.split("/")]
    if len(parts) > 2:
        return None
    values = [_parse_decimal(p) for p in parts]
    if any(v is None for v in values):
        return None
    if len(values) == 2:
        if values[1] == 0:
            return None
        values = [values[0] / values[1]]
    return values[0] if math.isfinite(values[0]) else None


@dataclass(frozen=True)
class Verdict:
    """The outcome of one attempt: ``status`` is ``"right"``, ``"wrong"`` or ``"invalid"``."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return self.message


def _format_number(x: float) -> str:
    """4 -> "4", 50348032 -> "50,348,032", 0.25 -> "0.25", 1/3 -> "0.333333"."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:.6g}"


def _plain_text(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if "$" in value or "\\(" in value:
        raise ValueError(
            f"{name} is shown as plain text, not typeset: write the formula in Unicode "
            f"(⌊ ⌋ · − × ²), got {value!r}")
    return value.strip()


def _real(value, name: str) -> int | float:
    """A finite real number as a Python int (integral types) or float (NumPy scalars included)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = int(value) if isinstance(value, Integral) else float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


class NumberQuiz:
    """One question whose answer is a number; see :func:`number`."""

    def __init__(self, question: str, answer: float, why: str, tolerance: float = 0.0):
        self.question = _plain_text(question, "question")
        self.why = _plain_text(why, "why")
        self.answer = _real(answer, "answer")
        self.tolerance = _real(tolerance, "tolerance")
        if self.tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
        self.answer_text = _format_number(self.answer)
        if self.tolerance:
            self.answer_text += f" (± {_format_number(self.tolerance)})"

    def __repr__(self) -> str:
        return f"<NumberQuiz {self.question!r}: check(text) tells whether text is the answer>"

    # -- checking (quiz.js says the same words)
    def accepts(self, value: float) -> bool:
        """Whether ``value`` is within the tolerance (plus rounding slack) of the answer."""
        slack = self.tolerance + RELATIVE_SLACK * max(1.0, abs(self.answer))
        return abs(float(value) - self.answer) <= slack

    def check(self, text) -> Verdict:
        """The verdict on what the reader typed (a str; a number is taken as its ``str``)."""
        if isinstance(text, Real) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            raise TypeError(f"text must be a str or a number, got {type(text).__name__}")
        typed = text.strip()
        if not typed:
            return Verdict("invalid", "Type a number first, then press Enter or Check.")
        value = parse_number(typed)
        if value is None:
            return Verdict("invalid", f"“{typed}” is not a number: type digits, such as 4, 2.5, −0.25 or 1/4.")
        if self.accepts(value):
            return Verdict("right", f"✓ Right: {self.answer_text}. {self.why}")
        return Verdict("wrong", f"✗ Not quite: you typed {typed}, the answer is {self.answer_text}. {self.why}")

    # -- static face (the website)
    def to_html(self) -> str:
        """The form ``quiz.js`` checks in the browser, without a kernel."""
        uid = f"cnnbook-quiz-{next(_ids)}"
        attrs = {
            "class": "cnnbook-quiz",
            "data-quiz": "number",
            "data-answer": repr(self.answer),
            "data-tolerance": repr(self.tolerance),
            "data-answer-text": self.answer_text,
            "data-why": self.why,
            "autocomplete": "off",
            "novalidate": "",
        }
        attr_html = " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items())
        return (
            f"<form {attr_html}>"
            f'<label for="{uid}">{html.escape(self.question)}</label> '
            f'<span class="cnnbook-quiz-row"><input id="{uid}" type="text" inputmode="decimal" '
            f'spellcheck="false" placeholder="a number" data-quiz-input> '
            f'<button type="submit">Check</button></span>'
            f'<p class="cnnbook-quiz-feedback" role="status" aria-live="polite" data-quiz-feedback></p>'
            f"</form>"
        )

    # -- live face (JupyterLab)
    def widget(self):
        """An ipywidgets box: the question, a text box (Enter checks), a Check button, the verdict."""
        import ipywidgets as w

        label = w.Label(self.question)
        box = w.Text(placeholder="a number", description="Answer:", continuous_update=False)
        button = w.Button(description="Check")
        feedback = w.HTML()

        def show(_=None):
            feedback.value = f"<b>{html.escape(self.check(box.value).message)}</b>"

        box.observe(show, names="value")
        button.on_click(show)
        ui = w.VBox([label, w.HBox([box, button]), feedback])
        ui.add_class("cnnbook-live-quiz")
        self._text, self._button, self._feedback = box, button, feedback  # for tests
        return ui

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": f"{self.question}  (answer with .check(\"...\"))"}
        if _live_kernel():
            bundle.update(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        bundle["text/html"] = self.to_html()
        return bundle


def _live_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (which can show a widget)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def number(question: str, answer: float, why: str, *, tolerance: float = 0.0) -> NumberQuiz:
    """A question whose answer is a number, checked where the reader types it.

    Parameters
    ----------
    question : str
        Plain text (no TeX: use Unicode such as ⌊ ⌋ · − ×), the label of the input box.
    answer : int or float
        The right answer, computed by the chapter's code (never typed in by hand).
    why : str
        Plain text: the reason, shown after every attempt, right or wrong.
    tolerance : float, default 0
        Accept ``|typed − answer| ≤ tolerance`` (plus ``1e-9·max(1, |answer|)`` for rounding). Give one
        for answers that cannot be typed exactly, such as 1/3.

    Returns
    -------
    NumberQuiz
        Displayed as a form (website) or a widget (JupyterLab); ``.check(text)`` returns a
        :class:`Verdict` anywhere.
    """
    return NumberQuiz(question, answer, why, tolerance=tolerance)
