"""RR-interval features of each beat, raw and relative to the patient's own rhythm.

An early (supraventricular) beat is early *for this patient*: 0.6 s is premature at
60 bpm and normal at 100 bpm. Dividing each interval by the record's average RR makes
the feature mean the same thing on every patient (chapter 07).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["LOCAL_RHYTHM_FEATURES", "RHYTHM_CONTEXT_FEATURES", "ROBUST_LOCAL_FEATURES",
           "RR_FEATURES", "local_rhythm", "regular_premature", "rhythm_context",
           "rr_features"]

#: Column order of :func:`rr_features`: three intervals in seconds, then the same three
#: divided by the average RR (the whole record's, or a running average of past beats).
RR_FEATURES = ("pre_rr", "post_rr", "local_rr", "pre_rr_norm", "post_rr_norm", "local_rr_norm",
               "pre_to_local", "irregularity", "irregularity_long",
               # rhythm_context: how irregular the rhythm is around the beat
               "rr_cv_10", "changing_share_10", "median_change_10",
               "rr_cv_30", "changing_share_30", "median_change_30",
               # local_rhythm: against robust references of the neighbouring intervals
               "pre_local", "post_local", "post_to_pre", "pre_to_prev", "pre_to_long",
               "pre_to_run_start", "early_run", "fast_run")


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
    return np.concatenate([features, context, local_rhythm(pre)], axis=1).astype(np.float32)


#: Columns of :func:`rhythm_context` (with its default ``half_widths``).
RHYTHM_CONTEXT_FEATURES = RR_FEATURES[9:15]
#: Columns of :func:`local_rhythm`.
LOCAL_RHYTHM_FEATURES = RR_FEATURES[15:]
#: Those of :func:`local_rhythm` that no premature majority fools: not the ones measured
#: against the running median, which is the premature rhythm's where premature beats
#: outnumber the on-time ones (chapter 07's CNN reads these).
ROBUST_LOCAL_FEATURES = ("post_to_pre", "pre_to_prev", "pre_to_long", "pre_to_run_start",
                         "early_run")


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


def _run_count(early: np.ndarray, similar: np.ndarray) -> np.ndarray:
    """Beats in the run of early beats that ends at each beat (0 where not early).

    A run goes on while each beat is early and about as fast as the one before
    (``similar``); an early beat that is not starts a new run.
    """
    index = np.arange(early.size)
    goes_on = early & np.r_[False, early[:-1]] & similar
    last_break = np.maximum.accumulate(np.where(goes_on, -1, index))
    return np.where(early, index - last_break + 1, 0)


def local_rhythm(pre_rr, half_width: int = 15, early: float = 0.85,
                 long_quantile: float = 90) -> np.ndarray:
    """Each beat's timing against robust references of its neighbours, and runs of early beats.

    The record's mean RR assumes that the record's usual rhythm is normal. Where premature
    beats are many, or come in runs, it is not: the mean, and even the median, of the
    intervals is then the premature rhythm's. These eight numbers use references that
    stay on the patient's own rhythm. All are ratios (any unit of the intervals gives the
    same numbers), over the ``2 * half_width + 1`` intervals centred on the beat, so they
    need the whole recording (like the record-mean normalisation).

    Parameters
    ----------
    pre_rr : array, shape (n_beats,)
        Pre-RR interval of each beat of one record, in order (the first beat's may be its
        post-RR, as :func:`rr_features` sets it).
    half_width : int
        15: the local references are read over the 31 intervals centred on the beat.
    early : float
        A beat is early when its pre-RR is below ``early`` times the reference.
    long_quantile : float
        Percentile of the neighbouring intervals taken as the "long" reference: the
        on-time rhythm of a patient whose premature beats outnumber the on-time ones,
        where the long intervals are the on-time ones or the pauses after runs (while
        they are more than a tenth of the neighbouring intervals).

    Returns
    -------
    ndarray, shape (n_beats, 8), float32
        Columns :data:`LOCAL_RHYTHM_FEATURES`:

        - ``pre_local``, ``post_local``: pre- and post-RR over the median of the
          neighbouring intervals (a running median: one early beat does not move it);
        - ``post_to_pre``: post-RR over pre-RR (above 1 for a premature beat followed by
          a pause);
        - ``pre_to_prev``: pre-RR over the previous beat's pre-RR (the onset of a run);
        - ``pre_to_long``: pre-RR over the ``long_quantile`` percentile of the
          neighbouring intervals;
        - ``pre_to_run_start``: pre-RR over the interval just before the current run of
          early beats (``pre_to_long`` below ``early``), or over the previous interval
          when the beat is not early: every beat of a run of premature beats is early
          against the rhythm that preceded the run, though not against each other;
        - ``early_run``: how many beats, this one included, have been early
          (``pre_to_long`` below ``early``) in a row, each about as fast as the one
          before (within a factor ``early``), as ``log2(1 + count)``; in atrial
          fibrillation, where successive intervals differ, such runs stay short;
        - ``fast_run``: the same, with early meaning below ``early`` times the running
          median (``pre_local``).

    See Also
    --------
    rhythm_context : how irregular the rhythm around each beat is (atrial fibrillation).

    Examples
    --------
    A steady 1-s rhythm with one beat 0.4 s early, then a run of three early beats:

    >>> pre = np.r_[np.ones(20), 0.6, 1.4, np.ones(20), 0.6, 0.6, 0.6, 1.4, np.ones(20)]
    >>> f = local_rhythm(pre)
    >>> f[20, :3].round(2).tolist()          # pre and post over the median, post over pre
    [0.6, 1.4, 2.33]
    >>> (2 ** f[42:45, 6] - 1).round().tolist()    # beats early in a row, in the run
    [1.0, 2.0, 3.0]
    >>> f[42:45, 5].round(2).tolist()        # each against the interval before the run
    [0.6, 0.6, 0.6]
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    if pre.ndim != 1 or pre.size < 2:
        raise ValueError(f"local_rhythm needs a 1-D sequence of at least 2 intervals, got "
                         f"shape {pre.shape}")
    if np.any(pre <= 0):
        raise ValueError("local_rhythm: intervals must be positive (sort the beats, drop "
                         "duplicates)")
    post = np.r_[pre[1:], pre[-1]]
    window = dict(size=2 * int(half_width) + 1, mode="reflect")  # no edge value repeated
    median = ndimage.median_filter(pre, **window)
    long = ndimage.percentile_filter(pre, long_quantile, **window)
    previous = np.r_[pre[0], pre[:-1]]
    pre_to_long = pre / long
    # a run: its first beat early, each next one early and about as fast as the one before
    similar = np.abs(np.log(pre / previous)) < np.log(1 / early)
    early_count = _run_count(pre_to_long < early, similar)
    before_run = pre[np.maximum(np.arange(pre.size) - early_count, 0)]
    reference = np.where(early_count > 0, before_run, previous)
    fast_count = _run_count(pre / median < early, similar)
    return np.stack([pre / median, post / median, post / pre, pre / previous, pre_to_long,
                     pre / reference, np.log2(1 + early_count), np.log2(1 + fast_count)],
                    axis=1).astype(np.float32)


