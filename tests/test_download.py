"""The PhysioNet downloader, against a local HTTP server on 127.0.0.1 serving fixtures."""
import hashlib
import http.server
import threading
from functools import partial

import pytest

import ecgutils as eu


class _Handler(http.server.SimpleHTTPRequestHandler):
    short_paths: set = set()

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.rsplit("/", 1)[-1] in self.short_paths:  # promise more bytes than sent
            body = b"x" * 10
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def physionet(tmp_path, make_record):
    """A fake PhysioNet tree: <site>/testdb/1.0.0/{records, RECORDS, SHA256SUMS.txt}."""
    folder, _, _ = make_record(name="900")
    make_record(name="901")
    site = tmp_path / "site"
    release = site / "testdb" / "1.0.0"
    release.mkdir(parents=True)
    for f in folder.iterdir():
        (release / f.name).write_bytes(f.read_bytes())
    (release / "sub").mkdir()
    (release / "sub" / "ignored.txt").write_text("not a record file\n")

    def write_sums(corrupt=()):
        lines = []
        for f in sorted(p for p in release.rglob("*") if p.is_file() and p.name != "SHA256SUMS.txt"):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            if f.name in corrupt:
                digest = "0" * 64
            lines.append(f"{digest}  {f.relative_to(release).as_posix()}")
        (release / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n")

    write_sums()
    handler = partial(_Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/testdb/1.0.0"
    yield url, release, write_sums
    _Handler.short_paths = set()
    server.shutdown()
    server.server_close()


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_fetch_good_checksums(physionet, tmp_path):
    url, release, _ = physionet
    dest = eu.data.fetch_database("testdb", root=tmp_path / "root", base_url=url, progress=False)
    assert _files(dest) == ["900.atr", "900.dat", "900.hea", "901.atr", "901.dat", "901.hea",
                            "RECORDS", "SHA256SUMS.txt"]   # the list is kept, for offline checks
    for name in _files(dest)[:-1]:
        assert (dest / name).read_bytes() == (release / name).read_bytes()
    assert "sub/ignored.txt" not in (dest / "SHA256SUMS.txt").read_text()   # top level only
    rec = eu.data.load_record("901", "testdb", root=tmp_path / "root")
    assert rec.p_signal.shape[1] == 2


def test_fetch_some_records_only(physionet, tmp_path):
    url, _, _ = physionet
    dest = eu.data.fetch_database("testdb", records=["901"], root=tmp_path / "r", base_url=url,
                                  progress=False)
    assert _files(dest) == ["901.atr", "901.dat", "901.hea", "SHA256SUMS.txt"]


def test_fetch_bad_checksum_names_file_and_keeps_nothing(physionet, tmp_path):
    url, _, write_sums = physionet
    write_sums(corrupt={"900.dat"})
    with pytest.raises(eu.data.ChecksumError, match=r"900\.dat: SHA-256 .* does not match"):
        eu.data.fetch_database("testdb", root=tmp_path / "root", base_url=url, progress=False)
    dest = tmp_path / "root" / "testdb"
    assert "900.dat" not in _files(dest)
    assert not [n for n in _files(dest) if n.endswith(".part")]


def test_fetch_replaces_a_corrupt_local_file(physionet, tmp_path):
    url, release, _ = physionet
    dest = tmp_path / "root" / "testdb"
    dest.mkdir(parents=True)
    (dest / "900.dat").write_bytes(b"garbage")
    eu.data.fetch_database("testdb", records=["900"], root=tmp_path / "root", base_url=url,
                           progress=False)
    assert (dest / "900.dat").read_bytes() == (release / "900.dat").read_bytes()


def test_fetch_partial_transfer_leaves_nothing(physionet, tmp_path):
    url, _, _ = physionet
    _Handler.short_paths = {"901.dat"}
    with pytest.raises((ConnectionError, eu.data.ChecksumError), match=r"901\.dat"):
        eu.data.fetch_database("testdb", records=["901"], root=tmp_path / "root", base_url=url,
                               progress=False)
    assert "901.dat" not in _files(tmp_path / "root" / "testdb")
    assert not [n for n in _files(tmp_path / "root" / "testdb") if n.endswith(".part")]


def test_fetch_unknown_record(physionet, tmp_path):
    url, _, _ = physionet
    with pytest.raises(FileNotFoundError, match=r"no records \['999'\]"):
        eu.data.fetch_database("testdb", records=["999"], root=tmp_path / "r", base_url=url)


def test_fetch_offline_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectionError, match="checksum list of 'testdb'.*ECG_DATA_DIR"):
        eu.data.fetch_database("testdb", root=tmp_path, base_url="http://127.0.0.1:9/testdb/1.0.0")


def test_physionet_url_override(physionet, tmp_path, monkeypatch):
    url, _, _ = physionet
    monkeypatch.setitem(eu.data.DATABASES, "testdb", "1.0.0")
    monkeypatch.setenv("ECG_PHYSIONET_URL", url.rsplit("/testdb", 1)[0])
    monkeypatch.delenv("ECG_DATA_DIR", raising=False)   # the default cache: downloads allowed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = eu.data.ensure_records("testdb", ["900"])
    assert folder == tmp_path / "cache" / "ecgutils" / "testdb"
    assert (folder / "900.hea").is_file()
    # ensure_records checks .dat and .atr too, not only .hea (issue 15 item 1): a lost
    # .atr or a damaged .dat is fetched again into the cache
    (folder / "900.atr").unlink()
    (folder / "900.dat").write_bytes(b"garbage")
    eu.data.ensure_records("testdb", ["900"])
    assert eu.data.beat_table("testdb", ["900"], root=folder.parent).shape[0] > 0
    assert eu.data.load_record("900", "testdb", root=folder.parent).p_signal.shape[1] == 2


def test_ecg_data_dir_typo_creates_nothing_and_downloads_nothing(tmp_path, monkeypatch):
    # issue 15 item 7: a misspelled ECG_DATA_DIR, or one pointing at mitdb/ itself
    def no_network(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(eu.data, "fetch_database", no_network)
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path / "shraed" / "data"))
    with pytest.raises(FileNotFoundError, match=r"No 'mitdb' recordings in .*shraed.*does not "
                                                r"exist: check its spelling"):
        eu.data.ensure_records("mitdb", ["100"])
    assert not (tmp_path / "shraed").exists()
    (tmp_path / "data" / "mitdb").mkdir(parents=True)
    (tmp_path / "data" / "mitdb" / "RECORDS").write_text("100\n")
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path / "data" / "mitdb"))
    with pytest.raises(FileNotFoundError, match=r"looks like a database folder itself: "
                                                r"ECG_DATA_DIR must name the folder that holds it"):
        eu.data.ensure_records("mitdb")
    assert not (tmp_path / "data" / "mitdb" / "mitdb").exists()


