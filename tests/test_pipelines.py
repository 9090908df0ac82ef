"""Named pipelines (chapter 08): inputs, the registry, the DS2 guard, one run end to end."""
from pathlib import Path

import re

import numpy as np
import pytest

import ecgutils as eu
from conftest import requires_data, synthetic_ecg
from ecgutils import pipelines as pl

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: The input shape (after the beat axis) each pipeline gives its model.
SHAPES = {"image_cnn": [(64, 64, 1)], "dense": [(187, 1)], "simple_rnn": [(187, 1)],
          "lstm": [(187, 1)], "spectrogram_cnn": [(32, 32, 1)], "smote_cnn2d": [(187, 1)],
          "beat_cnn1d": [(187, 1)], "interpatient": [(90, 2), (17,)], "classical": [(22,)]}


def _arrays(inputs):
    """The model's input arrays: ``x``, or each of its inputs."""
    return list(inputs.x) if isinstance(inputs.x, list) else [inputs.x]


def _symbols(n):
    """N beats with an S every 5th and a V every 7th beat (and one F)."""
    s = np.array(["N"] * n, dtype=object)
    s[2::5], s[3::7], s[1] = "A", "V", "F"
    return list(s)


@pytest.fixture
def records(make_record):
    """Two 45-s records of a test database at 360 Hz and one at 250 Hz."""
    out = []
    for name, fs in (("900", 360), ("901", 360), ("902", 250)):
        n_beats = len(synthetic_ecg(fs, 45)[1])
        folder, _, _ = make_record(name, seconds=45, fs=fs, symbols=_symbols(n_beats))
        out.append(name)
    return folder.parent, out


