"""The GitHub Pages workflow: valid against GitHub's workflow schema, and the rules we want.

actionlint cannot be installed here (its PyPI wrapper downloads the binary from GitHub at
build time), so the lint is ``check-jsonschema``'s vendored GitHub-workflow schema, which
works offline, plus the checks below.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BOOK = ROOT / ".github" / "workflows" / "book.yml"


def _load(path=BOOK):
    wf = yaml.safe_load(path.read_text())
    wf["on"] = wf.pop(True, wf.get("on"))  # YAML 1.1 reads the key `on` as True
    return wf


def _steps(job):
    return _load()["jobs"][job]["steps"]


def _runs(job):
    return "\n".join(s.get("run", "") for s in _steps(job))


def _uses(job, action):
    found = [s for s in _steps(job) if s.get("uses", "").split("@")[0] == action]
    assert found, f"job '{job}' does not use {action}"
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_the_schema_lint(path):
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_and_expressions_closed(path):
    text = path.read_text()
    for ref in re.findall(r"uses:\s*(\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", ref), \
            f"{path.name}: '{ref}' is not pinned to a version tag or commit"
    assert text.count("${{") == text.count("}}"), f"{path.name}: an unclosed ${{{{ }}}}"


def test_triggers_push_to_main_by_hand_and_pull_requests():
    on = _load()["on"]
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on and "pull_request" in on


def test_least_permissions():
    wf = _load()
    assert wf["permissions"] == {"contents": "read"}
    for name, job in wf["jobs"].items():
        if name == "deploy":
            assert job["permissions"] == {"pages": "write", "id-token": "write"}
            assert job["environment"]["name"] == "github-pages"
        else:
            assert "permissions" not in job, f"job '{name}' should only read"


def test_build_runs_the_readme_commands_and_deploys_pages():
    wf = _load()
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert "pull_request" in build["if"] and "!=" in build["if"]
    runs = _runs("build")
    assert re.search(r"^make book$", runs, re.M), "the build must run `make book`"
    assert re.search(r"^make check-html$", runs, re.M)
    assert _uses("build", "actions/upload-pages-artifact")[0]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_pull_requests_get_a_smoke_build_and_the_html_check():
    job = _load()["jobs"]["smoke"]
    assert job["if"] == "github.event_name == 'pull_request'"
    lines = [line.strip() for line in _runs("smoke").splitlines()]
    smoke_html = "_build/smoke/_build/html"
    assert lines.index("make smoke-book") < lines.index(f"make check-html HTML={smoke_html}")
    assert _uses("smoke", "actions/upload-artifact")[0]["with"]["path"] == smoke_html


@pytest.mark.parametrize("job", ["smoke", "build"])
def test_data_cached_on_the_database_versions(job):
    key_step = next(s for s in _steps(job) if s.get("id") == "db")
    assert "from ecgutils.data import DATABASES" in key_step["run"]
    cache = _uses(job, "actions/cache")[0]["with"]
    assert cache["key"] == "physionet-${{ steps.db.outputs.key }}"
    env = _load()["jobs"][job]["env"]["ECG_DATA_DIR"]
    assert env.endswith("/" + cache["path"]), "the cache must hold ECG_DATA_DIR"


def test_execution_cache_restored_and_saved():
    restore = _uses("build", "actions/cache/restore")[0]
    save = _uses("build", "actions/cache/save")[0]
    assert restore["with"]["path"] == save["with"]["path"] == "_build/.jupyter_cache"
    assert restore["with"]["key"] == save["with"]["key"]
    assert restore["with"]["restore-keys"] == "jupyter-cache-"
    steps = [s.get("name", s.get("uses")) for s in _steps("build")]
    assert steps.index(restore["name"]) < steps.index("Build the book (make book, real profile, -W -n)") \
        < steps.index(save["name"])
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "cache"


def test_make_targets_the_workflow_calls_exist():
    makefile = (ROOT / "Makefile").read_text()
    for job in ("smoke", "build"):
        for target in re.findall(r"^make ([\w-]+)", _runs(job), re.M):
            assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"no make target {target}"
