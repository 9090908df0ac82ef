"""Classification metrics in AAMI terms: per-class Se, +P, FPR and F1, accuracy, macro-F1;
how far predicted probabilities can be trusted (calibration), and an operating point
chosen for a target sensitivity."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = ["apply_operating_point", "calibration_table", "choose_operating_point", "class_errors",
           "classification_metrics", "errors_by_group", "expected_calibration_error",
           "s_and_v_f1"]


def s_and_v_f1(classes=("N", "S", "V"), n_weight: float = 1.0):
    """The selection score of the N/S/V models: the mean F1 of S and V, as a scorer.

    Parameters
    ----------
    classes : sequence of str
        What the integer labels index; S and V are scored where present.
    n_weight : float
        How many times each N beat counts: the inverse of the share of N validation
        beats kept, so that the score estimates the one on all of them (dropping N
        beats would hide false positives and favour epochs that call S and V too often).

    Returns
    -------
    callable
        ``score(y_true, y_pred) -> float`` on integer labels; a class with neither a
        true nor a predicted beat scores 0.

    See Also
    --------
    ecgutils.experiment.train_and_evaluate : selects the epoch by it.

    Examples
    --------
    >>> score = s_and_v_f1()
    >>> round(score([0, 1, 1, 2], [0, 1, 0, 2]), 3)
    0.833
    """
    classes = [str(c) for c in classes]
    targets = [classes.index(c) for c in ("S", "V") if c in classes]
    n = classes.index("N") if "N" in classes else None

    def score(y_true, y_pred):
        weight = None if n is None else np.where(np.asarray(y_true) == n, n_weight, 1.0)
        return float(skm.f1_score(y_true, y_pred, labels=targets, average="macro",
                                  zero_division=0, sample_weight=weight))
    return score


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


def calibration_table(y_true, proba, classes, n_bins: int = 10) -> pd.DataFrame:
    """Predicted probability against observed frequency, per class and probability bin.

    For each class, its predicted probabilities are cut into ``n_bins`` equal bins of
    [0, 1] (each bin holds its upper edge, the first also 0, as scikit-learn's
    ``calibration_curve`` cuts them); in each bin, the mean probability is set against the
    share of those beats that truly are of the class. A calibrated model's beats given
    0.8 are of the class 8 times in 10.

    Parameters
    ----------
    y_true : array of labels, shape (n,)
        Beats whose label is not one of ``classes`` (F, Q for an N/S/V model) are left
        out: the model gives them no probability of their own.
    proba : array, shape (n, len(classes))
        Predicted probabilities, columns in the order of ``classes``.
    classes : sequence
    n_bins : int

    Returns
    -------
    pandas.DataFrame
        One row per class and non-empty bin: ``class``, ``bin_low``, ``bin_high``,
        ``count`` (beats in the bin), ``predicted`` (their mean probability of the class),
        ``observed`` (the share of them of the class).

    See Also
    --------
    expected_calibration_error : the table in one number per class.
    ecgutils.plots.plot_reliability : the table drawn.

    Examples
    --------
    >>> y = ["N", "N", "V", "V", "N"]
    >>> p = np.array([[0.9, 0.1], [0.7, 0.3], [0.25, 0.75], [0.25, 0.75], [0.25, 0.75]])
    >>> t = calibration_table(y, p, ["N", "V"], n_bins=2)
    >>> t[t["class"] == "V"][["bin_low", "count", "predicted", "observed"]].round(3)
       bin_low  count  predicted  observed
    2      0.0      2        0.2     0.000
    3      0.5      3       0.75     0.667
    """
    classes = list(classes)
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape != (y_true.size, len(classes)):
        raise ValueError(f"proba has shape {proba.shape}; give one row per beat "
                         f"({y_true.size}) and one column per class ({len(classes)})")
    keep = np.isin(y_true, classes)
    y_true, proba = y_true[keep], proba[keep]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    rows = []
    for j, c in enumerate(classes):
        bins = np.searchsorted(edges[1:-1], proba[:, j])  # as sklearn's calibration_curve
        count = np.bincount(bins, minlength=n_bins)
        total = np.bincount(bins, weights=proba[:, j], minlength=n_bins)
        hits = np.bincount(bins, weights=(y_true == c).astype(float), minlength=n_bins)
        full = count > 0
        rows.append(pd.DataFrame({
            "class": str(c), "bin_low": edges[:-1][full], "bin_high": edges[1:][full],
            "count": count[full], "predicted": total[full] / count[full],
            "observed": hits[full] / count[full]}))
    return pd.concat(rows, ignore_index=True)


def expected_calibration_error(y_true, proba, classes, n_bins: int = 10) -> pd.Series:
    """Per class, the mean gap between predicted probability and observed frequency.

    The gaps of :func:`calibration_table`'s bins, weighted by the beats in each:
    0 for a calibrated model; 0.1 when, on average over the beats, the probability of
    the class is off by ten points.

    Parameters
    ----------
    y_true, proba, classes, n_bins
        As :func:`calibration_table` takes them.

    Returns
    -------
    pandas.Series
        Indexed by class.

    See Also
    --------
    calibration_table

    Examples
    --------
    >>> y = ["N", "N", "V", "V", "N"]
    >>> p = np.array([[0.9, 0.1], [0.7, 0.3], [0.25, 0.75], [0.25, 0.75], [0.25, 0.75]])
    >>> # V: the beats given 0.1 and 0.3 are never V (gap 0.2, 2 beats), those given 0.75
    >>> # are V 2 times in 3 (gap 1/12, 3 beats): (0.4 + 0.25) / 5
    >>> expected_calibration_error(y, p, ["N", "V"], n_bins=2).round(3).to_dict()
    {'N': 0.13, 'V': 0.13}
    """
    t = calibration_table(y_true, proba, classes, n_bins)
    gap = (t["observed"] - t["predicted"]).abs() * t["count"]
    ece = gap.groupby(t["class"]).sum() / t.groupby("class")["count"].sum()
    return ece.reindex([str(c) for c in classes]).rename("ECE")


def choose_operating_point(y_true, proba, classes, cls: str = "V",
                           target_se: float = 0.95) -> dict:
    """The highest probability threshold at which ``cls`` reaches a target sensitivity.

    Choose it on validation records, never on the test set. A beat is then called
    ``cls`` where its probability of ``cls`` reaches the threshold, else the most
    probable other class (:func:`apply_operating_point`). Lowering the threshold finds
    more beats of ``cls`` and calls more beats ``cls`` falsely: the highest threshold
    that reaches the target adds the fewest false calls. It is the k-th highest
    probability of ``cls`` among the beats of ``cls``, k = ceil(target_se * their number).

    Parameters
    ----------
    y_true : array of labels, shape (n,)
    proba : array, shape (n, len(classes))
        Predicted probabilities, columns in the order of ``classes``.
    classes : sequence
    cls : str
        The class whose sensitivity is set (V: ventricular beats).
    target_se : float
        In (0, 1].

    Returns
    -------
    dict
        ``class``, ``threshold``, ``target_se``, ``se`` (reached on these beats: at least
        the target), ``beats`` (of ``cls``).

    See Also
    --------
    apply_operating_point

    Examples
    --------
    >>> y = ["V", "V", "V", "V", "N"]
    >>> p_v = np.array([0.9, 0.8, 0.4, 0.2, 0.3])
    >>> op = choose_operating_point(y, np.c_[1 - p_v, p_v], ["N", "V"], "V", target_se=0.75)
    >>> op["threshold"], op["se"]
    (0.4, 0.75)
    """
    classes = list(classes)
    if cls not in classes:
        raise ValueError(f"cls '{cls}' is not one of the classes {classes}")
    if not 0 < target_se <= 1:
        raise ValueError(f"target_se={target_se}: give a sensitivity in (0, 1]")
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=float)
    p = np.sort(proba[y_true == cls, classes.index(cls)])[::-1]
    if p.size == 0:
        raise ValueError(f"no beat of class '{cls}' to choose an operating point on; "
                         f"choose it on records that hold some")
    k = int(np.ceil(target_se * p.size - 1e-9))  # 1e-9: 0.95 * 20 is 19, not 19.000000002
    threshold = float(p[k - 1])
    return {"class": str(cls), "threshold": threshold, "target_se": float(target_se),
            "se": float(np.mean(p >= threshold)), "beats": int(p.size)}


def apply_operating_point(proba, classes, operating_point=None) -> np.ndarray:
    """Labels from probabilities: an operating point's class where it reaches its
    threshold, else the most probable other class; the argmax where there is none.

    Parameters
    ----------
    proba : array, shape (n, len(classes))
    classes : sequence
    operating_point : (class, threshold), optional
        E.g. ``("V", 0.3)`` from :func:`choose_operating_point`; None or ``()`` (as an
        old model file holds it): the most probable class.

    Returns
    -------
    ndarray of str

    See Also
    --------
    choose_operating_point

    Examples
    --------
    >>> p = np.array([[0.6, 0.1, 0.3], [0.2, 0.4, 0.4], [0.5, 0.3, 0.2]])
    >>> apply_operating_point(p, ["N", "S", "V"]).tolist()
    ['N', 'S', 'N']
    >>> apply_operating_point(p, ["N", "S", "V"], ("V", 0.3)).tolist()
    ['V', 'V', 'N']
    """
    classes = np.asarray(list(classes))
    proba = np.asarray(proba, dtype=float)
    if not operating_point:
        return classes[proba.argmax(axis=1)]
    cls, threshold = operating_point
    if cls not in classes:
        raise ValueError(f"the operating point's class '{cls}' is not one of the model's "
                         f"classes {classes.tolist()}")
    j = int(np.flatnonzero(classes == cls)[0])
    others = proba.copy()
    others[:, j] = -np.inf
    labels = classes[others.argmax(axis=1)]
    labels[proba[:, j] >= threshold] = cls
    return labels


def _r(x) -> float:
    return round(float(x), 4)
