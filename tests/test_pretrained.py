"""The pretrained model that ships with ecgutils (issue 25 item 1): the file is there,
loads in safe mode, carries its preprocessing, labels a synthetic record correctly with
no --model, and its card says what its JSON says."""
import json
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import ecgutils as eu
from ecgutils import pretrained
from ecgutils.annotate import InputError
from ecgutils.interpatient import BeatSpec
from conftest import one_error_line, requires_data

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

MODEL = pretrained.default_model_path()
SIDECAR = pretrained.sidecar_path(MODEL)
CARD = MODEL.parent / pretrained.CARD_FILE


def _cli(*args, env=None, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, "-m", "ecgutils", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def _bump(d, at, height, width):
    return height * np.exp(-((d - at) / width) ** 2)


def ectopic_record(fs=360, seconds=180, seed=0):
    """A steady sinus rhythm of identical beats (P, narrow QRS, T) at 72 /min, and after
    every eighth one a ventricular beat: at 55 % of the RR interval, no P wave, a wide QRS
    of another shape, a large opposite T wave, then a full compensatory pause (the next
    sinus beat comes on time).

    Returns the signal (mV), the R samples and the truth (N or V) of each beat.
    """
    rng = np.random.default_rng(seed)
    rr = 60 / 72
    times, kinds, t = [], [], 0.6
    while t < seconds - 1.0:
        times.append(t), kinds.append("N")
        if len(times) % 9 == 8:  # early after this beat; the next sinus beat comes on time
            times.append(t + 0.55 * rr), kinds.append("V")
            t += rr
        t += rr
    times, kinds = np.array(times), np.array(kinds)
    x = np.zeros(int(seconds * fs))
    tt = np.arange(x.size) / fs
    for r, kind in zip(times, kinds):
        near = np.abs(tt - r) < 0.7
        d = tt[near] - r
        if kind == "N":
            x[near] += (_bump(d, -0.16, 0.15, 0.025) + _bump(d, -0.025, -0.1, 0.008)
                        + _bump(d, 0, 1.0, 0.012) + _bump(d, 0.03, -0.2, 0.01)
                        + _bump(d, 0.3, 0.3, 0.05))
        else:
            x[near] += (_bump(d, 0, 1.6, 0.035) + _bump(d, 0.07, -0.6, 0.03)
                        + _bump(d, 0.28, -0.5, 0.07))
    x += 0.1 * np.sin(2 * np.pi * 0.15 * tt) + 0.01 * rng.standard_normal(x.size)
    return x, np.round(times * fs).astype(int), kinds


def _labels_at(table, r_samples, fs):
    """The label of the detected beat within 0.1 s of each true beat ('-' where none)."""
    found = table["sample"].to_numpy()
    i = np.clip(np.searchsorted(found, r_samples), 1, len(found) - 1)
    nearest = np.where(np.abs(found[i - 1] - r_samples) < np.abs(found[i] - r_samples), i - 1, i)
    ok = np.abs(found[nearest] - r_samples) <= 0.1 * fs
    return np.where(ok, table["label"].to_numpy()[nearest], "-")


def test_the_shipped_model_and_its_files_are_there():
    assert MODEL.is_file(), "run `make pretrained`"
    assert SIDECAR.is_file() and CARD.is_file()
    size = MODEL.stat().st_size
    assert size < 3_000_000, f"the shipped model is {size / 1e6:.1f} MB"
    info = json.loads(SIDECAR.read_text())
    assert info["sha256"] == pretrained._sha256(MODEL), "the JSON describes another model file"
    assert info["size_bytes"] == size and info["built_by"] == pretrained.BUILT_BY
    # trained on DS1 only: no DS2 record in training or selection
    assert len(info["members"]) >= 3 and info["seeds"] == [m["seed"] for m in info["members"]]
    for m in info["members"]:
        assert set(m["train_records"]) | set(m["validation_records"]) == set(eu.data.DS1)
        assert not set(m["train_records"]) & set(m["validation_records"])
    assert not set(info["data"]["records"]) & set(eu.data.DS2)


def test_the_shipped_model_loads_in_safe_mode_with_its_spec():
    with zipfile.ZipFile(MODEL) as zf:
        assert not any(n.endswith((".pkl", ".pickle", ".py")) for n in zf.namelist())
    model, pre = eu.experiment.load_model(MODEL, expect=eu.annotate.MODEL_KIND)
    spec = BeatSpec.from_dict(pre["spec"])
    assert BeatSpec.from_dict(spec.to_dict()) == spec
    # an ensemble of seeds with no common validation records: labels by the largest
    # mean probability, no threshold chosen on one seed's patients
    assert spec.operating_point == ()
    members = [layer for layer in model.layers if layer.name.startswith("member_")]
    assert len(members) == len(json.loads(SIDECAR.read_text())["members"])
    info = json.loads(SIDECAR.read_text())
    # compared as specs: a field added since the file was built takes its default on both
    assert spec == BeatSpec.from_dict(info["spec"]), \
        "the file's preprocessing differs from its JSON's"
    loaded, spec2 = eu.annotate.load_classifier(MODEL)  # what annotate checks
    assert spec2 == spec and model.count_params() == loaded.count_params()


def test_the_card_is_what_its_json_makes():
    """The card is generated from the JSON, so it never contradicts it: every figure of
    the JSON is in the card, and the card is exactly model_card(JSON)."""
    info = json.loads(SIDECAR.read_text())
    card = CARD.read_text()
    assert card == pretrained.model_card(info), "edit model_card and re-run make pretrained"
    for where in ("ds2", "external"):
        for key in ("labels", "record_adaptive"):
            for c in ("S", "V"):
                for k in ("se", "ppv", "f1"):
                    assert pretrained._pct(info["figures"][where][key][c][k]) in card
    for words in ("Not a medical device", "DS1", "MLII", "128 Hz", "pacemaker",
                  "atrial fibrillation", "F (fusion)", "make pretrained"):
        assert words in card, words


def test_the_shipped_model_labels_a_synthetic_record():
    """Steady identical beats are N; the early, wide, differently shaped beats are V:
    through eu.annotate_signal with no model given."""
    fs = 360
    x, r, truth = ectopic_record(fs)
    table = eu.annotate_signal(x, fs)
    assert table["readable"].all()
    got = _labels_at(table, r, fs)
    assert (got != "-").all(), "the detector missed beats of a clean record"
    assert (got[truth == "V"] == "V").all(), got[truth == "V"]
    assert (got[truth == "N"] == "N").all(), dict(zip(*np.unique(got[truth == "N"],
                                                                  return_counts=True)))


def test_annotate_without_model_on_an_edf_file(tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    from pyedflib import highlevel

    fs = 250
    x, r, truth = ectopic_record(fs, seconds=120)
    headers = [highlevel.make_signal_header("ECG II", dimension="mV", sample_frequency=fs,
                                            physical_min=-5, physical_max=5)]
    edf = tmp_path / "holter.edf"
    highlevel.write_edf(str(edf), [x], headers, file_type=pyedflib.FILETYPE_EDFPLUS)
    proc = _cli("annotate", edf, "--out", tmp_path / "labels", "--no-report")
    assert proc.returncode == 0, proc.stderr
    table = __import__("pandas").read_csv(tmp_path / "labels" / "holter_beats.csv")
    got = _labels_at(table, r, fs)
    assert (got[truth == "V"] == "V").all() and (got[truth == "N"] == "N").all()
    ann = wfdb.rdann(str(tmp_path / "labels" / "holter"), "cls")
    assert ann.symbol.count("V") == (truth == "V").sum()


def test_a_missing_packaged_model_is_one_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "gone" / pretrained.MODEL_FILE
    monkeypatch.setattr(pretrained, "default_model_path", lambda: missing)
    with pytest.raises(InputError, match="make pretrained"):
        eu.annotate_signal(np.zeros(2500), 250)
    x, _, _ = ectopic_record(250, seconds=20)
    csv = tmp_path / "rec.csv"
    np.savetxt(csv, x, fmt="%.4f")
    from ecgutils.own_recording import annotate_files

    with pytest.raises(InputError, match="make pretrained"):
        annotate_files([csv], None, tmp_path / "out", fs=250, progress=False)
    assert not (tmp_path / "out").exists()


def test_the_command_line_names_a_missing_packaged_model(tmp_path):
    """Through the real command: a package copy without its model file."""
    import shutil

    copy = tmp_path / "pkg"
    shutil.copytree(MODEL.parents[1], copy / "ecgutils",
                    ignore=shutil.ignore_patterns("*.keras", "__pycache__"))
    x, _, _ = ectopic_record(250, seconds=20)
    csv = tmp_path / "rec.csv"
    np.savetxt(csv, x, fmt="%.4f")
    proc = _cli("annotate", csv, "--fs", "250", "--out", tmp_path / "out",
                env={"PYTHONPATH": str(copy)}, cwd=copy)  # python -m puts the cwd first
    one_error_line(proc, "packaged model", "make pretrained", "--model")
    assert str(copy) in proc.stderr and not (tmp_path / "out").exists()


def test_build_refuses_to_replace_a_file_it_did_not_write(tmp_path):
    mine = tmp_path / "mine.keras"
    mine.write_bytes(b"someone's model")
    with pytest.raises(InputError, match="not written by"):
        pretrained.build(mine)
    assert mine.read_bytes() == b"someone's model"
    with pytest.raises(InputError, match=".keras"):
        pretrained.build(tmp_path / "model.h5")


@requires_data
@pytest.mark.realdata
def test_the_shipped_model_on_an_external_record_agrees_with_a_fresh_copy(tmp_path):
    """One QT Database record from another database (sel803, MIT-BIH Supraventricular
    Arrhythmia): the shipped file and a fresh copy of it, loaded anew, give the same
    labels, and the model finds that record's V beats."""
    import shutil

    copy = tmp_path / "copy.keras"
    shutil.copy(MODEL, copy)
    rec = eu.recordings.read_recording(eu.data.database_dir("qtdb") / "sel803")
    shipped = eu.annotate_signal(rec.signal, rec.fs)
    fresh = eu.annotate_signal(rec.signal, rec.fs, copy)
    assert (shipped["label"] == fresh["label"]).all()
    np.testing.assert_allclose(shipped["p_V"], fresh["p_V"], atol=1e-6)
    ann = wfdb.rdann(str(eu.data.database_dir("qtdb") / "sel803"), "atr")
    ref_v = np.isin(ann.symbol, list("VEr")).sum()
    got_v = int((shipped["label"] == "V").sum())
    assert ref_v > 0 and 0.5 * ref_v <= got_v <= 2 * ref_v, (ref_v, got_v)


@requires_data
@pytest.mark.realdata
@pytest.mark.slow
def test_the_json_figures_are_the_shipped_models():
    """DS2 and the other databases' records, predicted anew with the shipped file, give
    the figures its JSON (and so its card) states."""
    model, spec = eu.annotate.load_classifier(MODEL)
    figures = pretrained.evaluate_pretrained(model, spec)
    info = json.loads(SIDECAR.read_text())
    for where in ("ds2", "external"):
        assert figures[where]["beats"] == info["figures"][where]["beats"]
        assert figures[where]["records"] == info["figures"][where]["records"]
        for key in ("labels", "record_adaptive"):
            for c in ("N", "S", "V"):
                for k in ("se", "ppv", "f1"):
                    assert figures[where][key][c][k] == pytest.approx(
                        info["figures"][where][key][c][k], abs=2e-3), (where, key, c, k)


def test_pip_install_ships_the_model_and_its_card():
    """pyproject's package data names the three files (a wheel built from it holds them:
    checked with `pip wheel .` when this was written)."""
    import tomllib

    config = tomllib.loads((MODEL.parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "ecgutils.pretrained" in config["packages"]
    assert set(config["package-data"]["ecgutils.pretrained"]) >= {MODEL.name, SIDECAR.name,
                                                                  CARD.name}
