"""Beat-classification statistics in ANSI/AAMI EC57 terms, and annotation matching.

Counting rule used throughout the book (chapter 07 on): the reference beats of the five
AAMI classes (``eu.data.AAMI_MAP``: ``e`` and ``j`` are N, after de Chazal et al. 2004),
every beat of the record scored (the first 5 minutes too), Q reference beats left out
of the counts. For a class X, Se = TP / (reference X beats) and +P = TP / (beats
labelled X); every beat labelled X that is not X is a false positive, fusion (F) beats
labelled V included, which is the strict reading (the count ``fusion_as_v`` lets a
reader apply the lenient one). When beats come from a detector, a reference beat with
no detection within 150 ms is a miss (``-`` as label) and a detection with no reference
beat is an extra (``-`` as reference): a miss counts against Se, an extra against +P.

The j index of Mar et al. (2011) is Se_S + +P_S + Se_V + +P_V (at most 4); the jk index
of Mondéjar-Guerra et al. (2019) is kappa / 2 + j / 8 (at most 1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .signal import match_beats

__all__ = ["MISSING", "confusion_table", "gross_statistics", "json_ready", "match_annotations",
           "per_record_statistics", "summary_row"]

#: Label of a reference beat with no detection, or of a detection with no reference beat.
MISSING = "-"
CLASSES = ("N", "S", "V", "F", "Q")


def confusion_table(reference, predicted, classes=CLASSES) -> pd.DataFrame:
    """Counts of reference (rows) against predicted (columns) labels, as integers.

    A ``-`` row or column appears only when some beat is unmatched.

    Examples
    --------
    >>> confusion_table(["N", "N", "S", "V"], ["N", "S", "S", "V"]).loc[["N", "S"], ["N", "S"]]
    predicted  N  S
    reference
    N          1  1
    S          0  1
    """
    reference = np.asarray(reference, dtype=str)
    predicted = np.asarray(predicted, dtype=str)
    labels = list(classes)
    if MISSING in reference or MISSING in predicted:
        labels = labels + [MISSING]
    table = pd.crosstab(pd.Categorical(reference, labels), pd.Categorical(predicted, labels),
                        rownames=["reference"], colnames=["predicted"], dropna=False)
    return table.astype(int)


def _ratio(a, b) -> float:
    return round(float(a) / float(b), 4) if b else float("nan")


def gross_statistics(reference, predicted) -> dict:
    """Gross (all beats pooled) Se, +P, F1 of N, S and V, accuracy, kappa, j and jk.

    Parameters
    ----------
    reference, predicted : sequences of AAMI labels (``N S V F Q``, or ``-``, see module)

    Returns
    -------
    dict
        ``{"N": {"se", "ppv", "f1", "tp", "fn", "fp"}, "S": ..., "V": ...,
        "accuracy", "kappa", "j_index", "jk_index", "n_beats", "fusion_as_v"}``, and
        ``"qrs": {"tp", "fn", "fp", "se", "ppv"}`` (beat detection, all classes, Q too)
        when some beats are unmatched. A ratio with an empty denominator is NaN.

    Examples
    --------
    Ten reference beats: 6 N, 2 S, 1 V, 1 Q (not counted); one S is called N, one N
    is called S:

    >>> ref  = ["N"] * 6 + ["S", "S", "V", "Q"]
    >>> pred = ["N"] * 5 + ["S", "S", "N", "V", "N"]
    >>> g = gross_statistics(ref, pred)
    >>> g["S"]["tp"], g["S"]["fn"], g["S"]["fp"], g["S"]["se"], g["S"]["ppv"]
    (1, 1, 1, 0.5, 0.5)
    >>> g["accuracy"], g["n_beats"]
    (0.7778, 9)
    """
    reference = np.asarray(reference, dtype=str)
    predicted = np.asarray(predicted, dtype=str)
    if reference.shape != predicted.shape:
        raise ValueError(f"reference and predicted differ in length: {reference.size} and "
                         f"{predicted.size}")
    counted = reference != "Q"
    ref, pred = reference[counted], predicted[counted]
    out = {}
    for c in ("N", "S", "V"):
        tp = int(np.sum((ref == c) & (pred == c)))
        fn = int(np.sum(ref == c)) - tp
        fp = int(np.sum(pred == c)) - tp
        se, ppv = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
        f1 = round(2 * se * ppv / (se + ppv), 4) if (se + ppv) > 0 else 0.0
        out[c] = {"se": se, "ppv": ppv, "f1": f1, "tp": tp, "fn": fn, "fp": fp}
    scored = ref != MISSING
    out["accuracy"] = _ratio(np.sum(ref[scored] == pred[scored]), scored.sum())
    out["kappa"] = round(float(_kappa(ref, pred)), 4)
    j = sum(out[c][k] for c in ("S", "V") for k in ("se", "ppv"))
    out["j_index"] = round(float(j), 4)
    out["jk_index"] = round(out["kappa"] / 2 + out["j_index"] / 8, 4)
    out["n_beats"] = int(scored.sum())
    out["fusion_as_v"] = int(np.sum((ref == "F") & (pred == "V")))
    if MISSING in reference or MISSING in predicted:  # beats came from a detector
        tp = int(np.sum((reference != MISSING) & (predicted != MISSING)))
        fn, fp = int(np.sum(predicted == MISSING)), int(np.sum(reference == MISSING))
        out["qrs"] = {"tp": tp, "fn": fn, "fp": fp, "se": _ratio(tp, tp + fn),
                      "ppv": _ratio(tp, tp + fp)}
    return out


def summary_row(stats: dict) -> dict:
    """The headline of :func:`gross_statistics` as one flat row (for a table).

    Examples
    --------
    >>> row = summary_row(gross_statistics(list("NNSV"), list("NNSV")))
    >>> list(row)[:3], row["accuracy"]
    (['S Se', 'S +P', 'S F1'], 1.0)
    """
    row = {f"{c} {name}": stats[c][key] for c in ("S", "V", "N")
           for name, key in (("Se", "se"), ("+P", "ppv"), ("F1", "f1"))}
    row.update({"accuracy": stats["accuracy"], "kappa": stats["kappa"],
                "j index": stats["j_index"], "jk index": stats["jk_index"]})
    return row


def json_ready(obj):
    """``obj`` with every NaN (an undefined ratio: no beat of the class) as None, for a
    results file (which refuses NaN, so that a broken metric cannot pass unseen).

    Examples
    --------
    >>> json_ready({"S": {"se": float("nan"), "tp": 0}, "rows": [1.5, float("nan")]})
    {'S': {'se': None, 'tp': 0}, 'rows': [1.5, None]}
    """
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and np.isnan(obj):
        return None
    return obj


def _kappa(ref, pred) -> float:
    """Cohen's kappa from the confusion matrix (NaN when chance agreement is total)."""
    table = confusion_table(ref, pred).to_numpy(dtype=float)
    n = table.sum()
    if n == 0:
        return float("nan")
    observed = np.trace(table) / n
    chance = float(table.sum(axis=0) @ table.sum(axis=1)) / n ** 2
    return (observed - chance) / (1 - chance) if chance < 1 else float("nan")


