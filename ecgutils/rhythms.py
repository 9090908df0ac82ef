"""Synthetic rhythms: beat sequences whose labels follow from how they were made.

A training database holds few of the rhythms that another database is full of. MIT-BIH
DS1 has no record whose premature beats outnumber its on-time ones, few runs of
supraventricular beats, and only two patients in atrial fibrillation; a Holter database
or the MIT-BIH Supraventricular Arrhythmia Database has many. A model that learns
"early" from DS1 alone learns it against a record's mean rhythm. Here rhythms are drawn
at random, with the rule that defines the classes built in:

- a sinus rhythm whose rate drifts slowly, with runs of supraventricular (S) beats, each
  run early against the sinus rate (any share of S beats, up to most of the record, as
  in MIT-BIH 232), and the sinus node reset after it (a pause shorter than a full
  compensatory one);
- now and then a ventricular (V) beat, early and followed by a full compensatory pause;
- atrial fibrillation: irregularly irregular intervals, every supraventricular beat N.

Each draw is vectorised over runs (no loop over beats). :func:`synthetic_beats` of
:mod:`ecgutils.interpatient` dresses such a rhythm with real beat windows.
"""
from __future__ import annotations

import numpy as np

__all__ = ["simulate_rhythm"]


def _segments(n, rng, mean_n, mean_s):
    """Alternating N and S stretches of geometric lengths, as one label array of length n."""
    k = int(n / (mean_n + mean_s)) + 8
    lengths = np.empty(2 * k, int)
    lengths[0::2] = rng.geometric(1 / mean_n, k)
    lengths[1::2] = rng.geometric(1 / mean_s, k)
    while lengths.sum() < n:                       # rare: too few stretches drawn
        lengths = np.r_[lengths, rng.geometric(1 / mean_n), rng.geometric(1 / mean_s)]
    kinds = np.tile(np.array(["N", "S"]), len(lengths) // 2)
    segment = np.repeat(np.arange(len(lengths)), lengths)[:n]
    return kinds[segment], segment


def simulate_rhythm(n_beats: int, rng=None, kind: str | None = None,
                    sinus_rr=(0.45, 1.6), s_share=(0.0, 0.8), run_length=(1.0, 6.0),
                    prematurity=(0.45, 0.85), v_share=(0.0, 0.08), af_rr=(0.4, 1.0),
                    af_cv=(0.12, 0.35), arrhythmia: float = 0.12):
    """One random rhythm: the pre-RR interval and the class of each beat.

    Parameters
    ----------
    n_beats : int
    rng : numpy Generator or int seed
    kind : {"sinus", "af"} or None
        None draws one (atrial fibrillation one time in four).
    sinus_rr : (low, high)
        The sinus interval in seconds, drawn uniformly; it then drifts by up to about
        ±20 % along the record, with 3 % beat-to-beat variation.
    s_share : (low, high)
        Target share of S beats, drawn uniformly.
    run_length : (low, high)
        Mean length of the runs of S beats, drawn uniformly (geometric lengths).
    prematurity : (low, high)
        A run's interval over the sinus interval, drawn per run.
    v_share : (low, high)
        Share of the N beats (not the first after a run) made V.
    af_rr, af_cv : (low, high)
        Mean interval in seconds and coefficient of variation in atrial fibrillation.
    arrhythmia : float
        Largest depth of the sinus arrhythmia (the N intervals swing with breathing by
        up to this share, drawn per record).

    Returns
    -------
    pre_rr : ndarray, shape (n_beats,), seconds
    labels : ndarray of str, "N", "S" or "V"

    Examples
    --------
    >>> pre, labels = simulate_rhythm(2000, rng=0, kind="sinus", s_share=(0.5, 0.5))
    >>> bool(0.3 < (labels == "S").mean() < 0.7)
    True
    >>> # every run of S beats is early against the sinus beats around it
    >>> bool(np.median(pre[labels == "S"]) < 0.9 * np.median(pre[labels == "N"]))
    True
    >>> _, af = simulate_rhythm(500, rng=0, kind="af")
    >>> sorted(set(af.tolist())) <= ["N", "V"]
    True
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if kind is None:
        kind = "af" if rng.random() < 0.25 else "sinus"
    if kind not in ("sinus", "af"):
        raise ValueError(f"kind must be 'sinus', 'af' or None, got {kind!r}")
    n = int(n_beats)
    # slow drift of the underlying rate: a smoothed random walk, ±20 % at most
    walk = np.cumsum(rng.normal(0, 1, n))
    walk = np.convolve(walk - walk.mean(), np.ones(50) / 50, mode="same")
    drift = np.exp(0.2 * np.tanh(walk / (np.abs(walk).max() + 1e-9) * rng.uniform(0, 1.5)))
    if kind == "af":
        mean, cv = rng.uniform(*af_rr), rng.uniform(*af_cv)
        sigma = np.sqrt(np.log(1 + cv ** 2))
        pre = mean * drift * rng.lognormal(-sigma ** 2 / 2, sigma, n)
        labels = np.full(n, "N")
    else:
        base = rng.uniform(*sinus_rr) * drift
        share = rng.uniform(*s_share)
        mean_s = rng.uniform(*run_length)
        labels = np.full(n, "N")
        segment = np.zeros(n, int)
        if share > 0.005:
            mean_n = max(mean_s * (1 - share) / share, 1.0)
            labels, segment = _segments(n, rng, mean_n, mean_s)
        ratio = rng.uniform(*prematurity, segment.max() + 1)[segment]
        # sinus arrhythmia: a breathing cycle of 3-6 beats, up to 12 % deep, plus noise
        breath = np.sin(2 * np.pi * np.arange(n) / rng.uniform(3, 6) + rng.uniform(0, 6.3))
        pre = base * (1 + rng.uniform(0, arrhythmia) * breath) * rng.normal(1, 0.03, n)
        s = labels == "S"
        pre[s] = base[s] * ratio[s] * rng.normal(1, 0.02, s.sum())
        # after a run the sinus node was reset: a pause, up to a full compensatory one
        after = np.r_[False, s[:-1] & ~s[1:]]
        pre[after] = base[after] * rng.uniform(1.0, 1.4, after.sum())
    # V beats: early, then a full compensatory pause (the sinus node was not reset)
    candidates = np.flatnonzero((labels == "N") & np.r_[False, labels[:-1] == "N"]
                                & np.r_[labels[1:] == "N", False])
    v = rng.choice(candidates, int(rng.uniform(*v_share) * candidates.size), replace=False)
    v = np.sort(v)
    v = v[np.r_[True, np.diff(v) > 1]] if v.size else v              # no two in a row
    early = pre[v] * rng.uniform(0.5, 0.85, v.size)
    pre[v + 1] = 2 * pre[v] - early
    pre[v] = early
    labels[v] = "V"
    return pre.astype(np.float64), labels
