"""European ST-T Database helpers: records, binary beat labels, ST/T episodes, ST features.

The European ST-T Database (``edb``: 90 two-hour records, 250 Hz, two leads) and its 33
15-minute excerpts in the QT Database (``qtdb`` records ``sele0104`` ... ``sele0704``)
share one annotation format:

- beat symbols (``N``, ``V``, ``S``, ``F``, ``J``...) at the R peaks;
- ST episodes as ``s`` annotations whose aux note opens ``(ST1+`` and closes ``ST1+)``
  (lead 1 = the first signal, ``+`` elevation, ``-`` depression);
- T episodes as ``T`` annotations, ``(T2-`` ... ``T2-)`` (``++``/``--``: a T wave that
  changes sign);
- extreme-deviation marks such as ``AST1-100`` (microvolts) inside an episode, which
  are not boundaries.

Every function works on whole arrays; the only loops are over records or episode keys.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import beats as _beats
from . import data as _data
from . import evaluate as _evaluate
from . import signal as _signal
from .beats import Beats
from .kaggle_beats import PTB_CLASSES, extract_kachuee_beats, label_beats

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["abnormal_summary", "beats_to_episodes", "binary_beat_labels", "binary_metrics",
           "binary_summary", "BINARY_CLASSES", "mark_offsets",
           "build_st_t_beats", "detect_episodes", "EDB_BINARY_MAP", "european_st_records",
           "load_record_beats", "match_episodes", "record_table",
           "st_episodes", "st_features", "ST_FEATURES"]

#: The two classes of the beat task, in a fixed order (index 1 is the positive class).
BINARY_CLASSES = ("normal", "abnormal")

#: Beat symbol -> binary class. Stable and explicit (never numbered by iterating a set):
#: ``N`` is normal; every other labelled beat type is abnormal. Unclassifiable beats
#: (``Q``, ``?``) are beats of unknown type and are left out (``None``), as are
#: non-beat annotations (rhythm ``+``, noise ``~``, ST/T episode marks ``s``/``T``,
#: isolated QRS-like artefacts ``|``), which are not in the map at all.
EDB_BINARY_MAP = {
    "N": "normal",
    **dict.fromkeys(("V", "S", "F", "J", "A", "a", "E", "j", "e", "L", "R", "B", "n", "r",
                     "/", "f"), "abnormal"),
    "Q": None,
    "?": None,
}

_OPEN = re.compile(r"^\((ST|T)(\d+)([+-]+)$")
_CLOSE = re.compile(r"^(ST|T)(\d+)([+-]+)\)$")


# --------------------------------------------------------------------------- records
def european_st_records(db: str = "qtdb", root: str | Path | None = None) -> list[str]:
    """Records of the European ST-T Database available in ``db``.

    ``db="edb"``: every record of the full database (its ``RECORDS`` file).
    ``db="qtdb"``: the QT Database records that are European ST-T excerpts, i.e. the
    ``sele0*`` records whose header says ``Produced by xform from record e0...``
    (a full QT Database copy also holds MIT-BIH and other excerpts, left out).

    Raises
    ------
    ValueError
        ``db`` is neither ``"qtdb"`` nor ``"edb"``, or no excerpt is found.
    FileNotFoundError
        The database folder is missing (the message says how to get it).
    """
    if db == "edb":
        return _data.list_records("edb", root)
    if db != "qtdb":
        raise ValueError(f"parameter 'database' must be 'qtdb' (the 33 European ST-T excerpts) "
                         f"or 'edb' (the full European ST-T Database), got {db!r}")
    folder = _data.database_dir(db, root)
    out = []
    for record in _data.list_records(db, root):
        if not record.startswith("sele0") or not (folder / f"{record}.hea").is_file():
            continue
        comments = " ".join(wfdb.rdheader(str(folder / record)).comments)
        if re.search(r"from record e0\d+", comments):
            out.append(record)
    if not out:
        raise ValueError(f"no European ST-T excerpts (sele0* records 'Produced by xform from "
                         f"record e0...') in {folder}")
    return out


def record_table(records, db: str = "qtdb", root: str | Path | None = None) -> pd.DataFrame:
    """One row per record: where it comes from, its patient, leads and length, and how
    many beats and ST/T episode marks its reference annotations hold.

    ``source`` is the full-database record an excerpt was cut from (read from the
    header's ``Produced by xform from record e0...`` comment); ``patient`` is the
    header's first comment (age, sex...).
    """
    folder = _data.database_dir(db, root)
    rows = []
    for record in records:  # one header and one annotation file per record
        h = wfdb.rdheader(str(folder / record))
        symbols = np.asarray(_data.load_annotations(record, db, root).symbol)
        source = re.search(r"from record (\w+)", " ".join(h.comments))
        rows.append({"record": record, "source": source.group(1) if source else record,
                     "patient": h.comments[0] if h.comments else "",
                     "leads": ", ".join(h.sig_name), "fs (Hz)": int(h.fs),
                     "minutes": round(h.sig_len / h.fs / 60, 1),
                     "beats": int(np.isin(symbols, list(_data.BEAT_SYMBOLS)).sum()),
                     "ST/T marks": int(np.isin(symbols, ["s", "T"]).sum())})
    return pd.DataFrame(rows).set_index("record")


# --------------------------------------------------------------------------- labels
def binary_beat_labels(symbols, where: str = "") -> np.ndarray:
    """Map beat symbols to ``"normal"``/``"abnormal"`` with :data:`EDB_BINARY_MAP`.

    Unclassifiable beats (``Q``, ``?``) give ``""``: drop them. A symbol that is not in
    the map (a non-beat annotation such as ``+`` or ``s``) raises: filter beats first.

    Examples
    --------
    >>> binary_beat_labels(["N", "V", "S", "N", "Q"]).tolist()
    ['normal', 'abnormal', 'abnormal', 'normal', '']
    >>> binary_beat_labels(["N", "s"], where="record e0103")
    Traceback (most recent call last):
    ...
    ValueError: record e0103: symbols ['s'] are not beat labels of EDB_BINARY_MAP (1 annotations); keep only beats (eu.data.BEAT_SYMBOLS) first.
    """
    symbols = np.asarray(symbols, dtype=object)
    known = np.isin(symbols, list(EDB_BINARY_MAP))
    if not known.all():
        bad = sorted(set(symbols[~known]))
        raise ValueError(f"{where + ': ' if where else ''}symbols {bad} are not beat labels of "
                         f"EDB_BINARY_MAP ({int((~known).sum())} annotations); keep only beats "
                         f"(eu.data.BEAT_SYMBOLS) first.")
    lookup = {k: (v or "") for k, v in EDB_BINARY_MAP.items()}
    return np.array([lookup[s] for s in symbols], dtype=str) if symbols.size else \
        np.array([], dtype=str)


def binary_metrics(y_true, prob, classes=BINARY_CLASSES, threshold: float = 0.5) -> dict:
    """Metrics of a binary classifier from its probability of the positive class.

    A thin binary view of :func:`ecgutils.evaluate.classification_metrics` (whose result
    it returns, ROC-AUC included): at the top level it adds the counts ``tp``, ``fn``,
    ``tn``, ``fp``, the sensitivity TP / (TP + FN), the specificity TN / (TN + FP) and
    the balanced accuracy, their mean. A rate whose denominator is zero (no positives,
    or no negatives, as in a validation set without abnormal beats) is ``None``.

    Parameters
    ----------
    y_true : array of 0/1
        Indices into ``classes``; ``classes[1]`` is the positive class.
    prob : array
        Predicted probability of the positive class (a sigmoid output, any shape that
        ravels to one value per beat).
    classes : pair of str
    threshold : float
        A beat is called positive when ``prob >= threshold``.

    Examples
    --------
    >>> m = binary_metrics([1, 1, 0, 0, 0], [0.9, 0.2, 0.1, 0.6, 0.3])
    >>> m["sensitivity"], m["specificity"], m["balanced_accuracy"], m["tp"], m["fp"]
    (0.5, 0.6667, 0.5833, 1, 1)
    >>> binary_metrics([0, 0], [0.1, 0.7])["sensitivity"] is None
    True
    """
    names = np.asarray(classes)
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    prob = np.asarray(prob, dtype=float).ravel()
    if y_true.shape != prob.shape:
        raise ValueError(f"y_true {y_true.shape} and prob {prob.shape} differ in shape")
    m = _evaluate.classification_metrics(names[y_true], names[(prob >= threshold).astype(int)],
                                         classes, y_score=np.c_[1 - prob, prob])
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    se = tp / (tp + fn) if tp + fn else None
    sp = tn / (tn + fp) if tn + fp else None
    return {**m, "tp": tp, "fn": fn, "tn": tn, "fp": fp,
            "sensitivity": None if se is None else round(se, 4),
            "specificity": None if sp is None else round(sp, 4),
            "balanced_accuracy": None if None in (se, sp) else round((se + sp) / 2, 4),
            "threshold": threshold}


def binary_summary(metrics: dict) -> dict:
    """A :func:`binary_metrics` result said in words and counts, for the prose.

    Returns ``tp``, ``fn``, ``fp``, ``tn``, ``sensitivity``, ``specificity``, ``auc``
    (NaN when undefined) and ``auc_reading``, what that ROC-AUC means for a model
    scored on new patients.

    Examples
    --------
    >>> s = binary_summary(binary_metrics([1, 1, 0, 0, 0], [0.1, 0.2, 0.9, 0.6, 0.3]))
    >>> s["auc"], s["auc_reading"][:12]
    (0.0, 'below chance')
    """
    auc = metrics["per_class"][BINARY_CLASSES[1]].get("roc_auc")
    auc = float("nan") if auc is None else float(auc)
    if not np.isfinite(auc):
        reading = "undefined: the test patients have no abnormal beat (or no normal one)"
    elif auc < 0.5:
        reading = ("below chance: it ranks the new patients' abnormal beats as *more* normal "
                   "than their normal ones. It has not learned to tell abnormal from normal "
                   "beats in a new patient")
    elif auc < 0.7:
        reading = ("barely above chance: it has hardly learned to tell abnormal from normal "
                   "beats in a new patient")
    else:
        reading = "well above chance, but it rests on the few abnormal beats of a few test patients"
    return {**{k: metrics[k] for k in ("tp", "fn", "fp", "tn", "sensitivity", "specificity")},
            "auc": auc, "auc_reading": reading}


def abnormal_summary(table: pd.DataFrame, index_sets: dict, top: int = 3) -> dict:
    """How many abnormal beats each split holds, and from which records, in words.

    ``table`` is :func:`load_record_beats`'s beat table (stacked over records);
    ``index_sets`` maps a split name to row positions. Returns ``{"<split>_n": count,
    "<split>": "123 S in sele0114, 59 V in sele0411, ..."}`` for each split.

    Examples
    --------
    >>> t = pd.DataFrame({"record": ["a", "a", "b", "b"], "symbol": ["V", "V", "S", "N"],
    ...                   "label": ["abnormal", "abnormal", "abnormal", "normal"]})
    >>> abnormal_summary(t, {"train": [0, 1], "test": [2, 3]})
    {'train_n': 2, 'train': '2 V in a', 'test_n': 1, 'test': '1 S in b'}
    """
    out = {}
    for name, rows in index_sets.items():
        part = table.iloc[np.asarray(rows, dtype=np.int64)]
        counts = part[part["label"] == "abnormal"].value_counts(["record", "symbol"])
        words = ", ".join(f"{n} {s} in {r}" for (r, s), n in counts[:top].items())
        out[f"{name}_n"] = int(counts.sum())
        out[name] = (words + (", ..." if len(counts) > top else "")) or "none"
    return out


def mark_offsets(table: pd.DataFrame, fs: float) -> dict:
    """How far R lies from the annotation mark, per record (median, ms), over records.

    ``table`` as :func:`load_record_beats` returns it (``sample`` = R, ``mark``).
    Returns ``min_ms`` and ``max_ms`` (of the per-record medians), ``late`` (records
    whose R comes after the mark) and ``records``.

    Examples
    --------
    >>> t = pd.DataFrame({"record": ["a", "a", "b"], "sample": [110, 210, 300],
    ...                   "mark": [100, 200, 302]})
    >>> mark_offsets(t, fs=250)
    {'min_ms': -8.0, 'max_ms': 40.0, 'late': 1, 'records': 2}
    """
    ms = ((table["sample"] - table["mark"]) / fs * 1000).groupby(table["record"]).median()
    return {"min_ms": float(ms.min()), "max_ms": float(ms.max()), "late": int((ms > 0).sum()),
            "records": len(ms)}


# --------------------------------------------------------------------------- episodes
def st_episodes(ann, sig_len: int | None = None, kinds=("ST", "T")) -> pd.DataFrame:
    """ST and T episodes of one record as intervals, one row per episode and lead.

    The package's one parser of the European ST-T episode marks: the beat tables of
    :func:`load_record_beats` and the Kaggle-format beats of :func:`build_st_t_beats`
    both read their episodes here (select a lead with ``episodes[episodes.lead == i]``).

    Boundaries are aux notes ``(ST1+`` (opens) and ``ST1+)`` (closes); they are paired
    per (kind, lead, direction) in time order. An episode already running when the
    record starts (a close without an open, common in 15-min excerpts) starts at 0
    (``open_start``); one still running at the end (an open without a close) ends at
    ``sig_len - 1``, or at the last annotation if ``sig_len`` is not given
    (``open_end``). Peak marks such as ``AST1-100`` are ignored.

    Parameters
    ----------
    ann : wfdb.Annotation, or anything with ``sample`` and ``aux_note``
    sig_len : int, optional
        Record length in samples.
    kinds : tuple of {"ST", "T"}

    Returns
    -------
    DataFrame
        Columns ``lead`` (0-based signal index), ``kind``, ``direction`` (``+``, ``-``,
        ``++``, ``--``), ``start``, ``end`` (samples), ``open_start``, ``open_end``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ann = SimpleNamespace(sample=[100, 300, 350, 500, 900],
    ...                       aux_note=["(ST1+", "AST1+150", "ST1+)", "(T2-", "ST2-)"])
    >>> st_episodes(ann, sig_len=1000)[["lead", "kind", "direction", "start", "end"]]
       lead kind direction  start  end
    0     0   ST         +    100  350
    1     1   ST         -      0  900
    2     1    T         -    500  999
    """
    samples = np.asarray(ann.sample, dtype=np.int64)
    notes = pd.Series(np.asarray(ann.aux_note, dtype=object), dtype=object).fillna("").astype(str)
    notes = notes.str.rstrip("\x00")
    opens = notes.str.extract(_OPEN)
    closes = notes.str.extract(_CLOSE)
    is_open, is_close = opens[0].notna().to_numpy(), closes[0].notna().to_numpy()
    parts = opens.where(opens[0].notna(), closes)
    ev = pd.DataFrame({"kind": parts[0], "lead": parts[1], "direction": parts[2],
                       "sample": samples, "is_open": is_open})[is_open | is_close]
    ev = ev[ev["kind"].isin(list(kinds))]
    columns = ["lead", "kind", "direction", "start", "end", "open_start", "open_end"]
    if ev.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            columns, (int, str, str, np.int64, np.int64, bool, bool))})
    last = int(sig_len - 1) if sig_len is not None else int(samples.max())
    ev = ev.sort_values(["kind", "lead", "direction", "sample"], kind="stable")
    key = ["kind", "lead", "direction"]
    nxt_open = ev.groupby(key)["is_open"].shift(-1)
    nxt_sample = ev.groupby(key)["sample"].shift(-1)
    prev_open = ev.groupby(key)["is_open"].shift(1)
    # An open is paired with the next event of its key if that is a close; an open
    # followed by another open (malformed) ends there; a final open ends at the record end.
    o = ev[ev["is_open"]]
    closed = nxt_open[ev["is_open"]].eq(False)
    end = np.where(nxt_sample[ev["is_open"]].notna(), nxt_sample[ev["is_open"]].fillna(0), last)
    paired = pd.DataFrame({"lead": o["lead"].astype(int) - 1, "kind": o["kind"],
                           "direction": o["direction"], "start": o["sample"],
                           "end": end.astype(np.int64), "open_start": False,
                           "open_end": ~closed.to_numpy()})
    # A close with no open before it: the episode began before the record did.
    c = ev[~ev["is_open"] & ~prev_open.eq(True)]
    orphan = pd.DataFrame({"lead": c["lead"].astype(int) - 1, "kind": c["kind"],
                           "direction": c["direction"], "start": np.int64(0),
                           "end": c["sample"], "open_start": True, "open_end": False})
    out = pd.concat([paired, orphan], ignore_index=True)
    out = (out.assign(_t=out["kind"].eq("T")).sort_values(["_t", "lead", "start"], kind="stable")
           .drop(columns="_t").reset_index(drop=True))
    out[["start", "end"]] = out[["start", "end"]].astype(np.int64)
    return out[columns]


def beats_to_episodes(samples, positive, fs: float, min_duration_s: float = 30.0) -> np.ndarray:
    """Runs of consecutive positive beats as ``(start, end)`` episodes of one record.

    A run lasts from its first to its last positive beat; runs shorter than
    ``min_duration_s`` are dropped (the European ST-T Database annotates only ST
    episodes of at least 30 s).

    Examples
    --------
    >>> s = np.arange(0, 100) * 250  # one beat a second at 250 Hz
    >>> pos = (s > 10 * 250) & (s < 50 * 250) | (s > 80 * 250) & (s < 85 * 250)
    >>> beats_to_episodes(s, pos, fs=250).tolist()
    [[2750, 12250]]
    """
    samples = np.asarray(samples, dtype=np.int64)
    positive = np.asarray(positive, dtype=bool)
    if samples.shape != positive.shape:
        raise ValueError(f"samples {samples.shape} and positive {positive.shape} differ in shape")
    edges = np.diff(np.concatenate([[0], positive.astype(np.int8), [0]]))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    ep = np.stack([samples[first], samples[last]], axis=1).reshape(-1, 2)
    return ep[(ep[:, 1] - ep[:, 0]) >= min_duration_s * fs]


def detect_episodes(records, samples, prob, fs: float, smooth_beats: int = 31,
                    threshold: float = 0.5, min_duration_s: float = 30.0):
    """Episodes detected from per-beat probabilities, record by record.

    Within each record (its beats in time order) the probabilities are smoothed by a
    running median over ``smooth_beats`` beats (a lone dissenting beat does not break an
    episode), thresholded at ``threshold``, and runs of positive beats lasting at least
    ``min_duration_s`` become episodes (:func:`beats_to_episodes`).

    Parameters
    ----------
    records, samples, prob : arrays, one value per beat
        The beat's record, its R-peak sample, and the probability that it lies in an
        episode.
    fs : float
        Sampling rate (Hz) of ``samples``.

    Returns
    -------
    smoothed : ndarray
        The smoothed probabilities, aligned with the input.
    episodes : dict
        Record -> ``(n, 2)`` array of detected ``(start, end)`` samples.

    Examples
    --------
    >>> s = np.arange(120) * 250                 # one beat a second
    >>> p = np.where((s >= 20 * 250) & (s < 80 * 250), 0.9, 0.1)
    >>> p[50] = 0.0                              # one dissenting beat inside
    >>> smoothed, episodes = detect_episodes(np.repeat("r1", 120), s, p, fs=250, smooth_beats=5)
    >>> episodes["r1"].tolist(), float(smoothed[50])
    ([[5000, 19750]], 0.9)
    """
    from scipy import ndimage

    records = np.asarray(records)
    samples = np.asarray(samples, dtype=np.int64)
    prob = np.asarray(prob, dtype=float).ravel()
    smoothed, episodes = np.zeros_like(prob), {}
    for record in pd.unique(records):  # a few records, each filtered as a whole
        i = np.flatnonzero(records == record)
        i = i[np.argsort(samples[i], kind="stable")]
        smoothed[i] = ndimage.median_filter(prob[i], size=min(smooth_beats, len(i)),
                                            mode="nearest")
        episodes[record] = beats_to_episodes(samples[i], smoothed[i] >= threshold, fs,
                                             min_duration_s)
    return smoothed, episodes


def match_episodes(reference, detected, min_overlap: float = 0.5) -> dict:
    """Episode sensitivity and positive predictivity by overlap (EC57-style).

    A reference episode counts as detected when the detected episodes cover at least
    ``min_overlap`` of its duration, or when it covers at least ``min_overlap`` of a
    detected episode it overlaps (a long detection over a short episode, or a short
    one inside a long episode, both count). Symmetrically, a detected episode is a
    true positive when the reference episodes cover ``min_overlap`` of it, or it
    covers ``min_overlap`` of an overlapping reference episode.

    Returns ``{"ref_episodes", "det_episodes", "tp_ref", "fn", "tp_det", "fp", "se",
    "ppv"}``; ``se`` (``ppv``) is ``None`` without reference (detected) episodes.

    Examples
    --------
    >>> match_episodes([(0, 100), (200, 300), (500, 520)], [(10, 90), (290, 400), (600, 700)])
    {'ref_episodes': 3, 'det_episodes': 3, 'tp_ref': 1, 'fn': 2, 'tp_det': 1, 'fp': 2, 'se': 0.3333, 'ppv': 0.3333}
    """
    ref = np.asarray(reference, dtype=np.int64).reshape(-1, 2)
    det = np.asarray(detected, dtype=np.int64).reshape(-1, 2)
    if not 0 < min_overlap <= 1:
        raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")
    ov = np.maximum(0, np.minimum(ref[:, None, 1], det[None, :, 1])
                    - np.maximum(ref[:, None, 0], det[None, :, 0]))
    len_ref = np.maximum(ref[:, 1] - ref[:, 0], 1)
    len_det = np.maximum(det[:, 1] - det[:, 0], 1)
    ref_hit = (ov.sum(1) >= min_overlap * len_ref) | (ov >= min_overlap * len_det[None, :]).any(1)
    det_hit = (ov.sum(0) >= min_overlap * len_det) | (ov >= min_overlap * len_ref[:, None]).any(0)
    tp_ref, tp_det = int(ref_hit.sum()), int(det_hit.sum())
    return {"ref_episodes": len(ref), "det_episodes": len(det), "tp_ref": tp_ref,
            "fn": len(ref) - tp_ref, "tp_det": tp_det, "fp": len(det) - tp_det,
            "se": round(tp_ref / len(ref), 4) if len(ref) else None,
            "ppv": round(tp_det / len(det), 4) if len(det) else None}


# --------------------------------------------------------------------------- features
#: Per-beat ST features (two leads), from :func:`st_features`.
ST_FEATURES = tuple(f"{name}{lead}" for name in ("st_level", "st_change", "st_change_smooth",
                                                 "st_vs_median", "t_level", "t_change",
                                                 "t_change_smooth", "t_vs_median")
                    for lead in (1, 2)) + ("rr_s",)


def st_features(x_mv, peaks, fs: float, reference_s: float = 30.0,
                smooth_beats: int = 15) -> pd.DataFrame:
    """ST and T levels of each beat, and their change from the record's reference.

    For each lead (columns of ``x_mv``, in mV): the isoelectric level is the median of
    the PR segment (90 to 50 ms before the R peak); the ST level is the mean from 100 to
    120 ms after R (about J + 60-80 ms) minus it; the T level the mean from 200 to
    350 ms after R minus it. The change is the level minus the median level of the
    beats in the first ``reference_s`` seconds (the European ST-T annotators also
    measured deviations from a reference taken at the start of the record), and a
    running median over ``smooth_beats`` beats steadies it (episodes last >= 30 s).
    ``*_vs_median`` is that smoothed change relative to the record's median level
    instead (for records that begin inside an episode, where the start is no reference).

    Examples
    --------
    >>> fs = 250
    >>> t = np.arange(120 * fs) / fs
    >>> peaks = np.arange(fs, 119 * fs, fs)
    >>> x = np.zeros((t.size, 2))
    >>> x[(peaks[:, None] + np.arange(20, 35)).ravel()] += [0.2, 0.0]  # ST raised in lead 1
    >>> f = st_features(x, peaks, fs)
    >>> round(float(f["st_level1"].median()), 2), round(float(f["st_level2"].median()), 2)
    (0.2, 0.0)
    """
    x = np.asarray(x_mv, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    peaks = np.asarray(peaks, dtype=np.int64)
    from scipy import ndimage

    def level(a_s, b_s, how):
        seg, _ = _signal.segment_beats(x, peaks + round(a_s * fs), fs, 0, b_s - a_s)
        return np.median(seg, axis=1) if how == "median" else seg.mean(axis=1)

    iso = level(-0.09, -0.05, "median")
    st = level(0.10, 0.12, "mean") - iso
    tw = level(0.20, 0.35, "mean") - iso
    ref_beats = peaks < peaks[0] + reference_s * fs if peaks.size else peaks.astype(bool)
    out = {}
    size = max(1, min(int(smooth_beats), max(peaks.size, 1)))
    for name, v in (("st", st), ("t", tw)):
        ref = np.median(v[ref_beats], axis=0) if ref_beats.any() else np.zeros(v.shape[1])
        change = v - ref
        smooth = ndimage.median_filter(change, size=(size, 1), mode="nearest")
        for lead in range(v.shape[1]):
            out[f"{name}_level{lead + 1}"] = v[:, lead]
            out[f"{name}_change{lead + 1}"] = change[:, lead]
            out[f"{name}_change_smooth{lead + 1}"] = smooth[:, lead]
            out[f"{name}_vs_median{lead + 1}"] = smooth[:, lead] - np.median(change[:, lead])
    rr = np.diff(peaks, prepend=peaks[0] - round(fs)) / fs if peaks.size else np.array([])
    out["rr_s"] = rr
    return pd.DataFrame(out)[[c for c in ST_FEATURES if c in out]]


def load_record_beats(record: str, db: str = "qtdb", root: str | Path | None = None,
                      window_s: float = 0.2, wavelet: str = "db6",
                      r_search_s: float | None = 0.1):
    """Read, denoise, normalise and segment one European ST-T record.

    1. wfdb reads the record (both leads) and its ``.atr`` annotations.
    2. Each lead is wavelet-denoised (``wavelet``, threshold estimated from the data,
       :func:`ecgutils.signal.wavelet_denoise`) and z-scored over the record.
    3. Each beat mark is moved to the R peak: the European ST-T marks sit early in the
       QRS, in most records tens of ms before its peak (24-36 ms on sele0104, sele0203
       and sele0606), so, as chapter 07 does, the mark goes to the largest deflection of
       the band-passed first lead within ``r_search_s`` of it (the R wave, or the S wave
       of a mostly negative QRS; :func:`ecgutils.signal.refine_to_r`). ``None`` keeps
       the marks as they are.
    4. A ``window_s`` window centred on each R peak is cut from both leads (edges
       padded): ``beats`` has shape ``(n_beats, round(window_s * fs), 2)``.
    5. Beats get binary labels (:data:`EDB_BINARY_MAP`; ``Q``/``?`` beats dropped),
       whether they lie inside an ST (``in_st``) or T (``in_t``) episode of either lead,
       and the ST features of :func:`st_features`, measured from R (on the denoised
       signal in mV).

    Returns
    -------
    beats : ndarray, float32, shape (n, window, 2)
    table : DataFrame
        One row per beat: ``record``, ``sample`` (the R peak), ``mark`` (the annotation's
        sample), ``symbol``, ``label``, ``in_st``, ``in_t`` and the :data:`ST_FEATURES`
        columns.
    info : dict
        ``fs``, ``sig_len``, ``sig_name``, ``comments``, ``episodes`` (DataFrame).

    See Also
    --------
    ecgutils.signal.refine_to_r, st_features
    """
    found = _beats.record_beats([record], db, root, lead=None, r_search_s=None)
    header = found.signals[record]
    signal = header["signal"]
    if signal.shape[1] < 2:
        raise ValueError(f"record {db}/{record} has {signal.shape[1]} lead(s); "
                         f"the European ST-T records have two")
    fs = header["fs"]
    denoised = _signal.wavelet_denoise(signal[:, :2], wavelet, axis=0)
    normalised = _signal.zscore(denoised, axis=0)
    labels = binary_beat_labels(found.symbol, where=f"record {db}/{record}")
    keep = labels != ""
    marks, beat_symbols, labels = found.sample[keep], found.symbol[keep], labels[keep]
    peaks = marks
    if r_search_s is not None:
        peaks = _signal.refine_to_r(_signal.bandpass_filter(denoised[:, 0], fs), marks, fs,
                                    r_search_s)
    half = window_s / 2
    beats, _ = _signal.segment_beats(normalised, peaks, fs, half, half)
    sig_len = len(signal)
    episodes = st_episodes(_data.load_annotations(record, db, root), sig_len=sig_len)
    table = pd.DataFrame({
        "record": str(record), "sample": peaks, "mark": marks,
        "symbol": beat_symbols.astype(str),
        "label": labels,
        "in_st": _data.samples_in_episodes(peaks, episodes[episodes["kind"] == "ST"]),
        "in_t": _data.samples_in_episodes(peaks, episodes[episodes["kind"] == "T"]),
    })
    table = pd.concat([table, st_features(denoised, peaks, fs)], axis=1)
    info = {"fs": fs, "sig_len": sig_len, "sig_name": header["sig_name"][:2],
            "comments": header["comments"], "episodes": episodes}
    return beats.astype(np.float32), table, info


# --------------------------------------------------------------------------- beats in the Kaggle format
def build_st_t_beats(records=None, db: str = "qtdb", root=None, signal: int = 0,
                     tolerance_s: float = 0.15) -> Beats:
    """Kachuee-format beats of the European ST-T excerpts, normal (0) vs abnormal (1).

    Signal ``signal`` of each record goes through :func:`extract_kachuee_beats`; beats
    that match an annotated beat are kept, and a beat is *abnormal* when it lies inside
    an ST or T episode of that signal (:func:`st_episodes`), *normal* otherwise.
    Default records: every European ST-T record of ``db`` (:func:`european_st_records`).
    """
    records = [str(r) for r in (european_st_records(db, root) if records is None else records)]
    parts = []
    for record in records:
        ref = _beats.record_beats([record], db, root, lead=signal, r_search_s=None)
        x, fs = ref.signals[record]["signal"], ref.signals[record]["fs"]
        episodes = st_episodes(_data.load_annotations(record, db, root), sig_len=len(x))
        beats, r_samples = extract_kachuee_beats(x, fs)
        ok = label_beats(r_samples, ref.sample, np.zeros(len(ref), np.int64), fs,
                         tolerance_s) >= 0
        r_ok = r_samples[ok]
        inside = _data.samples_in_episodes(r_ok, episodes[episodes["lead"] == signal])
        parts.append(Beats(np.full(ok.sum(), record), r_ok,
                           np.asarray(PTB_CLASSES)[inside.astype(np.int64)],
                           classes=PTB_CLASSES, X=beats[ok]))
    return Beats.concat(parts)


# --------------------------------------------------------------------------- plots
