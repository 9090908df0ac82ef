"""How far to trust a probability (issue 28): the calibration table and its ECE, the
reliability diagram, the operating point chosen for a target V sensitivity, and annotate
applying the operating point a model file carries (an old file without one: argmax)."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

import ecgutils as eu  # noqa: E402
from conftest import synthetic_ecg  # noqa: E402
from ecgutils.annotate import MODEL_KIND, InputError  # noqa: E402
from ecgutils.evaluate import (apply_operating_point, calibration_table,  # noqa: E402
                               choose_operating_point, expected_calibration_error)
from ecgutils.interpatient import BeatSpec  # noqa: E402
from ecgutils.models import build_interpatient_model  # noqa: E402

CLASSES = ["N", "S", "V"]


def _random_proba(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet([2.0, 0.5, 0.5], size=n)
    # labels drawn from the probabilities themselves: a calibrated model by construction
    u = rng.random(n)[:, None]
    y = np.asarray(CLASSES)[(u > proba.cumsum(axis=1)).sum(axis=1)]
    return y, proba


def test_calibration_table_by_hand():
    y = ["N", "N", "V", "V", "N", "F"]  # the F beat has no probability of its own: left out
    p = np.array([[0.9, 0.1], [0.7, 0.3], [0.25, 0.75], [0.25, 0.75], [0.25, 0.75],
                  [0.0, 1.0]])
    t = calibration_table(y, p, ["N", "V"], n_bins=2)
    v = t[t["class"] == "V"]
    assert v["count"].tolist() == [2, 3]
    np.testing.assert_allclose(v["predicted"], [0.2, 0.75])
    np.testing.assert_allclose(v["observed"], [0.0, 2 / 3])
    # V: gap 0.2 on 2 beats and 1/12 on 3 beats, over 5 beats; N: the same by symmetry
    np.testing.assert_allclose(expected_calibration_error(y, p, ["N", "V"], n_bins=2),
                               [0.13, 0.13])


def test_calibration_table_agrees_with_sklearn():
    y, proba = _random_proba()
    t = calibration_table(y, proba, CLASSES, n_bins=10)
    for j, c in enumerate(CLASSES):
        observed, predicted = calibration_curve(y == c, proba[:, j], n_bins=10)
        mine = t[t["class"] == c]
        np.testing.assert_allclose(mine["observed"], observed)
        np.testing.assert_allclose(mine["predicted"], predicted)
        assert mine["count"].sum() == len(y)


def test_ece_is_small_for_a_calibrated_model_and_large_for_an_overconfident_one():
    y, proba = _random_proba(n=20000)
    assert expected_calibration_error(y, proba, CLASSES).max() < 0.02
    sharp = proba ** 4 / (proba ** 4).sum(axis=1, keepdims=True)  # same ranking, surer
    assert expected_calibration_error(y, sharp, CLASSES).min() > 0.05
    with pytest.raises(ValueError, match="one column per class"):
        calibration_table(y, proba[:, :2], CLASSES)


def test_operating_point_is_the_highest_threshold_reaching_the_target():
    p_v = np.arange(1, 21) / 20                   # 20 V beats: 0.05, 0.10, ..., 1.00
    y = np.array(["V"] * 20 + ["N"] * 5)
    p_v = np.r_[p_v, [0.9, 0.5, 0.2, 0.1, 0.0]]
    proba = np.c_[1 - p_v, np.zeros_like(p_v), p_v]
    op = choose_operating_point(y, proba, CLASSES, "V", target_se=0.95)
    assert op == {"class": "V", "threshold": 0.10, "target_se": 0.95, "se": 0.95, "beats": 20}
    labels = apply_operating_point(proba, CLASSES, ("V", op["threshold"]))
    assert np.mean(labels[y == "V"] == "V") == 0.95
    assert (labels[y == "N"] == np.array(["V", "V", "V", "V", "N"])).all()
    # the next higher threshold misses the target: the chosen one is the highest
    assert np.mean(apply_operating_point(proba, CLASSES, ("V", 0.15))[y == "V"] == "V") < 0.95
    assert choose_operating_point(y, proba, CLASSES, "V", 1.0)["threshold"] == 0.05
    assert choose_operating_point(y, proba, CLASSES, "V", 0.5)["threshold"] == 0.55


def test_operating_point_refuses_what_it_cannot_choose_on():
    proba = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="no beat of class 'V'"):
        choose_operating_point(["N", "S", "N"], proba, CLASSES)
    with pytest.raises(ValueError, match="target_se"):
        choose_operating_point(["V", "S", "N"], proba, CLASSES, target_se=0)
    with pytest.raises(ValueError, match="not one of the classes"):
        choose_operating_point(["V", "S", "N"], proba, CLASSES, cls="F")


def test_apply_operating_point_by_hand():
    p = np.array([[0.6, 0.1, 0.3],    # argmax N; p_V reaches 0.3 -> V
                  [0.2, 0.4, 0.4],    # tie S/V: argmax S; p_V reaches 0.3 -> V
                  [0.1, 0.35, 0.55],  # argmax V; below a 0.6 threshold -> S, the likelier other
                  [0.5, 0.3, 0.2]])   # N either way
    assert apply_operating_point(p, CLASSES).tolist() == ["N", "S", "V", "N"]
    assert apply_operating_point(p, CLASSES, ()).tolist() == ["N", "S", "V", "N"]
    assert apply_operating_point(p, CLASSES, ("V", 0.3)).tolist() == ["V", "V", "V", "N"]
    assert apply_operating_point(p, CLASSES, ("V", 0.6)).tolist() == ["N", "S", "S", "N"]
    with pytest.raises(ValueError, match="not one of the model's classes"):
        apply_operating_point(p, CLASSES, ("F", 0.5))


def test_reliability_diagram_draws_the_table():
    y, proba = _random_proba(n=600, seed=3)
    fig = eu.plots.plot_reliability(y, proba, CLASSES, n_bins=5)
    ax = fig.axes[0]
    t = calibration_table(y, proba, CLASSES, n_bins=5)
    lines = ax.get_lines()[1:]  # after the diagonal
    for line, c in zip(lines, CLASSES):
        np.testing.assert_allclose(line.get_xdata(), t.loc[t["class"] == c, "predicted"])
        np.testing.assert_allclose(line.get_ydata(), t.loc[t["class"] == c, "observed"])
    assert [int(s.get_text().replace(",", "")) for s in ax.texts] == t["count"].tolist()
    ece = expected_calibration_error(y, proba, CLASSES, n_bins=5)
    assert [x.get_text() for x in ax.get_legend().get_texts()] == [
        f"{c} (ECE {ece[c]:.3f})" for c in CLASSES]
    plt.close(fig)


def test_beat_spec_keeps_old_files_loadable_and_checks_the_operating_point():
    old = {k: v for k, v in BeatSpec().to_dict().items() if k != "operating_point"}
    assert BeatSpec.from_dict(old).operating_point == ()
    spec = BeatSpec(operating_point=("V", 0.25))
    assert BeatSpec.from_dict(spec.to_dict()) == spec
    for bad in (("F", 0.5), ("V", 1.5), ("V",)):
        with pytest.raises(ValueError, match="operating_point"):
            BeatSpec(operating_point=bad)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """One untrained model saved three ways: as an old file (no operating point in its
    spec), with an operating point, and with a damaged one."""
    spec = BeatSpec()
    model = build_interpatient_model(spec, rr_train=np.random.default_rng(0).normal(
        1, 0.1, (50, len(spec.feature_names))).astype("float32"))
    folder = tmp_path_factory.mktemp("models")
    old = {k: v for k, v in spec.to_dict().items() if k != "operating_point"}
    old_path = eu.experiment.save_model(model, folder / "old.keras",
                                        {"kind": MODEL_KIND, "spec": old})
    x, _ = synthetic_ecg(360, 60)
    before = eu.annotate_signal(x, 360, old_path, quality=None)
    # a threshold that must change labels: none V if argmax calls some V, else all V
    called_v = (before["label"] == "V").any()
    threshold = float(min(before["p_V"].max() + 1e-3, 1.0)) if called_v \
        else float(before["p_V"].min())
    paths = {"old": old_path}
    for name, op in (("new", ["V", threshold]), ("bad", ["F", 0.5])):
        paths[name] = eu.experiment.save_model(
            model, folder / f"{name}.keras",
            {"kind": MODEL_KIND, "spec": {**spec.to_dict(), "operating_point": op}})
    return paths, x, threshold


def test_annotate_applies_the_operating_point_of_the_file(model_files):
    paths, x, threshold = model_files
    old = eu.annotate_signal(x, 360, paths["old"], quality=None)
    new = eu.annotate_signal(x, 360, paths["new"], quality=None)
    p = old[["p_N", "p_S", "p_V"]].to_numpy()
    np.testing.assert_allclose(new[["p_N", "p_S", "p_V"]].to_numpy(), p)
    # the old file: the most probable class, as before
    assert (old["label"] == np.asarray(CLASSES)[p.argmax(axis=1)]).all()
    # the new one: V where p_V reaches the threshold, else the likelier of N and S
    expected = np.where(p[:, 2] >= threshold, "V", np.where(p[:, 1] > p[:, 0], "S", "N"))
    assert (new["label"] == expected).all()
    assert (new["label"] != old["label"]).any()
    model, spec = eu.annotate.load_classifier(paths["new"])
    assert spec.operating_point == ("V", threshold)
    _, labels = eu.annotate.classify_signal(model, spec, x, 360, old["sample"].to_numpy())
    assert (labels == expected).all()


def test_a_damaged_operating_point_is_one_clear_error(model_files):
    paths, x, _ = model_files
    with pytest.raises(InputError, match="bad.keras.*operating_point"):
        eu.annotate.load_classifier(paths["bad"])


def test_the_command_line_writes_the_operating_points_labels(tmp_path, model_files):
    import wfdb

    paths, x, threshold = model_files
    wfdb.wrsamp("rec", fs=360, units=["mV"], sig_name=["MLII"], p_signal=x[:, None],
                fmt=["16"], adc_gain=[200], baseline=[0], write_dir=str(tmp_path))
    symbols = {}
    for name in ("old", "new"):
        out = tmp_path / name
        proc = subprocess.run([sys.executable, "-m", "ecgutils", "annotate", str(tmp_path / "rec"),
                               "--model", str(paths[name]), "--out", str(out)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        ann = wfdb.rdann(str(out / "rec"), "cls")
        symbols[name] = np.array([s for s in ann.symbol if s in CLASSES])
    stored, fs, _ = eu.annotate.read_lead(tmp_path / "rec")  # x as 16-bit samples store it
    table = eu.annotate_signal(stored, fs, paths["new"])
    assert symbols["new"].tolist() == table.loc[table["readable"], "label"].tolist()
    assert (symbols["new"] != symbols["old"]).any()
