"""The README's table "Chapters and the code they explain" stays true: one row per chapter of the book,
every module it names exists, and every function or class it names is defined in one of them."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cnnbook"
HEADING = "## Chapters and the code they explain"


def _rows(readme: str) -> dict[str, tuple[list[str], list[str]]]:
    """chapter -> (module paths, names) from the README's table."""
    section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        code = [re.findall(r"`([^`]+)`", c) for c in cells]
        rows[code[0][0]] = (code[1], code[2])
    return rows


def _module_name(path: str) -> str:
    return "cnnbook." + path.removesuffix("/").removesuffix(".py").replace("/", ".")


def _chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [Path(entry["file"]).name for entry in toc["chapters"]]
    return [n for n in names if re.match(r"\d\d_", n)]


def test_parser_reads_a_row():
    text = f"{HEADING}\n\n| chapter | modules | names |\n| --- | --- | --- |\n| `01_x` | `shapes.py`, `data/` | `a`, `B` |\n\n## Next\n"
    assert _rows(text) == {"01_x": (["shapes.py", "data/"], ["a", "B"])}


def test_every_chapter_has_a_row():
    rows = _rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(_chapters())


def test_every_name_in_the_table_exists():
    problems = []
    for chapter, (paths, names) in _rows((ROOT / "README.md").read_text(encoding="utf-8")).items():
        modules = []
        for path in paths:
            if not (SRC / path).exists():
                problems.append(f"{chapter}: no src/cnnbook/{path}")
                continue
            modules.append(importlib.import_module(_module_name(path)))
        for name in names:
            if not any(hasattr(m, name) for m in modules):
                problems.append(f"{chapter}: {name} is in none of {paths}")
    assert not problems, "\n".join(problems)
