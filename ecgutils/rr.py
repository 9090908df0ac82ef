"""RR-interval features of each beat, raw and relative to the patient's own rhythm.

An early (supraventricular) beat is early *for this patient*: 0.6 s is premature at
60 bpm and normal at 100 bpm. Dividing each interval by the record's average RR makes
the feature mean the same thing on every patient (chapter 07).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["RHYTHM_CONTEXT_FEATURES", "RR_FEATURES", "rhythm_context", "rr_features"]

#: Column order of :func:`rr_features`: three intervals in seconds, then the same three
#: divided by the average RR (the whole record's, or a running average of past beats).
RR_FEATURES = ("pre_rr", "post_rr", "local_rr", "pre_rr_norm", "post_rr_norm", "local_rr_norm",
               "pre_to_local", "irregularity", "irregularity_long",
               # rhythm_context: how irregular the rhythm is around the beat
               "rr_cv_10", "changing_share_10", "median_change_10",
               "rr_cv_30", "changing_share_30", "median_change_30")


def _trailing_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``x[max(0, i - n + 1) : i + 1]`` for every ``i`` (cumulative sums, no loop)."""
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(1, x.size + 1)
    lo = np.maximum(0, i - n)
    return (c[i] - c[lo]) / (i - lo)


def rr_features(r_samples, fs: float, local_beats: int = 10, normalise: str = "record",
                running_beats: int = 250, long_beats: int = 50) -> np.ndarray:
    """Pre-RR, post-RR, local RR and each divided by the average RR, per beat.

    Parameters
    ----------
    r_samples : array of int, increasing
        Sample index of every QRS complex of the record (all beats, whatever their class:
        an interval is between consecutive QRS complexes).
    fs : float
        Sampling rate in Hz.
    local_beats : int
        The local RR is the mean of this beat's pre-RR and the ``local_beats - 1`` before it.
    normalise : {"record", "causal"}
        ``"record"``: divide by the mean RR of the whole record. It uses beats that come
        later, so it needs the full recording (offline analysis). ``"causal"``: divide by
        the mean of the last ``running_beats`` pre-RR intervals, known when the beat
        arrives (plus one beat for the post-RR), usable in a live monitor.
    running_beats : int
        Window of the causal average (250 beats: about 3-4 minutes).
    long_beats : int
        Window of the long irregularity (the rhythm of the last minute or so: atrial
        fibrillation, or sinus rhythm with a few early beats).

    Returns
    -------
    ndarray, shape (n_beats, 15), float32
        Columns :data:`RR_FEATURES`: three intervals in seconds; the same divided by the
        average RR; pre-RR over local RR (premature for the moment); irregularity, the
        median change between successive intervals over the last ``local_beats``, over
        the average RR (high in atrial fibrillation, low in a regular run of early
        beats), and the same over the last ``long_beats``; then the six columns of
        :func:`rhythm_context`, over windows centred on the beat with ``"record"``
        normalisation and over past beats only with ``"causal"``. The first beat takes
        its post-RR as pre-RR, the last its pre-RR as post-RR.

    Examples
    --------
    A steady 1-s rhythm with one beat 0.4 s early:

    >>> t = np.array([0, 1, 2, 2.6, 4, 5, 6.0])
    >>> f = rr_features((t * 100).astype(int), fs=100, local_beats=2)
    >>> f[3, :3].round(2).tolist()              # pre, post, local (mean of 0.6 and 1.0)
    [0.6, 1.4, 0.8]
    >>> round(float(f[3, 3]), 2)                # 0.6 s against the record's 1.0 s mean
    0.6
    """
    if normalise not in ("record", "causal"):
        raise ValueError(f"normalise must be 'record' or 'causal', got {normalise!r}")
    r = np.asarray(r_samples, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise ValueError(f"rr_features needs at least 2 beats, got {r.size}")
    if np.any(np.diff(r) <= 0):
        raise ValueError("r_samples must be strictly increasing (sort them, drop duplicates)")
    rr = np.diff(r) / fs
    pre = np.concatenate([[rr[0]], rr])
    post = np.concatenate([rr, [rr[-1]]])
    local = _trailing_mean(pre, int(local_beats))
    if normalise == "record":
        average = np.full(pre.size, rr.mean())
    else:
        average = _trailing_mean(pre, int(running_beats))
    change = np.abs(np.diff(pre, prepend=pre[0]))
    irregularity, irregularity_long = (
        ndimage.median_filter(change, size=int(n), origin=(int(n) - 1) // 2, mode="nearest")
        for n in (local_beats, long_beats))  # trailing windows: past beats only
    features = np.stack([pre, post, local, pre / average, post / average, local / average,
                         pre / local, irregularity / average, irregularity_long / average],
                        axis=1)
    context = rhythm_context(pre, centred=(normalise == "record"))
    return np.concatenate([features, context], axis=1).astype(np.float32)


#: Columns of :func:`rhythm_context` (with its default ``half_widths``).
RHYTHM_CONTEXT_FEATURES = RR_FEATURES[9:]


def rhythm_context(pre_rr, half_widths=(10, 30), centred: bool = True) -> np.ndarray:
    """How irregular the rhythm is around each beat, from its pre-RR sequence.

    An early beat in a steady rhythm is a premature (S or V) beat; the same short interval
    in atrial fibrillation, where every interval differs, is an N beat. For each beat and
    each half width ``k``, over the ``2k + 1`` intervals centred on it: the coefficient of
    variation of the pre-RR, the share of beats whose pre-RR differs from the one before
    by more than 10 % of the window mean, and the median of that change over the mean.
    All three are ratios, so any unit (seconds, samples, RR over the record mean) gives the
    same numbers. Centred windows use later beats: like the record-mean normalisation,
    they need the whole recording; ``centred=False`` takes the ``2k + 1`` intervals up to
    the beat instead (known when it arrives, for a live monitor).

    Parameters
    ----------
    pre_rr : array, shape (n_beats,)
        Pre-RR interval of each beat of one record, in order.
    half_widths : tuple of int
        Window half widths in beats (10: the last and next ten beats).
    centred : bool
        Windows centred on the beat (True) or ending at it (False: past beats only).

    Returns
    -------
    ndarray, shape (n_beats, 3 * len(half_widths)), float32
        Columns :data:`RHYTHM_CONTEXT_FEATURES` for the default half widths.

    Examples
    --------
    A steady rhythm, then an irregular one:

    >>> rng = np.random.default_rng(0)
    >>> pre = np.r_[np.full(100, 0.8), rng.uniform(0.4, 1.2, 100)]
    >>> c = rhythm_context(pre)
    >>> c.shape, c[50, :3].round(3).tolist()          # steady: no variation, no change
    ((200, 6), [0.0, 0.0, 0.0])
    >>> bool(c[150, 0] > 0.2), bool(c[150, 1] > 0.5)   # irregular: most intervals change
    (True, True)
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    if pre.ndim != 1 or pre.size < 1:
        raise ValueError(f"rhythm_context needs a 1-D sequence of intervals, got shape "
                         f"{pre.shape}")
    change = np.abs(np.diff(pre, prepend=pre[0]))
    columns = []
    for k in half_widths:
        size = 2 * int(k) + 1
        window = dict(size=size, mode="nearest", origin=0 if centred else int(k))
        mean = ndimage.uniform_filter1d(pre, **window)
        square = ndimage.uniform_filter1d(pre ** 2, **window)
        columns += [np.sqrt(np.maximum(square - mean ** 2, 0)) / mean,
                    ndimage.uniform_filter1d((change / mean > 0.1).astype(float), **window),
                    ndimage.median_filter(change, **window) / mean]
    return np.stack(columns, axis=1).astype(np.float32)
