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
from ecgutils.interpatient import BeatSpec
from conftest import one_error_line, requires_data, synthetic_ecg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb


@pytest.fixture(scope="module")
def forest_file(tmp_path_factory):
    """A small chapter-07 random forest (on random beats) saved the way the chapter saves it."""
    from sklearn.ensemble import RandomForestClassifier

    spec = BeatSpec()
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(90, spec.window_length, spec.n_channels)).astype("float32")
    rr = rng.uniform(0.5, 1.5, (90, len(spec.feature_names))).astype("float32")
    beats = eu.beats.Beats(np.full(90, "r"), np.arange(90), list("NSV") * 30, windows=windows,
                           rr=rr)
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
    assert proc.returncode == 2 and "learning period" in proc.stderr  # a 60-s record
    proc = _cli("score", base, "--ref", "atr", "--test", "cls", "--per-record",
                "--learning-s", "0")
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
    one_error_line(_cli("annotate", base, "--model", tmp_path / "bare.skops", "--out",
                         tmp_path / "o"), "bare.skops", "no ecgutils preprocessing")
    (tmp_path / "cut.skops").write_bytes(forest_file.read_bytes()[:100])  # a broken copy
    one_error_line(_cli("annotate", base, "--model", tmp_path / "cut.skops", "--out",
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
    one_error_line(_cli("annotate", tmp_path / "nope", "--model", model_file, "--out", tmp_path),
                    "nope", "no header")


def test_annotate_refuses_a_missing_model(tmp_path):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    one_error_line(_cli("annotate", base, "--model", tmp_path / "none.keras", "--out", tmp_path),
                    "none.keras", "does not exist")


def test_annotate_refuses_a_model_of_another_chapter(tmp_path, model_file):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    model, _ = eu.experiment.load_model(model_file)
    plain = tmp_path / "02_image_cnn.keras"
    model.save(plain)  # saved by plain Keras: no preprocessing inside
    one_error_line(_cli("annotate", base, "--model", plain, "--out", tmp_path),
                    "02_image_cnn.keras", "no ecgutils preprocessing")
    other = tmp_path / "06.keras"
    eu.experiment.save_model(model, other, {"kind": "beat_cnn1d"})
    one_error_line(_cli("annotate", base, "--model", other, "--out", tmp_path),
                    "06.keras", "'beat_cnn1d' model")


def test_annotate_refuses_a_too_short_record(tmp_path, model_file):
    base, _ = _write(tmp_path / "db", "801", 128, 5)
    one_error_line(_cli("annotate", base, "--model", model_file, "--out", tmp_path / "o"),
                    "801", "at least 10 s")
    assert not (tmp_path / "o" / "801.cls").exists()


def test_annotate_refuses_a_record_with_no_usable_lead(tmp_path, model_file):
    flat = np.zeros((128 * 30, 1))
    base, _ = _write(tmp_path / "db", "802", 128, 30, signal=flat)
    one_error_line(_cli("annotate", base, "--model", model_file, "--out", tmp_path / "o"),
                    "802", "no usable lead")


def test_score_refuses_a_missing_annotation_file(tmp_path):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    one_error_line(_cli("score", base, "--test", "cls"), "800.cls")


# --------------------------------------------------------------------------- issue 24
# annotate writes only files it creates; model files cannot run code; score checks its
# inputs; unreadable signal is not classified. Library calls where the message is the
# same as the command line's (faster than a process each).
from ecgutils.annotate import InputError, annotate_records, score_records  # noqa: E402


def _files(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("ext", ["atr", "hea", "dat", "ATR"])
def test_annotate_never_writes_over_a_records_own_files(tmp_path, forest_file, ext):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    before = _files(tmp_path / "db")
    with pytest.raises(InputError, match="record's own files"):
        annotate_records([base], forest_file, tmp_path / "db", ext, progress=lambda s: None)
    assert _files(tmp_path / "db") == before


def test_annotate_never_writes_over_a_signal_file_the_header_names(tmp_path, forest_file):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    hea = base.with_suffix(".hea")
    hea.write_text(hea.read_text().replace("800.dat", "800.sig"))
    base.with_suffix(".dat").rename(base.with_suffix(".sig"))
    before = _files(tmp_path / "db")
    proc = _cli("annotate", base, "--model", forest_file, "--out", tmp_path / "db", "--ext",
                "sig", "--force")
    one_error_line(proc, "800.sig", "files of a record")
    assert _files(tmp_path / "db") == before


def test_annotate_refuses_an_existing_file_and_force_keeps_a_backup(tmp_path, forest_file):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    out = tmp_path / "out"
    out.mkdir()
    (out / "800.cls").write_text("my own notes")
    one_error_line(_cli("annotate", base, "--model", forest_file, "--out", out),
                    "800.cls", "exists", "--force")
    assert (out / "800.cls").read_text() == "my own notes"
    proc = _cli("annotate", base, "--model", forest_file, "--out", out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (out / "800.cls.bak").read_text() == "my own notes"
    assert "800.cls.bak" in proc.stdout
    assert len(wfdb.rdann(str(out / "800"), "cls").sample) > 20


def test_two_records_of_one_name_into_one_folder_are_refused(tmp_path, forest_file):
    a, _ = _write(tmp_path / "db1", "800", 128, 30)
    b, _ = _write(tmp_path / "db2", "800", 128, 30, signal=None)
    with pytest.raises(InputError, match="both be written"):
        annotate_records([a, b], forest_file, tmp_path / "out", progress=lambda s: None)
    assert not (tmp_path / "out").exists()


def test_a_run_that_fails_on_a_later_record_writes_nothing(tmp_path, forest_file):
    good, _ = _write(tmp_path / "db", "800", 128, 30)
    flat, _ = _write(tmp_path / "db", "801", 128, 30, signal=np.zeros((128 * 30, 1)))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match="no usable lead"):
        annotate_records([good, flat], forest_file, out, progress=lambda s: None)
    assert list(out.iterdir()) == []
    annotate_records([good], forest_file, out, progress=lambda s: None)
    assert [p.name for p in out.iterdir()] == ["800.cls"]


def test_a_header_without_a_sampling_rate_or_with_rate_0_is_refused(tmp_path, forest_file):
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    hea = base.with_suffix(".hea")
    lines = hea.read_text().splitlines()
    for record_line in (" ".join(lines[0].split()[:2]), lines[0].replace(" 128 ", " 0 ")):
        hea.write_text("\n".join([record_line] + lines[1:]) + "\n")
        with pytest.raises(InputError, match="800.hea"):
            annotate_records([base], forest_file, tmp_path / "out", progress=lambda s: None)
    assert not (tmp_path / "out").exists()


def test_a_multi_segment_record_is_annotated(tmp_path, forest_file):
    folder = tmp_path / "db"
    folder.mkdir()
    x, peaks = synthetic_ecg(128, 60)
    half = len(x) // 2
    for name, part in (("m_1", x[:half]), ("m_2", x[half:])):
        wfdb.wrsamp(name, fs=128, units=["mV"], sig_name=["MLII"], p_signal=part[:, None],
                    fmt=["16"], adc_gain=[200], baseline=[0], write_dir=str(folder))
    (folder / "m.hea").write_text(f"m/2 1 128 {len(x)}\nm_1 {half}\nm_2 {len(x) - half}\n")
    lines = []
    annotate_records([folder / "m"], forest_file, tmp_path / "out", progress=lines.append)
    assert "from lead MLII" in lines[-1]
    ann = wfdb.rdann(str(tmp_path / "out" / "m"), "cls")
    beats = np.isin(ann.symbol, list("NSV"))
    assert abs(beats.sum() - len(peaks)) <= 2


def test_noise_is_not_classified(tmp_path, forest_file):
    noise = np.random.default_rng(0).normal(0, 0.3, (128 * 60, 1))
    base, _ = _write(tmp_path / "db", "800", 128, 60, signal=noise)
    one_error_line(_cli("annotate", base, "--model", forest_file, "--out", tmp_path / "out"),
                    "800", "no usable lead", "unreadable, mostly noise")
    assert not (tmp_path / "out").exists()
    x, peaks = synthetic_ecg(128, 60)
    x[30 * 128:] = noise[30 * 128:, 0]  # half a record of noise
    base, _ = _write(tmp_path / "db", "801", 128, 60, signal=x[:, None])
    lines = []
    annotate_records([base], forest_file, tmp_path / "out", progress=lines.append)
    assert "50.0% unreadable (noise 30 s" in lines[-1], lines
    ann = wfdb.rdann(str(tmp_path / "out" / "801"), "cls")
    beats = np.asarray(ann.sample)[np.isin(ann.symbol, list("NSV"))]
    assert beats.max() < 30 * 128 and abs(len(beats) - np.sum(peaks < 30 * 128)) <= 2


def test_a_nan_stretch_is_reported_and_a_switch_of_lead_says_why(tmp_path, forest_file):
    x, peaks = synthetic_ecg(128, 60)
    sig = np.stack([x, 0.5 * x], axis=1)
    sig[20 * 128:20 * 128 + 10, 0] = np.nan
    base, _ = _write(tmp_path / "db", "800", 128, 60, signal=sig)
    lines = []
    annotate_records([base], forest_file, tmp_path / "out", progress=lines.append)
    assert "from lead MLII" in lines[-1] and "missing 5 s" in lines[-1], lines
    ann = wfdb.rdann(str(tmp_path / "out" / "800"), "cls")
    assert ann.symbol.count("~") == 2 and ann.subtype[ann.symbol.index("~")] == -1
    sig[:, 0] = 0.0  # MLII flat throughout: V1 is used, and the line says why
    base, _ = _write(tmp_path / "db", "801", 128, 60, signal=sig)
    lines = []
    annotate_records([base], forest_file, tmp_path / "out", progress=lines.append)
    assert any("lead MLII is 100% unreadable, mostly flat" in s for s in lines), lines
    assert "from lead V1" in lines[-1]


class _Payload:
    """Unpickling this writes a file: proof that code from a model file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path(self.marker).write_text, ("ran",))


@pytest.mark.parametrize("name", ["m.joblib", "m.pkl", "m.skops", "m.keras"])
def test_a_pickle_model_is_refused_without_being_opened(tmp_path, name):
    import pickle

    marker = tmp_path / "marker"
    model = tmp_path / name
    model.write_bytes(pickle.dumps(_Payload(marker)))
    base, _ = _write(tmp_path / "db", "800", 128, 30)
    proc = _cli("annotate", base, "--model", model, "--out", tmp_path / "o")
    one_error_line(proc, name, "pickle", "Re-create")
    assert not marker.exists() and proc.stdout == ""


def test_an_old_joblib_forest_is_refused_with_how_to_re_create_it(tmp_path, forest_file):
    import joblib

    model, pre = eu.experiment.load_model(forest_file)
    joblib.dump({"preprocessing": pre, "model": model}, tmp_path / "old.joblib", compress=3)
    (tmp_path / "renamed.skops").write_bytes((tmp_path / "old.joblib").read_bytes())
    for path in (tmp_path / "old.joblib", tmp_path / "renamed.skops"):
        with pytest.raises(ValueError, match="07_new_patients_forest.skops"):
            eu.experiment.load_model(path)


def test_a_forest_file_with_an_untrusted_type_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "f.skops"
    eu.experiment.save_model(FunctionTransformer(func=print), path, {"kind": MODEL_KIND})
    assert "builtins.print" in sio.get_untrusted_types(file=path)
    with pytest.raises(ValueError, match="trusted list"):
        eu.experiment.load_model(path)


def test_a_keras_lambda_layer_is_refused_not_run(tmp_path, model_file):
    import keras

    marker = tmp_path / "marker"
    inp = keras.Input((2,))
    out = keras.layers.Lambda(lambda t: t * 2)(inp)
    path = tmp_path / "lambda.keras"
    eu.experiment.save_model(keras.Model(inp, out), path, {"kind": MODEL_KIND})
    with pytest.raises(ValueError, match="lambda.keras"):
        eu.experiment.load_model(path)
    assert not marker.exists()


def test_a_keras_model_of_the_wrong_architecture_gets_one_clear_line(tmp_path):
    import keras

    inp = keras.Input((90, 2))
    model = keras.Model(inp, keras.layers.Dense(3)(keras.layers.Flatten()(inp)))
    path = tmp_path / "one_input.keras"
    eu.experiment.save_model(model, path, {"kind": MODEL_KIND, "spec": BeatSpec().to_dict()})
    with pytest.raises(InputError, match="re-run chapter 07"):
        eu.annotate.load_classifier(path)


def test_a_plain_scikit_learn_forest_gets_one_clear_line(tmp_path, forest_file):
    model, pre = eu.experiment.load_model(forest_file)
    path = tmp_path / "plain.skops"
    pre.pop("wrapper")
    eu.experiment.save_model(model.forest, path, pre)  # not wrapped in BeatForest
    with pytest.raises(InputError, match="bare RandomForestClassifier.*BeatForest"):
        eu.annotate.load_classifier(path)


def _score_setup(tmp_path):
    base, peaks = _write(tmp_path / "db", "800", 128, 60)
    labels = ["N"] * len(peaks)
    labels[5] = "V"
    wfdb.wrann("800", "cls", sample=peaks, symbol=labels, fs=128, write_dir=str(tmp_path / "db"))
    return base, peaks


def test_score_refuses_a_reference_cut_in_half(tmp_path):
    base, _ = _score_setup(tmp_path)
    atr = base.with_suffix(".atr")
    data = atr.read_bytes()
    atr.write_bytes(data[: len(data) // 2 // 2 * 2])
    one_error_line(_cli("score", base, "--test", "cls"), "800.atr", "end marker")


def test_score_refuses_a_file_at_another_rate_or_beats_outside_the_signal(tmp_path):
    base, peaks = _score_setup(tmp_path)
    wfdb.wrann("800", "cls", sample=peaks, symbol=["N"] * len(peaks), fs=360,
               write_dir=str(tmp_path / "db"))
    with pytest.raises(InputError, match="800.cls is at 360 Hz"):
        score_records([base], test="cls")
    wfdb.wrann("800", "cls", sample=np.append(peaks, 128 * 90), symbol=["N"] * (len(peaks) + 1),
               fs=128, write_dir=str(tmp_path / "db"))
    with pytest.raises(InputError, match="outside the signal"):
        score_records([base], test="cls")


def test_score_with_no_beats_gets_one_clear_line_and_absent_classes_say_n_a(tmp_path):
    base, peaks = _score_setup(tmp_path)
    wfdb.wrann("800", "qrs", sample=np.array([100]), symbol=["~"], fs=128,
               write_dir=str(tmp_path / "db"))
    one_error_line(_cli("score", base, "--ref", "qrs", "--test", "cls"), "800.qrs",
                    "no beat annotations")
    # no beats to score (all missed); the record is shorter than EC57's learning period
    proc = _cli("score", base, "--test", "qrs", "--per-record", "--learning-s", "0")
    assert proc.returncode == 0, proc.stderr
    assert "S: Se n/a  +P n/a  F1 n/a" in proc.stdout and "QRS Se 0.00%" in proc.stdout
    assert "F1 0.000" in proc.stdout  # N and V were there and missed


def test_a_damaged_signal_of_a_users_own_record_does_not_say_fetch(tmp_path, forest_file):
    base, _ = _write(tmp_path / "myholter", "800", 128, 30)
    dat = base.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(InputError, match="truncated") as err:
        annotate_records([base], forest_file, tmp_path / "out", progress=lambda s: None)
    assert "fetch" not in str(err.value) and "again" in str(err.value)
