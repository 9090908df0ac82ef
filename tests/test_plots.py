"""ecgutils.plots: what the figures show equals what the data say."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402

import ecgutils.plots as ep  # noqa: E402

CLASSES = ["N", "S", "V", "F"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(CLASSES, size=n, p=[0.7, 0.1, 0.15, 0.05])


def _cells(ax, n):
    """Heatmap annotations as an n x n array of strings (seaborn writes them row by row)."""
    return np.array([t.get_text() for t in ax.texts]).reshape(n, n)


def test_confusion_heatmap_annotations_are_the_counts():
    y_true, y_pred = _labels(seed=1), _labels(seed=2)
    fig = ep.plot_confusion_matrix(y_true, y_pred, CLASSES)
    expected = confusion_matrix(y_true, y_pred, labels=CLASSES)
    assert (_cells(fig.axes[0], 4).astype(int) == expected).all()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == CLASSES


def test_confusion_heatmap_normalised_rows_and_empty_class():
    y_true, y_pred = _labels(seed=3), _labels(seed=4)
    y_true = np.where(y_true == "F", "N", y_true)  # no true F: its row is left empty
    fig = ep.plot_confusion_matrix(y_true, y_pred, CLASSES, normalize="true")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 12                       # three rows of four, none for F
    cells = np.array(texts, dtype=float).reshape(3, 4)
    cm = confusion_matrix(y_true, y_pred, labels=CLASSES)[:3]
    np.testing.assert_allclose(cells, cm / cm.sum(1, keepdims=True), atol=0.005)
    assert all(len(t.split(".")[1]) == 2 for t in texts)
    with pytest.raises(ValueError, match="normalize"):
        ep.plot_confusion_matrix(y_true, y_pred, CLASSES, normalize="rows")


def test_class_counts_bars_equal_the_counts():
    labels = _labels()
    fig = ep.plot_class_counts(labels, classes=CLASSES + ["Q"])
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [(labels == c).sum() for c in CLASSES] + [0]
    shown = [t.get_text() for t in fig.axes[0].texts if t.get_text().replace(",", "").isdigit()]
    assert shown == [f"{(labels == c).sum():,}" for c in CLASSES] + ["0"]


def test_class_counts_by_group():
    labels = _labels()
    by = np.where(np.arange(labels.size) < 300, "DS1", "DS2")
    fig = ep.plot_class_counts(labels, classes=CLASSES, by=by, log=True)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    # one container per class, one bar per group inside it
    for bars, c in zip(ax.containers, CLASSES):
        assert [round(b.get_height()) for b in bars] == [((labels == c) & (by == g)).sum()
                                                  for g in ("DS1", "DS2")]
    with pytest.raises(ValueError, match="values for"):
        ep.plot_class_counts(labels, by=by[:10])


def test_class_waveforms_band_is_mean_plus_minus_sd():
    rng = np.random.default_rng(0)
    labels = _labels(2000)
    beats = rng.normal(size=(labels.size, 90)) + (labels == "V")[:, None] * np.hanning(90)
    fig = ep.plot_class_waveforms(beats, labels, 360, classes=["V", "N", "Q"], before_s=0.1)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]  # not legend keys
    assert len(lines) == 2                        # Q has no beat: not drawn
    for line, c in zip(lines, ["V", "N"]):
        sel = beats[labels == c]
        np.testing.assert_allclose(line.get_ydata(), sel.mean(0))
        np.testing.assert_allclose(line.get_xdata(), np.arange(90) / 360 - 0.1)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    sel = beats[labels == "V"]
    assert np.isclose(band.max(), (sel.mean(0) + sel.std(0)).max())
    assert np.isclose(band.min(), (sel.mean(0) - sel.std(0)).min())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"V (n={(labels == 'V').sum():,})", f"N (n={(labels == 'N').sum():,})"]
    assert ax.get_xlabel() == "time from R peak (s)"


def test_class_waveforms_is_fast_on_many_beats():
    import time

    beats = np.random.default_rng(0).normal(size=(100_000, 180)).astype(np.float32)
    labels = _labels(100_000)
    start = time.perf_counter()
    ep.plot_class_waveforms(beats, labels, 360)
    assert time.perf_counter() - start < 10


def test_image_examples_rows_hold_their_class():
    rng = np.random.default_rng(0)
    labels = np.repeat(["A", "B", "C"], 5)
    images = np.repeat(np.array([0, 120, 255], np.uint8), 5)[:, None, None] * np.ones((1, 8, 8),
                                                                                     np.uint8)
    fig = ep.plot_image_examples(images, labels, ["C", "A", "B"], per_class=3, seed=int(rng.integers(9)))
    rows = np.array(fig.axes).reshape(3, 3)
    for row, value in zip(rows, (255, 0, 120)):
        assert all(np.asarray(ax.images[0].get_array()).max() == value for ax in row)
    assert [row[0].get_ylabel() for row in rows] == ["C", "A", "B"]


def test_evaluation_figure_shows_the_test_recall_and_the_best_epoch():
    y_true, y_pred = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 2, 2])
    result = {"history": {"loss": [1.0, 0.7, 0.6], "val_loss": [0.9, 0.8, 0.85]},
              "best_epoch": 2, "y_true": y_true, "y_pred": y_pred,
              "y_score": np.eye(3)[y_pred] * 0.8 + 0.2 / 3}
    fig = ep.plot_evaluation(result, ["N", "S", "V"], title="demo")
    diagonal = _cells(fig.axes[1], 3).diagonal().astype(float)
    np.testing.assert_allclose(diagonal, [0.5, 2 / 3, 1.0], atol=0.005)
    assert 2 in [line.get_xdata()[0] for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"]
