"""The beat table: every beat of a lead with its label, class probabilities and quality.

:func:`annotate_signal` is the Python way to use a chapter-07 model on any array, in
NeuroKit's style (``signal, sampling_rate`` first, a pandas DataFrame back);
``python -m ecgutils annotate`` writes the same table as ``<record>_beats.csv``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import quality as _quality
from .annotate import InputError, load_classifier
from .experiment import _atomic_write
from .interpatient import BeatSpec, record_inputs
from .pretrained import resolve_model
from .signal import detect_r_peaks

__all__ = ["BEAT_COLUMNS", "annotate_signal", "read_beat_table", "write_beat_table"]

#: Columns of the beat table before the probabilities (``p_N``, ``p_S``, ``p_V``...) and after.
BEAT_COLUMNS = ("sample", "time_s", "label")
TAIL_COLUMNS = ("lead", "readable")


def annotate_signal(signal, sampling_rate: float, model=None, spec: BeatSpec | None = None,
                    r_peaks=None, quality="auto", lead: str = "", batch_size: int = 2048,
                    adapt: bool = False) -> pd.DataFrame:
    """Find the beats of one ECG lead and label each N, S or V with a chapter-07 model.

    Parameters
    ----------
    signal : array, shape (n,)
        One ECG lead (any units: the model scales each record by its median QRS).
    sampling_rate : float
        In Hz, any: the lead is resampled to the model's rate.
    model : str, Path or model, optional
        A model file saved by chapter 07 (``results/07_new_patients.keras`` or
        ``..._forest.skops``), or a loaded model with its ``spec``; default: the model
        that ships with ecgutils (``ecgutils/pretrained/MODEL_CARD.md``).
    spec : BeatSpec, optional
        The model's preprocessing; read from the file when ``model`` is a path.
    r_peaks : array of int, optional
        Beat positions in samples; default: the book's detector
        (:func:`ecgutils.signal.detect_r_peaks`).
    quality : "auto", array of bool, shape (n,), or None
        Where the signal is readable: ``"auto"`` (default) asks
        :func:`ecgutils.quality.ecg_quality` (stretches that are missing, flat or noise
        are not); an array gives it (True where readable); None takes every sample as
        readable. Beats whose R peak lies in an unreadable stretch are not classified:
        their ``label`` is ``Q`` (unclassifiable), their probabilities NaN and ``readable``
        False. NaN samples are allowed (they are unreadable).
    lead : str
        The lead's name, copied into the table.
    adapt : bool
        Record-adaptive labels (:func:`ecgutils.adapt.adapt_to_record`): the lead's
        beats, clustered by the shape of their QRS in stretches of half an hour, share
        their V probability. Uses the recording's own unlabelled beats; chapter 07
        reports it apart from the model alone. ``table.attrs["adapted"]`` says which.

    Returns
    -------
    pandas.DataFrame
        One row per beat, in time order: ``sample``, ``time_s``, ``label`` (the most
        probable of the model's classes; where the model file holds an operating point,
        e.g. ``("V", 0.2)``, its class wherever its probability reaches the threshold,
        see ``BeatSpec.labels``), ``p_N``, ``p_S``, ``p_V`` (probabilities),
        ``lead`` and ``readable``. ``table.attrs`` holds ``adapted`` (``adapt``),
        ``stretches`` (``(start, end, kind)`` of each unreadable stretch) and
        ``unreadable`` (their share of the signal).

    See Also
    --------
    ecgutils.recordings.read_recording : one lead of a WFDB, EDF or CSV file.
    ecgutils.holter.holter_summary : the Holter-style summary of a beat table.

    Examples
    --------
    >>> import ecgutils as eu
    >>> fs = 250
    >>> t = np.arange(60 * fs) / fs
    >>> ecg = np.exp(-((t[:, None] - np.arange(0.5, 59.5, 0.8)) / 0.01) ** 2).sum(1)
    >>> spec = eu.interpatient.BeatSpec()
    >>> model = eu.models.build_interpatient_model(   # untrained: labels are noise
    ...     spec, rr_train=np.ones((4, len(spec.feature_names)), "float32"))
    >>> beats = eu.annotate_signal(ecg, fs, model, spec=spec, lead="MLII")
    >>> list(beats.columns)
    ['sample', 'time_s', 'label', 'p_N', 'p_S', 'p_V', 'lead', 'readable']
    >>> len(beats), float(beats["time_s"].iloc[1]), bool(beats["readable"].all())
    (74, 1.3, True)

    With the model that ships with ecgutils, ``eu.annotate_signal(ecg, fs)``; with another
    saved model, ``eu.annotate_signal(ecg, fs, "results/07_new_patients.keras")``.
    """
    model = resolve_model(model)
    if isinstance(model, (str, os.PathLike)):
        model, spec = load_classifier(model)
    elif spec is None:
        spec = getattr(model, "spec", None)
        if spec is None:
            raise ValueError("annotate_signal: give spec= with a loaded Keras model (the "
                             "BeatSpec saved with it), or the model's file path")
    x = np.asarray(signal, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"annotate_signal takes one lead (1-D array), got shape {x.shape}")
    fs = float(sampling_rate)
    if isinstance(quality, str) and quality == "auto":
        codes = _quality.ecg_quality(x, fs)
    elif quality is None:
        codes = np.zeros(x.shape, np.int8)
    else:
        quality = np.asarray(quality, dtype=bool)
        if quality.shape != x.shape:
            raise ValueError(f"quality has shape {quality.shape}; give one flag per sample "
                             f"{x.shape}")
        codes = np.where(quality, 0, _quality.QUALITY_LABELS.index("noise")).astype(np.int8)
    codes = np.where(np.isnan(x), _quality.QUALITY_LABELS.index("missing"), codes)
    x = _quality.fill_missing(x)
    r = detect_r_peaks(x, fs) if r_peaks is None else np.asarray(r_peaks, dtype=np.int64)
    readable = codes[np.clip(r, 0, max(x.size - 1, 0))] == 0
    if readable.sum() < 3:
        raise InputError(f"only {int(readable.sum())} readable beats found: too few to "
                         f"classify")
    classes = list(spec.classes)
    proba = np.full((r.size, len(classes)), np.nan)
    windows, rr = record_inputs(x, fs, r[readable], spec)
    p = np.asarray(model.predict([windows, rr], batch_size=batch_size, verbose=0))
    if adapt and len(p):
        from .adapt import adapt_to_record

        p = adapt_to_record(p, windows, spec=spec)
    proba[readable] = p
    label = np.where(readable, spec.labels(np.nan_to_num(proba)), "Q")
    table = pd.DataFrame({"sample": r, "time_s": r / fs, "label": label})
    for j, c in enumerate(classes):
        table[f"p_{c}"] = proba[:, j]
    table["lead"] = lead
    table["readable"] = readable
    table.attrs = {"stretches": _quality.unreadable_stretches(codes),
                   "unreadable": float(np.mean(codes != 0)) if x.size else 0.0,
                   "adapted": bool(adapt)}
    return table


def write_beat_table(table: pd.DataFrame, path) -> Path:
    """Write a beat table as CSV, whole or not at all (a temporary file moved into place).

    Times get 4 decimals, probabilities 4. Returns the path.
    """
    out = table.copy()
    out["time_s"] = out["time_s"].round(4)
    probs = [c for c in out.columns if c.startswith("p_")]
    out[probs] = out[probs].round(4)
    return _atomic_write(Path(path), lambda tmp: out.to_csv(tmp, index=False))


def read_beat_table(path) -> pd.DataFrame:
    """A beat table written by :func:`write_beat_table`.

    >>> import tempfile
    >>> t = pd.DataFrame({"sample": [10, 20], "time_s": [0.04, 0.08], "label": ["N", "V"],
    ...                   "p_N": [0.9, 0.2], "p_S": [0.05, 0.1], "p_V": [0.05, 0.7],
    ...                   "lead": "II", "readable": [True, False]})
    >>> back = read_beat_table(write_beat_table(t, tempfile.mkdtemp() + "/r_beats.csv"))
    >>> back.equals(t)
    True
    """
    return pd.read_csv(path, dtype={"label": str, "lead": str, "readable": bool})
