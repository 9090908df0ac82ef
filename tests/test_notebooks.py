"""Every chapter notebook: paired with its .py, committed clean, one parameters cell,
Colab install from the configured repository. Executing the chapters (smoke mode, once
each) is tests/test_book.py's book build."""
import re

import nbformat
import pytest
import yaml

from conftest import ROOT

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_there_are_notebooks():
    assert "01_data_tour" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_pair_is_in_sync(name):
    import jupytext

    py = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    ipynb_path = ROOT / "notebooks" / f"{name}.ipynb"
    assert ipynb_path.is_file(), f"{name}.ipynb missing: run jupytext --sync notebooks/{name}.py"
    nb = jupytext.read(ipynb_path)
    cells = lambda n: [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])))
                       for c in n.cells]
    assert cells(py) == cells(nb), f"{name}: .py and .ipynb differ; run jupytext --sync"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_outputs(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{name}.ipynb has outputs in cells {dirty}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_skeleton_parameters_and_colab_cell(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: needs exactly one 'parameters' cell"
    for param in ("smoke", "seed", "results_dir"):
        assert re.search(rf"^{param}\s*=", tagged[0].source, re.M), f"{name}: no '{param}'"
    config = _config()["repository"]
    url = f"git+{config['url']}@{config['branch']}"
    assert any(url in c.source for c in nb.cells), f"{name}: Colab cell must install {url}"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    for heading in ("overview", "prerequisites", "time to run", "summary", "what's next",
                    "references"):
        assert heading in text, f"{name}: skeleton lacks '{heading}'"
