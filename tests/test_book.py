"""The whole book builds once in smoke mode (-W -n): every chapter executes exactly once in
`make test`, here. The built HTML then passes ``tools/check_html.py`` (pages, figures, no
error output, Colab and repository buttons, internal links), and each chapter's results
file, written to a scratch ``ECG_RESULTS_DIR`` (never the user's results/), is valid."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import check_html
import readme
from conftest import ROOT, requires_data

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_toc_lists_every_notebook_and_pages_exist():
    toc = (ROOT / "_toc.yml").read_text()
    for name in NOTEBOOKS:
        assert f"notebooks/{name}" in toc, f"{name} is not in _toc.yml"
    for link, target in (("book/_toc.yml", "../_toc.yml"), ("book/notebooks", "../notebooks")):
        assert os.readlink(ROOT / link) == target
    assert set(check_html.chapters()) == set(NOTEBOOKS)
    assert {f"notebooks/{n}" for n in NOTEBOOKS} <= set(check_html.toc_pages())


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory):
    """Build the book once in smoke mode, as `make smoke-book` does; results to a scratch dir."""
    out = tmp_path_factory.mktemp("book")
    results = out / "results"
    env = {**{k: v for k, v in os.environ.items() if k != "MPLBACKEND"},  # inline figures
           "ECG_SMOKE": "1", "ECG_RESULTS_DIR": str(results)}
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT / "book"),
           "-W", "-n", "--path-output", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3000, cwd=ROOT)
    return proc, out / "_build" / "html", results


@requires_data
@pytest.mark.slow
def test_book_builds_in_smoke_mode_without_warnings(smoke_build):
    proc, html, _ = smoke_build
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert (html / "index.html").is_file()


@requires_data
@pytest.mark.slow
def test_built_html_passes_the_check(smoke_build):
    proc, html, _ = smoke_build
    assert proc.returncode == 0, "the build failed (see the test above)"
    problems = check_html.check(html)
    assert not problems, "\n".join(problems)


@requires_data
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_wrote_smoke_results(smoke_build, name):
    """Needs ``eu.results.resolve_results_dir`` honouring ECG_RESULTS_DIR in every chapter."""
    import ecgutils as eu

    proc, _, results = smoke_build
    assert proc.returncode == 0, "the build failed (see the test above)"
    path = results / f"{name}.json"
    assert path.is_file(), f"{name} wrote no {path} (does it honour ECG_RESULTS_DIR?)"
    obj = eu.results.read_results(path)
    assert obj["notebook"] == name and obj["parameters"]["smoke"] is True
    readme.headline(name, obj)  # the README's headline for this chapter finds its numbers


@requires_data
@pytest.mark.slow
def test_chapters_07_and_08_give_equal_numbers_for_the_same_seed(smoke_build):
    """Chapter 07's two models and chapter 08's rows for them are one definition
    (``eu.pipelines.PIPELINES["interpatient"|"classical"]``): in the smoke profile both
    chapters train them on the same records with the same seed, so their DS2 counts agree."""
    import ecgutils as eu

    proc, _, results = smoke_build
    assert proc.returncode == 0, "the build failed (see the test above)"
    ch07, ch08 = (eu.results.read_results(results / f"{n}.json")
                  for n in ("07_new_patients", "08_comparison"))

    def ec57_of(obj, model, seed):
        for run in obj["runs"]:
            if run["protocol"] == "ds1ds2" and run["model"] == model and run.get("seed") == seed:
                return run["metrics"]["ec57"]
        raise AssertionError(f"no ds1ds2 run of {model} (seed {seed}) in {obj['notebook']}")

    seed = ch07["parameters"]["seed"]
    assert ch08["parameters"]["seed"] == seed
    for ours, theirs in (("interpatient_cnn", "interpatient"), ("random_forest", "classical")):
        a, b = ec57_of(ch07, ours, seed), ec57_of(ch08, theirs, seed)
        for c in ("N", "S", "V"):
            assert (a[c]["tp"], a[c]["fp"], a[c]["fn"]) == (b[c]["tp"], b[c]["fp"], b[c]["fn"]), \
                (ours, c, a[c], b[c])
