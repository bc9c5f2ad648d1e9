"""cnnbook.quiz: reading what a reader types, the verdicts, the form the website shows, the live widget.

The browser side (quiz.js on the built site) is checked against these same verdicts in
tests/test_quiz_site.py.
"""
from __future__ import annotations

import html.parser
import re

import numpy as np
import pytest

from cnnbook import quiz

WHY = "⌊(7 + 2·1 − 3)/2⌋ + 1 = 4"


@pytest.fixture
def q4():
    return quiz.number("Output height for n = 7, k = 3, s = 2, p = 1?", answer=4, why=WHY)


# ------------------------------------------------------------------------------ reading numbers
@pytest.mark.parametrize("text, value", [
    ("4", 4), (" 4 ", 4), ("4.0", 4), ("4.", 4), ("+4", 4), ("-4", -4), ("\u22124", -4), ("−0.25", -0.25),
    (".5", 0.5), ("-.5", -0.5), ("1e-3", 0.001), ("2.5E2", 250), ("0", 0), ("007", 7),
    ("1/4", 0.25), (" 3 / 4 ", 0.75), ("-1/8", -0.125), ("1/−8", -0.125), ("1.5/0.5", 3),
    ("1,024", 1024), ("50,348,032", 50348032), ("50 348 032", 50348032), ("50_348_032", 50348032),
    ("1,000.5", 1000.5), ("\t12\n", 12),
])
def test_parse_number_reads_what_readers_type(text, value):
    assert quiz.parse_number(text) == value


@pytest.mark.parametrize("text", [
    "", "   ", "four", "4,5", "1,00", "1,0000", "1,000_000", "4 5", "0x10", "1/0", "1/2/3", "1e999",
    "nan", "inf", "--4", "4-", "e5", ".", "1e", "\u0664", "4\n5", "½", "4 px", "(4)",
])
def test_parse_number_refuses_what_is_not_a_number(text):
    assert quiz.parse_number(text) is None


def test_parse_number_wants_a_string():
    with pytest.raises(TypeError, match="text must be a str"):
        quiz.parse_number(4)


# ------------------------------------------------------------------------------ verdicts
@pytest.mark.parametrize("text", ["4", " 4 ", "4.0", "8/2", "4e0", "+4"])
def test_right_answers(q4, text):
    v = q4.check(text)
    assert (v.status, v.correct) == ("right", True)
    assert v.message == f"✓ Right: 4. {WHY}"


def test_a_wrong_answer_gets_the_answer_and_the_reason(q4):
    v = q4.check(" 5 ")
    assert (v.status, v.correct) == ("wrong", False)
    assert v.message == f"✗ Not quite: you typed 5, the answer is 4. {WHY}"


def test_non_numeric_and_empty_input(q4):
    v = q4.check("four")
    assert v.status == "invalid" and not v.correct
    assert v.message == "“four” is not a number: type digits, such as 4, 2.5, −0.25 or 1/4."
    assert q4.check("  ").message == "Type a number first, then press Enter or Check."
    assert str(q4.check("")) == q4.check("").message


def test_a_number_is_checked_as_its_text(q4):
    assert q4.check(4).correct and q4.check(4.0).correct and not q4.check(3).correct
    with pytest.raises(TypeError, match="text must be a str or a number"):
        q4.check(None)


def test_tolerance():
    third = quiz.number("x?", answer=1 / 3, why="one third", tolerance=0.001)
    assert third.answer_text == "0.333333 (± 0.001)"
    assert third.check("0.333").correct and third.check("1/3").correct and third.check("0.3343").correct
    assert not third.check("0.33").correct and not third.check("0.3344").correct


def test_exact_answers_allow_only_rounding_slack():
    assert quiz.number("x?", answer=0.1 + 0.2, why="w").check("0.3").correct
    assert not quiz.number("x?", answer=0.25, why="w").check("0.2500001").correct
    big = quiz.number("x?", answer=50_348_032, why="w")
    assert big.answer_text == "50,348,032"
    assert big.check("50348032").correct and not big.check("50348033").correct


