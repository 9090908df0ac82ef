import json

import numpy as np
import pytest
from sklearn.metrics import classification_report, confusion_matrix

import ecgutils as eu


def _example(seed=0, n=500):
    rng = np.random.default_rng(seed)
    classes = ["N", "S", "V"]
    y_true = rng.choice(classes, n, p=[0.8, 0.1, 0.1])
    y_pred = np.where(rng.random(n) < 0.8, y_true, rng.choice(classes, n))
    score = rng.random((n, 3))
    score[np.arange(n), [classes.index(c) for c in y_pred]] += 1
    return y_true, y_pred, score / score.sum(1, keepdims=True), classes


def test_metrics_agree_with_sklearn():
    y_true, y_pred, score, classes = _example()
    m = eu.evaluate.classification_metrics(y_true, y_pred, classes, score)
    report = classification_report(y_true, y_pred, labels=classes, output_dict=True)
    for c in classes:
        assert m["per_class"][c]["precision"] == pytest.approx(report[c]["precision"], abs=1e-4)
        assert m["per_class"][c]["recall"] == pytest.approx(report[c]["recall"], abs=1e-4)
        assert m["per_class"][c]["f1"] == pytest.approx(report[c]["f1-score"], abs=1e-4)
        assert 0.5 < m["per_class"][c]["roc_auc"] <= 1
    assert m["accuracy"] == pytest.approx(report["accuracy"], abs=1e-4)
    assert m["macro_f1"] == pytest.approx(report["macro avg"]["f1-score"], abs=1e-4)
    cm = confusion_matrix(y_true, y_pred, labels=classes)
    assert m["confusion_matrix"] == cm.tolist()
    fp_v = cm[:, 2].sum() - cm[2, 2]
    tn_v = cm.sum() - cm[2].sum() - cm[:, 2].sum() + cm[2, 2]
    assert m["per_class"]["V"]["fpr"] == pytest.approx(fp_v / (fp_v + tn_v), abs=1e-4)


def test_absent_class_does_not_crash():
    m = eu.evaluate.classification_metrics(["N", "N"], ["N", "V"], ["N", "S", "V"], np.eye(3)[[0, 2]])
    assert m["per_class"]["S"]["support"] == 0 and "roc_auc" not in m["per_class"]["S"]


def _run():
    y_true, y_pred, score, classes = _example()
    return eu.results.make_run("patient_70_15_15", "cnn", classes,
                               eu.evaluate.classification_metrics(y_true, y_pred, classes, score),
                               {"train_s": np.float32(1.5)}, seed=np.int64(0))


def test_results_roundtrip(tmp_path):
    path = eu.results.write_results(tmp_path / "res", "99_test", {"epochs": 3}, [_run()])
    assert path == tmp_path / "res" / "99_test.json"
    obj = eu.results.read_results(path)
    assert obj["runs"][0]["timing"]["train_s"] == 1.5 and obj["parameters"] == {"epochs": 3}
    assert [p.name for p in (tmp_path / "res").iterdir()] == ["99_test.json"]
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others, like any file


@pytest.mark.parametrize("breaks,match", [
    (lambda r: r.pop("protocol"), "lacks 'protocol'"),
    (lambda r: r.update(protocol="random"), "unknown protocol 'random'"),
    (lambda r: r["metrics"].pop("macro_f1"), "lacks 'macro_f1'"),
    (lambda r: r["metrics"]["per_class"]["N"].pop("support"), r"class 'N' lacks \['support'\]"),
])
def test_results_schema_errors_write_nothing(tmp_path, breaks, match):
    run = _run()
    breaks(run)
    with pytest.raises(ValueError, match=match):
        eu.results.write_results(tmp_path, "99_test", {}, [run])
    assert list(tmp_path.iterdir()) == []


