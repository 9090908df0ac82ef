"""Figures: ECG strips with annotations, class counts and mean waveforms, confusion
matrices, ROC/PR and training curves, spectrograms and Grad-CAM maps, ST episode tracks,
and chapter 08's comparison of approaches. Every figure of the book is drawn here.

Every helper takes ``ax=None`` (or ``axes=None``) and returns the Figure. Statistical
figures (class counts, mean +- sd waveforms, confusion heatmaps) are drawn with seaborn;
the statistics themselves are computed with numpy/pandas first, so a figure of 100,000
beats hands seaborn a few hundred points, not millions.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn import metrics as skm

__all__ = ["plot_beats", "plot_class_counts", "plot_class_waveforms", "plot_comparison",
           "plot_confusion_matrix", "plot_ecg_strip", "plot_episode_track",
           "plot_evaluation", "plot_grad_cam", "plot_image_examples", "plot_inflation",
           "plot_per_record", "plot_pr_curves", "plot_record_strip", "plot_reliability",
           "plot_roc_curves",
           "plot_signal_versions", "plot_spectrogram", "plot_training_curves"]

#: One colour per AAMI class, used across the book.
CLASS_COLORS = {"N": "tab:blue", "S": "tab:orange", "V": "tab:red", "F": "tab:purple",
                "Q": "tab:gray"}


def _axes(ax, figsize=(8, 3)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _class_palette(classes) -> dict:
    """CLASS_COLORS when every class is an AAMI class; otherwise (chapter 02's six
    classes, chapter 03's normal/abnormal) seaborn's tab10 colours in class order."""
    classes = [str(c) for c in classes]
    if all(c in CLASS_COLORS for c in classes):
        return {c: CLASS_COLORS[c] for c in classes}
    return dict(zip(classes, sns.color_palette("tab10", len(classes))))


def plot_class_counts(labels, classes=None, ax=None, by=None, log: bool = False):
    """Bars of the number of beats per class, optionally side by side per group.

    Parameters
    ----------
    labels : array of str, shape (n,)
        One class per beat.
    classes : list, optional
        Order of the classes (default: order of first appearance); a class with no beat
        keeps a bar of height 0.
    by : array, shape (n,), optional
        A grouping (a split, a protocol, a database): one group of bars per value, one
        bar per class within it.
    log : bool
        Logarithmic count axis, for classes that differ a hundredfold.

    Each bar is labelled with its count (an integer).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> fig = plot_class_counts(list("NNNVVS"), classes=["N", "S", "V"])
    >>> [int(p.get_height()) for p in fig.axes[0].patches if p.get_height() > 0]
    [3, 1, 2]
    >>> fig = plot_class_counts(list("NNNV"), by=["DS1", "DS1", "DS2", "DS2"])
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['DS1', 'DS2']
    """
    labels = np.asarray(labels).astype(str)
    classes = [str(c) for c in (dict.fromkeys(labels) if classes is None else classes)]
    group = np.full(labels.size, "") if by is None else np.asarray(by).astype(str)
    if group.size != labels.size:
        raise ValueError(f"by has {group.size} values for {labels.size} labels")
    groups = sorted(set(group))
    counts = (pd.crosstab(group, labels).reindex(index=groups, columns=classes, fill_value=0)
              .rename_axis(index="group", columns="class").stack().rename("beats").reset_index())
    width = max(4.5, 0.9 * len(classes) * len(groups) + 1.5)
    fig, ax = _axes(ax, (min(width, 12), 3.5))
    sns.barplot(data=counts, x="group", y="beats", hue="class", hue_order=classes,
                order=groups, palette=_class_palette(classes), ax=ax, legend=by is not None)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(0.8, max(counts["beats"].max(), 1) * 5)  # room for the labels
    for bars in ax.containers:
        ax.bar_label(bars, labels=[f"{int(round(b.get_height())):,}" for b in bars],
                     fontsize=8, padding=2, rotation=0 if by is None else 90)
    if by is None:
        ax.set_xticks([])
        # one bar per class: name the bars on the axis instead of in a legend
        for bars, c in zip(ax.containers, classes):
            for b in bars:
                ax.text(b.get_x() + b.get_width() / 2, ax.get_ylim()[0], c, ha="center",
                        va="top", fontsize=10)
        ax.set_xlabel("class", labelpad=16)
    else:
        ax.set_xlabel("")
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1), fontsize=8, title="class")
    ax.set_ylabel("beats (log scale)" if log else "beats")
    ax.margins(y=0.15)
    return fig


def plot_ecg_strip(x, fs: float, samples=None, symbols=None, start_s: float = 0.0,
                   duration_s: float = 10.0, ax=None, title: str | None = None,
                   unit: str = "mV", detected=None, predicted=None):
    """An ECG strip on ECG paper-like axes, with beat symbols above their R peaks.

    Parameters
    ----------
    x : array, shape (n,)
        One lead.
    samples, symbols : arrays, optional
        Annotation positions (samples) and their symbols.
    detected : array, optional
        Detected R peaks, drawn as markers.
    predicted : array of str, optional
        A second label per annotation (e.g. a model's), written below the trace; a label
        that differs from the annotation's is in bold.

    Examples
    --------
    >>> fig = plot_ecg_strip(np.sin(np.arange(3600) / 50), 360, [100, 460], ["N", "V"])
    >>> len(fig.axes)
    1
    """
    fig, ax = _axes(ax, (12, 2.8))
    x = np.asarray(x)
    lo, hi = int(start_s * fs), min(int((start_s + duration_s) * fs), x.size)
    t = np.arange(lo, hi) / fs
    ax.plot(t, x[lo:hi], color="k", lw=0.8)
    ymax = x[lo:hi].max() if hi > lo else 1
    ymin = x[lo:hi].min() if hi > lo else 0
    if samples is not None:
        samples = np.asarray(samples)
        shown = (samples >= lo) & (samples < hi)
        for s, sym in zip(samples[shown], np.asarray(symbols)[shown]):
            ax.text(s / fs, ymax * 1.08, sym, ha="center", va="bottom", fontsize=9,
                    color="tab:red" if sym not in ("N", "·") else "tab:blue")
        if predicted is not None:
            pairs = zip(samples[shown], np.asarray(symbols)[shown],
                        np.asarray(predicted)[shown])
            for s, sym, pred in pairs:
                ax.text(s / fs, ymin - 0.08 * (ymax - ymin), pred, ha="center", va="top",
                        fontsize=9, fontweight="bold" if pred != sym else "normal",
                        color="tab:red" if pred != "N" else "tab:blue")
            ax.set_ylim(bottom=ymin - 0.3 * (ymax - ymin))
    if detected is not None:
        detected = np.asarray(detected)
        d = detected[(detected >= lo) & (detected < hi)]
        ax.plot(d / fs, x[d], "v", color="tab:green", ms=5, label="detected R")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(lo / fs, hi / fs)
    ax.set_ylim(top=ymax * 1.3 if ymax > 0 else None)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(unit)
    ax.minorticks_on()
    ax.grid(which="major", color="tab:red", alpha=0.3, lw=0.6)
    ax.grid(which="minor", color="tab:red", alpha=0.1, lw=0.4)
    if title:
        ax.set_title(title)
    return fig


def plot_class_waveforms(beats, labels, fs: float, classes=None, ax=None,
                         before_s: float | None = None):
    """Mean +- one standard deviation of the beats of each class.

    The mean and sd are computed with numpy over all beats of a class; seaborn draws
    the mean lines and matplotlib the bands, so 100,000 beats take a fraction of a second.

    Parameters
    ----------
    beats : array, shape (n_beats, n_samples)
    labels : array, shape (n_beats,)
    fs : float
        Sampling rate (Hz) of the beats.
    classes : list, optional
        Classes to draw, in this order (default: order of first appearance).
    before_s : float, optional
        Time from the window's start to the R peak: the time axis then reads "from R peak".

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> beats = np.random.default_rng(0).normal(size=(6, 50))
    >>> fig = plot_class_waveforms(beats, list("NNNVVV"), 100, before_s=0.1)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'N (n=3)'
    >>> bool(np.allclose(fig.axes[0].get_lines()[0].get_ydata(), beats[:3].mean(0)))
    True
    """
    fig, ax = _axes(ax, (7, 3.8))
    beats, labels = np.asarray(beats, dtype=float), np.asarray(labels).astype(str)
    classes = [str(c) for c in (dict.fromkeys(labels) if classes is None else classes)]
    classes = [c for c in classes if (labels == c).any()]
    t = np.arange(beats.shape[1]) / fs - (before_s or 0)
    palette = _class_palette(classes)
    rows = []
    for c in classes:
        sel = beats[labels == c]
        mean, sd = sel.mean(0), sel.std(0)
        name = f"{c} (n={len(sel):,})"
        rows.append(pd.DataFrame({"time (s)": t, "mean": mean, "class": name}))
        ax.fill_between(t, mean - sd, mean + sd, color=palette[c], alpha=0.15, lw=0)
    sns.lineplot(data=pd.concat(rows), x="time (s)", y="mean", hue="class", ax=ax,
                 palette=[palette[c] for c in classes], errorbar=None)
    ax.set_xlabel("time from R peak (s)" if before_s is not None else "time (s)")
    ax.set_ylabel("amplitude (mean ± sd)")
    ax.legend(fontsize=8, title=None)
    return fig


#: The former name, still used by chapters 03, 06 and 07.
plot_beats = plot_class_waveforms


def plot_confusion_matrix(y_true, y_pred, classes, normalize: str | None = None, ax=None,
                          title: str | None = None):
    """Confusion matrix as a seaborn heatmap: counts, or fractions with ``normalize``.

    ``normalize="true"`` divides each row by the class's support (recall per class on
    the diagonal), ``"pred"`` each column (precision), ``"all"`` the whole matrix.
    Counts are written as integers, fractions with 2 decimals; a class with no true
    beat gets an empty row when normalised by true class.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> fig = plot_confusion_matrix(["N", "S", "N"], ["N", "N", "N"], ["N", "S"])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['2', '0', '1', '0']
    >>> fig = plot_confusion_matrix(["N", "S", "N"], ["N", "N", "N"], ["N", "S"], normalize="true")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].texts[0].get_text()
    ('Predicted label', '1.00')
    """
    classes = list(classes)
    counts = skm.confusion_matrix(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str),
                                  labels=[str(c) for c in classes])
    if normalize is None:
        values, fmt = counts, "d"
    elif normalize in ("true", "pred", "all"):
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        total = counts.sum(axis=axis, keepdims=axis is not None)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(total > 0, counts / np.where(total > 0, total, 1), np.nan)
        fmt = ".2f"
    else:
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    side = max(3.8, 0.62 * len(classes) + 1.6)
    fig, ax = _axes(ax, (side + 0.4, side))
    sns.heatmap(values, annot=True, fmt=fmt, cmap="Blues", cbar=False, square=True,
                xticklabels=classes, yticklabels=classes, linewidths=0.5, linecolor="white",
                vmin=0, vmax=1 if normalize else None, ax=ax,
                annot_kws={"fontsize": 9 if len(classes) <= 6 else 7})
    ax.set(xlabel="Predicted label", ylabel="True label")
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(title or {None: "counts", "true": "normalised by true class",
                           "pred": "normalised by predicted class",
                           "all": "fraction of all beats"}[normalize])
    return fig


def _one_vs_rest(display, y_true, y_score, classes, ax):
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    for i, c in enumerate(classes):
        if 0 < (y_true == c).sum() < y_true.size:  # a curve needs both positives and negatives
            shown = display.from_predictions(y_true == c, y_score[:, i], name=str(c), ax=ax)
            line = getattr(shown, "line_", None)
            if line is not None and str(c) in CLASS_COLORS:
                line.set_color(CLASS_COLORS[str(c)])
    if ax.get_legend() is not None:
        ax.legend(fontsize=8)  # refresh so the legend shows the class colours


def plot_roc_curves(y_true, y_score, classes, ax=None, title: str = "ROC (one vs rest)"):
    """One-vs-rest ROC curve per class, AUC in the legend.

    Examples
    --------
    >>> fig = plot_roc_curves(["N", "V", "N", "V"], np.eye(2)[[0, 1, 1, 1]], ["N", "V"])
    >>> len(fig.axes[0].get_lines())  # two classes + the diagonal
    3
    """
    fig, ax = _axes(ax, (4.5, 4))
    _one_vs_rest(skm.RocCurveDisplay, y_true, y_score, classes, ax)
    ax.plot([0, 1], [0, 1], ls=":", color="gray")
    ax.set(title=title, xlabel="false-positive rate", ylabel="sensitivity (true-positive rate)")
    return fig


def plot_pr_curves(y_true, y_score, classes, ax=None, title: str = "precision-recall"):
    """One-vs-rest precision-recall curve per class, average precision in the legend."""
    fig, ax = _axes(ax, (4.5, 4))
    _one_vs_rest(skm.PrecisionRecallDisplay, y_true, y_score, classes, ax)
    ax.set(title=title, xlabel="recall (Se)", ylabel="precision (+P)")
    return fig


def plot_reliability(y_true, proba, classes, ax=None, n_bins: int = 10,
                     title: str = "reliability"):
    """Reliability diagram: per class, mean predicted probability against observed frequency.

    One line per class through its probability bins (:func:`ecgutils.evaluate.calibration_table`),
    each point labelled with its number of beats; the diagonal is a calibrated model. A
    point below it: the model is surer than it should be. The legend gives each class's
    expected calibration error (ECE).

    Parameters
    ----------
    y_true : array of labels, shape (n,)
        Beats of other classes than ``classes`` are left out.
    proba : array, shape (n, len(classes))
        Predicted probabilities, columns in the order of ``classes``.
    classes : sequence
    ax : matplotlib Axes, optional
    n_bins : int
        Equal bins of [0, 1].

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    ecgutils.evaluate.calibration_table, ecgutils.evaluate.expected_calibration_error

    Examples
    --------
    >>> y = ["N", "N", "V", "V", "N"]
    >>> p = np.array([[0.9, 0.1], [0.7, 0.3], [0.25, 0.75], [0.25, 0.75], [0.25, 0.75]])
    >>> ax = plot_reliability(y, p, ["N", "V"], n_bins=2).axes[0]
    >>> ax.get_lines()[1].get_ydata().round(3).tolist()  # after the diagonal: class N
    [0.333, 1.0]
    >>> [t.get_text() for t in ax.texts]  # beats per point, class by class
    ['3', '2', '2', '3']
    """
    from .evaluate import calibration_table, expected_calibration_error

    fig, ax = _axes(ax, (4.5, 4.2))
    table = calibration_table(y_true, proba, classes, n_bins)
    ece = expected_calibration_error(y_true, proba, classes, n_bins)
    ax.plot([0, 1], [0, 1], ls=":", color="gray")
    colors = _class_palette(classes)
    for i, c in enumerate(str(c) for c in classes):
        t = table[table["class"] == c]
        ax.plot(t["predicted"], t["observed"], "o-", ms=4, color=colors[c],
                label=f"{c} (ECE {ece[c]:.3f})")
        for x, y, n in zip(t["predicted"], t["observed"], t["count"]):
            # one row of labels per class, so the classes' labels at (0, 0) do not overlap;
            # below the points in the upper half, above them in the lower half
            dy = (4 + 9 * i) * (-1 if y > 0.5 else 1)
            ax.annotate(f"{n:,}", (x, y), xytext=(4, dy), textcoords="offset points",
                        fontsize=7, color=colors[c])
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="predicted probability (bin mean)",
           ylabel="observed frequency", title=title)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_training_curves(history, metrics=("loss", "accuracy"), axes=None):
    """Training and validation curves from a Keras ``History`` (or its ``.history`` dict).

    Examples
    --------
    >>> fig = plot_training_curves({"loss": [1, .5], "val_loss": [1.1, .7],
    ...                             "accuracy": [.5, .8], "val_accuracy": [.4, .7]})
    >>> len(fig.axes)
    2
    """
    hist = getattr(history, "history", history)
    metrics = [m for m in metrics if m in hist]
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2),
                                 layout="constrained", squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    for ax, m in zip(axes, metrics):
        epochs = np.arange(1, len(hist[m]) + 1)
        ax.plot(epochs, hist[m], "o-", ms=3, label="train")
        if f"val_{m}" in hist:
            ax.plot(epochs, hist[f"val_{m}"], "o-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.legend(fontsize=8)
    return fig


def plot_per_record(table, metrics=("S Se", "S +P", "V Se", "V +P"), ax=None,
                    title: str | None = None):
    """Dots per record (rows of ``table``) for each metric; records without the class are
    left blank. ``table`` is :func:`ecgutils.ec57.per_record_statistics`'s DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"S Se": [1.0, np.nan], "V Se": [0.5, 0.9]}, index=["100", "232"])
    >>> len(plot_per_record(t, ("S Se", "V Se")).axes[0].collections)
    2
    """
    fig, ax = _axes(ax, (9, 3.2))
    x = np.arange(len(table))
    markers = dict(zip(metrics, "o^sv"))
    for i, m in enumerate(metrics):
        color = CLASS_COLORS.get(m.split()[0], None)
        ax.scatter(x + (i - (len(metrics) - 1) / 2) * 0.12, table[m], s=22, color=color,
                   marker=markers[m], alpha=0.6 if "+P" in m else 1.0, label=m)
    ax.set_xticks(x, table.index, rotation=90, fontsize=8)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("record")
    ax.legend(fontsize=8, ncol=len(metrics), loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def plot_image_examples(images, labels, classes, per_class: int = 8, seed: int = 0, axes=None):
    """A grid of random example images: one row per class, ``per_class`` columns.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> images = np.random.default_rng(0).integers(0, 255, (10, 8, 8), dtype=np.uint8)
    >>> fig = plot_image_examples(images, list("AAAAABBBBB"), ["A", "B"], per_class=3)
    >>> len(fig.axes), sum(len(ax.images) for ax in fig.axes)
    (6, 6)
    """
    labels = np.asarray(labels)
    if axes is None:
        fig, axes = plt.subplots(len(classes), per_class, squeeze=False, layout="constrained",
                                 figsize=(1.25 * per_class + 1, 1.3 * len(classes)))
    fig = np.asarray(axes).flat[0].figure
    rng = np.random.default_rng(seed)
    for row, c in zip(np.atleast_2d(axes), classes):
        idx = np.flatnonzero(labels == c)
        for ax, i in zip(row, rng.choice(idx, min(per_class, len(idx)), replace=False)):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
        row[0].set_ylabel(str(c), rotation=0, ha="right", va="center")
    return fig


def plot_evaluation(result: dict, classes, title: str | None = None):
    """One training at a glance: loss curves (best epoch marked), the test confusion
    heatmap normalised by true class, and one-vs-rest ROC curves.

    ``result`` is :func:`ecgutils.experiment.train_and_evaluate`'s dict (``history``,
    ``best_epoch``, ``y_true``, ``y_pred``, ``y_score``); labels may be class indices
    or names.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> result = {"history": {"loss": [1.0, 0.6], "val_loss": [0.9, 0.8]}, "best_epoch": 2,
    ...           "y_true": np.array([0, 1, 1]), "y_pred": np.array([0, 1, 0]),
    ...           "y_score": np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])}
    >>> fig = plot_evaluation(result, ["N", "V"])
    >>> [t.get_text() for t in fig.axes[1].texts]
    ['1.00', '0.00', '0.50', '0.50']
    """
    classes = [str(c) for c in classes]

    def names(y):
        y = np.asarray(y)
        return np.asarray(classes)[y] if np.issubdtype(y.dtype, np.integer) else y.astype(str)

    side = max(3.8, 0.62 * len(classes) + 1.6)
    fig, axes = plt.subplots(1, 3, figsize=(4.6 + 2 * side, side), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.1, 1]})
    plot_training_curves(result["history"], metrics=("loss",), axes=axes[:1])
    if result.get("best_epoch"):
        axes[0].axvline(result["best_epoch"], color="gray", ls=":", label="best epoch")
        axes[0].legend(fontsize=8)
    y_true, y_pred = names(result["y_true"]), names(result["y_pred"])
    plot_confusion_matrix(y_true, y_pred, classes, normalize="true", ax=axes[1],
                          title="test, normalised by true class")
    axes[1].tick_params(axis="x", labelrotation=45)
    plot_roc_curves(y_true, result["y_score"], classes, ax=axes[2], title="test ROC, one vs rest")
    if title:
        fig.suptitle(title)
    return fig


def plot_record_strip(record: str, db: str = "mitdb", start_s: float = 0.0,
                      duration_s: float = 10.0, ax=None, detected=None,
                      title: str | None = None, root=None):
    """:func:`plot_ecg_strip` of a stored record: its lead chosen by name
    (:func:`ecgutils.data.pick_lead`) and its beat annotations above the trace.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import os, tempfile, wfdb
    >>> root = tempfile.mkdtemp(); os.mkdir(f"{root}/demo")
    >>> wfdb.wrsamp("r1", fs=100, units=["mV"], sig_name=["MLII"], write_dir=f"{root}/demo",
    ...             p_signal=np.sin(np.arange(2000) / 8)[:, None], fmt=["16"])
    >>> wfdb.wrann("r1", "atr", np.array([100, 300]), np.array(["N", "V"]), write_dir=f"{root}/demo")
    >>> fig = plot_record_strip("r1", "demo", root=root)
    >>> fig.axes[0].get_title(), sorted(t.get_text() for t in fig.axes[0].texts)
    ('demo/r1, lead MLII, from 0.0 s', ['N', 'V'])
    """
    from . import data

    rec = data.load_record(record, db, root)
    x, lead = data.pick_lead(rec)
    ann = data.load_annotations(record, db, root)
    beat = np.isin(ann.symbol, list(data.BEAT_SYMBOLS))
    return plot_ecg_strip(x, rec.fs, ann.sample[beat], np.asarray(ann.symbol)[beat], start_s,
                          duration_s, ax=ax, detected=detected,
                          title=title or f"{db}/{record}, lead {lead}, from {start_s:.1f} s")


def plot_signal_versions(x, fs: float, versions: dict, start_s: float, duration_s: float,
                         axes=None, unit: str = "mV"):
    """The same stretch of a signal after different processing, one panel each.

    ``versions`` maps a title to a function of the whole signal (filters need the
    signal around the stretch, so they run on all of it before it is cut).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> x = np.random.default_rng(0).normal(size=1000)
    >>> fig = plot_signal_versions(x, 100, {"raw": lambda s: s, "doubled": lambda s: 2 * s}, 1, 2)
    >>> [ax.get_title(loc="left") for ax in fig.axes], len(fig.axes[1].get_lines()[0].get_xdata())
    (['raw', 'doubled'], 200)
    """
    if axes is None:
        fig, axes = plt.subplots(len(versions), 1, figsize=(12, 2.2 * len(versions)),
                                 sharex=True, layout="constrained", squeeze=False)
        axes = axes[:, 0]
    window = slice(int(start_s * fs), int((start_s + duration_s) * fs))
    t = np.arange(window.start, window.stop) / fs
    for ax, (name, transform) in zip(axes, versions.items()):
        ax.plot(t, np.asarray(transform(x))[window], color="k", lw=0.8)
        ax.set_title(name, loc="left", fontsize=10)
        ax.set_ylabel(unit)
    axes[-1].set_xlabel("time (s)")
    return axes[0].figure


def plot_comparison(table: pd.DataFrame,
                    metrics=("S Se", "S +P", "S F1", "V Se", "V +P", "V F1", "accuracy"),
                    costs=("train s", "beats/s", "parameters", "file kB"),
                    hue: str = "protocol", cost_rows: str | None = None, ncols: int = 3):
    """One figure of seaborn bars: every metric per approach, one colour per ``hue``
    value, then the costs (log scale) of the rows whose ``hue`` is ``cost_rows``.

    ``table`` has a column ``approach``, the ``hue`` column, the metrics and the costs
    (one row per approach, protocol and seed: seaborn draws the mean and, with several
    seeds, its standard deviation). The panels are ``ncols`` to a row and the figure
    about 8.5 inches wide for 3 columns, so that at a book page's width (about 800 px)
    its labels keep their printed size: draw one figure per question (S, V, costs)
    rather than every metric in one. Returns the Figure.

    Examples
    --------
    >>> t = pd.DataFrame({"approach": ["a", "a", "b", "b"], "protocol": ["x", "y"] * 2,
    ...                   "S F1": [.2, .8, .3, .9], "train s": [10, 12, 100, 90]})
    >>> fig = plot_comparison(t, ["S F1"], ["train s"], cost_rows="x")
    >>> [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    ['S F1', 'train s (log)']
    """

    panels = list(metrics) + list(costs)
    nrows = -(-len(panels) // ncols)
    # bars per approach: one per hue value (costs: one), 0.12 inch each; labels 1.6 in
    per = table[hue].nunique() if len(metrics) else 1
    bars = table["approach"].nunique() * max(per, 1)
    fig, axes = plt.subplots(nrows, ncols, sharey=True, layout="constrained",
                             figsize=(1.6 + 2.3 * ncols, (0.12 * bars + 1.0) * nrows),
                             squeeze=False)
    order = list(pd.unique(table["approach"]))
    for i, (ax, panel) in enumerate(zip(axes.flat, panels)):
        if panel in metrics:
            sns.barplot(table, y="approach", x=panel, hue=hue, order=order, ax=ax,
                        errorbar="sd", legend=i == 0)
            ax.set(xlim=(0, 1))
        else:
            rows = table if cost_rows is None else table[table[hue] == cost_rows]
            sns.barplot(rows, y="approach", x=panel, order=order, ax=ax, color="0.55",
                        errorbar=None)
            ax.set(xscale="log", xlabel=f"{panel} (log)")
            ax.xaxis.set_minor_formatter(plt.NullFormatter())  # no crowded minor labels
        ax.set(ylabel="")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if len(metrics):
        # one legend above the figure: on the first panel it would widen its column
        handles, labels = axes.flat[0].get_legend_handles_labels()
        axes.flat[0].get_legend().remove()
        fig.legend(handles, labels, loc="outside upper left", ncol=len(labels),
                   frameon=False)
    return fig


def plot_inflation(table: pd.DataFrame, metrics=("S F1", "V F1"),
                   protocols=("DS2", "beat-random"), axes=None):
    """The inflation in one picture: per approach, a line from its score on new patients
    (``protocols[0]``) to its score when its patients are in training (``protocols[1]``).

    ``table`` as for :func:`plot_comparison` (means over seeds are drawn). Returns the
    Figure.

    Examples
    --------
    >>> t = pd.DataFrame({"approach": ["a", "a", "b", "b"],
    ...                   "protocol": ["DS2", "beat-random"] * 2, "S F1": [.2, .8, .3, .9]})
    >>> fig = plot_inflation(t, ["S F1"])
    >>> fig.axes[0].collections[1].get_offsets()[:, 0].round(1).tolist()  # the DS2 dots
    [0.2, 0.3]
    """

    mean = table.groupby(["approach", "protocol"], sort=False)[list(metrics)].mean()
    order = list(pd.unique(table["approach"]))
    if axes is None:
        size = (5.5 * len(metrics), 0.45 * len(order) + 1.5)
        _, axes = plt.subplots(1, len(metrics), figsize=size, sharey=True, layout="constrained",
                               squeeze=False)
        axes = axes[0]
    colors = sns.color_palette(n_colors=len(protocols))
    y = np.arange(len(order))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        low, high = (mean[metric].xs(p, level="protocol").reindex(order).to_numpy()
                     for p in protocols)
        ax.hlines(y, low, high, color="0.75", lw=3, zorder=1)
        for values, color, name in zip((low, high), colors, protocols):
            ax.scatter(values, y, color=color, s=60, zorder=2, label=name)
        # the first approach on top (explicit limits: inverting a shared axis twice undoes it)
        ax.set(yticks=y, yticklabels=order, xlim=(0, 1), xlabel=metric,
               ylim=(len(order) - 0.5, -0.5))
        ax.grid(axis="x", alpha=0.3)
    first = np.atleast_1d(axes)[0]
    first.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=len(protocols), frameon=False)
    return first.figure


def plot_spectrogram(image, freqs_hz, times_s, ax=None, cmap: str = "magma", title=None,
                     colorbar: bool = False):
    """One spectrogram image with time and frequency axes (``librosa.display.specshow``).

    Examples
    --------
    >>> from ecgutils.spectrograms import beat_spectrograms
    >>> img, f, t = beat_spectrograms(np.random.default_rng(0).normal(size=(1, 720)), 360)
    >>> fig = plot_spectrogram(img[0], f, t - 1.0, title="a beat")
    >>> fig.axes[0].get_ylabel()
    'Hz'
    """
    import librosa.display
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    mesh = librosa.display.specshow(np.asarray(image), x_coords=np.asarray(times_s),
                                    y_coords=np.asarray(freqs_hz), x_axis="s", y_axis="hz",
                                    cmap=cmap, ax=ax)
    ax.xaxis.set_major_locator(MaxNLocator(5))  # librosa's locator crowds a short beat
    ax.set_xlabel("time (s)")
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax)
    return ax.figure


def plot_grad_cam(images, heatmaps, titles=None, freqs_hz=None, times_s=None, ncols: int = 4,
                  alpha: float = 0.45, axes=None):
    """Spectrograms in grey with their Grad-CAM heatmaps over them (low frequency at the bottom).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_grad_cam(rng.normal(size=(3, 8, 8)), rng.uniform(size=(3, 8, 8)), ["a", "b", "c"])
    >>> len(fig.axes)
    3
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    heatmaps = np.asarray(heatmaps)
    n = len(images)
    if axes is None:
        nrows = -(-n // ncols)
        fig, axes = plt.subplots(nrows, min(ncols, n), figsize=(2.4 * min(ncols, n), 2.3 * nrows),
                                 layout="constrained", squeeze=False)
        axes = axes.ravel()
        for ax in axes[n:]:
            fig.delaxes(ax)
    fig = np.ravel(axes)[0].figure
    extent = None
    if freqs_hz is not None and times_s is not None:
        extent = (times_s[0], times_s[-1], freqs_hz[0], freqs_hz[-1])
    for i, ax in enumerate(np.ravel(axes)[:n]):
        ax.imshow(images[i], origin="lower", cmap="gray", aspect="auto", extent=extent)
        ax.imshow(heatmaps[i], origin="lower", cmap="jet", alpha=alpha, aspect="auto",
                  extent=extent, vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
        if extent is None:
            ax.set_xticks([]), ax.set_yticks([])
        else:
            ax.tick_params(labelsize=7)
            ax.set_xlabel("time (s)", fontsize=7), ax.set_ylabel("Hz", fontsize=7)
    return fig


def plot_episode_track(samples, values, fs: float, reference=(), detected=(), raw=None,
                       levels=(), ax=None, label: str = "", title: str | None = None):
    """A per-beat quantity of one record over time, with its episodes.

    ``values`` is drawn as a black line (``raw``, if given, as grey dots behind it); the
    ``reference`` episodes (``(start, end)`` samples, or a DataFrame from
    :func:`ecgutils.stt.st_episodes`) are shaded, ``detected`` ones drawn as blue bars along the top,
    and ``levels`` as dotted horizontal lines (thresholds). Time is in minutes.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> s = np.arange(600) * 250
    >>> fig = plot_episode_track(s, np.sin(s / 2e4), 250, reference=[(30000, 60000)],
    ...                          detected=[(32000, 58000)], levels=(0.5,), label="P")
    >>> fig.axes[0].get_xlabel(), len(fig.axes[0].patches)
    ('time (min)', 1)
    """

    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 2.8), layout="constrained")
    else:
        fig = ax.figure
    if isinstance(reference, pd.DataFrame):
        reference = reference[["start", "end"]].to_numpy()
    minutes = np.asarray(samples) / fs / 60
    if raw is not None:
        ax.plot(minutes, raw, ".", ms=2, color="0.6", label="per beat")
    ax.plot(minutes, values, color="k", lw=1, label=label or None)
    for i, (start, end) in enumerate(np.asarray(reference).reshape(-1, 2)):
        ax.axvspan(start / fs / 60, end / fs / 60, color="tab:orange", alpha=0.25,
                   label="reference episode" if i == 0 else None)
    detected = np.asarray(detected).reshape(-1, 2)
    if len(detected):   # room above the curve for the bars
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.12 * (high - low))
    for i, (start, end) in enumerate(detected):
        # x in minutes, y in axes coordinates: the bars sit along the top whatever the scale
        ax.plot([start / fs / 60, end / fs / 60], [0.96, 0.96], color="tab:blue", lw=4,
                transform=ax.get_xaxis_transform(), label="detected episode" if i == 0 else None)
    for level in levels:
        ax.axhline(level, ls=":", color="tab:red", lw=1)
    ax.set_xlabel("time (min)")
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    return fig
