"""Heartbeats in the Kaggle / Kachuee et al. (2018) format, rebuilt from the raw records.

The Kaggle "ECG Heartbeat Categorization" files (``mitbih_train.csv``, ``mitbih_test.csv``,
``ptbdb_normal.csv``, ``ptbdb_abnormal.csv``) hold one beat per row: 187 values at
125 Hz, zero-padded, then the label (0-4 for N, S, V, F, Q; 0/1 for PTB normal/abnormal).
No header. They were made from MIT-BIH by Kachuee, Fazeli & Sarrafzadeh (2018):

1. resample the lead to 125 Hz;
2. cut 10-s windows and min-max normalise each to [0, 1];
3. R-peak candidates: local maxima >= 0.9;
4. T = the median RR interval of the window;
5. from each R peak take 1.2 T samples, zero-pad to 187.

:func:`build_kaggle_beats` repeats this on the MIT-BIH records, labels each beat from the
reference annotation (AAMI class of the reference beat within 150 ms) and, unlike the
Kaggle files, keeps the record and the sample of every beat, so patient-wise splits are
possible. :func:`load_kaggle_beats` is the one loader of the chapters: it builds the beats,
or reads a user's real Kaggle CSVs (``csv_dir``), checking every row.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import config as _config
from . import beats as _beats
from . import data as _data
from . import splits as _splits
from . import signal as _signal
from .beats import Beats

__all__ = ["BEAT_LENGTH", "beat_metrics", "beat_preprocessing", "build_kaggle_beats",
           "class_error_report",
           "classify_beats", "extract_kachuee_beats", "fit_beat_scaler", "FS_KAGGLE",
           "KAGGLE_CLASSES", "kept_beats_table", "label_beats", "load_kaggle_beats",
           "load_ptb_beats", "MODEL_KIND", "prepare_split", "PTB_CLASSES", "R_PEAK_SOURCES",
           "read_kaggle_csv",
           "scale_beats", "scaled_splits", "scores_table", "SMOKE_RECORDS",
           "validation_split",
           "smote_oversample", "split_beats",
           "split_by_record", "write_kaggle_csv"]

#: Samples per beat in the Kaggle files (1.5 s at 125 Hz), and their sampling rate.
BEAT_LENGTH = 187
FS_KAGGLE = 125
#: Label order of ``mitbih_*.csv`` (0..4) and of ``ptbdb_*.csv`` (0/1).
KAGGLE_CLASSES = _data.AAMI_CLASSES
PTB_CLASSES = ("normal", "abnormal")
#: MIT-BIH records for the chapters' smoke runs: few, yet every class on both sides of
#: DS1/DS2 (101, 106, 119, 208, 209 are DS1; 100, 213, 232, 222 DS2; 217 is paced).
SMOKE_RECORDS = ("101", "106", "119", "208", "209", "100", "213", "232", "222", "217")


# --------------------------------------------------------------------------- the builder
def extract_kachuee_beats(x, fs: float, window_s: float = 10.0, fs_out: float = FS_KAGGLE,
                          peak_threshold: float = 0.9, rr_factor: float = 1.2,
                          length: int = BEAT_LENGTH,
                          r_samples=None) -> tuple[np.ndarray, np.ndarray]:
    """Kachuee et al. (2018) beat extraction from one lead, all windows at once.

    The lead is resampled to ``fs_out``, cut into non-overlapping ``window_s`` windows
    (a shorter tail is dropped), and each window min-max normalised to [0, 1]. Local
    maxima >= ``peak_threshold`` are R-peak candidates; ``T`` is the median interval
    between the candidates of a window (windows with fewer than two have none). Each beat
    is the ``rr_factor * T`` samples from its candidate onwards (ending at the window's
    end at the latest), zero-padded or cut to ``length``.

    Parameters
    ----------
    x : array, shape (n,)
        One ECG lead.
    fs : float
        Its sampling rate in Hz.
    r_samples : array of int, optional
        R peaks given as samples of ``x`` (e.g. the reference annotation). They replace
        the thresholded candidates; windows, normalisation, ``T`` and the cut stay the
        same, and a window with a single given peak takes the median of all windows' ``T``.

    Returns
    -------
    beats : ndarray, shape (n_beats, length), float32
    r_samples : ndarray of int
        Each beat's R peak as a sample of ``x`` (at ``fs``). With ``r_samples`` given,
        the peaks that fall in the dropped tail are left out.

    Examples
    --------
    >>> fs = 360
    >>> t = np.arange(30 * fs) / fs
    >>> r = np.arange(0.4, 30, 0.8)          # 75 bpm; the R at 10.0 s sits on a window edge
    >>> x = np.exp(-((t[:, None] - r) / 0.015) ** 2).sum(1)
    >>> beats, peaks = extract_kachuee_beats(x, fs)
    >>> beats.shape, float(beats[:, 0].min()) > 0.9             # each beat starts at its R
    ((36, 187), True)
    >>> int(np.count_nonzero(beats[0]))                          # 1.2 * 0.8 s * 125 Hz
    120
    >>> bool(np.all(np.abs(peaks / fs - r[np.abs(r[:, None] - peaks / fs).argmin(0)]) < 0.01))
    True
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"extract_kachuee_beats takes one lead (1-D array), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("extract_kachuee_beats: the signal holds NaN or inf")
    for name, value in (("fs", fs), ("window_s", window_s), ("fs_out", fs_out),
                        ("rr_factor", rr_factor)):
        if not value > 0:
            raise ValueError(f"parameter '{name}' must be > 0, got {value!r}")
    xr = _signal.resample_signal(x, fs, fs_out) if fs != fs_out else x
    width = int(round(window_s * fs_out))
    n_windows = xr.size // width
    empty = np.zeros((0, length), np.float32), np.zeros(0, np.int64)
    if n_windows == 0:
        return empty
    win = xr[: n_windows * width].reshape(n_windows, width)
    lo, hi = win.min(axis=1, keepdims=True), win.max(axis=1, keepdims=True)
    win = (win - lo) / np.where(hi > lo, hi - lo, 1.0)

    if r_samples is None:
        # local maxima (first-derivative zero crossings) at or above the threshold
        mid = win[:, 1:-1]
        is_peak = (mid > win[:, :-2]) & (mid >= win[:, 2:]) & (mid >= peak_threshold)
        w_idx, pos = np.nonzero(is_peak)
        pos = pos + 1
    else:
        original = np.sort(np.asarray(r_samples, dtype=np.int64))
        given = np.round(original * fs_out / fs).astype(np.int64)
        inside_windows = (given >= 0) & (given < n_windows * width)
        original = original[inside_windows]
        w_idx, pos = np.divmod(given[inside_windows], width)
    if pos.size < 2:
        return empty
    # T = median RR of each window (RR between consecutive candidates of the same window)
    same = w_idx[1:] == w_idx[:-1]
    rr = pd.Series(np.diff(pos)[same]).groupby(w_idx[1:][same]).median()
    period = np.full(n_windows, np.nan)
    period[rr.index.to_numpy()] = rr.to_numpy()
    if r_samples is not None and rr.size:
        period[np.isnan(period)] = float(np.median(rr))
    keep = np.isfinite(period[w_idx])
    w_idx, pos = w_idx[keep], pos[keep]
    original = None if r_samples is None else original[keep]
    span = np.round(rr_factor * period[w_idx]).astype(np.int64)

    offsets = np.arange(length)
    idx = pos[:, None] + offsets
    inside = (offsets < span[:, None]) & (idx < width)
    beats = np.where(inside, win[w_idx[:, None], np.minimum(idx, width - 1)], 0.0)
    if original is None:
        original = np.round((w_idx * width + pos) * fs / fs_out).astype(np.int64)
    return beats.astype(np.float32), original


