"""Signal quality: which stretches of an ECG lead can be read at all.

:func:`ecg_quality` labels every sample as ``clean`` or as one of three kinds of
unreadable: ``missing`` (NaN, invalid samples), ``flat`` (no signal: a lead off or
saturated) and ``noise`` (no peaked QRS complexes). ``python -m ecgutils annotate``
classifies only the beats of clean stretches.

Noise is judged by the kurtosis of the band-passed signal in windows of a few seconds
(kSQI of Li, Mark & Clifford 2008, *Physiol. Meas.* 29:15-32, doi:10.1088/0967-3334/29/1/002;
also one of the indices of Clifford et al. 2012 and Zhao & Zhang 2018): QRS complexes
make an ECG strongly peaked (kurtosis well above 5), Gaussian noise has kurtosis 3.
"""
from __future__ import annotations

import numpy as np
from scipy import signal as _sp

__all__ = ["QUALITY_LABELS", "ecg_quality", "fill_missing", "unreadable_stretches"]

#: Code of each label in the array :func:`ecg_quality` returns (0 is readable).
QUALITY_LABELS = ("clean", "missing", "flat", "noise")
#: Kurtosis below which a window is noise (Li et al. 2008: clean ECG has kSQI > 5).
MIN_KURTOSIS = 5.0
#: A window whose band-passed spread is under this share of the record's usual spread is flat.
FLAT_SHARE = 0.05


def fill_missing(signal) -> np.ndarray:
    """The signal with NaN samples linearly interpolated (all-NaN: zeros), as a float array.

    Examples
    --------
    >>> fill_missing([1.0, np.nan, 3.0, np.nan]).tolist()
    [1.0, 2.0, 3.0, 3.0]
    """
    x = np.asarray(signal, dtype=float)
    bad = np.isnan(x)
    if not bad.any():
        return x
    if bad.all():
        return np.zeros_like(x)
    idx = np.arange(len(x))
    out = x.copy()
    out[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return out


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    """``x`` cut into rows of ``w`` samples; a partial end becomes a last row made of the
    final ``w`` samples (it overlaps the row before)."""
    n_full = len(x) // w
    rows = x[:n_full * w].reshape(n_full, w)
    if len(x) % w:
        rows = np.vstack([rows, x[-w:][None]])
    return rows


def ecg_quality(signal, sampling_rate: float, window_s: float = 5.0) -> np.ndarray:
    """Quality code of every sample of one ECG lead (see :data:`QUALITY_LABELS`).

    The lead is cut into windows of ``window_s`` seconds. A window with any NaN sample is
    ``missing``; else, after a 1-40 Hz band-pass, a window is ``flat`` if its standard
    deviation is under :data:`FLAT_SHARE` of the median window's (or the raw samples do
    not change at all), and ``noise`` if its kurtosis is under :data:`MIN_KURTOSIS`.
    Vectorised over windows.

    Parameters
    ----------
    signal : array, shape (n,)
        One lead, physical units; NaN where samples are invalid.
    sampling_rate : float
        Hz.
    window_s : float
        Window length; 5 s holds at least three beats down to 36 bpm.

    Returns
    -------
    ndarray of uint8, shape (n,)
        0 clean, 1 missing, 2 flat, 3 noise.

    See Also
    --------
    unreadable_stretches : the same as ``(start, end, label)`` stretches.

    Examples
    --------
    >>> fs = 128
    >>> t = np.arange(20 * fs) / fs
    >>> ecg = np.exp(-((t % 0.8 - 0.4) / 0.01) ** 2)      # a peaked beat every 0.8 s
    >>> noise = np.random.default_rng(0).normal(size=t.size)
    >>> x = np.concatenate([ecg, noise, np.zeros(10 * fs)])
    >>> x[5 * fs] = np.nan
    >>> [QUALITY_LABELS[q] for q in ecg_quality(x, fs)[::5 * fs]]
    ['clean', 'missing', 'clean', 'clean', 'noise', 'noise', 'noise', 'noise', 'flat', 'flat']
    """
    x = np.asarray(signal, dtype=float)
    fs = float(sampling_rate)
    w = min(len(x), max(1, int(round(window_s * fs))))
    if len(x) == 0:
        return np.zeros(0, np.uint8)
    nan_rows = _windows(np.isnan(x), w).any(axis=1)
    filled = fill_missing(x)
    raw = _windows(filled, w)
    still = raw.max(axis=1) == raw.min(axis=1)
    sos = _sp.butter(2, [1.0, min(40.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    band = _windows(_sp.sosfiltfilt(sos, filled, padlen=min(len(x) - 1, 15)), w)
    centred = band - band.mean(axis=1, keepdims=True)
    var = np.mean(centred ** 2, axis=1)
    square = var ** 2
    kurt = np.divide(np.mean(centred ** 4, axis=1), square, out=np.zeros_like(var),
                     where=square > 0)
    sd = np.sqrt(var)
    usable = ~nan_rows & ~still
    usual = np.median(sd[usable]) if usable.any() else 0.0
    flat = still | (sd <= FLAT_SHARE * usual)
    code = np.where(nan_rows, 1, np.where(flat, 2, np.where(kurt < MIN_KURTOSIS, 3, 0)))
    per_sample = np.repeat(code.astype(np.uint8), w)
    if len(per_sample) > len(x):  # the overlapping last row labels only the end
        n_full = len(x) // w
        per_sample = np.concatenate([per_sample[:n_full * w],
                                     np.full(len(x) - n_full * w, code[-1], np.uint8)])
    return per_sample


def unreadable_stretches(quality) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of each unreadable stretch (end exclusive, in samples).

    Examples
    --------
    >>> unreadable_stretches(np.array([0, 0, 3, 3, 2, 0], np.uint8))
    [(2, 4, 'noise'), (4, 5, 'flat')]
    """
    q = np.asarray(quality)
    change = np.flatnonzero(np.diff(q)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(q)]])
    return [(int(s), int(e), QUALITY_LABELS[q[s]]) for s, e in zip(starts, ends) if q[s]]
