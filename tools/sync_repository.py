"""The repository is named once, in ``_config.yml``; write it into every chapter's Colab cell.

Each notebook's first code cell (tagged ``remove-cell``) installs ``ecgutils`` from the
book's repository when it runs in Colab. Colab opens the ``.ipynb`` alone, without
``_config.yml``, so the URL has to be spelt out in the cell; this script keeps it equal to
``repository.url`` @ ``repository.branch``.

    python tools/sync_repository.py          # rewrite notebooks/NN_*.py, then jupytext --sync
    python tools/sync_repository.py --check  # exit 1 naming every chapter that disagrees
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: ``ecgutils @ git+<url>@<ref>`` as pip reads it.
PIP_URL = re.compile(r"ecgutils @ git\+(?P<url>[^\s\"'@]+)@(?P<ref>[\w.\-/]+)")


def config(root: Path = ROOT) -> dict:
    """``repository`` and the book's published URL, from ``_config.yml``."""
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    repo = cfg["repository"]
    return {"url": repo["url"].rstrip("/"), "branch": repo.get("branch", "main"),
            "baseurl": cfg.get("html", {}).get("baseurl", "")}


def install_spec(root: Path = ROOT) -> str:
    """What every Colab cell must pip-install, e.g. ``ecgutils @ git+https://...@main``."""
    c = config(root)
    return f"ecgutils @ git+{c['url']}@{c['branch']}"


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))


def first_code_cell(text: str) -> tuple[int, int]:
    """(start, end) character span of the first ``# %%`` code cell of a percent-format file."""
    cells = [m.start() for m in re.finditer(r"^# %%", text, re.M)] + [len(text)]
    for start, end in zip(cells, cells[1:]):
        if not text[start:].startswith("# %% [markdown]"):
            return start, end
    raise ValueError("no code cell")


def problems(root: Path = ROOT) -> list[str]:
    """Every chapter whose Colab cell does not install exactly :func:`install_spec`."""
    want, out = install_spec(root), []
    for py in chapters(root):
        text = py.read_text()
        start, end = first_code_cell(text)
        cell = text[start:end]
        if "google.colab" not in cell or want not in cell:
            out.append(f"{py.name}: the first code cell does not install '{want}'")
        others = {m.group(0) for m in PIP_URL.finditer(text)} - {want}
        if others:
            out.append(f"{py.name}: installs {sorted(others)}, not '{want}'")
    return out


def sync(root: Path = ROOT) -> list[Path]:
    """Rewrite the install spec in every chapter's ``.py`` and re-pair its ``.ipynb``."""
    want, changed = install_spec(root), []
    for py in chapters(root):
        text = py.read_text()
        new = PIP_URL.sub(want, text)
        if new != text:
            py.write_text(new)
            changed.append(py)
    for py in changed:
        subprocess.run([str(Path(sys.executable).parent / "jupytext"), "--sync", str(py)],
                       check=True)
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report, change nothing")
    args = ap.parse_args(argv)
    if not args.check:
        for py in sync():
            print(f"updated {py.relative_to(ROOT)}")
    bad = problems()
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
