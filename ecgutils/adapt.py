"""Record-adaptive labelling: the unlabelled beats of the test record itself shape its labels.

A Holter system does not label each beat alone: it first sorts the beats of a recording
into shape families (templates) and lets the analyst, or the software, label a family at
once. :func:`share_within_clusters` does the same with a model's probabilities: the beats
of each stretch of a record are clustered by the shape of their QRS complex
(:func:`cluster_beats`, k-means), and each beat's V probability moves towards the mean V
probability of its family. An ectopic ventricular focus gives a family of like-shaped
beats, so a V beat whose own probability is low but whose family is V becomes V, and
a lone N beat that the model found odd, in an N family, goes back to N. N and S keep
their ratio: they share one shape, and only the timing tells them apart.

This uses the *unlabelled* beats of the record being labelled (transductive, as Holter
software and Teijeiro et al. 2018 do); no label of a test record is read. Chapter 07
reports it in rows of its own, next to the purely inductive model, and
``python -m ecgutils annotate --adapt`` applies it to a recording.

The choices (16 families per stretch of at most 4,000 beats, the QRS from 125 ms before
R to 220 ms after it, strength 0.7) were made by record-wise cross-validation over
MIT-BIH DS1 (``tools/ch07_adapt_cv.py``), never on DS2 or another database.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ADAPT", "adapt_to_record", "cluster_beats", "share_within_clusters"]

#: The defaults of :func:`adapt_to_record`, chosen by ``tools/ch07_adapt_cv.py`` on DS1.
ADAPT = {"n_clusters": 16, "strength": 0.7, "block_beats": 4000, "qrs_s": (-0.125, 0.22)}


def cluster_beats(shapes, groups=None, n_clusters: int = 16, block_beats: int = 4000,
                  seed: int = 0) -> np.ndarray:
    """Shape families of beats: k-means within each record, in stretches of beats.

    Parameters
    ----------
    shapes : array, shape (n, ...)
        What is compared between beats (flattened per beat), e.g. the QRS part of each
        beat window, beats in time order within each group.
    groups : array, shape (n,), optional
        The record of each beat: beats of two records never share a family. Default:
        one record.
    n_clusters : int
        Families per stretch (fewer when a stretch has fewer beats).
    block_beats : int
        A record with more beats is cut into equal consecutive stretches of at most this
        many beats, each clustered alone: a beat's shape family is that of the half hour
        around it (the shape of a 24-hour recording drifts).
    seed : int
        Seed of k-means' initialisation.

    Returns
    -------
    ndarray of int, shape (n,)
        A family number per beat, unique across groups and stretches.

    See Also
    --------
    share_within_clusters : what the families are used for.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> shapes = np.r_[rng.normal(0, .1, (50, 4)), rng.normal(3, .1, (10, 4))]
    >>> ids = cluster_beats(shapes, n_clusters=2)
    >>> len(set(ids[:50])), len(set(ids[50:])), bool(ids[0] != ids[-1])
    (1, 1, True)
    """
    from sklearn.cluster import KMeans

    x = np.asarray(shapes, dtype=np.float64).reshape(len(shapes), -1)
    groups = np.zeros(len(x), int) if groups is None else np.asarray(groups)
    if len(groups) != len(x):
        raise ValueError(f"cluster_beats: {len(groups)} groups for {len(x)} beats")
    if n_clusters < 1 or block_beats < 1:
        raise ValueError("cluster_beats: n_clusters and block_beats must be at least 1")
    ids = np.zeros(len(x), dtype=np.int64)
    next_id = 0
    for g in dict.fromkeys(groups.tolist()):          # groups in order of appearance
        members = np.flatnonzero(groups == g)
        for block in np.array_split(members, -(-len(members) // block_beats)):
            k = min(n_clusters, len(np.unique(x[block], axis=0)))
            local = (np.zeros(len(block), int) if k < 2 else
                     KMeans(k, n_init=1, random_state=seed).fit_predict(x[block]))
            ids[block] = next_id + local
            next_id += k
    return ids


def share_within_clusters(proba, clusters, classes=("N", "S", "V"), target: str = "V",
                          strength: float = 0.7) -> np.ndarray:
    """Move each beat's ``target`` probability towards the mean of its family.

    ``p' = (1 - strength) p + strength * mean(p over the family)`` for ``target``; the
    other classes share what is left in their own proportions.

    Parameters
    ----------
    proba : array, shape (n, len(classes))
        A model's class probabilities.
    clusters : array of int, shape (n,)
        Family of each beat (:func:`cluster_beats`).
    classes : sequence of str
        The columns of ``proba``.
    target : str
        The class whose probability is shared.
    strength : float
        0 leaves the probabilities as they are, 1 gives each beat its family's mean.

    Returns
    -------
    ndarray, shape (n, len(classes))
        Probabilities, rows summing to 1.

    See Also
    --------
    adapt_to_record : both steps on a model's inputs.

    Examples
    --------
    >>> p = np.array([[.1, .1, .8], [.1, .1, .8], [.5, .3, .2], [.8, .1, .1]])
    >>> q = share_within_clusters(p, np.array([0, 0, 0, 1]), strength=1.0)
    >>> q.round(2).tolist()
    [[0.2, 0.2, 0.6], [0.2, 0.2, 0.6], [0.25, 0.15, 0.6], [0.8, 0.1, 0.1]]
    """
    p = np.asarray(proba, dtype=np.float64)
    clusters = np.asarray(clusters)
    if p.ndim != 2 or p.shape[1] != len(classes) or len(clusters) != len(p):
        raise ValueError(f"share_within_clusters: proba has shape {p.shape}; give "
                         f"(n, {len(classes)}) and one cluster per row")
    if not 0 <= strength <= 1:
        raise ValueError(f"share_within_clusters: strength {strength} is not in [0, 1]")
    j = list(classes).index(target)
    _, inv = np.unique(clusters, return_inverse=True)
    family = np.bincount(inv, p[:, j]) / np.bincount(inv)
    shared = (1 - strength) * p[:, j] + strength * family[inv]
    rest = np.delete(p, j, axis=1)
    total = rest.sum(1, keepdims=True)
    # A beat with all its mass on the target keeps the others' ratio of the uniform.
    rest = np.where(total > 0, rest / np.where(total > 0, total, 1), 1 / rest.shape[1])
    out = np.insert(rest * (1 - shared)[:, None], j, shared, axis=1)
    return out


def adapt_to_record(proba, windows, groups=None, spec=None, seed: int = 0,
                    **options) -> np.ndarray:
    """A chapter-07 model's probabilities adapted to the unlabelled beats of each record.

    Parameters
    ----------
    proba : array, shape (n, 3)
        The model's probabilities (classes of ``spec``).
    windows : array, shape (n, window_length, channels)
        The beat windows the model read (:func:`ecgutils.interpatient.record_inputs`);
        the QRS part (``ADAPT["qrs_s"]`` around R), all channels, is clustered.
    groups : array, shape (n,), optional
        Record of each beat (default: one record), beats in time order within each.
    spec : ecgutils.interpatient.BeatSpec, optional
        The model's preprocessing (window position, rate, classes); default BeatSpec().
    seed : int
        k-means' seed.
    **options
        Override :data:`ADAPT` (``n_clusters``, ``strength``, ``block_beats``,
        ``qrs_s``).

    Returns
    -------
    ndarray, shape (n, 3)
        Adapted probabilities; label them as the model's own (``spec.labels``).

    See Also
    --------
    cluster_beats, share_within_clusters

    Examples
    --------
    >>> from ecgutils.interpatient import BeatSpec
    >>> rng = np.random.default_rng(1)
    >>> w = np.r_[rng.normal(0, .1, (40, 90, 2)), rng.normal(2, .1, (8, 90, 2))]
    >>> p = np.r_[np.tile([.9, .05, .05], (40, 1)), np.tile([.1, .1, .8], (8, 1))]
    >>> p[-1] = [.6, .1, .3]                     # a V-shaped beat the model missed
    >>> str(BeatSpec().labels(adapt_to_record(p, w, n_clusters=2))[-1])
    'V'
    """
    from .interpatient import BeatSpec

    spec = BeatSpec() if spec is None else spec
    unknown = sorted(set(options) - set(ADAPT))
    if unknown:
        raise ValueError(f"adapt_to_record: unknown options {unknown}; use {sorted(ADAPT)}")
    opts = {**ADAPT, **options}
    windows = np.asarray(windows)
    if len(windows) != len(proba):
        raise ValueError(f"adapt_to_record: {len(windows)} windows for {len(proba)} "
                         f"probability rows")
    centre = round(spec.before_s * spec.fs)
    lo = max(0, centre + round(opts["qrs_s"][0] * spec.fs))
    hi = min(windows.shape[1], centre + round(opts["qrs_s"][1] * spec.fs))
    ids = cluster_beats(windows[:, lo:hi], groups, opts["n_clusters"], opts["block_beats"],
                        seed)
    return share_within_clusters(proba, ids, spec.classes, "V", opts["strength"])
