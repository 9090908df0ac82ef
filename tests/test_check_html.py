"""tools/check_html.py on a small hand-made site: it passes a good one and names each fault."""
import shutil

import pytest

import check_html
from conftest import ROOT

REPO = "https://github.com/ecg-book/ecg-book"


def _page(name, figures=3, extra=""):
    imgs = "".join(f'<img src="../_images/f{i}.png">' for i in range(figures))
    colab = f"https://colab.research.google.com/github/ecg-book/ecg-book/blob/main/notebooks/{name}.ipynb"
    return (f'<html><body><a href="{colab}">Colab</a><a href="{REPO}">repo</a>'
            f'<a href="../index.html#top">home</a><main><h1 id="t">{name}</h1>{imgs}'
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
])
def test_each_fault_is_named(site, fault, expected):
    root, html = site
    fault(html)
    problems = check_html.check(html, root=root)
    assert any(expected in p for p in problems), problems


def test_command_line_exit_status(site, capsys):
    _, html = site
    assert check_html.main([str(html / "nothing")]) == 1
    assert "no index.html" in capsys.readouterr().err
