"""The predict-then-check quizzes on the built website, in Debian's chromium, with no kernel.

On every page holding a quiz (`<form data-quiz>`, written by `cnnbook.quiz`), served over http and
read from disk (file://): a reader types the right answer and presses Enter, then a wrong one and
clicks Check; the message in the page's `aria-live` region is the one `cnnbook.quiz` gives for the same
text in Python (`NumberQuiz.check`), so the page and JupyterLab say the same. A list of awkward inputs
(spaces, "4.0", fractions, thousands separators, words) is checked the same way on one quiz. No
console error, no request leaving the machine.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_util import SITE

from cnnbook.quiz import NumberQuiz

QUIZ = "form[data-quiz]"
#: What readers might type, checked on one quiz of each page against cnnbook.quiz.
AWKWARD = ["", "  ", "seven", "4,5", "1/0", "−1", " 1,024 ", "3/2", "1e1", "1_000", ".5", "4 px"]


def _quiz_pages() -> list[str]:
    if not (SITE / "index.html").is_file():
        return ["<site not built>"]
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if 'data-quiz="' in p.read_text(encoding="utf-8"))


PAGES = _quiz_pages()


def _python_twin(form) -> NumberQuiz:
    """The quiz as cnnbook.quiz builds it, from what the page says about it."""
    answer = form.get_attribute("data-answer")
    q = NumberQuiz(form.locator("label").inner_text(),
                   answer=float(answer) if any(c in answer for c in ".eE") else int(answer),
                   why=form.get_attribute("data-why"),
                   tolerance=float(form.get_attribute("data-tolerance")))
    assert q.answer_text == form.get_attribute("data-answer-text"), "the page's answer text differs"
    return q


def _wrong(q: NumberQuiz) -> str:
    """A near miss: one more than the answer (twice the tolerance more, if that is larger)."""
    return str(q.answer + max(1, 2 * q.tolerance))


def _near(q: NumberQuiz) -> list[str]:
    """The answer written differently, and near misses either side."""
    a, step = q.answer, max(1, 2 * q.tolerance)
    return [f" {a} ", f"{a}.0", f"{2 * a}/2", f"{a:,}", str(a + step), str(a - step)]


class _Console:
    def __init__(self, page, prefix: str):
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: None if r.url.startswith((prefix, "data:", "blob:", "about:"))
                else self.external.append(r.url))

    def assert_clean(self, what: str):
        assert not self.external, f"{what}: requests leaving the machine: {self.external}"
        assert not self.errors, f"{what}: console errors: {self.errors}"


def _answer_right_then_wrong(page, what: str) -> int:
    """Every quiz of the page: the right answer with Enter, a wrong one with the Check button."""
    forms = page.locator(QUIZ)
    count = forms.count()
    assert count, f"{what}: no quiz on the page"
    for i in range(count):
        form = forms.nth(i)
        q = _python_twin(form)
        box = form.get_by_label(q.question)            # the input is labelled by the question
        feedback = form.locator('[data-quiz-feedback][aria-live="polite"]')
        form.scroll_into_view_if_needed()
        box.fill(q.answer_text.split(" (±")[0])
        box.press("Enter")
        expect(feedback).to_have_text(q.check(q.answer_text.split(" (±")[0]).message)
        expect(feedback).to_contain_text("Right")
        expect(form).to_have_attribute("data-verdict", "right")
        wrong = _wrong(q)
        box.fill(wrong)
        form.get_by_role("button", name="Check").click()
        expect(feedback).to_have_text(q.check(wrong).message)
        expect(feedback).to_contain_text("Not quite")
        expect(form).to_have_attribute("data-verdict", "wrong")
    return count


@pytest.mark.parametrize("name", PAGES)
def test_quizzes_answer_right_and_wrong_served(name, site, server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = _Console(page, server.base)
    try:
        page.goto(server.base + name)
        page.wait_for_load_state("networkidle")
        _answer_right_then_wrong(page, name)
        form = page.locator(QUIZ).first
        q = _python_twin(form)
        box, feedback = form.locator("[data-quiz-input]"), form.locator("[data-quiz-feedback]")
        for text in AWKWARD + _near(q):
            box.fill(text)
            box.press("Enter")
            verdict = q.check(text)
            expect(feedback).to_have_text(verdict.message)
            expect(form).to_have_attribute("data-verdict", verdict.status)
        console.assert_clean(name)
    finally:
        context.close()


def test_quizzes_from_disk(site, browser):
    """The same on a page read straight from disk (file://), as a reader who double-clicks it."""
    pages = [p for p in PAGES if p != "<site not built>"]
    assert pages, "no page of the website holds a quiz"
    target = site / pages[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = _Console(page, site.as_uri() + "/")
    try:
        page.goto(target.as_uri())
        page.wait_for_load_state("networkidle")
        _answer_right_then_wrong(page, f"file://{pages[0]}")
        console.assert_clean(f"file://{pages[0]}")
    finally:
        context.close()


def test_quiz_script_is_loaded_once_and_only_where_needed(site):
    for p in sorted(site.rglob("*.html")):
        text = p.read_text(encoding="utf-8")
        loads = text.count("_static/cnnbook/quiz.js")
        has_quiz = 'data-quiz="' in text
        assert loads == (1 if has_quiz else 0), f"{p.relative_to(site)}: quiz.js loaded {loads} times"
    assert (site / "_static" / "cnnbook" / "quiz.js").is_file() and (site / "_static" / "cnnbook" / "quiz.css").is_file()