def label_beats(r_samples, ref_samples, ref_labels, fs: float,
                tolerance_s: float = 0.15) -> np.ndarray:
    """Label each detected R peak with the reference beat matched to it (-1 if none).

    Matching is one-to-one (mutually nearest, within ``tolerance_s``), as in
    :func:`ecgutils.signal.match_beats`.

    Examples
    --------
    >>> label_beats([100, 460, 900], [102, 455, 700], [0, 2, 1], fs=360).tolist()
    [0, 2, -1]
    """
    ref_labels = np.asarray(ref_labels)
    _, det_to_ref = _signal.match_beats(ref_samples, r_samples, fs, tolerance_s)
    out = np.full(len(det_to_ref), -1, dtype=np.int64)
    ok = det_to_ref >= 0
    out[ok] = ref_labels[det_to_ref[ok]]
    return out


R_PEAK_SOURCES = ("threshold", "annotated")


def build_kaggle_beats(records=None, db: str = "mitdb", root=None,
                       tolerance_s: float = 0.15, r_peaks: str = "threshold",
                       **extract_kwargs) -> Beats:
    """Kaggle-format beats of MIT-BIH records, labelled in AAMI classes (N,S,V,F,Q -> 0..4).

    Each record's beat table (:func:`ecgutils.beats.record_beats`: the MLII lead and the
    reference beats as annotated) goes through :func:`extract_kachuee_beats`;
    candidates that match no reference beat within ``tolerance_s`` (noise, T waves, a
    second maximum on one QRS) are dropped.

    Parameters
    ----------
    records : list of str, optional
        Default: every record of ``db``.
    r_peaks : {"threshold", "annotated"}
        Where beats start. ``"threshold"``: the paper's local maxima >= 0.9 of each
        normalised window, which misses beats lower than their neighbours (about 44 % of
        MIT-BIH's). ``"annotated"``: the reference annotation's beats, every one of them,
        as the size of the Kaggle files (about 109,000 beats) implies; windows,
        normalisation, ``T`` and the cut are the paper's either way.

    Returns
    -------
    Beats
        ``X`` (n, 187) float32, ``label`` (AAMI class), ``record``, ``sample`` (the
        beat's start, at the record's rate), ``source`` ``"built"``.

    See Also
    --------
    ecgutils.beats.record_beats : the beat table every representation starts from.
    """
    _config.check_choice("r_peaks", r_peaks, R_PEAK_SOURCES)
    records = _data.list_records(db, root) if records is None else [str(r) for r in records]
    code = {c: i for i, c in enumerate(KAGGLE_CLASSES)}
    parts = []
    for record in records:
        ref = _beats.record_beats([record], db, root, r_search_s=None)
        lead, fs = ref.signals[record]["signal"], ref.signals[record]["fs"]
        given = ref.sample if r_peaks == "annotated" else None
        beats, r_samples = extract_kachuee_beats(lead, fs, r_samples=given, **extract_kwargs)
        labels = label_beats(r_samples, ref.sample, pd.Series(ref.label).map(code).to_numpy(),
                             fs, tolerance_s)
        ok = labels >= 0
        n = int(ok.sum())
        parts.append(Beats(np.full(n, record), r_samples[ok], np.asarray(KAGGLE_CLASSES)[labels[ok]],
                           source=np.full(n, "built"), X=beats[ok].astype(np.float32)))
    return Beats.concat(parts)


