"""No chapter quotes a metric of its own run as a typed number.

Numbers a chapter computes reach its prose through myst-nb ``glue`` (``{glue:text}`name```)
or the sentence is written so that it holds for any run. What this test flags in the
markdown cells: decimals written like metrics (``.93``, ``0.985``) and percentages, unless
they are followed by a unit (a setting such as ``0.25 s`` or ``0.5 Hz``), sit inside
inline code or a glue role, are in the references, or are on the chapter's allow-list:
``tests/prose_literals/<notebook>.txt``, one literal per line followed by ``#`` and why it
may be typed (a figure from a paper the chapter cites, a setting, a fact of the data).
"""
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))
ALLOW_LISTS = Path(__file__).resolve().parent / "prose_literals"
#: Allowed in every chapter: de Chazal et al. 2004 on DS2, S Se/+P and V Se/+P (in %).
ALLOWED_EVERYWHERE = {"75.9", "38.5", "77.7", "81.9"}


def allowed_literals(stem: str) -> set[str]:
    path = ALLOW_LISTS / f"{stem}.txt"
    if not path.exists():
        return set(ALLOWED_EVERYWHERE)
    lines = (line.split("#", 1) for line in path.read_text().splitlines())
    entries = {literal.strip(): why.strip() for literal, why in lines if literal.strip()}
    unexplained = [literal for literal, why in entries.items() if not why]
    assert not unexplained, f"{path.name}: say why each literal may be typed: {unexplained}"
    return ALLOWED_EVERYWHERE | set(entries)

#: A metric-like number: a decimal below 1 (.93, 0.985) or a percentage (42 %, 98.6%).
METRIC = re.compile(r"(?<![\w.])(?:0?\.\d{2,4}|\d{1,3}(?:\.\d+)?\s?%)(?!\w|\.\d)")
#: A number followed by a unit is a setting, not a result.
UNIT_AFTER = re.compile(r"\s?(?:s|ms|Hz|kHz|mV|µV|dB|min|h|MB|KB|GiB|px)\b")
CODE_OR_GLUE = re.compile(r"\{glue:[a-z]+\}`[^`]*`|``[^`]*``|`[^`]*`|\$[^$]*\$")


def markdown_cells(path: Path):
    """(first line number, text) of each markdown cell of a percent-format notebook."""
    cells, current, start = [], None, 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("# %%"):
            if current is not None:
                cells.append((start, "\n".join(current)))
            current = [] if "[markdown]" in line else None
            start = number + 1
        elif current is not None:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    if current is not None:
        cells.append((start, "\n".join(current)))
    return cells


def typed_metrics(path: Path) -> list[str]:
    """``file:line: literal in: text`` for each metric-like number typed in the prose."""
    allowed = allowed_literals(path.stem)
    found = []
    for start, text in markdown_cells(path):
        if re.match(r"\s*#+\s*(References|Further reading)", text):
            continue
        for offset, line in enumerate(text.splitlines()):
            clean = CODE_OR_GLUE.sub(" ", line)
            for m in METRIC.finditer(clean):
                literal = m.group(0).strip()
                if literal.rstrip("%").strip() in allowed or literal in allowed:
                    continue
                if not literal.endswith("%") and UNIT_AFTER.match(clean, m.end()):
                    continue
                found.append(f"{path.name}:{start + offset}: {literal!r} in: {line.strip()}")
    return found


def test_the_checker_flags_typed_metrics_and_spares_settings(tmp_path):
    nb = tmp_path / "99_demo.py"
    nb.write_text("# %% [markdown]\n# Accuracy reached 0.985 and S Se 42 %; V F1 .93.\n"
                  "# A window of 0.25 s, {glue:text}`acc:.3f` and `0.5` in code.\n"
                  "# de Chazal's S Se 75.9 %.\n\n# %%\nx = 0.985\n")
    assert [f.split(": ")[1].split(" in")[0] for f in typed_metrics(nb)] == [
        "'0.985'", "'42 %'", "'.93'"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_typed_metric_in_prose(notebook):
    found = typed_metrics(notebook)
    assert not found, ("numbers the run computes must reach the prose through glue "
                       "(eu.experiment.glue + {glue:text}`name`), or the sentence must hold "
                       "for any run; figures from papers go on the chapter's allow-list "
                       "(tests/prose_literals/<notebook>.txt) with their source:\n"
                       + "\n".join(found))
