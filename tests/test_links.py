"""Links, checked offline: the repository is named once (``_config.yml``) and every Colab
cell, Colab button, README and book link agrees with it; PhysioNet links name the database
versions ``ecgutils.data`` downloads, and files its ``SHA256SUMS`` lists; local links in
the Markdown point at files that exist. (No network here: nothing is fetched.)"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

import sync_repository
from conftest import ROOT

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CONFIG = sync_repository.config()
TEXT_FILES = sorted([ROOT / "README.md", *(ROOT / "book").glob("*.md"),
                     *(ROOT / "notebooks").glob("[0-9][0-9]_*.py"), *(ROOT / "ecgutils").glob("*.py")])
URL = re.compile(r"https?://[^\s)\"'<>`\]]+")


def _urls(path):
    return [u.rstrip(".,;:") for u in URL.findall(path.read_text())]


def test_repository_is_on_github_and_main():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", CONFIG["url"])
    assert CONFIG["branch"] == "main", "Colab buttons and install cells must follow main"


def test_published_url_is_github_pages_of_the_repository():
    owner, repo = CONFIG["url"].removeprefix("https://github.com/").split("/")
    assert CONFIG["baseurl"] == f"https://{owner.lower()}.github.io/{repo}/"


def test_every_colab_cell_installs_from_the_configured_repository():
    assert sync_repository.problems() == []
    want = sync_repository.install_spec()
    for name in NOTEBOOKS:  # what Colab opens: the .ipynb
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert "google.colab" in first.source and want in first.source, \
            f"{name}.ipynb: first code cell does not install {want}"
        assert "remove-cell" in first.metadata.get("tags", []), f"{name}: Colab cell shows on the page"


def test_sync_rewrites_a_changed_repository(tmp_path):
    (tmp_path / "notebooks").mkdir()
    src = ROOT / "notebooks" / f"{NOTEBOOKS[0]}.py"
    shutil.copy(src, tmp_path / "notebooks" / src.name)
    config = (ROOT / "_config.yml").read_text().replace(CONFIG["url"], "https://github.com/me/fork")
    (tmp_path / "_config.yml").write_text(config)
    assert sync_repository.problems(tmp_path)
    assert sync_repository.sync(tmp_path) == [tmp_path / "notebooks" / src.name]
    assert sync_repository.problems(tmp_path) == []
    nb = nbformat.read(tmp_path / "notebooks" / f"{NOTEBOOKS[0]}.ipynb", as_version=4)
    assert "ecgutils @ git+https://github.com/me/fork@main" in nb.cells[
        next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")].source


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_github_links_name_the_configured_repository(path):
    for url in _urls(path):
        if url.startswith("https://github.com/"):
            url = re.sub(r"@[\w.-]+$", "", url)  # pip's git+URL@ref
            assert url == CONFIG["url"] or url.startswith(CONFIG["url"] + "/"), \
                f"{path.name}: {url} is not under {CONFIG['url']}"
            rest = url.removeprefix(CONFIG["url"]).strip("/")
            m = re.fullmatch(r"(blob|tree)/([^/]+)/(.+)", rest)
            if m:
                assert m[2] == CONFIG["branch"], f"{path.name}: {url} is not on {CONFIG['branch']}"
                assert (ROOT / m[3]).exists(), f"{path.name}: {url} points at no file"
            else:
                assert rest in ("", "issues", "pulls", "actions") or re.fullmatch(
                    r"issues/\d+|issues/new.*", rest), f"{path.name}: unexpected GitHub link {url}"


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_physionet_links_use_the_versions_the_code_downloads(path):
    from ecgutils.data import DATABASES, PHYSIONET_URL

    assert PHYSIONET_URL == "https://physionet.org/files"
    for url in _urls(path):
        if "physionet.org" not in url:
            continue
        if url.rstrip("/") in ("https://physionet.org", PHYSIONET_URL):
            continue
        m = re.fullmatch(r"https://physionet\.org/(?:files|content)/([\w-]+)/([\d.]+)(/.*)?", url)
        assert m, f"{path.name}: {url} is not a versioned PhysioNet database link"
        db, version, rest = m[1], m[2], (m[3] or "").strip("/")
        assert DATABASES.get(db) == version, \
            f"{path.name}: {url} names {db} {version}; ecgutils.data uses {DATABASES.get(db)}"
        if rest and rest != "SHA256SUMS.txt":
            sums = _sha256sums(db)
            if sums is not None:
                assert rest in sums, f"{path.name}: {url}: {rest} is not in {db}'s SHA256SUMS"


def _sha256sums(db):
    import os

    root = os.environ.get("ECG_DATA_DIR")
    if not root:
        return None
    for name in ("SHA256SUMS.txt", "SHA256SUMS"):
        f = Path(root) / db / name
        if f.is_file():
            return {line.split(maxsplit=1)[1].strip().lstrip("*")
                    for line in f.read_text().splitlines() if len(line.split()) == 2}
    return None


def test_download_url_is_built_from_database_and_version(monkeypatch, tmp_path):
    """``fetch_database`` asks for ``<PHYSIONET_URL>/<db>/<version>/SHA256SUMS.txt`` first."""
    from ecgutils import data

    asked = []

    def fake(db, base_url):
        asked.append(base_url)
        raise ConnectionError("offline")

    monkeypatch.setattr(data, "_read_checksums", fake)
    monkeypatch.delenv("ECG_PHYSIONET_URL", raising=False)
    for db, version in data.DATABASES.items():
        with pytest.raises(ConnectionError):
            data.fetch_database(db, root=tmp_path, progress=False)
        assert asked[-1] == f"https://physionet.org/files/{db}/{version}"


MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted((ROOT / "book").glob("*.md"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_local_markdown_links_point_at_files(path):
    for target in MD_LINK.findall(path.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = (path.parent / target.split("#")[0]).resolve()
        assert file.exists(), f"{path.name}: link to {target}, which does not exist"
