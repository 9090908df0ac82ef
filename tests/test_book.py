"""The whole book builds in smoke mode, with -W, and each chapter page has its Colab button."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, requires_data

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_toc_lists_every_notebook_and_pages_exist():
    toc = (ROOT / "_toc.yml").read_text()
    for name in NOTEBOOKS:
        assert f"notebooks/{name}" in toc, f"{name} is not in _toc.yml"
    for link, target in (("book/_toc.yml", "../_toc.yml"), ("book/notebooks", "../notebooks")):
        assert os.readlink(ROOT / link) == target


@requires_data
@pytest.mark.slow
def test_book_builds_in_smoke_mode_without_warnings(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if k != "MPLBACKEND"}, "ECG_SMOKE": "1"}
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT / "book"), "-W",
           "--path-output", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3000, cwd=ROOT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    html = tmp_path / "_build" / "html"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    repo = config["url"].removeprefix("https://github.com/")
    for name in NOTEBOOKS:
        page = (html / "notebooks" / f"{name}.html").read_text()
        colab = (f"https://colab.research.google.com/github/{repo}/blob/{config['branch']}"
                 f"/notebooks/{name}.ipynb")
        assert colab in page, f"{name}: no Colab button to {colab}"
        assert page.count("<img") >= 3, f"{name}: the page shows no figures"
        for noise in ("oneDNN", "without encryption", "absl::", "Traceback"):
            assert noise not in page, f"{name}: '{noise}' reached the page"