def per_record_statistics(reference, predicted, records) -> pd.DataFrame:
    """One row per record: beats of each class, S and V Se/+P/F1, accuracy.

    Se or +P of a class the record lacks (or never predicted) is NaN, not 0.
    """
    reference = np.asarray(reference, dtype=str)
    predicted = np.asarray(predicted, dtype=str)
    records = np.asarray(records, dtype=str)
    rows = []
    for record in pd.unique(records):
        m = records == record
        g = gross_statistics(reference[m], predicted[m])
        rows.append({"record": record, "beats": g["n_beats"],
                     "S beats": int(np.sum(reference[m] == "S")),
                     "V beats": int(np.sum(reference[m] == "V")),
                     "S Se": g["S"]["se"], "S +P": g["S"]["ppv"],
                     "V Se": g["V"]["se"], "V +P": g["V"]["ppv"], "accuracy": g["accuracy"]})
    return pd.DataFrame(rows).set_index("record")


def match_annotations(ref_samples, ref_labels, test_samples, test_labels, fs: float,
                      tolerance_s: float = 0.15):
    """Pair reference and test beats (150 ms, one to one) into two label sequences.

    Returns ``(reference, predicted)``: one entry per matched pair, then ``(label, "-")``
    for each missed reference beat and ``("-", label)`` for each extra test beat,
    ready for :func:`gross_statistics`.

    Examples
    --------
    >>> match_annotations([100, 460, 900], ["N", "V", "S"], [102, 455, 700], ["N", "N", "S"], 360)
    (['N', 'V', 'S', '-'], ['N', 'N', '-', 'S'])
    """
    ref_samples, test_samples = np.asarray(ref_samples), np.asarray(test_samples)
    ref_labels = np.asarray(ref_labels, dtype=str)
    test_labels = np.asarray(test_labels, dtype=str)
    ref_to_test, test_to_ref = match_beats(ref_samples, test_samples, fs, tolerance_s)
    matched = ref_to_test >= 0
    reference = ref_labels[matched].tolist() + ref_labels[~matched].tolist()
    predicted = test_labels[ref_to_test[matched]].tolist() + [MISSING] * int((~matched).sum())
    extra = test_to_ref < 0
    reference += [MISSING] * int(extra.sum())
    predicted += test_labels[extra].tolist()
    return reference, predicted