# --------------------------------------------------------------------------- CSV files
def class_error_report(beats: Beats, result: dict, cls: str = "V", protocol: str = "ds1ds2",
                       seed: int = 0, db: str = "mitdb", root=None):
    """Where one class's errors lie in a test set: by record, and by annotation symbol.

    ``result`` is :func:`ecgutils.experiment.train_and_evaluate`'s output on the test
    beats of ``split_beats(beats, protocol, seed=seed)``, in that order.

    Returns
    -------
    summary : dict
        :func:`ecgutils.evaluate.class_errors` (``n``, ``missed``, ``false``,
        ``false_from``...) with ``f1``, ``false_symbols`` (the three commonest reference
        symbols of the false calls, as text), ``false_bbb`` (their share of bundle
        branch block beats, ``L`` and ``R``), ``top_record`` and ``top_record_share``
        (the record with most false calls, and its share of them).
    by_record : DataFrame
        :func:`ecgutils.evaluate.errors_by_group` over the test records.
    """
    from . import evaluate as _evaluate

    test = split_beats(beats, protocol, seed=seed)[1]
    names = np.asarray(beats.classes)
    true, pred = names[result["y_true"]], names[result["y_pred"]]
    summary = _evaluate.class_errors(true, pred, cls)
    by_record = _evaluate.errors_by_group(true, pred, cls, beats.record[test])
    false = (pred == cls) & (true != cls)
    symbols = pd.Series(_data.symbols_at(beats.record[test][false], beats.sample[test][false],
                                         db, root)).value_counts()
    n_false = max(summary["false"], 1)
    summary.update(
        f1=2 * summary["found"] / max(summary["n"] + summary["called"], 1),
        false_symbols=", ".join(f"{n:,} {s}" for s, n in symbols[:3].items()) or "none",
        false_bbb=float(symbols.reindex(["L", "R"]).fillna(0).sum() / n_false),
        top_record=str(by_record.index[0]) if len(by_record) else "none",
        top_record_share=float(by_record[f"false {cls}"].iloc[0] / n_false) if len(by_record) else 0.0)
    return summary, by_record


