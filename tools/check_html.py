"""Check a built book: every page of the table of contents is there, every chapter page shows
its figures and no error output, the Colab and repository buttons follow ``_config.yml``,
and every internal link (pages, images, anchors) resolves. Every chapter page also reads
as a book: it links the glossary, has exercises, numbers and captions every figure, and
shows no cell whose code only glues numbers for the prose.

    python tools/check_html.py _build/html            # exit 1 and list the problems
    python tools/check_html.py _build/smoke/_build/html
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
#: Every chapter page shows at least this many figures (also in smoke mode).
MIN_FIGURES = 3
#: Text that must never reach a page: tracebacks, and TensorFlow/ipykernel start-up noise.
NOISE = ("Traceback (most recent call last)", "oneDNN", "without encryption", "absl::")
#: Output classes myst-nb gives stderr and errors.
ERROR_CLASSES = {"stderr", "traceback", "error"}
#: Every chapter page has at least this many exercises (sphinx-exercise).
MIN_EXERCISES = 2
#: Cell tags under which the code is not on show.
HIDDEN_TAGS = {"tag_hide-input", "tag_hide-cell", "tag_remove-input", "tag_remove-cell"}


def chapters(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.py"))


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every document of ``_toc.yml`` (root first), without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(errors="replace"), "html.parser")


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        soup = _soup(path)
        cache[path] = {t["id"] for t in soup.find_all(id=True)} | \
                      {t["name"] for t in soup.find_all("a", attrs={"name": True})}
    return cache[path]


def glue_only(code: str) -> bool:
    """Whether ``code`` does nothing but call ``glue`` (or ``glue_all``): bookkeeping that
    hands numbers to the prose, which a reader need not see."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False

    def is_glue(node):
        if isinstance(node, ast.Tuple):
            return bool(node.elts) and all(is_glue(e) for e in node.elts)
        if not isinstance(node, ast.Call):
            return False
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        return name in ("glue", "glue_all")

    return bool(body) and all(isinstance(s, ast.Expr) and is_glue(s.value) for s in body)


def check_reading(name: str, main) -> list[str]:
    """What a reader of chapter ``name`` misses: glossary links, exercises, figure numbers
    and captions; and bookkeeping cells on show."""
    out = []
    if not main.select('a[href*="glossary.html#term-"]'):
        out.append(f"{name}: no link to the glossary")
    exercises = main.select("div.exercise")
    if len(exercises) < MIN_EXERCISES:
        out.append(f"{name}: {len(exercises)} exercises, fewer than {MIN_EXERCISES}")
    for img in main.find_all("img"):
        if "_images/" not in img.get("src", ""):
            continue
        figure = img.find_parent("figure")
        if figure is None or figure.find(class_="caption-number") is None:
            out.append(f"{name}: figure {img['src']} has no number and caption")
    for figure in main.find_all("figure"):
        if figure.find("img") is None:
            out.append(f"{name}: figure {figure.get('id')} holds no image (a table or text "
                       f"output caught by a cell's figure caption)")
    for cell in main.select("div.cell"):
        if HIDDEN_TAGS & set(cell.get("class", [])):
            continue
        code = cell.select_one("div.cell_input pre")
        if code is not None and glue_only(code.get_text()):
            out.append(f"{name}: a cell that only calls glue is on show: "
                       f"{code.get_text().strip()[:80]!r} (tag it remove-input)")
    return out


def check_links(html: Path, page: Path, soup: BeautifulSoup, ids: dict, repo: str = "",
                baseurl: str = "") -> list[str]:
    """Links of one page that point at no file or no anchor: relative ones, the published
    URL's (``baseurl``, e.g. canonical links), and GitHub links outside ``repo``."""
    out = []
    for tag in soup.find_all(["a", "img", "link", "script"]):
        ref = tag.get("href") or tag.get("src")
        if ref and baseurl and ref.startswith(baseurl):
            ref = (Path(*[".."] * (len(page.relative_to(html).parts) - 1)) /
                   ref[len(baseurl):]).as_posix()  # the published copy of this build
        elif ref and repo and ref.startswith("https://github.com/") and \
                not (ref == repo or ref.startswith(repo + "/")):
            out.append(f"{page.relative_to(html)}: GitHub link {ref} outside {repo}")
            continue
        if not ref or re.match(r"[a-z][a-z0-9+.-]*:|//", ref, re.I):
            continue  # external (checked in tests/test_links.py), mailto:, data:...
        parts = urlsplit(ref)
        target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        rel = page.relative_to(html)
        if not target.exists():
            out.append(f"{rel}: link to {ref}: no such file")
        elif parts.fragment and target.suffix == ".html" and \
                unquote(parts.fragment) not in _ids(target, ids):
            out.append(f"{rel}: link to {ref}: no anchor '{parts.fragment}'")
    return out


def check(html: Path, root: Path = ROOT, min_figures: int = MIN_FIGURES) -> list[str]:
    """Every problem found in the built book under ``html``; empty when all is well."""
    html = Path(html).resolve()
    if not (html / "index.html").is_file():
        return [f"{html}: no index.html (was the book built?)"]
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    repo, branch = cfg["repository"]["url"].rstrip("/"), cfg["repository"].get("branch", "main")
    slug = repo.removeprefix("https://github.com/")
    baseurl = cfg.get("html", {}).get("baseurl", "")
    problems, ids = [], {}
    for doc in toc_pages(root):
        if not (html / f"{doc}.html").is_file():
            problems.append(f"{doc}.html missing: a page of _toc.yml was not built")
    for name in chapters(root):
        page = html / "notebooks" / f"{name}.html"
        if not page.is_file():
            problems.append(f"notebooks/{name}.html missing")
            continue
        soup = _soup(page)
        main = soup.find("main") or soup
        figures = [img for img in main.find_all("img") if "_images/" in img.get("src", "")]
        if len(figures) < min_figures:
            problems.append(f"{name}: {len(figures)} figures on the page, fewer than {min_figures}")
        for img in figures:
            f = (page.parent / unquote(img["src"])).resolve()
            if f.is_file() and f.stat().st_size == 0:
                problems.append(f"{name}: empty image {img['src']}")
        for div in main.find_all("div", class_="output"):
            bad = ERROR_CLASSES & set(div.get("class", []))
            if bad:
                problems.append(f"{name}: a {sorted(bad)[0]} output: "
                                f"{div.get_text(' ', strip=True)[:200]!r}")
        problems += check_reading(name, main)
        text = main.get_text(" ")
        for noise in NOISE:
            if noise in text:
                problems.append(f"{name}: '{noise}' on the page")
        colab = f"https://colab.research.google.com/github/{slug}/blob/{branch}/notebooks/{name}.ipynb"
        hrefs = {a.get("href") for a in soup.find_all("a")}
        if colab not in hrefs:
            problems.append(f"{name}: no Colab button to {colab}")
        if repo not in hrefs:
            problems.append(f"{name}: no repository button to {repo}")
        stray = sorted(h for h in hrefs if h and "colab.research.google.com" in h and h != colab)
        if stray:
            problems.append(f"{name}: Colab links elsewhere: {stray}")
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        problems += check_links(html, page, _soup(page), ids, repo, baseurl)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--min-figures", type=int, default=MIN_FIGURES)
    args = ap.parse_args(argv)
    problems = check(args.html, min_figures=args.min_figures)
    for p in problems:
        print(p, file=sys.stderr)
    n = len(list(args.html.rglob("*.html")))
    print(f"{args.html}: {n} pages, {len(problems)} problems" if problems else
          f"{args.html}: {n} pages checked, {len(chapters())} chapters, all good")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
