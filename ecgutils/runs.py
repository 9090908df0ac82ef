"""Runs of ectopic beats: isolated beats, couplets and runs of three or more.

Holter reports and AAMI EC57's run statistics both start from the same step: the
maximal stretches of consecutive beats of one class. A stretch of one beat is isolated,
two make a couplet, three or more a run (ventricular tachycardia when V beats run at
100 bpm or faster; SVT likewise for S beats).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RUN_COLUMNS", "beat_runs", "run_kind", "stretches"]

RUN_COLUMNS = ("class", "first", "length", "kind", "start", "end", "rate_bpm")


def run_kind(length) -> np.ndarray:
    """Name of a run by its length: 1 isolated, 2 couplet, 3 or more run.

    >>> run_kind([1, 2, 3, 7]).tolist()
    ['isolated', 'couplet', 'run', 'run']
    """
    length = np.asarray(length)
    return np.where(length >= 3, "run", np.where(length == 2, "couplet", "isolated"))


def stretches(mask) -> tuple[np.ndarray, np.ndarray]:
    """First index and length of every maximal stretch of True in ``mask``, in order.

    The array step under :func:`beat_runs`, for callers that need it many times
    (``ecgutils.ec57.run_counts`` matches runs record by record).

    >>> first, length = stretches([True, True, False, True, False, False, True])
    >>> first.tolist(), length.tolist()
    ([0, 3, 6], [2, 1, 1])
    """
    hit = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]]).astype(np.int8)
    edges = np.diff(hit)
    first = np.flatnonzero(edges == 1)
    return first, np.flatnonzero(edges == -1) - first


def beat_runs(labels, classes=("S", "V"), samples=None, fs: float | None = None
              ) -> pd.DataFrame:
    """Every maximal stretch of consecutive beats of one class, for each class asked.

    Parameters
    ----------
    labels : array-like of str
        One label per beat, in time order.
    classes : sequence of str
        The classes whose runs are wanted.
    samples, fs : array-like of int, float, optional
        Beat positions in samples and the sampling rate; with both, each run gets its
        first and last sample and its rate (60 over the mean of the RR intervals that
        end on the run's beats, the interval into its first beat included).

    Returns
    -------
    pandas.DataFrame
        One row per stretch, in time order: ``class``, ``first`` (index of its first
        beat), ``length`` (beats), ``kind`` (:func:`run_kind`), and with samples
        ``start``, ``end`` (samples) and ``rate_bpm`` (NaN for a first beat with no
        interval before it).

    See Also
    --------
    ecgutils.ec57.run_statistics : Se and +P of detected runs against reference runs.

    Examples
    --------
    >>> runs = beat_runs(list("NVVNSSSNV"), samples=[0, 90, 150, 260, 350, 420, 490, 600, 700],
    ...                  fs=100)
    >>> runs[["class", "first", "length", "kind"]].values.tolist()
    [['V', 1, 2, 'couplet'], ['S', 4, 3, 'run'], ['V', 8, 1, 'isolated']]
    >>> runs["rate_bpm"].round(1).tolist()
    [80.0, 78.3, 60.0]
    """
    labels = np.asarray(labels).astype(str)
    frames = []
    for cls in classes:
        first, length = stretches(labels == cls)
        frames.append(pd.DataFrame({"class": cls, "first": first, "length": length}))
    runs = pd.concat(frames, ignore_index=True).sort_values("first", kind="stable")
    runs = runs.reset_index(drop=True).astype({"first": np.int64, "length": np.int64})
    runs["kind"] = run_kind(runs["length"].to_numpy())
    if samples is None or fs is None:
        return runs
    samples = np.asarray(samples, dtype=np.int64)
    if samples.shape != labels.shape:
        raise ValueError(f"samples has {samples.size} beats, labels {labels.size}: give one "
                         f"sample per label")
    first, last = runs["first"].to_numpy(), (runs["first"] + runs["length"] - 1).to_numpy()
    runs["start"], runs["end"] = samples[first], samples[last]
    before = samples[np.maximum(first - 1, 0)]
    span = (samples[last] - before).astype(float)
    beats = (last - first + 1 - (first == 0)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        runs["rate_bpm"] = np.where(beats > 0, 60.0 * fs * beats / span, np.nan)
    return runs[list(RUN_COLUMNS)]
