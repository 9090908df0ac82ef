"""`python -m ecgutils annotate` and `score`: a saved model on any WFDB record, and each bad
input refused with one `error:` line (no traceback)."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import warnings

import ecgutils as eu
from ecgutils.annotate import MODEL_KIND
from ecgutils.interpatient import BeatSpec, build_interpatient_model
from conftest import requires_data, synthetic_ecg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """An (untrained) chapter-07 model saved the way the chapter saves it."""
    spec = BeatSpec()
    model = build_interpatient_model(spec, rr_train=np.random.default_rng(0).normal(
        1, 0.1, (50, len(spec.rr_features))).astype("float32"))
    path = tmp_path_factory.mktemp("model") / "07_new_patients.keras"
    eu.experiment.save_model(model, path, {"kind": MODEL_KIND, "spec": spec.to_dict()})
    return path


@pytest.fixture(scope="module")
def forest_file(tmp_path_factory):
    """A small chapter-07 random forest (on random beats) saved the way the chapter saves it."""
    from sklearn.ensemble import RandomForestClassifier

    spec = BeatSpec()
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(90, spec.window_length, spec.n_channels)).astype("float32")
    rr = rng.uniform(0.5, 1.5, (90, len(spec.rr_features))).astype("float32")
    beats = eu.interpatient.BeatSet(windows, rr, np.array(list("NSV") * 30), np.full(90, "r"),
                                    np.arange(90))
    fitted = RandomForestClassifier(5, random_state=0).fit(
        eu.interpatient.forest_features(beats, spec), beats.label)
    path = tmp_path_factory.mktemp("model") / "07_new_patients_forest.skops"
    eu.experiment.save_model(eu.interpatient.BeatForest(fitted, spec), path,
                             {"kind": MODEL_KIND, "spec": spec.to_dict()})
    return path


def _write(folder: Path, name: str, fs: float, seconds: float, signal=None, n_sig=2):
    folder.mkdir(parents=True, exist_ok=True)
    x, peaks = synthetic_ecg(fs, seconds)
    sig = np.stack([x, 0.5 * x], axis=1)[:, :n_sig] if signal is None else signal
    wfdb.wrsamp(name, fs=fs, units=["mV"] * sig.shape[1], sig_name=["MLII", "V1"][:sig.shape[1]],
                p_signal=sig, fmt=["16"] * sig.shape[1], adc_gain=[200] * sig.shape[1],
                baseline=[0] * sig.shape[1], write_dir=str(folder))
    wfdb.wrann(name, "atr", sample=peaks, symbol=["N"] * len(peaks), write_dir=str(folder))
    return folder / name, peaks


def _cli(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "ecgutils", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def _one_error_line(proc, *words):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_saved_model_carries_its_preprocessing(model_file):
    with zipfile.ZipFile(model_file) as zf:
        assert eu.experiment.PREPROCESSING_ENTRY in zf.namelist()
    model, pre = eu.experiment.load_model(model_file, expect=MODEL_KIND)
    assert BeatSpec.from_dict(pre["spec"]) == BeatSpec()
    assert model.inputs[0].shape[1:] == (BeatSpec().window_length, BeatSpec().n_channels)


def test_save_model_leaves_nothing_half_written(tmp_path, model_file):
    model, _ = eu.experiment.load_model(model_file)
    with pytest.raises(TypeError):
        eu.experiment.save_model(model, tmp_path / "m.keras", {"not json": object()})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fs", [128, 360])
def test_annotate_then_score_a_synthetic_record(tmp_path, model_file, fs):
    base, peaks = _write(tmp_path / "db", "800", fs, 60)
    out = tmp_path / "labels"
    proc = _cli("annotate", base, "--model", model_file, "--out", out)
    assert proc.returncode == 0, proc.stderr
    ann = wfdb.rdann(str(out / "800"), "cls")
    assert set(ann.symbol) <= {"N", "S", "V"}
    assert len(ann.sample) == len(peaks)
    assert np.abs(ann.sample - peaks).max() <= 0.05 * fs  # beats where the R peaks are
    assert not list(out.glob(".annotate-*")), "temporary folder left behind"
    # score needs the reference beside the test file: score against itself in db/
    os.replace(out / "800.cls", base.with_suffix(".cls"))
    proc = _cli("score", base, "--ref", "atr", "--test", "cls", "--per-record")
    assert proc.returncode == 0, proc.stderr
    assert "QRS Se 100.00%" in proc.stdout and "+P 100.00%" in proc.stdout


def test_annotate_with_a_saved_forest(tmp_path, forest_file):
    base, peaks = _write(tmp_path / "db", "800", 250, 60)
    proc = _cli("annotate", base, "--model", forest_file, "--out", tmp_path / "labels")
    assert proc.returncode == 0, proc.stderr
    ann = wfdb.rdann(str(tmp_path / "labels" / "800"), "cls")
    assert set(ann.symbol) <= {"N", "S", "V"} and len(ann.sample) == len(peaks)


def test_a_forest_file_leaves_nothing_half_written_and_foreign_ones_are_refused(
        tmp_path, forest_file):
    model, pre = eu.experiment.load_model(forest_file, expect=MODEL_KIND)
    assert BeatSpec.from_dict(pre["spec"]) == BeatSpec()
    with pytest.raises(TypeError):
        eu.experiment.save_model(model, tmp_path / "m.skops", {"not json": object()})
    assert list(tmp_path.iterdir()) == []
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    import skops.io as sio

    sio.dump(model.forest, tmp_path / "bare.skops")  # the forest without its preprocessing
    _one_error_line(_cli("annotate", base, "--model", tmp_path / "bare.skops", "--out",
                         tmp_path / "o"), "bare.skops", "no ecgutils preprocessing")
    (tmp_path / "cut.skops").write_bytes(forest_file.read_bytes()[:100])  # a broken copy
    _one_error_line(_cli("annotate", base, "--model", tmp_path / "cut.skops", "--out",
                         tmp_path / "o"), "cut.skops", "re-create")


@requires_data
def test_annotate_and_score_a_qtdb_record(tmp_path, model_file):
    record = eu.data.database_dir("qtdb") / "sel803"
    proc = _cli("annotate", record, "--model", model_file, "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for suffix in (".hea", ".atr"):
        (tmp_path / f"sel803{suffix}").symlink_to(record.with_suffix(suffix))
    proc = _cli("score", tmp_path / "sel803", "--test", "cls")
    assert proc.returncode == 0, proc.stderr
    qrs_se = float(proc.stdout.split("QRS Se ")[1].split("%")[0])
    assert qrs_se > 95, proc.stdout  # the book's detector finds the annotated beats


def test_annotate_refuses_a_missing_record(tmp_path, model_file):
    _one_error_line(_cli("annotate", tmp_path / "nope", "--model", model_file, "--out", tmp_path),
                    "nope", "no header")


def test_annotate_refuses_a_missing_model(tmp_path):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    _one_error_line(_cli("annotate", base, "--model", tmp_path / "none.keras", "--out", tmp_path),
                    "none.keras", "does not exist")


def test_annotate_refuses_a_model_of_another_chapter(tmp_path, model_file):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    model, _ = eu.experiment.load_model(model_file)
    plain = tmp_path / "02_image_cnn.keras"
    model.save(plain)  # saved by plain Keras: no preprocessing inside
    _one_error_line(_cli("annotate", base, "--model", plain, "--out", tmp_path),
                    "02_image_cnn.keras", "no ecgutils preprocessing")
    other = tmp_path / "06.keras"
    eu.experiment.save_model(model, other, {"kind": "beat_cnn1d"})
    _one_error_line(_cli("annotate", base, "--model", other, "--out", tmp_path),
                    "06.keras", "'beat_cnn1d' model")


def test_annotate_refuses_a_too_short_record(tmp_path, model_file):
    base, _ = _write(tmp_path / "db", "801", 128, 5)
    _one_error_line(_cli("annotate", base, "--model", model_file, "--out", tmp_path / "o"),
                    "801", "at least 10 s")
    assert not (tmp_path / "o" / "801.cls").exists()


def test_annotate_refuses_a_record_with_no_usable_lead(tmp_path, model_file):
    flat = np.zeros((128 * 30, 1))
    base, _ = _write(tmp_path / "db", "802", 128, 30, signal=flat)
    _one_error_line(_cli("annotate", base, "--model", model_file, "--out", tmp_path / "o"),
                    "802", "no usable lead")


def test_score_refuses_a_missing_annotation_file(tmp_path):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    _one_error_line(_cli("score", base, "--test", "cls"), "800.cls")