def test_ecg_data_dir_with_missing_files_names_them(make_record, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(eu.data, "fetch_database", no_network)
    folder, name, _ = make_record(name="900")
    monkeypatch.setenv("ECG_DATA_DIR", str(folder.parent))
    assert eu.data.ensure_records("testdb", ["900"]) == folder
    (folder / "900.dat").unlink()                      # the header is there, the signal is not
    with pytest.raises(FileNotFoundError, match=r"lacks files of 1 record\(s\): 900: 900\.dat\. "
                                                r"Fetch them with `python -m ecgutils fetch "
                                                r"testdb --records 900`"):
        eu.data.ensure_records("testdb", ["900"])
    make_record(name="901")
    (folder / "SHA256SUMS").write_text("0" * 64 + "  901.atr\n")
    with pytest.raises(eu.data.ChecksumError, match=r"901\.atr does not match its SHA-256"):
        eu.data.ensure_records("testdb", ["901"])
    (folder / "901.atr").unlink()                      # listed in SHA256SUMS: must be there
    with pytest.raises(FileNotFoundError, match=r"901: 901\.atr"):
        eu.data.ensure_records("testdb", ["901"])


def test_cli_fetch(physionet, tmp_path, monkeypatch, capsys):
    from ecgutils.__main__ import main

    url, _, _ = physionet
    monkeypatch.setitem(eu.data.DATABASES, "testdb", "1.0.0")
    monkeypatch.setenv("ECG_PHYSIONET_URL", url.rsplit("/testdb", 1)[0])
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path / "cli"))
    main(["fetch", "testdb", "--records", "901"])       # asked: downloads into ECG_DATA_DIR
    assert (tmp_path / "cli" / "testdb" / "901.dat").is_file()
    assert "testdb:" in capsys.readouterr().out
    monkeypatch.setenv("ECG_PHYSIONET_URL", "http://127.0.0.1:9")
    with pytest.raises(SystemExit) as exit_:
        main(["fetch", "testdb", "--records", "900"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.startswith("error: could not fetch the checksum list")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
