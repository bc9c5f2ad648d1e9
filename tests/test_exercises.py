"""Every chapter's exercises follow one structure (README, "Writing exercises").

Read from the chapters' MyST sources:
- the chapter ends with `## Exercises`, holding at least four `{exercise}` / `{exercise-start}` blocks
  labelled `ex-<chapter number>-<short-name>`;
- each exercise is followed, before the next one, by exactly one gated solution
  (`{solution-start} <label>` ... `{solution-end}`) with `:class: dropdown`, whose code cells check
  themselves (an `assert`) and print what the reader should see;
- at least two exercises are predict-then-check: a `quiz.number(...)` cell inside the exercise, its
  input removed from the page (`remove-input`), whose answer (a variable it assigns) the solution's
  code checks, so a wrong answer in a box fails the build too.
The build executes every solution cell, so a wrong solution fails `make book`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md"))
LABEL = re.compile(r"ex-(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*")
FENCE = re.compile(r"^(`{3,}|:{3,})\{([a-z-]+)\}\s*(.*)$")


@dataclass
class Block:
    """One MyST directive: its name, argument, options and body lines."""

    name: str
    argument: str
    options: dict = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    line: int = 0


def _blocks(lines: list[str], offset: int) -> list[Block]:
    """The top-level directives of ``lines`` in order (gated -start/-end directives are empty blocks)."""
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, block = m.group(1), Block(m.group(2), m.group(3).strip(), line=offset + i + 1)
        i += 1
        while i < len(lines) and (opt := re.match(r"^:([a-z-]+):\s*(.*)$", lines[i])):
            block.options[opt.group(1)] = opt.group(2).strip()
            i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            block.body.append(lines[i])
            i += 1
        i += 1
        blocks.append(block)
    return blocks


@dataclass
class Exercise:
    label: str
    line: int
    cells: list[Block] = field(default_factory=list)
    solutions: list[tuple[Block, list[Block]]] = field(default_factory=list)


def _exercises(path: Path) -> tuple[list[Exercise], list[str]]:
    """The exercises of the chapter's last section, and the problems found while reading them."""
    text = path.read_text(encoding="utf-8").splitlines()
    heads = [i for i, line in enumerate(text) if line.startswith("## ")]
    problems = []
    if not heads or text[heads[-1]].strip() != "## Exercises":
        return [], [f"the last section is {text[heads[-1]].strip() if heads else None!r}, not '## Exercises'"]
    exercises: list[Exercise] = []
    inside = None  # "exercise" or "solution" while between a -start and its -end
    for b in _blocks(text[heads[-1]:], heads[-1]):
        if b.name in ("exercise", "exercise-start"):
            if inside:
                problems.append(f"line {b.line}: an exercise starts inside an open {inside}")
            exercises.append(Exercise(b.options.get("label", ""), b.line))
            inside = "exercise" if b.name == "exercise-start" else None
        elif b.name in ("solution", "solution-start"):
            if not exercises or b.argument != exercises[-1].label:
                problems.append(f"line {b.line}: solution {b.argument!r} does not follow its exercise")
            if b.name == "solution":
                problems.append(f"line {b.line}: use the gated {{solution-start}} (its code cells run)")
            if exercises:
                exercises[-1].solutions.append((b, []))
            inside = "solution"
        elif b.name in ("exercise-end", "solution-end"):
            if inside != b.name.removesuffix("-end"):
                problems.append(f"line {b.line}: {{{b.name}}} without its start")
            inside = None
        elif b.name == "code-cell" and exercises:
            if inside == "exercise":
                exercises[-1].cells.append(b)
            elif inside == "solution":
                exercises[-1].solutions[-1][1].append(b)
            else:
                problems.append(f"line {b.line}: a code cell between exercises, in none of them")
    if inside:
        problems.append(f"the last {inside} is never closed")
    return exercises, problems


def _structure_problems(path: Path) -> list[str]:
    number = path.name[:2]
    exercises, problems = _exercises(path)
    if len(exercises) < 4:
        problems.append(f"{len(exercises)} exercises, at least 4 wanted")
    labels = [e.label for e in exercises]
    for e in exercises:
        where = f"line {e.line} ({e.label or 'no label'})"
        m = LABEL.fullmatch(e.label)
        if not m or m.group(1) != number:
            problems.append(f"{where}: label must be ex-{number}-<short-name> (lowercase, hyphens)")
        if labels.count(e.label) > 1:
            problems.append(f"{where}: label used twice")
        if len(e.solutions) != 1:
            problems.append(f"{where}: {len(e.solutions)} solutions, exactly 1 wanted")
        for sol, cells in e.solutions:
            if sol.options.get("class") != "dropdown":
                problems.append(f"{where}: the solution needs ':class: dropdown' (hidden until asked)")
            code = "\n".join("\n".join(c.body) for c in cells)
            if not re.search(r"^\s*assert\b", code, re.M) or "print(" not in code:
                problems.append(f"{where}: the solution's code must check itself (assert) and print")
        solution_code = "\n".join("\n".join(c.body) for _, cells in e.solutions for c in cells)
        for c in e.cells:
            body = "\n".join(c.body)
            if "quiz." not in body:
                continue
            if "remove-input" not in c.options.get("tags", ""):
                problems.append(f"line {c.line}: a quiz cell's code gives the answer away: "
                                "tag it ':tags: [remove-input]'")
            names = set(re.findall(r"^(\w+)\s*=[^=]", body, re.M))
            if not any(re.search(rf"\b{n}\b", solution_code) for n in names):
                problems.append(f"line {c.line}: the solution never checks the answer computed here "
                                f"(assert one of {sorted(names) or 'its variables'} against torch)")
    quizzes = sum(any("quiz.number(" in "\n".join(c.body) for c in e.cells) for e in exercises)
    if quizzes < 2:
        problems.append(f"{quizzes} predict-then-check exercises (quiz.number), at least 2 wanted")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_exercises_follow_the_structure(path):
    problems = _structure_problems(path)
    assert not problems, f"{path.name}, '## Exercises':\n" + "\n".join(problems)


def test_the_checker_finds_broken_structures(tmp_path):
    """The checker itself: a chapter with each rule broken once is reported on each count."""
    bad = tmp_path / "04_bad.md"
    bad.write_text("\n".join([
        "# A chapter", "", "## Exercises", "",
        "```{exercise-start} One", ":label: ex-05-wrong-chapter", "```", "Text.", "",
        "```{code-cell} ipython3", "quiz.number('q?', answer=1, why='w')", "```", "",
        "```{exercise-end}", "```", "",
        "```{solution-start} ex-05-wrong-chapter", "```", "",
        "```{code-cell} ipython3", "print(1)", "```", "",
        "```{solution-end}", "```", "",
        "```{exercise} Two", ":label: ex-04-Two", "", "Text.", "```", "",
    ]), encoding="utf-8")
    problems = "\n".join(_structure_problems(bad))
    for expected in ["2 exercises, at least 4", "label must be ex-04-", "needs ':class: dropdown'",
                     "must check itself", "gives the answer away", "0 solutions, exactly 1",
                     "never checks the answer computed here",
                     "1 predict-then-check"]:
        assert expected in problems, f"{expected!r} not reported in:\n{problems}"