def test_every_registry_entry_names_a_chapter_and_is_complete():
    """Read from the registry, not pinned: a new approach is one entry (and its model
    builder), and chapter 08 runs whatever the registry holds."""
    chapters = {p.stem.split("_")[0] for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    for name, p in pl.PIPELINES.items():
        assert p.name == name and p.chapter in chapters, name
        assert callable(p.inputs) and callable(p.build_model) and p.fs > 0
    assert "list(pl.PIPELINES)" in (NOTEBOOKS / "08_comparison.py").read_text()


@pytest.mark.parametrize("name", list(pl.PIPELINES))
def test_inputs_have_the_right_shapes_and_labels(name, records):
    root, names = records
    inputs = pl.build_inputs(name, names, "testdb", root)
    shapes = [a.shape[1:] for a in _arrays(inputs)]
    assert shapes == SHAPES.get(name, shapes) and all(len(s) for s in shapes)
    assert all(len(a) == len(inputs) for a in _arrays(inputs))
    table = eu.data.beat_table("testdb", names, root)
    for record in names:
        expected = table.loc[table.record == record, "aami"].to_numpy()
        got = inputs.label[inputs.record == record]
        if SHAPES.get(name) == [(187, 1)]:
            # Kaggle format: beats of the last incomplete 10-s window are dropped
            assert 0 < len(got) < len(expected)
            expected = expected[:len(got)]
        np.testing.assert_array_equal(got, expected)
    assert set(inputs.y[inputs.label == "F"]) == {-1}
    assert {c: int((inputs.y == i).sum() > 0) for i, c in enumerate(pl.CLASSES)} == {
        "N": 1, "S": 1, "V": 1}


def test_beats_are_moved_to_r_at_any_rate(records):
    root, names = records
    beats = eu.beats.record_beats(["902"], "testdb", root)
    fs, r = beats.signals["902"]["fs"], beats.sample
    assert fs == 250
    ref = eu.data.beat_table("testdb", ["902"], root)["sample"].to_numpy()
    assert np.abs(r - ref).max() <= 2  # the synthetic marks sit on R already
    windows = pl.build_inputs("interpatient", ["902"], "testdb", root).x[0]
    assert np.abs(windows[:, 32, 0]).mean() > 3 * np.abs(windows[:, 10, 0]).mean()  # R at 0.25 s


@pytest.mark.parametrize("train, val", [(["101", "100"], ["106"]), (["101"], ["232"])])
def test_run_pipeline_refuses_ds2_records_in_training_or_selection(train, val):
    with pytest.raises(ValueError, match="test \\(DS2\\) records"):
        pl.run_pipeline("dense", train, val, {})
    with pytest.raises(ValueError, match="test \\(DS2\\) records"):
        pl.select_validation_records(train + val)


def test_beat_random_split_is_stratified_and_disjoint():
    label = np.array(["N"] * 800 + ["S"] * 100 + ["V"] * 100)
    inputs = eu.beats.Beats(np.repeat(["a", "b"], 500), np.arange(1000), label,
                            classes=pl.CLASSES, x=np.arange(1000.0)[:, None])
    train, val, test = pl.beat_random_split(inputs, seed=1)
    assert (len(train), len(val), len(test)) == (700, 100, 200)
    ids = [set(s.x[:, 0]) for s in (train, val, test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert (test.label == "S").sum() == 20 and (val.label == "V").sum() == 10


@pytest.mark.parametrize("name", ["dense", "classical", "interpatient"])
def test_one_run_end_to_end_returns_the_metrics(name, records):
    root, names = records
    out = pl.run_pipeline(name, names[:2], names[2:], {"test": (names[2:], "testdb")},
                          seed=0, epochs=1, db="testdb", root=root, verbose=False)
    g = out["tests"]["test"]["gross"]
    assert {"accuracy", "S", "V"} <= set(g) and {"se", "ppv", "f1"} <= set(g["S"])
    assert 0 <= g["accuracy"] <= 1 and g["n_beats"] == (out["tests"]["test"]["predicted"] != "Q").sum()
    assert out["parameters"] > 0 and out["file_bytes"] > 1000 and out["train_s"] >= 0
    assert out["tests"]["test"]["predict_beats_per_s"] > 0
    row = pl.summary(out, "test")
    assert {"S Se", "S +P", "S F1", "V F1", "accuracy", "train s", "beats/s", "parameters",
            "file kB", "S Se avg", "V +P avg", "failed"} <= set(row)
    test = out["tests"]["test"]  # the record average, and what a caller needs to pool seeds
    again = eu.ec57.record_average(test["reference"], test["predicted"], test["record"])
    assert eu.ec57.json_ready(test["record_average"]) == eu.ec57.json_ready(again)  # NaN as None
    assert row["failed"] == out["failed"] == pl.training_failed(out["val_score"])
    if name != "classical":   # interpatient: trained on augmented batches
        assert out["epochs_run"] == 1 and out["best_epoch"] == 1
    run = eu.results.make_run("ds1ds2", name, pl.CLASSES,
                              pl.result_metrics(g, test["record_average"]))
    assert run["metrics"]["per_class"]["V"]["support"] == g["V"]["tp"] + g["V"]["fn"]
    assert run["metrics"]["record_average"]["records"] == len(set(test["record"]))


def test_a_training_that_finds_no_s_or_v_is_flagged_failed(records):
    """Best validation S/V F1 of 0: the run is flagged, and summary() carries the flag."""
    root, names = records
    train = pl.build_inputs("classical", names[:2], "testdb", root)
    val = pl.build_inputs("classical", names[2:], "testdb", root)
    only_n = val.subset(val.label == "N")   # nothing S or V to find: the score stays 0
    out = pl.fit_and_score("classical", train, only_n, {"test": val}, verbose=False,
                           val_majority_ratio=1)
    assert out["val_score"] == 0 and out["failed"] and pl.summary(out, "test")["failed"]
    ok = pl.fit_and_score("classical", train, val, {"test": val}, verbose=False)
    assert ok["val_score"] > 0 and not ok["failed"] and not pl.summary(ok, "test")["failed"]


def test_smote_and_scaler_touch_training_beats_only(records):
    root, names = records
    train = pl.build_inputs("beat_cnn1d", names[:2], "testdb", root)
    apply, constants = pl.PIPELINES["beat_cnn1d"].preprocess(train.x)
    scaled = apply(train.x)
    assert abs(float(scaled.mean())) < 1e-3 and constants["scale"] > 0
    x = np.random.default_rng(0).normal(size=(60, 4, 2, 1)).astype("float32")
    y = np.array([0] * 50 + [1] * 6 + [2] * 4)
    xs, ys = pl.PIPELINES["smote_cnn2d"].resample(x, y, 0)
    assert xs.shape[1:] == x.shape[1:] and np.bincount(ys).tolist() == [50, 2500, 2500]


@requires_data
def test_real_records_give_aligned_inputs_for_mitdb_and_qtdb():
    external = eu.interpatient.external_records()
    assert {eu.interpatient.qtdb_source(r) for r in external}.isdisjoint({"mitdb", "sddb"})
    for name in ("spectrogram_cnn", "beat_cnn1d", "interpatient"):
        for record, db in (("101", "mitdb"), ("sele0104", "qtdb")):
            inputs = pl.build_inputs(name, [record], db)
            table = eu.data.beat_table(db, [record])
            assert 0.95 * len(table) <= len(inputs) <= len(table)
            assert [a.shape[1:] for a in _arrays(inputs)] == SHAPES[name]
    # the European ST-T marks sit before R: they are moved to it
    beats = eu.beats.record_beats(["sele0104"], "qtdb")
    fs, r = beats.signals["sele0104"]["fs"], beats.sample
    ref = eu.data.beat_table("qtdb", ["sele0104"])["sample"].to_numpy()
    assert fs == 250 and np.median(r - ref[:len(r)]) > 3


#: Chapters that train a registry approach, the approach, and its model builder: they
#: build and train it through ``PIPELINES[name]`` with their own protocol, never by
#: calling the builder and a training loop of their own.
TRAINED_THROUGH_REGISTRY = {"02_image_cnn": ("image_cnn", "build_image_cnn"),
                            "03_st_t_dense_rnn": ("lstm", "build_beat_network"),
                            "04_spectrogram_cnn": ("spectrogram_cnn", "build_spectrogram_cnn"),
                            "05_smote_spectrogram_cnn": ("smote_cnn2d", "build_spectrogram_cnn2d"),
                            "06_beat_1d_cnn": ("beat_cnn1d", "build_beat_cnn1d"),
                            "07_new_patients": ("interpatient", "build_interpatient_model"),
                            "07_new_patients forest": ("classical", "RandomForestClassifier")}


@pytest.mark.parametrize("chapter", sorted(TRAINED_THROUGH_REGISTRY))
def test_chapters_train_their_approach_through_the_registry(chapter):
    name, builder = TRAINED_THROUGH_REGISTRY[chapter]
    notebook = NOTEBOOKS / f"{chapter.split()[0]}.py"
    source = "\n".join(line for line in notebook.read_text().splitlines()
                        if not line.lstrip().startswith("#"))  # code, not prose
    assert f'PIPELINES["{name}"]' in source or "PIPELINES[k]" in source  # 03: its three
    bound = re.search(rf'(\w+) = (?:eu\.pipelines|pl)\.PIPELINES\["{name}"\]', source)
    variable = bound.group(1) if bound else "approach"
    assert f"{variable}.train(" in source or f"{variable}.fit(" in source
    assert f"{builder}(" not in source


def test_a_chapters_call_and_chapter_08s_give_equal_numbers(records):
    """Chapter 04's path (``PIPELINES[name].train`` on arrays, its protocol as parameters)
    with chapter 08's protocol gives chapter 08's predictions (``fit_and_score``): the
    numbers are equal by construction, for the same seed."""
    root, names = records
    name = "spectrogram_cnn"
    train, val = (pl.build_inputs(name, r, "testdb", root) for r in (names[:2], names[2:]))
    train, val = train.subset(train.y >= 0), val.subset(val.y >= 0)
    ours = pl.fit_and_score(name, train, val, {"test": val}, seed=3, epochs=2,
                            val_majority_ratio=1, verbose=False)
    chapter = pl.PIPELINES[name].train((train.x, train.y), (val.x, val.y), (val.x, val.y),
                                       seed=3, n_classes=len(pl.CLASSES), epochs=2,
                                       score=eu.evaluate.s_and_v_f1(), verbose=False)
    np.testing.assert_array_equal(np.asarray(pl.CLASSES)[chapter["y_pred"]],
                                  ours["tests"]["test"]["predicted"])
    assert chapter["best_epoch"] == ours["best_epoch"]
    assert chapter["best_score"] == pytest.approx(ours["val_score"])
    # and a chapter's own protocol is only parameters of the same call
    own = pl.PIPELINES[name].train((train.x, train.y), (val.x, val.y), (val.x, val.y),
                                   seed=3, epochs=2, patience=5, score="val_loss",
                                   majority_ratio=1.0, verbose=False)
    assert len(own["train_y"]) == len(train) > ours["train_beats"]
    assert own["model"].count_params() == ours["parameters"]
