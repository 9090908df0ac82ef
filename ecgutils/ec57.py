"""Beat-classification statistics in ANSI/AAMI EC57 terms, and annotation matching.

The rules follow WFDB's reference comparators, whose C source is the operational
reading of EC57: ``app/bxb.c`` (beat by beat), ``app/rxr.c`` (run by run) and
``app/sumstats.c`` (gross and average statistics), in github.com/bemoody/wfdb
(WFDB 10.7.0). What is counted, and where the book departs from them:

- **Classes.** The five AAMI classes of ``eu.data.AAMI_MAP``. Escape beats ``e``, ``j``
  and ``n`` are N, as de Chazal et al. (2004) apply the AAMI class table to ``e`` and
  ``j``. (bxb maps all three, with the premature S beats, to S when asked for S
  statistics and to N otherwise; rxr always to S. The book uses one rule everywhere: N.)
  ``E`` (ventricular escape) is V.
- **Learning period.** EC57 scores each record from 5 minutes on: reference beats in the
  first ``learning_s`` = 300 s, and test beats matched to them or unmatched there, are
  left out (:func:`learning_mask`, ``match_annotations(..., learning_s=300)``,
  :func:`ec57_report`). Label-only functions (:func:`gross_statistics`) score what they
  are given.
- **Counting.** Q reference beats are not counted (bxb counts them for QRS detection
  only). For a class X, Se = TP / (reference X beats) and +P = TP / (beats labelled X).
  **Fusion as V:** a reference F (or Q) beat labelled V is *not* a V false positive, and
  not a V true negative either (bxb: ``VFP = Nv + Sv + Ov + Xv``); ``fusion="strict"``
  counts F beats labelled V as false positives. A reference F beat labelled S *is* an S
  false positive (bxb: ``SFP = Ns + Vs + Fs + Os + Xs``).
- **FPR** = FP / (FP + TN), TN being the beats (extra detections and Q beats included)
  neither of class X nor labelled X; bxb defines it for V, the book for N, S and V alike.
- **Gross and record-average.** Gross statistics pool all beats; record-average ones are
  the mean over records of each record's ratio, over the records where it is defined
  (sumstats). Bootstrap intervals resample records (:func:`bootstrap_gross`).
- **Runs** (:func:`run_counts`): couplets, short runs (3-5 beats) and long runs (6 or
  more) of V (F beats extend V runs, as in rxr) and of S beats, matched as rxr does.
  N beats in atrial fibrillation or flutter count as S for S runs when the caller says
  which beats lie there (``ref_af``), as in rxr.
- **Not EC57:** F1, accuracy, kappa and the j and jk indices are the literature's, not
  the standard's. Ventricular flutter/fibrillation episodes are not modelled (bxb skips
  test beats during reference VF; rxr counts a VF episode as a long V run), and there is
  no shutdown (unreadable signal).
- **Checked against WFDB:** on the 22 DS2 records with test labels made from the
  reference with known errors, the gross QRS, S and V Se and +P and the V FPR equal
  bxb's on every record, and the run counts rxr's on 19 (on 210, 219 and 221 the S runs
  differ by rxr's episode starts, see :func:`run_counts`); ``tools/ec57_vs_wfdb.py``,
  bxb's classes on both sides.

When beats come from a detector, a reference beat with no detection within 150 ms is a
miss (``-`` as label) and a detection with no reference beat is an extra (``-`` as
reference): a miss counts against Se, an extra against +P.

The j index of Mar et al. (2011) is Se_S + +P_S + Se_V + +P_V (at most 4); the jk index
of Mondéjar-Guerra et al. (2019) is kappa / 2 + j / 8 (at most 1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .data import AAMI_MAP
from .runs import stretches
from .signal import match_beats

__all__ = ["bootstrap_gross", "BXB_MAP", "confusion_counts", "confusion_table", "ec57_report",
           "FUSION_RULES", "gross_statistics", "json_ready", "LABELS", "LEARNING_S",
           "learning_mask", "match_annotations", "MISSING", "per_record_statistics",
           "record_average", "run_counts", "run_statistics", "summary_row"]

#: Label of a reference beat with no detection, or of a detection with no reference beat.
MISSING = "-"
CLASSES = ("N", "S", "V", "F", "Q")
#: Row and column order of :func:`confusion_counts`.
LABELS = CLASSES + (MISSING,)
#: EC57's learning period: the first 5 minutes of each record are not scored.
LEARNING_S = 300.0
#: ``"ec57"``: a reference F beat labelled V is no V false positive (bxb); ``"strict"``: it is.
FUSION_RULES = ("ec57", "strict")
#: bxb's classes when it reports S statistics (``-L``, ``-S``, ``-C``): the escape beats
#: ``e``, ``j``, ``n`` are S there. For comparing with WFDB's tools only; the book uses
#: ``eu.data.AAMI_MAP`` (escape beats N).
BXB_MAP = {**AAMI_MAP, **dict.fromkeys("ejn", "S")}
#: rxr's run categories (by length, 6 meaning 6 or more) and the book's "run" (3 or more).
RUN_KINDS = {"couplet": (2, 2), "short": (3, 5), "long": (6, 6), "run": (3, 6)}


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


def learning_mask(samples, fs: float, learning_s: float = LEARNING_S) -> np.ndarray:
    """True for the beats EC57 scores: those at or after ``learning_s`` seconds.

    EC57 (and WFDB's bxb and rxr, option ``-f``) leave the first 5 minutes of each
    record to the algorithm to learn the patient; beats there are not scored.

    Parameters
    ----------
    samples : array-like of int
        Beat positions in samples from the start of each beat's record.
    fs : float
        Sampling rate in Hz.
    learning_s : float
        Length of the learning period in seconds (0: score every beat).

    Returns
    -------
    numpy.ndarray of bool

    See Also
    --------
    ec57_report : gross, record-average and run statistics with the learning period.

    Examples
    --------
    >>> learning_mask([0, 107999, 108000, 650000], fs=360).tolist()
    [False, False, True, True]
    >>> learning_mask([0, 10], fs=360, learning_s=0).tolist()
    [True, True]
    """
    if learning_s < 0:
        raise ValueError(f"learning_s must be 0 or more seconds, got {learning_s}")
    return np.asarray(samples, dtype=float) >= learning_s * fs


def _as_labels(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=str)
    outside = ~np.isin(values, LABELS)
    if outside.any():
        bad = sorted({str(v) for v in values[outside]})
        raise ValueError(f"{name} holds labels outside {list(LABELS)}: {bad}; map beat "
                         f"symbols with eu.data.aami_class first")
    return values


def confusion_counts(reference, predicted, records=None) -> tuple[np.ndarray, list]:
    """Per-record confusion counts over :data:`LABELS` (``N S V F Q -``), all at once.

    Every statistic of this module is a function of these counts, so resampling records
    (:func:`bootstrap_gross`) only sums rows of this array.

    Parameters
    ----------
    reference, predicted : sequences of AAMI labels, or ``-`` (see module)
    records : sequence of str, optional
        The record of each beat; all beats form one record when omitted.

    Returns
    -------
    counts : numpy.ndarray of int, shape (n_records, 6, 6)
        ``counts[r, i, j]``: beats of record ``r`` with reference ``LABELS[i]`` and
        predicted ``LABELS[j]``.
    names : list of str
        The records, in order of first appearance.

    Examples
    --------
    >>> c, names = confusion_counts(list("NNSV"), list("NSSV"), ["a", "a", "b", "b"])
    >>> names, c.shape, int(c[0, 0, 1]), int(c[1, 2, 2])
    (['a', 'b'], (2, 6, 6), 1, 1)
    """
    reference = _as_labels(reference, "reference")
    predicted = _as_labels(predicted, "predicted")
    if reference.shape != predicted.shape:
        raise ValueError(f"reference and predicted differ in length: {reference.size} and "
                         f"{predicted.size}")
    records = np.zeros(reference.size, dtype=str) if records is None else np.asarray(records,
                                                                                      dtype=str)
    if records.shape != reference.shape:
        raise ValueError(f"records has {records.size} entries for {reference.size} beats")
    r, names = pd.factorize(records)  # codes in order of first appearance
    labels = np.asarray(LABELS)
    order = np.argsort(labels)
    i, j = (order[np.searchsorted(labels[order], x)] for x in (reference, predicted))
    k = len(LABELS)
    flat = np.bincount((r * k + i) * k + j, minlength=max(len(names), 1) * k * k)
    return flat.reshape(-1, k, k)[:len(names)], [str(n) for n in names]


def _class_counts(counts: np.ndarray, cls: str, fusion: str = "ec57"):
    """TP, FN, FP, TN of ``cls`` from counts of shape (..., 6, 6) (bxb's rules, see module)."""
    if fusion not in FUSION_RULES:
        raise ValueError(f"fusion must be one of {FUSION_RULES}, got {fusion!r}")
    c, q, f, miss = (LABELS.index(x) for x in (cls, "Q", "F", MISSING))
    tp = counts[..., c, c]
    fn = counts[..., c, :].sum(axis=-1) - tp
    not_fp = [c, q] + ([f] if cls == "V" and fusion == "ec57" else [])
    fp = counts[..., [k for k in range(len(LABELS)) if k not in not_fp], c].sum(axis=-1)
    other_rows = [k for k in range(len(LABELS)) if k != c]
    other_cols = [k for k in range(len(LABELS)) if k not in (c, miss)]
    tn = counts[..., other_rows, :][..., other_cols].sum(axis=(-2, -1))
    return tp, fn, fp, tn


def _divide(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _rates(counts: np.ndarray, fusion: str = "ec57") -> dict:
    """Unrounded ``"S se"``, ``"S ppv"``, ``"S f1"``, ``"S fpr"``... and ``"accuracy"``,
    each an array over the leading axes of ``counts`` (NaN where undefined)."""
    out = {}
    for cls in ("N", "S", "V"):
        tp, fn, fp, tn = _class_counts(counts, cls, fusion)
        out[f"{cls} se"], out[f"{cls} ppv"] = _divide(tp, tp + fn), _divide(tp, tp + fp)
        out[f"{cls} f1"] = _divide(2 * tp, 2 * tp + fn + fp)
        out[f"{cls} fpr"] = _divide(fp, fp + tn)
    scored = [LABELS.index(x) for x in ("N", "S", "V", "F")]
    right = sum(counts[..., k, k] for k in scored)
    out["accuracy"] = _divide(right, counts[..., scored, :].sum(axis=(-2, -1)))
    return out


def _ratio(a, b) -> float:
    return round(float(a) / float(b), 4) if b else float("nan")


def gross_statistics(reference, predicted, fusion: str = "ec57") -> dict:
    """Gross (all beats pooled) Se, +P, F1 and FPR of N, S and V, accuracy, kappa, j and jk.

    Parameters
    ----------
    reference, predicted : sequences of AAMI labels (``N S V F Q``, or ``-``, see module)
    fusion : {"ec57", "strict"}
        ``"ec57"`` (bxb's rule): a reference F beat labelled V is no V false positive;
        ``"strict"``: it is.

    Returns
    -------
    dict
        ``{"N": {"se", "ppv", "f1", "fpr", "tp", "fn", "fp"}, "S": ..., "V": ...,
        "accuracy", "kappa", "j_index", "jk_index", "n_beats", "fusion_as_v",
        "fusion_rule"}`` (``fusion_as_v``: reference F beats labelled V), and
        ``"qrs": {"tp", "fn", "fp", "se", "ppv"}`` (beat detection, all classes, Q too)
        when some beats are unmatched. A ratio with an empty denominator is NaN.

    See Also
    --------
    record_average : the same ratios averaged over records.
    bootstrap_gross : confidence intervals over records.

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

    S FPR: 1 false positive against 7 true negatives (5 N, the V and, as in bxb, the Q
    beat, all labelled other than S):

    >>> g["S"]["fpr"]
    0.125

    A fusion beat called V is no V false positive under EC57's rule:

    >>> [gross_statistics(list("VF"), list("VV"), fusion=r)["V"]["ppv"] for r in FUSION_RULES]
    [1.0, 0.5]
    """
    reference = np.asarray(reference, dtype=str)
    predicted = np.asarray(predicted, dtype=str)
    counts = confusion_counts(reference, predicted)[0].sum(axis=0)
    out = {}
    for c in ("N", "S", "V"):
        tp, fn, fp, tn = (int(v) for v in _class_counts(counts, c, fusion))
        se, ppv = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
        f1 = round(2 * se * ppv / (se + ppv), 4) if (se + ppv) > 0 else 0.0
        out[c] = {"se": se, "ppv": ppv, "f1": f1, "fpr": _ratio(fp, fp + tn),
                  "tp": tp, "fn": fn, "fp": fp}
    counted = reference != "Q"
    ref, pred = reference[counted], predicted[counted]
    scored = ref != MISSING
    out["accuracy"] = _ratio(np.sum(ref[scored] == pred[scored]), scored.sum())
    out["kappa"] = round(float(_kappa(ref, pred)), 4)
    j = sum(out[c][k] for c in ("S", "V") for k in ("se", "ppv"))
    out["j_index"] = round(float(j), 4)
    out["jk_index"] = round(out["kappa"] / 2 + out["j_index"] / 8, 4)
    out["n_beats"] = int(scored.sum())
    out["fusion_as_v"] = int(np.sum((ref == "F") & (pred == "V")))
    out["fusion_rule"] = fusion
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


def record_average(reference, predicted, records, fusion: str = "ec57") -> dict:
    """Record-average Se, +P and FPR of N, S and V: the mean of each record's ratio over
    the records where it is defined (WFDB's sumstats "Average" line).

    A record with no S beat has no S Se and does not enter its average; one where no
    beat is labelled S has no S +P. The gross statistics (:func:`gross_statistics`)
    weight records by their beats; the average weights each record once, so one record
    rich in S beats cannot carry it.

    Parameters
    ----------
    reference, predicted : sequences of AAMI labels (see module)
    records : sequence of str
        The record of each beat.
    fusion : {"ec57", "strict"}
        See :func:`gross_statistics`.

    Returns
    -------
    dict
        ``{"S": {"se", "ppv", "fpr", "records_se", "records_ppv", "records_fpr"}, "V": ...,
        "N": ..., "records"}``; ``records_*`` is how many records each mean is over.

    See Also
    --------
    gross_statistics, bootstrap_gross

    Examples
    --------
    Record a: both S beats found; record b: none of its 8 S beats (its +P undefined):

    >>> ref = list("NSS") + list("NSSSSSSSS")
    >>> pred = list("NSS") + list("NNNNNNNNN")
    >>> avg = record_average(ref, pred, ["a"] * 3 + ["b"] * 9)
    >>> avg["S"]["se"], avg["S"]["records_se"], avg["S"]["ppv"], avg["S"]["records_ppv"]
    (0.5, 2, 1.0, 1)
    >>> gross_statistics(ref, pred)["S"]["se"]
    0.2
    """
    counts, names = confusion_counts(reference, predicted, records)
    rates = _rates(counts, fusion)
    out = {}
    for c in ("N", "S", "V"):
        out[c] = {}
        for key in ("se", "ppv", "fpr"):
            v = rates[f"{c} {key}"]
            defined = ~np.isnan(v)
            out[c][key] = round(float(v[defined].mean()), 4) if defined.any() else float("nan")
            out[c][f"records_{key}"] = int(defined.sum())
    out["records"] = len(names)
    return out


def _resample_weights(n_records: int, n_boot: int, rng) -> np.ndarray:
    """How often each record is drawn in each resample, shape (n_boot, n_records)."""
    draws = rng.integers(0, n_records, size=(n_boot, n_records))
    offsets = np.arange(n_boot)[:, None] * n_records
    return np.bincount((draws + offsets).ravel(),
                       minlength=n_boot * n_records).reshape(n_boot, n_records)


def bootstrap_gross(reference, predicted, records, n_boot: int = 1000, level: float = 0.95,
                    seed: int = 0, fusion: str = "ec57") -> dict:
    """Bootstrap confidence intervals of the gross statistics over records.

    Records are drawn with replacement (a record is a patient's whole recording: its
    beats are not independent, so beats are never resampled one by one), and the gross
    statistics recomputed from the drawn records' confusion counts. With several
    trainings (``predicted`` a list, one labelling per training seed), each resample
    scores every seed on the same records and averages them: the interval then says how
    much the *choice of test records* moves the seed-mean, and ``seed_sd`` (over seeds,
    on all records) how much the *training seed* moves a single model.

    Parameters
    ----------
    reference : sequence of AAMI labels (see module)
    predicted : sequence of labels, or a list of such sequences (one per seed)
    records : sequence of str
        The record of each beat.
    n_boot : int
        Number of resamples.
    level : float
        Coverage of the percentile interval.
    seed : int
        Seed of the resampling (the same seed gives the same intervals).
    fusion : {"ec57", "strict"}
        See :func:`gross_statistics`.

    Returns
    -------
    dict
        For each of ``"S se"``, ``"S ppv"``, ``"S f1"``, ``"S fpr"`` (and N, V) and
        ``"accuracy"``: ``{"estimate", "low", "high", "record_sd", "seed_sd",
        "undefined"}``: the seed-mean on all records, the percentile interval and the sd
        over resamples, the sd over seeds (NaN with one seed) and the resamples where
        the ratio was undefined (left out of the interval).

    See Also
    --------
    record_average : another answer to "is one record carrying the result?".

    Examples
    --------
    >>> ref = list("NNSS") * 3 + list("NNNS")
    >>> pred = list("NNSN") * 3 + list("NNNS")
    >>> ci = bootstrap_gross(ref, pred, list("aaaabbbbccccdddd"), n_boot=200, seed=1)
    >>> ci["S se"]["estimate"], ci["S se"]["low"] <= ci["S se"]["estimate"] <= ci["S se"]["high"]
    (0.5714, True)
    """
    predictions = np.asarray(predicted, dtype=str)
    predictions = predictions[None] if predictions.ndim == 1 else predictions
    counts = np.stack([confusion_counts(reference, p, records)[0] for p in predictions])
    n_seeds, n_records = counts.shape[:2]
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    weights = _resample_weights(n_records, n_boot, np.random.default_rng(seed))
    flat = counts.reshape(n_seeds, n_records, -1)
    resampled = np.einsum("br,srk->sbk", weights, flat).reshape(
        n_seeds, n_boot, *counts.shape[2:])
    boot = _rates(resampled, fusion)           # (seeds, resamples) each
    point = _rates(counts.sum(axis=1), fusion)  # (seeds,) each
    alpha = (1 - level) / 2
    out = {}
    for name, values in boot.items():
        seed_mean = values.mean(axis=0)  # NaN where a seed's ratio is undefined
        defined = ~np.isnan(seed_mean)
        low, high = (np.quantile(seed_mean[defined], [alpha, 1 - alpha]) if defined.any()
                     else (np.nan, np.nan))
        out[name] = {
            "estimate": round(float(point[name].mean()), 4),
            "low": round(float(low), 4), "high": round(float(high), 4),
            "record_sd": round(float(seed_mean[defined].std(ddof=1)), 4)
            if defined.sum() > 1 else float("nan"),
            "seed_sd": round(float(point[name].std(ddof=1)), 4) if n_seeds > 1
            else float("nan"),
            "undefined": int((~defined).sum())}
    return out


def match_annotations(ref_samples, ref_labels, test_samples, test_labels, fs: float,
                      tolerance_s: float = 0.15, learning_s: float = LEARNING_S):
    """Pair reference and test beats (150 ms, one to one) into two label sequences.

    Beats are paired over the whole record; then, as bxb does, the pairs whose reference
    beat lies in the learning period (the first ``learning_s`` seconds), and the
    unmatched beats there, are dropped. A test beat just before the end of the learning
    period that pairs with a reference beat after it is kept. (bxb may also skip an
    unmatched test beat in the first 150 ms after the learning period; here it is an
    extra.)

    Returns ``(reference, predicted)``: one entry per matched pair, then ``(label, "-")``
    for each missed reference beat and ``("-", label)`` for each extra test beat,
    ready for :func:`gross_statistics`.

    Examples
    --------
    >>> match_annotations([100, 460, 900], ["N", "V", "S"], [102, 455, 700], ["N", "N", "S"],
    ...                   360, learning_s=0)
    (['N', 'V', 'S', '-'], ['N', 'N', '-', 'S'])
    >>> match_annotations([100, 460, 900], ["N", "V", "S"], [102, 455, 700], ["N", "N", "S"],
    ...                   360, learning_s=1.5)
    (['S', '-'], ['-', 'S'])
    """
    ref_samples, test_samples = np.asarray(ref_samples), np.asarray(test_samples)
    ref_labels = np.asarray(ref_labels, dtype=str)
    test_labels = np.asarray(test_labels, dtype=str)
    ref_to_test, test_to_ref = match_beats(ref_samples, test_samples, fs, tolerance_s)
    ref_kept = learning_mask(ref_samples, fs, learning_s)
    matched = (ref_to_test >= 0) & ref_kept
    missed = (ref_to_test < 0) & ref_kept
    reference = ref_labels[matched].tolist() + ref_labels[missed].tolist()
    predicted = test_labels[ref_to_test[matched]].tolist() + [MISSING] * int(missed.sum())
    extra = (test_to_ref < 0) & learning_mask(test_samples, fs, learning_s)
    reference += [MISSING] * int(extra.sum())
    predicted += test_labels[extra].tolist()
    return reference, predicted


def _longest_in_windows(times, in_run, t0, t1) -> np.ndarray:
    """For each window ``[t0[k], t1[k]]``, the longest stretch of consecutive beats with
    ``in_run`` among the beats whose times lie in it (rxr's ``find_longest_run``).

    A stretch that starts before the window counts only its beats inside it. Vectorised
    over windows: the stretch at the window's start, the last stretch that starts inside
    it (cut at the window's end) and the longest of those between (a range maximum).
    """
    times, in_run = np.asarray(times), np.asarray(in_run, dtype=bool)
    n = times.size
    lo = np.searchsorted(times, t0, "left")
    hi = np.searchsorted(times, t1, "right")
    if lo.size == 0:
        return np.zeros(0, dtype=int)
    first, length = stretches(in_run)
    first = np.append(first, n + 1)  # a sentinel stretch past the end
    length = np.append(length, 0)
    breaks = np.append(np.flatnonzero(~in_run), n)
    k = breaks[np.searchsorted(breaks, lo, "left")]  # first beat at or after lo not in a run
    head = np.clip(np.minimum(k, hi) - lo, 0, None)
    r0 = np.searchsorted(first, k, "left")           # stretches starting in [k, hi)
    r1 = np.searchsorted(first, hi, "left")
    last = np.maximum(r1 - 1, 0)
    tail = np.where(r1 > r0, np.minimum(length[last], hi - first[last]), 0)
    sentinel = length.size - 1
    bounds = np.clip(np.column_stack([r0, r1 - 1]), 0, sentinel).ravel()
    inner = np.where(r1 - 1 > r0, np.maximum.reduceat(length, bounds)[::2], 0)
    return np.maximum.reduce([head, tail, inner])


def _run_lengths(times, in_run, t_start, tolerance):
    """rxr's runs of one annotator from ``t_start`` on: their capped lengths (6 = six or
    more) and match windows (first beat - tolerance, last beat + tolerance)."""
    kept = np.flatnonzero(times >= t_start)
    first, length = stretches(in_run[kept])
    start, end = times[kept[first]], times[kept[first + length - 1]]
    return np.minimum(length, 6), start - tolerance, end + tolerance


def run_counts(ref_samples, ref_labels, test_samples, test_labels, fs: float,
               learning_s: float = LEARNING_S, tolerance_s: float = 0.15,
               ref_af=None) -> dict:
    """Run-by-run counts of one record, after WFDB's ``rxr`` (EC57's run statistics).

    A run is a stretch of consecutive beats of one annotator: ventricular runs of V or F
    beats (rxr lets fusion beats extend V runs), supraventricular runs of S beats; any
    other beat ends it. Lengths count to 6 (six or more): a couplet has 2 beats, a short
    run 3 to 5, a long run 6 or more; the book adds "run" for 3 or more. For
    sensitivity, each reference run from ``learning_s`` on is matched with the longest
    run of test beats inside its window (150 ms before its first beat to 150 ms after its
    last); for positive predictivity the roles swap. As in rxr:

    - a reference couplet is found (``TPs``) when that test run has 2 or more beats, a
      short run when it has 3 or more, a long run only when it has 6 or more (``FN``
      otherwise);
    - a test couplet is true (``TPp``) when the reference run in its window has 2 or more
      beats, a short run 3 or more, a long run 6 or more (``FP`` otherwise).

    Atrial fibrillation and flutter: given ``ref_af``, the reference's N beats in those
    rhythms count as S beats for S runs, as rxr counts them (an episode then makes a long
    S run, and the test's S beats there are true). Simplifications: ventricular flutter
    or fibrillation episodes are not read (rxr counts each as a long V run), an episode
    is a run of its beats (rxr starts it as a long run at the rhythm mark), and each
    window is searched on its own (rxr reads the other file forward only, which differs
    only when two runs' windows overlap, above about 200 bpm). On the 22 DS2 records
    with test labels made from the reference with known errors, these counts equal rxr's
    on 19; on 210, 219 and 221 (atrial fibrillation broken up by V beats) rxr finds a few
    more long S runs, from its episode starts (``tools/ec57_vs_wfdb.py``).

    Parameters
    ----------
    ref_samples, ref_labels : array-like
        Reference beats of one record: positions (samples) and AAMI labels, in time order.
    test_samples, test_labels : array-like
        Test beats of the same record (the reference positions when a classifier labelled
        the reference beats).
    fs : float
        Sampling rate in Hz.
    learning_s : float
        Runs that start in the first ``learning_s`` seconds are not scored (EC57: 300).
    tolerance_s : float
        The match window's margin (EC57: 0.15 s).
    ref_af : array-like of bool, optional
        For each reference beat, whether it lies in atrial fibrillation or flutter (e.g.
        ``eu.data.samples_in_episodes(samples, eu.data.rhythm_episodes(ann, ("AFIB",
        "AFL")))``); none when omitted.

    Returns
    -------
    dict
        ``{"V couplet TPs": int, "V couplet FN", "V couplet TPp", "V couplet FP", ...}``
        for V and S and the kinds ``couplet``, ``short``, ``long``, ``run``.

    See Also
    --------
    ecgutils.runs.beat_runs : the stretches themselves, with their rates.
    run_statistics : Se and +P from these counts, gross and record-average.

    Examples
    --------
    The reference has a V couplet and a V run of 3; the test labels find the run but
    split the couplet (one V called N) and add a couplet of its own:

    >>> t = [100 * i for i in range(12)]
    >>> ref  = list("NVVNNVVVNNNN")
    >>> test = list("NVNNNVVVNVVN")
    >>> c = run_counts(t, ref, t, test, fs=100, learning_s=0)
    >>> [c[f"V couplet {k}"] for k in ("TPs", "FN", "TPp", "FP")]
    [0, 1, 0, 1]
    >>> [c[f"V short {k}"] for k in ("TPs", "FN", "TPp", "FP")]
    [1, 0, 1, 0]
    """
    ref_samples, test_samples = np.asarray(ref_samples), np.asarray(test_samples)
    ref_labels = np.asarray(ref_labels, dtype=str)
    test_labels = np.asarray(test_labels, dtype=str)
    for name, s, lab in (("reference", ref_samples, ref_labels),
                         ("test", test_samples, test_labels)):
        if s.shape != lab.shape:
            raise ValueError(f"{name}: {s.size} samples for {lab.size} labels")
        if s.size > 1 and np.any(np.diff(s) < 0):
            raise ValueError(f"{name} beats are not in time order")
    ref_af = (np.zeros(ref_labels.shape, bool) if ref_af is None
              else np.asarray(ref_af, dtype=bool))
    if ref_af.shape != ref_labels.shape:
        raise ValueError(f"ref_af has {ref_af.size} entries for {ref_labels.size} reference "
                         f"beats")
    t_start, tolerance = learning_s * fs, tolerance_s * fs
    out = {}
    for cls, run_classes in (("V", ("V", "F")), ("S", ("S",))):
        ref_in = np.isin(ref_labels, run_classes)
        if cls == "S":  # rxr: N beats in atrial fibrillation or flutter are S beats
            ref_in |= ref_af & (ref_labels == "N")
        test_in = np.isin(test_labels, run_classes)
        sides = {}
        for side, (a, b) in {"se": ((ref_samples, ref_in), (test_samples, test_in)),
                             "ppv": ((test_samples, test_in), (ref_samples, ref_in))}.items():
            length, t0, t1 = _run_lengths(*a, t_start, tolerance)
            sides[side] = length, np.minimum(_longest_in_windows(*b, t0, t1), 6)
        for kind, (shortest, longest) in RUN_KINDS.items():
            length, other = sides["se"]
            here = (length >= shortest) & (length <= longest)
            found = here & (other >= shortest)
            out[f"{cls} {kind} TPs"] = int(found.sum())
            out[f"{cls} {kind} FN"] = int((here & ~found).sum())
            length, other = sides["ppv"]
            here = (length >= shortest) & (length <= longest)
            true = here & (other >= shortest)
            out[f"{cls} {kind} TPp"] = int(true.sum())
            out[f"{cls} {kind} FP"] = int((here & ~true).sum())
    return out


def run_statistics(counts) -> pd.DataFrame:
    """Run Se and +P, gross and record-average, from per-record :func:`run_counts`.

    Parameters
    ----------
    counts : pandas.DataFrame or list of dict
        One row of :func:`run_counts` per record.

    Returns
    -------
    pandas.DataFrame
        One row per class and kind (``"V couplet"``, ..., ``"S run"``): ``reference``
        (reference runs), ``test`` (test runs), ``Se``, ``+P`` (gross),
        ``Se avg``, ``+P avg`` (mean over the records where defined); NaN where
        undefined.

    Examples
    --------
    >>> t = [100 * i for i in range(12)]
    >>> c = run_counts(t, list("NVVNNVVVNNNN"), t, list("NVNNNVVVNVVN"), 100, learning_s=0)
    >>> run_statistics([c]).loc["V short", ["reference", "Se", "+P"]].tolist()
    [1.0, 1.0, 1.0]
    """
    counts = pd.DataFrame(counts)
    rows = {}
    for cls in ("V", "S"):
        for kind in RUN_KINDS:
            tps, fn, tpp, fp = (counts[f"{cls} {kind} {k}"].to_numpy()
                                for k in ("TPs", "FN", "TPp", "FP"))
            se, ppv = _divide(tps, tps + fn), _divide(tpp, tpp + fp)
            rows[f"{cls} {kind}"] = {
                "reference": int((tps + fn).sum()), "test": int((tpp + fp).sum()),
                "Se": _ratio(tps.sum(), (tps + fn).sum()),
                "+P": _ratio(tpp.sum(), (tpp + fp).sum()),
                "Se avg": round(float(np.nanmean(se)), 4) if np.isfinite(se).any() else np.nan,
                "+P avg": round(float(np.nanmean(ppv)), 4) if np.isfinite(ppv).any() else np.nan}
    return pd.DataFrame(rows).T


def ec57_report(reference, predicted, records, samples, fs: float,
                learning_s: float = LEARNING_S, n_boot: int = 1000, level: float = 0.95,
                seed: int = 0, fusion: str = "ec57", af=None) -> dict:
    """Everything EC57 asks of a beat classifier, on labels of the reference beats.

    The beats of the first ``learning_s`` seconds of each record are left out (EC57's
    learning period), then: gross and record-average Se, +P and FPR, bootstrap intervals
    over records and run statistics. With several trainings, ``predicted`` holds one
    labelling per seed and every figure is the mean over seeds.

    Parameters
    ----------
    reference : sequence of AAMI labels, one per reference beat
    predicted : sequence of labels, or a list of them (one per training seed)
    records : sequence of str
        The record of each beat; beats of a record in time order.
    samples : array-like of int
        Each beat's position in its record, in samples.
    fs : float
        Sampling rate of ``samples``.
    learning_s, n_boot, level, seed, fusion
        See :func:`learning_mask`, :func:`bootstrap_gross`, :func:`gross_statistics`.
    af : array-like of bool, optional
        Beats in atrial fibrillation or flutter (``ref_af`` of :func:`run_counts`).

    Returns
    -------
    dict
        JSON-ready (NaN as None): ``learning_s``, ``fusion_rule``, ``seeds``, ``records``,
        ``beats_scored``, ``beats_in_learning_period``, ``gross`` (``"S se"``... seed
        means), ``record_average`` (:func:`record_average`, seed means), ``bootstrap``
        (:func:`bootstrap_gross` with ``n_boot`` and ``level``) and ``runs``
        (:func:`run_statistics` rows, seed means).

    See Also
    --------
    gross_statistics, record_average, bootstrap_gross, run_counts

    Examples
    --------
    >>> ref = list("NNSVVN") * 4
    >>> rep = ec57_report(ref, ref, ["a"] * 12 + ["b"] * 12, list(range(0, 1200, 100)) * 2,
    ...                   fs=100, learning_s=2, n_boot=50)
    >>> rep["beats_scored"], rep["beats_in_learning_period"], rep["gross"]["V se"]
    (20, 4, 1.0)
    >>> rep["runs"]["V couplet"]["reference"], rep["runs"]["V couplet"]["Se"]
    (4, 1.0)
    """
    reference = np.asarray(reference, dtype=str)
    predictions = np.asarray(predicted, dtype=str)
    predictions = predictions[None] if predictions.ndim == 1 else predictions
    records, samples = np.asarray(records, dtype=str), np.asarray(samples)
    if not (reference.shape == records.shape == samples.shape == predictions.shape[1:]):
        raise ValueError(f"reference ({reference.size}), predicted ({predictions.shape[-1]}), "
                         f"records ({records.size}) and samples ({samples.size}) must give one "
                         f"entry per beat")
    kept = learning_mask(samples, fs, learning_s)
    ref, preds, recs = reference[kept], predictions[:, kept], records[kept]
    boot = bootstrap_gross(ref, preds, recs, n_boot=n_boot, level=level, seed=seed,
                           fusion=fusion)
    averages = [record_average(ref, p, recs, fusion) for p in preds]
    record_avg = {c: {k: _tidy(np.mean([a[c][k] for a in averages]), k.startswith("records"))
                      for k in averages[0][c]} for c in ("N", "S", "V")}
    af = np.zeros(reference.shape, bool) if af is None else np.asarray(af, dtype=bool)
    run_tables = []
    for p in predictions:  # runs use the whole record: runs start after the learning period
        per_record = [run_counts(samples[m], reference[m], samples[m], p[m], fs, learning_s,
                                 ref_af=af[m])
                      for m in (records == r for r in pd.unique(records))]
        run_tables.append(run_statistics(per_record))
    runs = sum(run_tables) / len(run_tables)
    return json_ready({
        "learning_s": float(learning_s), "fusion_rule": fusion, "seeds": len(predictions),
        "records": len(pd.unique(recs)), "beats_scored": int(np.sum(ref != "Q")),
        "beats_in_learning_period": int((~kept).sum()),
        "gross": {name: v["estimate"] for name, v in boot.items()},
        "record_average": record_avg,
        "bootstrap": {"n_boot": n_boot, "level": level, "seed": seed, **boot},
        "runs": {name: {k: _tidy(v, k in ("reference", "test")) for k, v in row.items()}
                 for name, row in runs.iterrows()}})


def _tidy(value, count: bool = False):
    """A mean over seeds for a results file: 4 decimals; a count that is whole as an int."""
    value = float(value)
    return int(value) if count and value.is_integer() else round(value, 4)