def write_kaggle_csv(path, X, y) -> Path:
    """Write beats in the exact Kaggle layout: no header, 187 values then the label,
    every number as ``%.18e`` (as in ``mitbih_train.csv``).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_kaggle_csv(os.path.join(tempfile.mkdtemp(), "b.csv"), np.ones((2, 187)), [0, 3])
    >>> X, y = read_kaggle_csv(p)
    >>> X.shape, y.tolist()
    ((2, 187), [0, 3])
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != BEAT_LENGTH or len(y) != len(X):
        raise ValueError(f"write_kaggle_csv needs X of shape (n, {BEAT_LENGTH}) and n labels; "
                         f"got X {X.shape} and {len(y)} labels")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([X, y.astype(float)])
    tmp = path.with_name(path.name + ".part")
    np.savetxt(tmp, table, fmt="%.18e", delimiter=",")
    tmp.replace(path)
    return path


def read_kaggle_csv(path, n_classes: int = len(KAGGLE_CLASSES)) -> tuple[np.ndarray, np.ndarray]:
    """Read and check a Kaggle-format CSV: 188 numeric columns, finite, labels 0..n_classes-1.

    Returns
    -------
    X : ndarray, shape (n, 187), float32
    y : ndarray, shape (n,), int

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Naming the file and the row (1-based line number): wrong number of columns, a
        value that is not a number, a missing or non-finite value, a label that is not an
        integer in range, or an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Kaggle CSV {path} does not exist")
    n_cols = BEAT_LENGTH + 1
    try:
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty; expected rows of {n_cols} numbers") from None
    except pd.errors.ParserError as err:  # a row with more fields than the first
        raise ValueError(f"{path}: rows must have {n_cols} comma-separated values "
                         f"(187 samples + label): {err}") from None
    if frame.shape[1] != n_cols:
        raise ValueError(f"{path}: row 1 has {frame.shape[1]} columns, expected {n_cols} "
                         f"(187 samples + label, no header)")
    raw = frame.to_numpy()
    missing = (raw == "") | pd.isna(raw)
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    not_number = np.isnan(values) & ~missing & ~np.char.equal(
        np.char.strip(np.char.lower(np.where(missing, "", raw).astype(str))), "nan")
    for what, bad in (("is not a number", not_number),
                      ("is missing (too few columns?) or not finite", missing | ~np.isfinite(values))):
        if bad.any():
            row, col = np.argwhere(bad)[0]
            shown = "" if missing[row, col] else f" ({raw[row, col]!r})"
            raise ValueError(f"{path}: row {row + 1}, column {col + 1} {what}{shown}; "
                             f"expected {n_cols} finite numbers per row and no header")
    labels = values[:, -1]
    bad = (labels != np.round(labels)) | (labels < 0) | (labels > n_classes - 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path}: row {row + 1} has label {labels[row]:g}; labels must be "
                         f"integers 0..{n_classes - 1}")
    return values[:, :-1].astype(np.float32), labels.astype(np.int64)


def _from_csvs(paths, n_classes, classes, fixed_labels=None) -> Beats:
    parts = []
    for i, path in enumerate(paths):
        X, y = read_kaggle_csv(path, n_classes)
        if fixed_labels is not None and np.any(y != fixed_labels[i]):
            row = int(np.flatnonzero(y != fixed_labels[i])[0])
            raise ValueError(f"{path}: row {row + 1} has label {y[row]}, but every row of this "
                             f"file must be {fixed_labels[i]} ({classes[fixed_labels[i]]})")
        n = len(y)
        parts.append(Beats(np.full(n, ""), np.full(n, -1), np.asarray(classes)[y],
                           classes=tuple(classes), source=np.full(n, Path(path).name), X=X))
    return Beats.concat(parts)


def load_kaggle_beats(csv_dir=None, records=None, db: str = "mitdb", root=None,
                      r_peaks: str = "threshold") -> Beats:
    """The chapters' beat loader: the user's Kaggle CSVs if ``csv_dir`` is given, else
    beats rebuilt from the MIT-BIH records with :func:`build_kaggle_beats`.

    With ``csv_dir``, ``mitbih_train.csv`` and ``mitbih_test.csv`` are read and checked
    (:func:`read_kaggle_csv`); ``source`` tells the two apart and ``record`` is ``""``
    (the Kaggle files do not say which patient a beat came from).
    """
    if csv_dir is None:
        return build_kaggle_beats(records, db, root, r_peaks=r_peaks)
    paths = _csv_paths("csv_dir", csv_dir, ("mitbih_train.csv", "mitbih_test.csv"))
    return _from_csvs(paths, len(KAGGLE_CLASSES), KAGGLE_CLASSES)


def load_ptb_beats(ptb_dir) -> Beats:
    """PTB normal vs abnormal beats from ``ptbdb_normal.csv`` (label 0) and
    ``ptbdb_abnormal.csv`` (label 1) in ``ptb_dir``, every row checked."""
    paths = _csv_paths("ptb_dir", ptb_dir, ("ptbdb_normal.csv", "ptbdb_abnormal.csv"))
    return _from_csvs(paths, 2, PTB_CLASSES, fixed_labels=(0, 1))


def _csv_paths(parameter: str, folder, names) -> list[Path]:
    paths = [Path(folder) / name for name in names]
    absent = [p.name for p in paths if not p.is_file()]
    if absent:
        raise FileNotFoundError(f"{parameter}={str(folder)!r} lacks {absent}; it must hold the "
                                f"Kaggle files {' and '.join(names)}")
    return paths


