"""Classification metrics in AAMI terms: per-class Se, +P, FPR and F1, accuracy, macro-F1."""
from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

__all__ = ["classification_metrics"]


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


def _r(x) -> float:
    return round(float(x), 4)