def test_numpy_answers_are_plain_numbers_in_the_page():
    q = quiz.number("x?", answer=np.int64(28), why="w")
    assert q.answer == 28 and type(q.answer) is int
    assert 'data-answer="28"' in q.to_html()
    assert quiz.number("x?", answer=np.float64(0.5), why="w").answer_text == "0.5"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(question=4), TypeError, "question must be a str"),
    (dict(question="  "), ValueError, "question must not be empty"),
    (dict(question="Size of $n$?"), ValueError, "question is shown as plain text"),
    (dict(why=r"\(k\)"), ValueError, "why is shown as plain text"),
    (dict(why=""), ValueError, "why must not be empty"),
    (dict(answer="4"), TypeError, "answer must be a real number"),
    (dict(answer=True), TypeError, "answer must be a real number"),
    (dict(answer=float("nan")), ValueError, "answer must be finite"),
    (dict(tolerance=-0.1), ValueError, "tolerance must be >= 0"),
    (dict(tolerance=float("inf")), ValueError, "tolerance must be finite"),
])
def test_bad_arguments(kwargs, error, match):
    args = {"question": "q?", "answer": 1, "why": "w", **kwargs}
    with pytest.raises(error, match=re.escape(match)):
        quiz.number(args.pop("question"), **args)


# ------------------------------------------------------------------------------ the website's form
class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.text[self._open[-1]] = self.text.get(self._open[-1], "") + data


def _parse(fragment: str) -> _Elements:
    p = _Elements()
    p.feed(fragment)
    return p


def test_form_attributes_and_accessibility():
    q = quiz.number('Is "a < b" & c?', answer=0.25, why='because "x < y" & z', tolerance=0.01)
    page = _parse(q.to_html())
    tags = {tag: attrs for tag, attrs in page.elements}
    form = tags["form"]
    assert form["data-quiz"] == "number"
    assert (form["data-answer"], form["data-tolerance"]) == ("0.25", "0.01")
    assert form["data-answer-text"] == "0.25 (± 0.01)"
    assert form["data-why"] == 'because "x < y" & z'          # escaped in the HTML, intact when read
    assert page.text["label"] == 'Is "a < b" & c?'
    inp = tags["input"]
    assert tags["label"]["for"] == inp["id"] and inp["type"] == "text" and "data-quiz-input" in inp
    assert tags["button"]["type"] == "submit"                 # Enter in the input submits the form
    feedback = tags["p"]
    assert "data-quiz-feedback" in feedback
    assert feedback["role"] == "status" and feedback["aria-live"] == "polite"


def test_each_form_has_its_own_input_id():
    forms = [_parse(quiz.number("q?", answer=1, why="w").to_html()) for _ in range(3)]
    ids = {attrs["id"] for page in forms for tag, attrs in page.elements if tag == "input"}
    assert len(ids) == 3


def test_outside_a_kernel_the_quiz_shows_the_form_and_text(q4):
    bundle = q4._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"].startswith("<form ") and q4.question in bundle["text/plain"]


def test_quiz_js_mirrors_the_python_rules():
    js = quiz.static_file("quiz.js").read_text(encoding="utf-8")
    assert f"var NUMBER = /{quiz.NUMBER_PATTERN}/;" in js
    slack = re.search(r"var RELATIVE_SLACK = ([0-9.e+-]+);", js)
    assert slack and float(slack.group(1)) == quiz.RELATIVE_SLACK
    assert quiz.static_file("quiz.css").read_text(encoding="utf-8").strip()
    with pytest.raises(ValueError, match="name must be one of"):
        quiz.static_file("__init__.py")


# ------------------------------------------------------------------------------ the live widget
def test_widget_checks_on_enter_and_on_click(q4):
    q4.widget()
    q4._text.value = "5"                     # continuous_update=False: set when Enter is pressed
    assert q4._feedback.value == "<b>" + q4.check("5").message.replace("&", "&amp;") + "</b>"
    assert "Not quite" in q4._feedback.value
    q4._text.value = "4.0"
    assert "Right" in q4._feedback.value
    q4._feedback.value = ""
    q4._button.click()                       # the same text checked again with the button
    assert "Right" in q4._feedback.value
