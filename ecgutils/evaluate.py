"""Classification metrics in AAMI terms: per-class Se, +P, FPR and F1, accuracy, macro-F1."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = ["class_errors", "classification_metrics", "errors_by_group"]


def classification_metrics(y_true, y_pred, classes, y_score=None) -> dict:
    """Accuracy, macro/weighted F1 and, per class, precision (+P), recall (Se), FPR, F1.

    Parameters
    ----------
    y_true, y_pred : array of class labels (the same values as ``classes``)
    classes : sequence
        The classes, in the order used by ``y_score``'s columns.
    y_score : array, shape (n, n_classes), optional
        Predicted probabilities; adds one-vs-rest ROC-AUC and average precision per class.

    Returns
    -------
    dict
        ``{"accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall",
        "weighted_precision", "weighted_recall", "confusion_matrix", "per_class": {cls: {"precision", "recall", "f1", "support",
        "se", "ppv", "fpr", "specificity"[, "roc_auc", "average_precision"]}}}``
        (``se`` = recall, ``ppv`` = precision, as AAMI EC57 names them).

    Examples
    --------
    >>> m = classification_metrics(["N", "N", "S", "V"], ["N", "S", "S", "V"], ["N", "S", "V"])
    >>> m["accuracy"], m["per_class"]["S"]["ppv"], m["per_class"]["S"]["fpr"]
    (0.75, 0.5, 0.3333)
    """
    classes = list(classes)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = skm.confusion_matrix(y_true, y_pred, labels=classes)
    total = cm.sum()
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = total - tp - fp - fn
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0)
    per_class = {}
    for i, c in enumerate(classes):
        fpr = fp[i] / max(fp[i] + tn[i], 1)
        per_class[str(c)] = {
            "precision": _r(precision[i]), "recall": _r(recall[i]), "f1": _r(f1[i]),
            "support": int(support[i]), "se": _r(recall[i]), "ppv": _r(precision[i]),
            "fpr": _r(fpr), "specificity": _r(1 - fpr),
        }
    if y_score is not None:
        y_score = np.asarray(y_score)
        for i, c in enumerate(classes):
            positive = y_true == c
            if 0 < positive.sum() < positive.size:
                per_class[str(c)]["roc_auc"] = _r(skm.roc_auc_score(positive, y_score[:, i]))
                per_class[str(c)]["average_precision"] = _r(
                    skm.average_precision_score(positive, y_score[:, i]))
    present = support > 0
    return {
        "accuracy": _r(tp.sum() / max(total, 1)),
        "macro_f1": _r(f1[present].mean() if present.any() else 0.0),
        "weighted_f1": _r(np.average(f1, weights=support) if support.sum() else 0.0),
        "macro_precision": _r(precision[present].mean() if present.any() else 0.0),
        "macro_recall": _r(recall[present].mean() if present.any() else 0.0),
        # weighted by support, as the Kaggle reference of chapters 05-06 reports them
        "weighted_precision": _r(np.average(precision, weights=support) if support.sum() else 0.0),
        "weighted_recall": _r(np.average(recall, weights=support) if support.sum() else 0.0),
        "n": int(total),
        "confusion_matrix": cm.tolist(),
        "per_class": per_class,
    }


def class_errors(y_true, y_pred, cls, hours: float | None = None) -> dict:
    """Where one class's errors go: its beats missed and the false calls of it.

    Parameters
    ----------
    y_true, y_pred : array of labels
    cls : label
        The class looked at (e.g. ``"V"``).
    hours : float, optional
        Length of the recordings the labels come from; adds ``false_per_hour``, the
        false calls of ``cls`` an hour (the false alarms of a monitor).

    Returns
    -------
    dict
        ``n`` (beats of ``cls``), ``found``, ``missed``, ``recall``, ``called`` (beats
        called ``cls``), ``false`` (of them, beats of other classes), ``precision``,
        ``lost_to`` / ``lost_to_n`` (the class that took most of the missed beats, and
        how many; ``"none"`` and 0 if none was missed), ``false_from`` / ``false_from_n``
        (the true class of most false calls), and ``false_per_hour`` if ``hours`` is given.
        A rate without a denominator is NaN.

    See Also
    --------
    errors_by_group, classification_metrics

    Examples
    --------
    >>> e = class_errors(list("NNNVVS"), list("NVVVSS"), "V", hours=0.5)
    >>> e["found"], e["missed"], e["lost_to"], e["false"], e["false_from"], e["false_per_hour"]
    (1, 1, 'S', 2, 'N', 4.0)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mine, called = y_true == cls, y_pred == cls
    lost = pd.Series(y_pred[mine & ~called]).value_counts()
    false = pd.Series(y_true[called & ~mine]).value_counts()
    out = {"n": int(mine.sum()), "found": int((mine & called).sum()),
           "missed": int((mine & ~called).sum()), "called": int(called.sum()),
           "false": int((called & ~mine).sum())}
    out.update(recall=out["found"] / out["n"] if out["n"] else float("nan"),
               precision=out["found"] / out["called"] if out["called"] else float("nan"),
               lost_to=str(lost.index[0]) if len(lost) else "none",
               lost_to_n=int(lost.iloc[0]) if len(lost) else 0,
               false_from=str(false.index[0]) if len(false) else "none",
               false_from_n=int(false.iloc[0]) if len(false) else 0)
    if hours is not None:
        out["false_per_hour"] = out["false"] / hours if hours > 0 else float("nan")
    return out


def errors_by_group(y_true, y_pred, cls, groups) -> pd.DataFrame:
    """Per group (e.g. record), the beats of ``cls``, those missed, and the false calls of
    ``cls``; only groups with an error, most false calls first.

    Examples
    --------
    >>> errors_by_group(list("NNVVN"), list("VNNVV"), "V", ["a", "a", "a", "b", "b"])
          V beats  V missed  false V
    a           1         1        1
    b           1         0        1
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mine, called = y_true == cls, y_pred == cls
    table = pd.DataFrame({f"{cls} beats": mine, f"{cls} missed": mine & ~called,
                          f"false {cls}": called & ~mine}).groupby(np.asarray(groups)).sum()
    table = table[(table[f"{cls} missed"] + table[f"false {cls}"]) > 0].astype(int)
    return table.sort_values(f"false {cls}", ascending=False, kind="stable")


def _r(x) -> float:
    return round(float(x), 4)
