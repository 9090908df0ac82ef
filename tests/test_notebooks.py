"""Every chapter notebook: paired with its .py, committed clean, one parameters cell,
Colab install from the configured repository, and it runs in smoke mode under papermill."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT, requires_data

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BIN = Path(sys.executable).parent


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


@requires_data
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_smoke_mode(name, tmp_path):
    out = tmp_path / f"{name}.ipynb"
    results = tmp_path / "results"
    cmd = [str(BIN / "papermill"), "-k", "python3", "--cwd", str(ROOT / "notebooks"),
           str(ROOT / "notebooks" / f"{name}.ipynb"), str(out),
           "-p", "smoke", "True", "-p", "results_dir", str(results)]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # keep inline figures
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    stderr = [o.get("text", "")[:200] for c in nb.cells for o in c.get("outputs", [])
              if o.get("name") == "stderr"]
    assert not stderr, f"{name} wrote to stderr (it would show on the page): {stderr}"
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert figures >= 3, f"{name}: only {figures} figures in the executed notebook"
    import ecgutils as eu

    obj = eu.results.read_results(results / f"{name}.json")
    assert obj["notebook"] == name and obj["parameters"]["smoke"] is True
