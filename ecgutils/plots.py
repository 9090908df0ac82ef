"""Figures: ECG strips with annotations, confusion matrices, ROC/PR and training curves.

Every helper takes ``ax=None`` (or ``axes=None``) and returns the Figure.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from sklearn import metrics as skm

__all__ = ["plot_beats", "plot_confusion_matrix", "plot_ecg_strip", "plot_per_record",
           "plot_pr_curves", "plot_roc_curves", "plot_training_curves"]

#: One colour per AAMI class, used across the book.
CLASS_COLORS = {"N": "tab:blue", "S": "tab:orange", "V": "tab:red", "F": "tab:purple",
                "Q": "tab:gray"}


def _axes(ax, figsize=(8, 3)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


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


def plot_beats(beats, labels, fs: float, classes=None, ax=None, before_s: float | None = None):
    """Mean +- one standard deviation of the beats of each class.

    Examples
    --------
    >>> fig = plot_beats(np.random.default_rng(0).normal(size=(6, 50)), list("NNNVVV"), 100)
    >>> fig.axes[0].get_legend() is not None
    True
    """
    fig, ax = _axes(ax, (6, 3.5))
    beats, labels = np.asarray(beats), np.asarray(labels)
    classes = list(dict.fromkeys(labels)) if classes is None else classes
    t = np.arange(beats.shape[1]) / fs - (before_s or 0)
    for c in classes:
        sel = beats[labels == c]
        if len(sel) == 0:
            continue
        mean, sd = sel.mean(0), sel.std(0)
        color = CLASS_COLORS.get(str(c))
        ax.plot(t, mean, color=color, label=f"{c} (n={len(sel):,})")
        ax.fill_between(t, mean - sd, mean + sd, color=color, alpha=0.15)
    ax.set_xlabel("time from R peak (s)" if before_s is not None else "time (s)")
    ax.legend(fontsize=8)
    return fig


def plot_confusion_matrix(y_true, y_pred, classes, normalize: str | None = None, ax=None,
                          title: str | None = None):
    """Confusion matrix (``normalize="true"`` for row-normalised recall per class).

    Examples
    --------
    >>> fig = plot_confusion_matrix(["N", "S", "N"], ["N", "N", "N"], ["N", "S"], normalize="true")
    >>> fig.axes[0].get_xlabel()
    'Predicted label'
    """
    fig, ax = _axes(ax, (4.2, 3.8))
    skm.ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=list(classes), normalize=normalize, ax=ax, cmap="Blues",
        colorbar=False, values_format=".2f" if normalize else "d")
    ax.set_title(title or ("normalised by true class" if normalize else "counts"))
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