# --------------------------------------------------------------------------- protocols
def split_beats(beats: Beats, protocol: str = "beat_random", test_size: float = 0.2,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices of ``beats`` under an evaluation protocol.

    ``beat_random``: stratified random split of beats, ``test_size`` of them tested,
    seeded (the Kaggle split; beats of one patient land on both sides). When the beats
    come from the real Kaggle CSVs, their own train/test files are used instead.
    ``ds1ds2``: de Chazal's inter-patient split, records of
    :data:`ecgutils.data.DS1` train, :data:`ecgutils.data.DS2` test.

    Examples
    --------
    >>> b = Beats(np.array(["101"] * 5 + ["100"] * 5), np.arange(10), list("NNNNNSSSSS"),
    ...           X=np.zeros((10, 187)))
    >>> [len(i) for i in split_beats(b, "beat_random", seed=0)]
    [8, 2]
    >>> [len(i) for i in split_beats(b, "ds1ds2")]
    [5, 5]
    """
    from sklearn.model_selection import train_test_split

    n = len(beats)
    if protocol == "beat_random":
        if beats.source is not None and np.isin(
                beats.source, ["mitbih_train.csv", "mitbih_test.csv"]).all():
            return (np.flatnonzero(beats.source == "mitbih_train.csv"),
                    np.flatnonzero(beats.source == "mitbih_test.csv"))
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {test_size}")
        return tuple(np.sort(i) for i in train_test_split(
            np.arange(n), test_size=test_size, stratify=beats.y, random_state=seed))
    if protocol == "ds1ds2":
        if (beats.record == "").any():
            raise ValueError("protocol 'ds1ds2' needs each beat's record; the Kaggle CSVs do not "
                             "keep it. Build the beats from the records (csv_dir=None).")
        train = np.flatnonzero(np.isin(beats.record, _data.DS1))
        test = np.flatnonzero(np.isin(beats.record, _data.DS2))
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"protocol 'ds1ds2': no beats from "
                             f"{'DS1' if len(train) == 0 else 'DS2'} records among "
                             f"{sorted(set(beats.record))}")
        return train, test
    raise ValueError(f"unknown protocol {protocol!r}; use 'beat_random' or 'ds1ds2'")


# --------------------------------------------------------------------------- scaling
def fit_beat_scaler(X):
    """A StandardScaler with one mean and one standard deviation for every sample of
    every beat (fit it on training beats only).

    A scaler per time sample (sklearn's usual column-wise fit) divides the zero-padded
    tail of the beats, where nearly every beat is 0, by a tiny deviation: the few long
    beats that reach there get values of tens of deviations (up to 33 on MIT-BIH), and
    their shape there is erased, since any value a lone beat has at a sample maps to the
    same number. One mean and deviation keep every beat's shape and where its padding
    starts (which tells the window's median RR interval).

    Examples
    --------
    >>> X = np.array([[0.0, 1.0, 0.0], [1.0, 0.5, 0.0]])
    >>> scaler = fit_beat_scaler(X)
    >>> round(float(scaler.mean_[0]), 4), scale_beats(scaler, X).shape
    (0.4167, (2, 3, 1))
    """
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(np.asarray(X, dtype=np.float64).reshape(-1, 1))


def scale_beats(scaler, X) -> np.ndarray:
    """Beats through a :func:`fit_beat_scaler` scaler, shaped ``(n, length, 1)`` float32
    for a Conv1D network."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"scale_beats needs a 2-D stack of beats, got shape {X.shape}")
    return scaler.transform(X.reshape(-1, 1)).reshape(*X.shape, 1).astype(np.float32)


def validation_split(beats: Beats, train_idx, val_fraction: float = 0.1,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)``: a stratified ``val_fraction`` of the training beats held out
    for selection (indices into ``beats``).

    Examples
    --------
    >>> b = Beats(np.full(40, "100"), np.arange(40), list("NS" * 20), X=np.zeros((40, 187)))
    >>> [len(i) for i in validation_split(b, np.arange(30), val_fraction=0.2)]
    [24, 6]
    """
    from sklearn.model_selection import train_test_split

    train_idx = np.asarray(train_idx)
    tr, va = train_test_split(train_idx, test_size=val_fraction, stratify=beats.y[train_idx],
                              random_state=seed)
    return tr, va


def prepare_split(approach, beats: Beats, train_idx, test_idx, max_majority: int,
                  seed: int = 0) -> dict:
    """An approach's inputs for one split of the beats (chapter 05).

    A stratified tenth of the training beats is held out for validation
    (:func:`validation_split`); the majority class keeps at most ``max_majority``
    training beats; then the approach's own steps
    (:meth:`ecgutils.pipelines.Pipeline.prepare`: preprocessing fitted on the training
    beats, resampling of the training beats, representation of every split).

    Parameters
    ----------
    approach : ecgutils.pipelines.Pipeline
    beats : Beats
    train_idx, test_idx : arrays of int
        The split (:func:`split_beats`).
    max_majority : int
        Most training beats of the majority class (class 0).
    seed : int

    Returns
    -------
    dict
        ``Pipeline.prepare``'s, with ``stages`` (class counts: the training split, after
        the cap, after resampling, the test split) and ``X_test`` (the test beats after
        the approach's preprocessing).

    See Also
    --------
    ecgutils.pipelines.Pipeline.fit : trains on what this returns.

    Examples
    --------
    >>> from ecgutils.pipelines import PIPELINES
    >>> b = Beats(np.full(80, "100"), np.arange(80), list("N" * 60 + "S" * 20),
    ...           X=np.random.default_rng(0).random((80, 187)))
    >>> p = prepare_split(PIPELINES["smote_cnn2d"], b, np.arange(70), np.arange(70, 80), 30)
    >>> p["stages"]["after the cap"][:2].tolist(), p["train"][0].shape[1:]
    ([30, 9], (16, 16, 1))
    """
    fit_idx, val_idx = validation_split(beats, train_idx, seed=seed)
    y_fit = beats.y[fit_idx]
    ratio = min(1.0, max_majority / max(int((y_fit == 0).sum()), 1))
    out = approach.prepare(*((beats.X[i], beats.y[i]) for i in (fit_idx, val_idx, test_idx)),
                           seed=seed, majority_ratio=ratio)

    def count(y):
        return np.bincount(y, minlength=len(beats.classes))

    out["stages"] = {"training split": count(y_fit),
                     "after the cap": count(y_fit[out["train_index"]]),
                     "after SMOTE": count(out["train"][1]),
                     "test split": count(beats.y[np.asarray(test_idx)])}
    out["X_test"] = out["preprocess"](beats.X[np.asarray(test_idx)])
    return out


def scaled_splits(beats: Beats, train_idx, test_idx, val_fraction: float = 0.1,
                  seed: int = 0, scaler=None) -> dict:
    """Network inputs of a train/test split: :func:`validation_split`, every part through
    one :func:`fit_beat_scaler` scaler.

    The scaler is fitted on the remaining training beats only, unless one is given
    (a pretrained network's, for transfer).

    Returns
    -------
    dict
        ``"train"``, ``"val"``, ``"test"``: ``(X, y)`` with ``X`` shaped ``(n, 187, 1)``
        and ``y`` integer labels; ``"scaler"``.

    Examples
    --------
    >>> b = Beats(np.full(40, "100"), np.arange(40), list("NS" * 20),
    ...           X=np.random.default_rng(0).random((40, 187)))
    >>> parts = scaled_splits(b, np.arange(30), np.arange(30, 40), val_fraction=0.2)
    >>> [parts[k][0].shape[0] for k in ("train", "val", "test")], parts["test"][0].shape[1:]
    ([24, 6, 10], (187, 1))
    """
    tr, va = validation_split(beats, train_idx, val_fraction, seed)
    scaler = scaler or fit_beat_scaler(beats.X[tr])
    out = {name: (scale_beats(scaler, beats.X[idx]), beats.y[idx])
           for name, idx in (("train", tr), ("val", va), ("test", np.asarray(test_idx)))}
    return out | {"scaler": scaler}


# --------------------------------------------------------------------------- saved models
#: The ``"kind"`` of a saved chapter-06 beat classifier (:func:`beat_preprocessing`).
MODEL_KIND = "kaggle_beat_cnn1d"


def beat_preprocessing(scaler, classes=KAGGLE_CLASSES, r_peaks: str = "annotated",
                       **extra) -> dict:
    """What a saved beat classifier needs to be applied to new beats, for
    :func:`ecgutils.experiment.save_model`.

    Holds the kind, the beats' sampling rate and length, where they start (``r_peaks``:
    ``"annotated"``, ``"threshold"`` or ``"kaggle_csv"``), the class names in output
    order and the :func:`fit_beat_scaler` constants (one mean, one standard deviation).

    Examples
    --------
    >>> pre = beat_preprocessing(fit_beat_scaler(np.array([[0.0, 1.0], [1.0, 2.0]])))
    >>> pre["kind"], pre["fs"], pre["beat_length"], pre["scaler"]
    ('kaggle_beat_cnn1d', 125, 187, {'mean': 1.0, 'sd': 0.7071067811865476})
    """
    return {"kind": MODEL_KIND, "fs": FS_KAGGLE, "beat_length": BEAT_LENGTH,
            "r_peaks": r_peaks, "classes": [str(c) for c in classes],
            "scaler": {"mean": float(scaler.mean_[0]), "sd": float(scaler.scale_[0])}, **extra}


def classify_beats(model, beats, preprocessing: dict | None = None,
                   batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Classify raw Kaggle-format beats with a saved beat classifier.

    Parameters
    ----------
    model : path or keras.Model
        A ``.keras`` file written by :func:`ecgutils.experiment.save_model` with
        :func:`beat_preprocessing` (its preprocessing is read from the file), or a model
        in memory together with ``preprocessing``.
    beats : array, shape (n, 187)
        Unscaled beats as :func:`build_kaggle_beats` or the Kaggle CSVs give them
        (125 Hz, starting at the R peak, zero-padded).

    Returns
    -------
    labels : ndarray of str, shape (n,)
        The predicted class names.
    proba : ndarray, shape (n, n_classes)
        The model's outputs.

    Examples
    --------
    >>> from ecgutils.models import build_beat_cnn1d
    >>> raw = np.random.default_rng(0).uniform(0, 1, (3, 187))
    >>> pre = beat_preprocessing(fit_beat_scaler(raw))
    >>> labels, proba = classify_beats(build_beat_cnn1d(filters=(4, 4, 4, 4)), raw, pre)
    >>> proba.shape, set(labels) <= set(KAGGLE_CLASSES)
    ((3, 5), True)
    """
    from .experiment import load_model, predicted_classes

    if preprocessing is None:
        model, preprocessing = load_model(model, expect=MODEL_KIND)
    X = np.asarray(beats, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != preprocessing["beat_length"]:
        raise ValueError(f"classify_beats needs beats of shape (n, {preprocessing['beat_length']}) "
                         f"at {preprocessing['fs']} Hz, got shape {X.shape}")
    scaler = preprocessing["scaler"]
    # the arithmetic of StandardScaler.transform, in float64, so saved constants reproduce it
    inputs = ((X - scaler["mean"]) / scaler["sd"])[..., None].astype(np.float32)
    proba = model.predict(inputs, batch_size=batch_size, verbose=0)
    return np.asarray(preprocessing["classes"])[predicted_classes(proba)], proba


# --------------------------------------------------------------------------- reporting
def kept_beats_table(records, built: dict | None = None, db: str = "mitdb",
                     root=None) -> pd.DataFrame:
    """Annotated beats per class and how many of them each R-peak source keeps.

    ``built`` maps an R-peak source to beats already built from ``records`` with it;
    the other sources are built here.
    """
    built = dict(built or {})
    for source in R_PEAK_SOURCES:
        if source not in built:
            built[source] = build_kaggle_beats(records, db, root, r_peaks=source)
    names = np.asarray(KAGGLE_CLASSES)
    table = pd.DataFrame({"annotated beats": _data.beat_table(db, records, root).aami.value_counts()})
    for source in ("annotated", "threshold"):
        table[f"{source} R peaks"] = pd.Series(names[built[source].y]).value_counts()
    table = table.reindex(list(KAGGLE_CLASSES)).fillna(0).astype(int)
    for source in ("annotated", "threshold"):
        table[f"{source} kept %"] = (100 * table[f"{source} R peaks"]
                                     / table["annotated beats"].clip(lower=1)).round(1)
    return table


def beat_metrics(result: dict, classes) -> dict:
    """:func:`ecgutils.evaluate.classification_metrics` of a
    :func:`ecgutils.experiment.train_and_evaluate` result (integer labels named by
    ``classes``); it includes the support-weighted precision and recall that Kachuee et
    al.'s Kaggle reference reports.

    Examples
    --------
    >>> result = {"y_true": np.array([0, 0, 1, 2]), "y_pred": np.array([0, 1, 1, 2]),
    ...           "y_score": np.eye(3)[[0, 1, 1, 2]]}
    >>> m = beat_metrics(result, ["N", "S", "V"])
    >>> m["accuracy"], m["weighted_precision"], m["weighted_recall"]
    (0.75, 0.875, 0.75)
    """
    from .evaluate import classification_metrics

    names = np.asarray(classes)
    return classification_metrics(names[result["y_true"]], names[result["y_pred"]], classes,
                                  result["y_score"])


def scores_table(metrics: dict, per_class: str | None = "f1") -> pd.DataFrame:
    """One row per run (``{name: beat_metrics(...)}``): accuracy, macro and weighted
    scores and, unless ``per_class`` is None, that score for every class.

    Examples
    --------
    >>> m = {"accuracy": 0.9, "macro_precision": 0.8, "macro_recall": 0.7, "macro_f1": 0.75,
    ...      "weighted_precision": 0.9, "weighted_recall": 0.9, "weighted_f1": 0.9,
    ...      "per_class": {"N": {"f1": 0.95}, "S": {"f1": 0.5}}}
    >>> scores_table({"run": m}).columns.tolist()[-2:]
    ['F1 N', 'F1 S']
    """
    keys = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision",
            "weighted_recall", "weighted_f1")
    rows = {}
    for name, m in metrics.items():
        row = {k.replace("_", " ").replace(" f1", " F1"): m[k] for k in keys}
        if per_class:
            shown = {"f1": "F1", "roc_auc": "ROC-AUC"}.get(per_class, per_class)
            row |= {f"{shown} {c}": v.get(per_class) for c, v in m["per_class"].items()}
        rows[name] = row
    return pd.DataFrame(rows).T


def split_by_record(beats: Beats, fractions=(0.6, 0.2, 0.2), seed: int = 0,
                    db: str = "mitdb", root=None) -> tuple[dict, dict]:
    """Patient-wise train/validation/test split that gives every part records with and
    without positive beats: the subjects with any beat of label >= 1 and the others are
    split separately (:func:`ecgutils.splits.split_records`, by subject of ``db``), then
    joined.

    Returns
    -------
    split : dict {"train", "val", "test": sorted record names}
    index : dict {same keys: indices of their beats}

    Examples
    --------
    >>> rec = np.repeat([f"r{i}" for i in range(10)], 3)
    >>> y = np.where(np.isin(rec, ["r0", "r1", "r2", "r3", "r4"]), "abnormal", "normal")
    >>> beats = Beats(rec, np.arange(30), y, classes=PTB_CLASSES, X=np.zeros((30, 187)))
    >>> split, index = split_by_record(beats)
    >>> [len(split[k]) for k in ("train", "val", "test")], len(index["test"])
    ([6, 2, 2], 6)
    """
    subject = dict(zip(*np.unique(beats.record, return_index=True)))
    subject = dict(zip(subject, _splits.subject_ids(list(subject), db, root)))
    # A subject with any positive beat counts as positive for all its records.
    has_positive = pd.Series(beats.y).groupby(pd.Series(beats.record).map(subject).to_numpy()
                                              ).max() >= 1
    parts = [_splits.split_records([r for r in subject if has_positive[subject[r]] == flag],
                                   fractions, seed=seed, subjects=subject)
             for flag in (False, True)]
    split = {k: sorted(parts[0][k] + parts[1][k]) for k in ("train", "val", "test")}
    _splits.check_disjoint(split, subjects=subject)
    index = {k: np.flatnonzero(np.isin(beats.record, v)) for k, v in split.items()}
    return split, index


# --------------------------------------------------------------------------- SMOTE
def smote_oversample(X, y, target_counts: dict, k_neighbors: int = 5, seed: int = 0):
    """SMOTE (imbalanced-learn) each class up to its target count; documented fallback
    for small classes.

    Classes already at or above their target keep their samples. A class with ``n``
    samples where ``n <= k_neighbors`` is oversampled with ``k = n - 1`` neighbours
    instead of failing inside imbalanced-learn (the lowered k is reported in ``info``);
    a class with a single sample cannot be interpolated and raises ``ValueError``.
    Apply it to the training split only.

    Returns
    -------
    X_res, y_res : ndarrays
        The original samples followed by the synthetic ones.
    info : dict
        ``{class: {"before", "after", "k_neighbors"}}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(23, 4)), np.array([0] * 20 + [1] * 3)
    >>> Xr, yr, info = smote_oversample(X, y, {1: 10}, k_neighbors=5)
    >>> np.bincount(yr).tolist(), info[1]["k_neighbors"]
    ([20, 10], 2)
    """
    from imblearn.over_sampling import SMOTE

    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"smote_oversample: X has {len(X)} rows but y has {len(y)}")
    k_neighbors = int(k_neighbors)
    if k_neighbors < 1:
        raise ValueError(f"parameter 'k_neighbors' must be >= 1, got {k_neighbors}")
    counts = dict(zip(*np.unique(y, return_counts=True)))
    new_X, new_y, info = [X], [y], {}
    for cls, target in target_counts.items():
        n = int(counts.get(cls, 0))
        target = int(target)
        info[cls] = {"before": n, "after": max(n, target), "k_neighbors": None}
        if target <= n:
            continue
        if n < 2:
            raise ValueError(f"SMOTE cannot oversample class {cls!r}: it has {n} training "
                             f"sample(s) and needs at least 2 to interpolate between. Leave "
                             f"it out of target_counts or use class weights.")
        k = min(k_neighbors, n - 1)
        info[cls]["k_neighbors"] = k
        smote = SMOTE(sampling_strategy={cls: target}, k_neighbors=k, random_state=seed)
        X_all, y_all = smote.fit_resample(X, y)
        new_X.append(X_all[len(X):])
        new_y.append(y_all[len(y):])
    return np.concatenate(new_X), np.concatenate(new_y), info


# --------------------------------------------------------------------------- European ST-T beats


