"""Every chapter parses papermill's -p values the same way and refuses a bad one before
any work, naming the parameter (issue 15 item 6); results_dir is checked first (item 8).

Each case runs the chapter's parameters cell, papermill's injected cell (made by
papermill's own code from the command-line text) and the chapter's first code cell, in
this process, with the first piece of real work (fetching data, importing TensorFlow)
replaced by an exception: a bad value must stop the cell before it.
"""
import pytest

import ecgutils as eu
from conftest import ROOT, requires_data

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-9]_*.py"))


class WorkStarted(Exception):
    pass


def _cells(name):
    import jupytext

    cells = jupytext.read(ROOT / "notebooks" / f"{name}.py").cells
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    first = next(c for c in cells[i + 1:] if c.cell_type == "code")
    return cells[i].source, first.source


def _run(name, cli, monkeypatch, tmp_path, results_env=True):
    """The chapter's checks with papermill's ``-p NAME TEXT`` values; returns the namespace."""
    from papermill.cli import _resolve_type
    from papermill.translators import PythonTranslator

    def work(*args, **kwargs):
        raise WorkStarted

    if results_env:
        monkeypatch.setenv("ECG_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(eu.data, "ensure_records", work)
    monkeypatch.setattr(eu.models, "import_tensorflow", work)
    monkeypatch.chdir(ROOT / "notebooks")
    params, checks = _cells(name)
    ns = {"__name__": "__main__"}
    exec(params, ns)
    exec(PythonTranslator.codify({k: _resolve_type(v) for k, v in cli.items()}), ns)
    try:
        exec(checks, ns)
    except WorkStarted:
        ns["__work_started__"] = True
    return ns


BAD = [(name, cli, match) for name in NOTEBOOKS for cli, match in [
    ({"seed": "1.5"}, "parameter 'seed' must be an integer >= 0, got 1.5"),
    ({"seed": "abc"}, "parameter 'seed' must be an integer >= 0, got 'abc'"),
    ({"smoke": "maybe"}, "parameter 'smoke' must be True or False, got 'maybe'"),
]] + [
    ("01_data_tour", {"records": "['100', '999']"}, r"record\(s\) \['999'\] are not in database 'mitdb'"),
    ("01_data_tour", {"records": "[100, 208"}, "parameter 'records' must be a list of texts"),
    ("02_image_cnn", {"epochs": "1.5"}, "parameter 'epochs' must be an integer >= 1, got 1.5"),
    ("02_image_cnn", {"before_s": "abc"}, "parameter 'before_s' must be a number >= 0"),
    ("03_st_t_dense_rnn", {"database": "edbx"}, r"parameter 'database' must be one of \('qtdb', 'edb'\)"),
    ("03_st_t_dense_rnn", {"st_folds": "1"}, "parameter 'st_folds' must be an integer >= 2"),
    ("03_st_t_dense_rnn", {"window_s": "5"}, "parameter 'window_s' must be a number >= 0.04 and <= 2"),
    ("04_spectrogram_cnn", {"spread_seeds": "[1, 'x']"}, "parameter 'spread_seeds' must be a list of integers"),
    ("04_spectrogram_cnn", {"protocols": "['dsx']"}, "parameter 'protocols' must be a list of texts with items from"),
    ("04_spectrogram_cnn", {"epochs": "0"}, "parameter 'epochs' must be an integer >= 1, got 0"),
    ("05_smote_spectrogram_cnn", {"spectrogram": "{nperseg: 32}"}, "parameter 'spectrogram' must be a dict"),
    ("05_smote_spectrogram_cnn", {"spectrogram": "{'nperseg': 32, 'noverlap': 40}"},
     r"parameter 'spectrogram' .*need 0 <= noverlap \(40\) < nperseg \(32\)"),
    ("05_smote_spectrogram_cnn", {"spectrogram": "{'nfft': 64}"}, "parameter 'spectrogram' must be a dict with keys from"),
    ("05_smote_spectrogram_cnn", {"spectrogram": "{'method': 'wavelet'}"},
     r"parameter 'spectrogram' .*method 'stft' or 'mel', got .*'wavelet'"),
    ("05_smote_spectrogram_cnn", {"r_peaks": "qrs"}, "parameter 'r_peaks' must be one of"),
    ("06_beat_1d_cnn", {"normal_fraction": "0"}, "parameter 'normal_fraction' must be a number > 0"),
    ("06_beat_1d_cnn", {"class_weight_power": "2"}, "parameter 'class_weight_power' must be a number >= 0 and <= 1"),
    ("06_beat_1d_cnn", {"epochs_transfer": "abc"}, "parameter 'epochs_transfer' must be an integer >= 1"),
    ("08_comparison", {"approaches": "['lstm', 'svm']"}, "parameter 'approaches' must be a list of texts with items from"),
    ("08_comparison", {"epochs": "0"}, "parameter 'epochs' must be an integer >= 1"),
    ("08_comparison", {"seeds": "0"}, "parameter 'seeds' must be an integer >= 1"),
    ("08_comparison", {"val_fraction": "0.9"}, "parameter 'val_fraction' must be a number >= 0.1 and <= 0.5"),
    ("09_own_recording", {"minutes": "0.5"}, "parameter 'minutes' must be a number >= 1 and <= 15"),
    ("09_own_recording", {"record": "sel999"}, r"record\(s\) \['sel999'\] are not in database 'qtdb'"),
    ("09_own_recording", {"record": "sel100"}, "parameter 'record' must be a QT Database record from another database"),
]


@requires_data
@pytest.mark.parametrize("name, cli, match", BAD, ids=lambda x: str(x)[:40])
def test_bad_parameter_is_refused_before_any_work(name, cli, match, monkeypatch, tmp_path):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        _run(name, {"smoke": "True", **cli}, monkeypatch, tmp_path)


GOOD = [
    ("01_data_tour", {"records": "['100', '208']"}, "records", ["100", "208"]),   # the README's example
    ("01_data_tour", {"records": "100"}, "records", ["100"]),
    ("02_image_cnn", {"records": "['100', '208']", "seed": "2"}, "records", ["100", "208"]),
    ("03_st_t_dense_rnn", {"records": "sele0104"}, "records", ["sele0104"]),
    ("04_spectrogram_cnn", {"spread_seeds": "1", "smoke": "False"}, "spread_seeds", [1]),
    ("04_spectrogram_cnn", {"protocols": "ds1ds2"}, "protocols", ["ds1ds2"]),
    ("05_smote_spectrogram_cnn", {"spectrogram": "{'noverlap': 16}"}, "spectrogram",
     {"nperseg": 32, "noverlap": 16, "n_freqs": 16, "dynamic_range_db": 60.0, "method": "stft"}),
    ("06_beat_1d_cnn", {"normal_fraction": "0.5", "smoke": "true"}, "normal_fraction", 0.5),
    ("08_comparison", {"approaches": "lstm"}, "approaches", ["lstm"]),
    ("08_comparison", {"epochs": "None", "smoke": "False"}, "epochs", None),
    ("09_own_recording", {"record": "sele0104"}, "record", "sele0104"),
]


@requires_data
@pytest.mark.parametrize("name, cli, key, expected", GOOD, ids=lambda x: str(x)[:40])
def test_text_values_are_parsed(name, cli, key, expected, monkeypatch, tmp_path):
    ns = _run(name, {"smoke": "True", **cli}, monkeypatch, tmp_path)
    assert ns.get("__work_started__"), "the checks should pass and the work start"
    assert ns[key] == expected
    assert ns["results_dir"] == (tmp_path / "results").resolve()      # ECG_RESULTS_DIR


@requires_data
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_unwritable_results_dir_stops_before_any_work(name, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match=rf"results_dir {blocker}/out cannot be created"):
        _run(name, {"smoke": "True", "results_dir": str(blocker / "out")}, monkeypatch, tmp_path)


@requires_data
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_default_results_dir_is_the_repository_results_folder(name, monkeypatch, tmp_path):
    # issue 15 item 9: notebooks run in notebooks/, and "results" means <repo>/results
    monkeypatch.delenv("ECG_RESULTS_DIR", raising=False)
    calls = []
    monkeypatch.setattr(eu.results, "resolve_results_dir",
                        lambda d="results": calls.append(d) or tmp_path / "results")
    ns = _run(name, {"smoke": "True"}, monkeypatch, tmp_path, results_env=False)
    assert ns.get("__work_started__") and calls == ["results"]
    assert eu.results.find_repository_root(ROOT / "notebooks") == ROOT   # -> ROOT / "results"


@requires_data
@pytest.mark.parametrize("name", ["01_data_tour", "02_image_cnn"])
def test_chapters_ask_for_exactly_the_cudb_record_they_use(name, monkeypatch, tmp_path):
    # issue 15 item 11: chapter 02 used every local cudb record ("two recordings" in the
    # prose: MIT-BIH 207 and cu01); a full cudb must not change the experiment
    asked = []

    def record_call(db, records=None, *args, **kwargs):
        asked.append((db, None if records is None else list(records)))
        return eu.data.database_dir(db)

    real_list = eu.data.list_records
    monkeypatch.setenv("ECG_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(eu.data, "ensure_records", record_call)
    monkeypatch.setattr(eu.data, "list_records", lambda db, *a, **k: (
        ["cu01", "cu02", "cu03"] if db == "cudb" else real_list(db, *a, **k)))  # a full cudb
    monkeypatch.chdir(ROOT / "notebooks")
    params, checks = _cells(name)
    ns = {}
    exec(params, ns)
    exec("smoke = True", ns)
    exec(checks, ns)
    assert ("cudb", ["cu01"]) in asked
    assert all(db != "cudb" or recs == ["cu01"] for db, recs in asked)
    if name == "02_image_cnn":
        assert ns["cudb_records"] == ["cu01"]
    source = (ROOT / "notebooks" / f"{name}.py").read_text()
    assert 'list_records("cudb")' not in source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_setup_is_one_call_with_the_chapters_rules_and_checks_every_parameter(name):
    """A chapter's setup is ``eu.book.setup(globals(), "<its name>")``, and its rules
    (eu.book.chapter_rules) check every parameter of its parameters cell."""
    params, setup_cell = _cells(name)
    assert f'eu.book.setup(globals(), "{name}")' in setup_cell
    ns = {}
    exec(params, ns)
    given = {k for k in ns if not k.startswith("__")} - {"smoke", "seed", "results_dir"}
    checked = set(eu.book.chapter_rules(name)["checks"])
    assert given <= checked, sorted(given - checked)
    assert checked <= given, sorted(checked - given)