def regular_premature(pre_rr, early: float = 0.85, regular: float = 0.1) -> np.ndarray:
    """Beats that come early in a regular rhythm and are followed by a longer interval.

    The classic sign of an atrial premature beat: its interval is short against the
    intervals around it, the next one is longer (the sinus node resets), and the rhythm
    around it is otherwise steady. In atrial fibrillation every interval is early against
    some neighbour and most are followed by a longer one, so the rhythm must be regular:
    the median change between successive intervals over the 21 around the beat under
    ``regular`` times their mean. The reference is the median of the 31 intervals around
    the beat, which one premature beat does not move; where premature beats outnumber the
    on-time ones (a run, or a record whose usual rhythm is premature) it is their own
    rhythm and few of them are flagged.

    Parameters
    ----------
    pre_rr : array, shape (n_beats,)
        Pre-RR interval of each beat of one record, in order (any unit).
    early : float
        Early means a pre-RR below ``early`` times the median of the 31 intervals around.
    regular : float
        Largest median change between successive intervals, over their mean, of a
        regular rhythm.

    Returns
    -------
    ndarray of bool, shape (n_beats,)

    See Also
    --------
    local_rhythm : the interval against the median around it (``pre_local``).
    rhythm_context : the median change around it (``median_change_10``).

    Examples
    --------
    One beat 0.3 s early in a steady 1-s rhythm; atrial fibrillation:

    >>> np.flatnonzero(regular_premature(np.r_[np.ones(30), 0.7, 1.3, np.ones(30)])).tolist()
    [30]
    >>> fibrillation = np.random.default_rng(0).uniform(0.5, 1.2, 300)
    >>> bool(regular_premature(fibrillation)[10:-10].any())  # the ends' windows are cut short
    False
    """
    pre = np.asarray(pre_rr, dtype=np.float64)
    local = local_rhythm(pre)
    context = rhythm_context(pre)
    return _regular_premature(local[:, LOCAL_RHYTHM_FEATURES.index("pre_local")],
                              local[:, LOCAL_RHYTHM_FEATURES.index("post_to_pre")],
                              context[:, RHYTHM_CONTEXT_FEATURES.index("median_change_10")],
                              early, regular)


def _regular_premature(pre_local, post_to_pre, median_change, early, regular):
    """:func:`regular_premature` from the columns of :data:`RR_FEATURES` it reads."""
    return (pre_local < early) & (post_to_pre > 1) & (median_change < regular)
