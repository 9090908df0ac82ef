"""The chapters read as a book: no sentence tells the story of how the book was developed
(that goes to docs/decisions.md), every chapter links the glossary and has exercises,
every cited work is in the one bibliography with a DOI or URL, and every glossary term a
chapter links is defined. (The built pages are checked by tools/check_html.py.)"""
import re

import pytest

from conftest import ROOT
from test_prose_numbers import markdown_cells

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BIB = ROOT / "book" / "references.bib"
GLOSSARY = ROOT / "book" / "glossary.md"

#: Phrases of a lab notebook, not of a book: how and when the chapter came to be.
HISTORY = [
    "while the chapter was written", "when this chapter was written", "was written,",
    "choices were not blind", "in the runs we made", "in the run we made", "runs we made",
    "trial run", "configuration we tried", "earlier version of this chapter",
    "early prototypes", "before its move", "the project's issue", "were not verified",
    "as quoted in issue",
]


def _prose(path):
    return "\n".join(text for _, text in markdown_cells(path))


def _bib_entries():
    text = BIB.read_text()
    starts = [m.start() for m in re.finditer(r"^@\w+\{", text, re.M)] + [len(text)]
    return {re.match(r"@\w+\{([^,]+),", text[a:b]).group(1): text[a:b]
            for a, b in zip(starts, starts[1:])}


def _glossary_terms():
    terms, inside = set(), False
    for line in GLOSSARY.read_text().splitlines():
        if line.startswith("```{glossary}"):
            inside = True
        elif line.startswith("```"):
            inside = False
        elif inside and line and not line.startswith(" "):
            terms.add(line.strip().lower())
    return terms


def test_the_phrase_list_catches_a_history_sentence(tmp_path):
    nb = tmp_path / "99_demo.py"
    nb.write_text("# %% [markdown]\n# In the runs we made, S fell.\n\n# %%\nx = 1\n")
    assert any(p in _prose(nb).lower() for p in HISTORY)


@pytest.mark.parametrize("path", NOTEBOOKS + [ROOT / "README.md"], ids=lambda p: p.name)
def test_no_development_history_in_the_prose(path):
    text = (_prose(path) if path.suffix == ".py" else path.read_text()).lower()
    text = re.sub(r"\s+", " ", text)
    found = [p for p in HISTORY if p in text]
    assert not found, f"{path.name}: the book's development history belongs in docs/: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_links_the_glossary_and_has_exercises(path):
    prose = _prose(path)
    assert "{term}`" in prose, f"{path.stem}: no {{term}} link to the glossary"
    exercises = re.findall(r"^```\{exercise\}", prose, re.M)
    solutions = re.findall(r"^```\{solution\}", prose, re.M)
    assert len(exercises) >= 2, f"{path.stem}: {len(exercises)} exercises, fewer than 2"
    assert len(solutions) == len(exercises), f"{path.stem}: an exercise without solution"
    for block in re.findall(r"^```\{solution\}.*?^```$", prose, re.M | re.S):
        assert ":class: dropdown" in block, f"{path.stem}: a solution that is not togglable"
        assert f"notebooks/{path.stem}.ipynb" in block and " -p " in block, \
            f"{path.stem}: a solution without its papermill command"


def test_every_bibliography_entry_has_a_doi_or_url():
    entries = _bib_entries()
    assert len(entries) >= 20
    bare = [k for k, e in entries.items() if not re.search(r"^\s*(doi|url)\s*=", e, re.M)]
    assert not bare, f"references.bib entries with neither DOI nor URL: {bare}"


def test_every_cited_key_is_in_the_bibliography():
    keys = set(_bib_entries())
    sources = NOTEBOOKS + sorted((ROOT / "book").glob("*.md"))
    cited = {(p.name, k.strip()) for p in sources
             for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", p.read_text())
             for k in group.split(",")}
    assert cited, "no {cite} role anywhere"
    missing = sorted((name, k) for name, k in cited if k not in keys)
    assert not missing, f"cited but not in references.bib: {missing}"


def test_every_linked_term_is_in_the_glossary():
    terms = _glossary_terms()
    sources = NOTEBOOKS + sorted((ROOT / "book").glob("*.md"))
    missing = set()
    for p in sources:
        for role in re.findall(r"\{term\}`([^`]+)`", p.read_text().replace("\n# ", " ")):
            m = re.search(r"<([^>]+)>$", role)
            term = (m.group(1) if m else role).strip().lower()
            if term not in terms:
                missing.add((p.name, term))
    assert not missing, f"terms linked but not defined in book/glossary.md: {sorted(missing)}"