def test_results_refuse_nan_and_keep_old_file(tmp_path):
    path = eu.results.write_results(tmp_path, "99_test", {}, [_run()])
    before = path.read_text()
    run = _run()
    run["metrics"]["accuracy"] = float("nan")
    with pytest.raises(ValueError):
        eu.results.write_results(tmp_path, "99_test", {}, [run])
    assert path.read_text() == before and json.loads(before)
    assert [p.name for p in tmp_path.iterdir()] == ["99_test.json"]


def test_config():
    assert eu.config.parse_parameter("epochs", 10.0, "int", minimum=1) == 10
    for bad in (0, -1, 2.5, "x", None, True):
        with pytest.raises(ValueError, match="parameter 'epochs'"):
            eu.config.parse_parameter("epochs", bad, "int", minimum=1)


def test_smoke_switch(monkeypatch):
    monkeypatch.setenv("ECG_SMOKE", "1")
    assert eu.config.is_smoke(None) and not eu.config.is_smoke(False)
    monkeypatch.setenv("ECG_SMOKE", "0")
    assert not eu.config.is_smoke(None) and eu.config.is_smoke("True")


# ---------------------------------------------------------------- where results go (issue 15)
def test_results_dir_is_resolved_against_the_repository_root(tmp_path, monkeypatch):
    # items 9-10: chapters run in notebooks/, but "results" means <repo>/results
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.delenv("ECG_RESULTS_DIR", raising=False)
    assert eu.results.resolve_results_dir("results") == tmp_path.resolve() / "results"
    assert (tmp_path / "results").is_dir() and not (tmp_path / "notebooks" / "results").exists()
    assert eu.results.resolve_results_dir("out/x") == tmp_path.resolve() / "out" / "x"
    assert eu.results.resolve_results_dir(tmp_path / "abs") == tmp_path.resolve() / "abs"
    monkeypatch.chdir(tmp_path.parent)          # no _config.yml above: the current folder
    if eu.results.find_repository_root() is None:
        assert eu.results.resolve_results_dir("r15") == tmp_path.parent.resolve() / "r15"


def test_ecg_results_dir_replaces_the_default_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECG_RESULTS_DIR", str(tmp_path / "elsewhere"))
    assert eu.results.resolve_results_dir() == tmp_path.resolve() / "elsewhere"
    assert eu.results.resolve_results_dir("results") == tmp_path.resolve() / "elsewhere"
    assert eu.results.resolve_results_dir(None) == tmp_path.resolve() / "elsewhere"
    assert eu.results.resolve_results_dir(tmp_path / "mine") == tmp_path.resolve() / "mine"


def test_unwritable_results_dir_fails_up_front(tmp_path, monkeypatch):
    # item 8: found before any work, with the folder named and what to do
    monkeypatch.delenv("ECG_RESULTS_DIR", raising=False)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match=rf"results_dir {blocker}/r cannot be created.*"
                                              r"-p results_dir PATH"):
        eu.results.resolve_results_dir(blocker / "r")
    with pytest.raises(PermissionError, match="exists but is not a folder"):
        eu.results.resolve_results_dir(blocker)
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(eu.results.tempfile, "mkstemp",
                        lambda **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(PermissionError, match=rf"results_dir {locked} is not writable "
                                              r"\(Permission denied\)"):
        eu.results.resolve_results_dir(locked)
    with pytest.raises(ValueError, match="parameter 'results_dir' must be a folder path, got 3"):
        eu.results.resolve_results_dir(3)


def test_tests_never_write_to_the_repository_results():
    # issue 15 item 10: the book build (a subprocess) inherits ECG_RESULTS_DIR from conftest
    import os
    from pathlib import Path

    from conftest import ROOT, TEST_RESULTS_DIR

    assert os.environ["ECG_RESULTS_DIR"] == TEST_RESULTS_DIR
    assert ROOT.resolve() not in Path(TEST_RESULTS_DIR).resolve().parents
    assert eu.results.resolve_results_dir() == Path(TEST_RESULTS_DIR).resolve()
