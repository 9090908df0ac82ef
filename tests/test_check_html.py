"""tools/check_html.py on a small hand-made site: it passes a good one and names each fault."""
import shutil

import pytest

import check_html
from conftest import ROOT

REPO = "https://github.com/ecg-book/ecg-book"


GLUE_CELL = ('<div class="cell {tag}"><div class="cell_input"><pre>glue("se", se)\n'
             'glue("ppv", ppv)  # for the prose</pre></div></div>')


def _page(name, figures=3, extra="", exercises=2, term=True, caption=True):
    number = '<span class="caption-number">Fig. 1 </span>' if caption else ""
    imgs = "".join(f'<figure><img src="../_images/f{i}.png"><figcaption><p>{number}'
                   f'A caption.</p></figcaption></figure>' for i in range(figures))
    colab = f"https://colab.research.google.com/github/ecg-book/ecg-book/blob/main/notebooks/{name}.ipynb"
    link = '<a href="../glossary.html#term-Se">Se</a>' if term else ""
    return (f'<html><body><a href="{colab}">Colab</a><a href="{REPO}">repo</a>'
            f'<a href="../index.html#top">home</a><main><h1 id="t">{name}</h1>{imgs}{link}'
            f'<div class="cell"><div class="cell_input"><pre>plot(x)</pre></div></div>'
            + GLUE_CELL.format(tag="tag_remove-input") +
            '<div class="exercise">Change a parameter.</div>' * exercises +
            f'<div class="cell_output"><div class="output stream">fine</div></div>{extra}'
            f'</main></body></html>')


@pytest.fixture
def site(tmp_path):
    """A repository root with two chapters and its built HTML."""
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: notebooks/01_a\n  - file: notebooks/02_b\n")
    html = tmp_path / "html"
    (html / "notebooks").mkdir(parents=True)
    (html / "_images").mkdir()
    for i in range(3):
        (html / "_images" / f"f{i}.png").write_bytes(b"\x89PNG")
    (html / "index.html").write_text('<html><body><p id="top">home</p>'
                                     '<a href="notebooks/01_a.html">one</a></body></html>')
    (html / "intro.html").write_text("<html></html>")
    (html / "glossary.html").write_text('<html><dt id="term-Se">Se</dt></html>')
    for name in ("01_a", "02_b"):
        (root / "notebooks" / f"{name}.py").write_text("")
        (html / "notebooks" / f"{name}.html").write_text(_page(name))
    return root, html


def test_a_good_site_passes(site):
    root, html = site
    assert check_html.check(html, root=root) == []


@pytest.mark.parametrize("fault, expected", [
    (lambda h: (h / "notebooks" / "02_b.html").unlink(), "02_b.html missing"),
    (lambda h: (h / "notebooks" / "02_b.html").write_text(_page("02_b", figures=2)),
     "2 figures"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page(
        "01_a", extra='<div class="output stderr">oops</div>')), "a stderr output"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page(
        "01_a", extra='<div class="output traceback">ValueError</div>')), "a traceback output"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page(
        "01_a", extra="<pre>Traceback (most recent call last)</pre>")), "'Traceback"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page("01_a").replace(
        "blob/main", "blob/master")), "no Colab button"),
    (lambda h: (h / "_images" / "f1.png").unlink(), "no such file"),
    (lambda h: (h / "index.html").write_text('<a href="notebooks/01_a.html#nowhere">x</a>'),
     "no anchor 'nowhere'"),
    (lambda h: (h / "intro.html").unlink(), "intro.html missing"),
    (lambda h: (h / "intro.html").write_text(
        '<link rel="canonical" href="https://ecg-book.github.io/ecg-book/gone.html">'),
     "gone.html: no such file"),
    (lambda h: (h / "intro.html").write_text('<a href="https://github.com/other/repo">x</a>'),
     "outside https://github.com/ecg-book/ecg-book"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page("01_a", term=False)),
     "01_a: no link to the glossary"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page("01_a", exercises=1)),
     "01_a: 1 exercises, fewer than 2"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page("01_a", caption=False)),
     "has no number and caption"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page(
        "01_a", extra=GLUE_CELL.format(tag=""))), "a cell that only calls glue is on show"),
    (lambda h: (h / "notebooks" / "01_a.html").write_text(_page(
        "01_a", extra='<figure id="fig-t"><table></table><figcaption>x</figcaption></figure>')),
     "figure fig-t holds no image"),
])
def test_each_fault_is_named(site, fault, expected):
    root, html = site
    fault(html)
    problems = check_html.check(html, root=root)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("code, expected", [
    ('glue("a", 1)\n# why\neu.experiment.glue("b", x.mean())', True),
    ('glue("se", a), glue("ppv", b)', True),
    ('eu.experiment.glue_all(d, prefix="n_")', True),
    ('x = glue("a", 1)', False),            # binds a value the cell goes on to use
    ('glue("a", 1)\nplt.plot(x)', False),
    ('# only a comment', False),
    ('glue("a", (1', False),                # not Python: left alone
])
def test_glue_only_cells_are_recognised(code, expected):
    assert check_html.glue_only(code) is expected


def test_command_line_exit_status(site, capsys):
    _, html = site
    assert check_html.main([str(html / "nothing")]) == 1
    assert "no index.html" in capsys.readouterr().err
