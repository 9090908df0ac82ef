"""Beats of new patients (chapter 07): windows that keep the P wave, RR features, the model.

Everything that turns a recording into model inputs is one :class:`BeatSpec`, saved
inside the model file, so that a model applies to any WFDB record at any sampling rate
(``python -m ecgutils annotate``) with nothing else from the notebook run.

Per record, with no label of that record: resample to ``spec.fs``, band-pass, find the
R peak near each beat mark, scale by the record's median QRS amplitude and turn it so
that its QRS points up, cut a window from 0.25 s before R (the P wave) to 0.45 s after
(the T wave), and take the RR features of :mod:`ecgutils.rr`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import beats as _beats
from . import data as _data
from . import evaluate as _evaluate
from .models import build_interpatient_model
from . import splits as _splits
from . import rr as _rr
from . import signal as _signal
from .beats import Beats
from .rr import (LOCAL_RHYTHM_FEATURES, RHYTHM_CONTEXT_FEATURES, ROBUST_LOCAL_FEATURES,
                 RR_FEATURES, rhythm_context, rr_features)

__all__ = ["BeatForest", "BeatSpec", "MORPHOLOGY_FEATURES", "PUBLISHED_DS2",
           "AUGMENT", "HEADS", "augmented_batches", "beat_morphology", "build_beats",
           "forest_features",
           "build_forest", "ensemble_model", "fit_headline", "local_templates",
           "on_time_beats", "record_balanced_weights",
           "record_inputs", "synthetic_beats", "train_headline"]


@dataclass(frozen=True)
class BeatSpec:
    """How a recording becomes model inputs, and outputs labels; stored with every saved
    chapter-07 model (a file without ``operating_point`` labels by the most probable class).

    Examples
    --------
    >>> spec = BeatSpec()
    >>> spec.window_length, spec.n_channels
    (90, 2)
    >>> BeatSpec.from_dict(spec.to_dict()) == spec
    True
    """

    fs: float = 128.0                      # model rate; records are resampled to it
    before_s: float = 0.25                 # window start before R: keeps the P wave
    after_s: float = 0.45                  # window end after R: keeps the T wave
    band_hz: tuple = (0.5, 40.0)           # band-pass before anything else
    search_s: float = 0.1                  # R is the largest deflection this near the beat mark
    local_beats: int = 10                  # local RR: mean of the last 10 RR intervals
    normalise: str = "record"              # RR divided by the record's mean RR, or "causal"
    running_beats: int = 250               # window of the causal running mean
    leads: tuple = ("MLII", "II", "ML2")   # lead preference; else the record's first lead
    template_channel: bool = True          # 2nd channel: beat minus the record's median beat
    # The usual beat: "local", the median of the on-time beats of the few minutes around
    # each beat (the usual beat changes along a record: heart rate, ST level, electrode
    # contact); "on_time", the median of the record's on-time beats (a premature
    # majority is not the patient's usual beat); or "all", of all its beats.
    template_beats: str = "local"
    classes: tuple = ("N", "S", "V")
    # Only intervals relative to the patient's rhythm: seconds would tie "early" to one
    # heart rate (a bradycardic patient's premature beats are slow in absolute terms).
    # tools/ch07_design_cv.py compares these choices by cross-validation over DS1 records.
    rr_features: tuple = ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_to_local",
                          "irregularity", "irregularity_long") + RHYTHM_CONTEXT_FEATURES \
        + ROBUST_LOCAL_FEATURES
    # The ten numbers of beat_morphology (the beat against the median of the record's
    # on-time beats) appended to the RR features, for the dense branch.
    shape_features: bool = False
    # How probabilities become labels: () the most probable class; (class, threshold)
    # that class where its probability reaches the threshold, chosen on validation
    # records (evaluate.choose_operating_point), else the most probable other class.
    operating_point: tuple = ()
    # (early, regular), e.g. (0.85, 0.1): a beat the network does not call V is S where
    # eu.rr.regular_premature(early, regular) flags it (eu.models.with_premature_rule).
    # A fixed rule; the flag is the last RR column, which the network does not read.
    # Better on held-out DS1 records, worse on DS2 and the other databases: off
    # (tools/ch07_s_rule_cv.py, docs/decisions.md).
    premature_rule: tuple = ()

    def __post_init__(self):
        rule = self.premature_rule
        if rule and (len(rule) != 2 or tuple(self.classes[:3]) != ("N", "S", "V")
                     or not 0 < rule[0] < 1 or not rule[1] > 0):
            raise ValueError(f"premature_rule {list(rule)}: give (early, regular) with "
                             f"0 < early < 1 and regular > 0, for classes that start with "
                             f"N, S, V (got {list(self.classes)}), or () for no rule")
        if self.operating_point:
            op = self.operating_point
            if (len(op) != 2 or op[0] not in self.classes
                    or not isinstance(op[1], (int, float)) or not 0 <= op[1] <= 1):
                raise ValueError(f"operating_point {list(op)}: give (class, threshold) with "
                                 f"a class of {list(self.classes)} and a threshold in [0, 1]")

    @property
    def feature_names(self) -> tuple:
        """Columns of the second model input: ``rr_features``, then the shape numbers,
        then (``premature_rule``) the rule's flag."""
        return (self.rr_features + (MORPHOLOGY_FEATURES if self.shape_features else ())
                + (("regular_premature",) if self.premature_rule else ()))

    @property
    def window_length(self) -> int:
        return round(self.before_s * self.fs) + round(self.after_s * self.fs)

    @property
    def n_channels(self) -> int:
        return 2 if self.template_channel else 1

    def labels(self, proba) -> np.ndarray:
        """Class labels of model outputs ``proba`` (n, len(classes)), by ``operating_point``.

        >>> p = np.array([[0.6, 0.1, 0.3], [0.2, 0.7, 0.1]])
        >>> BeatSpec().labels(p).tolist(), BeatSpec(operating_point=("V", 0.25)).labels(p).tolist()
        (['N', 'S'], ['V', 'S'])
        """
        return _evaluate.apply_operating_point(proba, self.classes, self.operating_point)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "BeatSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown BeatSpec fields {unknown}: the model was saved by a "
                             f"newer ecgutils; upgrade it")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def on_time_beats(pre_rr_norm, threshold: float = 0.9, min_beats: int = 20) -> np.ndarray:
    """Mask of the beats that are not early: the patient's usual beats, without labels.

    Premature beats, even when they are most of a record's beats (MIT-BIH 232), are
    not the patient's reference. With fewer than ``min_beats`` on-time beats every beat
    counts.

    Examples
    --------
    >>> on_time_beats(np.array([1.0, 0.6, 1.1]), min_beats=1).tolist()
    [True, False, True]
    """
    usual = np.asarray(pre_rr_norm) >= threshold
    return usual if usual.sum() >= min_beats else np.ones(usual.shape, bool)


def local_templates(windows, usual, block: int = 32, half_blocks: int = 4,
                    min_beats: int = 8) -> np.ndarray:
    """The usual beat around each beat: the median of the ``usual`` beats nearby.

    Beats are taken in blocks of ``block``; each block's template is the median of the
    usual beats of the ``2 * half_blocks + 1`` blocks centred on it (about 290 beats,
    four minutes), or of all of them where fewer than ``min_beats`` are usual. One
    median per block, not per beat, keeps it fast.

    Examples
    --------
    >>> w = np.r_[np.zeros((300, 4)), np.ones((300, 4))][:, :, None]
    >>> t = local_templates(w, np.ones(600, bool))
    >>> float(t[0, 0, 0]), float(t[-1, 0, 0])     # the beat's shape drifted: so does its template
    (0.0, 1.0)
    """
    windows = np.asarray(windows)
    usual = np.asarray(usual, bool)
    n = len(windows)
    out = np.empty_like(windows)
    for start in range(0, n, block):
        lo, hi = max(0, start - half_blocks * block), min(n, start + (half_blocks + 1) * block)
        near = windows[lo:hi]
        chosen = near[usual[lo:hi]] if usual[lo:hi].sum() >= min_beats else near
        out[start:start + block] = np.median(chosen, axis=0)
    return out


def record_inputs(x, fs: float, r_samples, spec: BeatSpec = BeatSpec()):
    """Model inputs for the beats of one lead: windows and RR features.

    Parameters
    ----------
    x : array, shape (n,)
        One ECG lead, physical units, at ``fs``.
    fs : float
        Its sampling rate (any: the lead is resampled to ``spec.fs``).
    r_samples : array of int
        Beat marks in samples at ``fs`` (annotations or detections), increasing.
    spec : BeatSpec

    Returns
    -------
    windows : ndarray, shape (n_beats, spec.window_length, spec.n_channels), float32
    rr : ndarray, shape (n_beats, len(spec.feature_names)), float32
        The RR features, then (``spec.shape_features``) the beat's shape numbers.

    Examples
    --------
    >>> fs = 360
    >>> t = np.arange(30 * fs) / fs
    >>> beats = np.arange(0.5, 29.5, 0.8)
    >>> x = np.exp(-((t[:, None] - beats) / 0.01) ** 2).sum(1)
    >>> w, rr = record_inputs(x, fs, (beats * fs).astype(int))
    >>> w.shape, rr.shape, round(float(rr[5, 0]), 2), round(float(rr[5, 3]), 2)
    ((37, 90, 2), (37, 17), 1.0, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    r_samples = np.asarray(r_samples, dtype=np.int64)
    if r_samples.size < 3:
        raise ValueError(f"need at least 3 beats to read a rhythm, got {r_samples.size}")
    y = _signal.resample_signal(x, fs, spec.fs) if fs != spec.fs else x
    y = _signal.bandpass_filter(y, spec.fs, *spec.band_hz)
    marks = np.clip(np.round(r_samples * (spec.fs / fs)).astype(np.int64), 0, y.size - 1)
    r = _signal.refine_to_r(y, marks, spec.fs, spec.search_s)
    # Per-record scale and polarity: the median QRS (R and its neighbours) of this patient.
    qrs, _ = _signal.segment_beats(y, r, spec.fs, 0.06, 0.06)
    amplitude = float(np.median(np.ptp(qrs, axis=1)))
    polarity = 1.0 if np.median(y[r]) >= 0 else -1.0
    y = y * (polarity / max(amplitude, 1e-6))
    windows, _ = _signal.segment_beats(y, r, spec.fs, spec.before_s, spec.after_s)
    rr = rr_features(r_samples, fs, spec.local_beats, spec.normalise, spec.running_beats)
    return _inputs(windows, rr, spec)


def _inputs(windows, rr, spec: BeatSpec):
    """Model inputs from the beat windows of one record and all its RR_FEATURES columns."""
    channels = [windows]
    on_time = on_time_beats(rr[:, RR_FEATURES.index("pre_rr_norm")])
    if spec.template_channel:
        if spec.template_beats == "local":
            usual = rr[:, RR_FEATURES.index("pre_to_long")] >= 0.8
            channels.append(windows - local_templates(windows, usual))
        else:
            usual = on_time if spec.template_beats == "on_time" else slice(None)
            channels.append(windows - np.median(windows[usual], axis=0, keepdims=True))
    columns = [rr[:, [RR_FEATURES.index(name) for name in spec.rr_features]]]
    if spec.shape_features:
        columns.append(beat_morphology(windows, np.median(windows[on_time], axis=0), spec))
    if spec.premature_rule:
        flag = _rr._regular_premature(*(rr[:, RR_FEATURES.index(name)] for name in
                                        ("pre_local", "post_to_pre", "median_change_10")),
                                      *spec.premature_rule)
        columns.append(flag[:, None])
    rr = np.concatenate(columns, axis=1)
    return np.stack(channels, axis=-1).astype(np.float32), rr


def synthetic_beats(beats: Beats, spec: BeatSpec = BeatSpec(), n_records: int = 40,
                    n_beats: int = 600, rng=None, min_windows: int = 5,
                    s_windows_only: bool = False, **rhythm) -> Beats:
    """Beats of synthetic rhythms (:func:`ecgutils.rhythms.simulate_rhythm`) dressed
    with real beat windows of the training records ``beats``.

    Each synthetic record takes one training record at random: its N beats' windows
    for the N beats, its S beats' for the S beats (its N beats' where it has fewer than
    ``min_windows``: an S beat is conducted as an N beat is), its V beats' for the V
    beats (those of all records where it has too few). The RR features and the usual
    beat behind the second channel are computed from the synthetic rhythm, as
    :func:`record_inputs` computes them from a real one. Labels follow from the rhythm
    that was drawn; no record but the training ones is used. The record names are
    ``"synthetic-<k>"``.

    Examples
    --------
    >>> spec = BeatSpec()
    >>> rng = np.random.default_rng(0)
    >>> w = rng.normal(size=(300, spec.window_length, 2)).astype("float32")
    >>> real = Beats(np.full(300, "101"), np.arange(300), list("NNNNNNNNSV") * 30,
    ...              windows=w, rr=np.zeros((300, 17), "float32"))
    >>> fake = synthetic_beats(real, spec, n_records=3, n_beats=200, rng=0)
    >>> len(fake), fake.rr.shape[1] == len(spec.feature_names), set(fake.label) <= {"N", "S", "V"}
    (600, True, True)
    """
    from .rhythms import simulate_rhythm

    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    records = np.asarray(pd.unique(beats.record))
    all_v = np.flatnonzero(beats.label == "V")
    sets = []
    if s_windows_only:
        counts = pd.Series(beats.record[beats.label == "S"]).value_counts()
        records = counts.index[counts >= min_windows].to_numpy()
    for k in range(int(n_records)):
        record = records[rng.integers(len(records))]
        own = beats.record == record
        pools = {c: np.flatnonzero(own & (beats.label == c)) for c in ("N", "S", "V")}
        if pools["N"].size < min_windows:
            continue
        if pools["S"].size < min_windows:
            if s_windows_only:
                continue
            pools["S"] = pools["N"]
        if pools["V"].size < min_windows:
            pools["V"] = all_v if all_v.size else pools["N"]
        pre, labels = simulate_rhythm(n_beats, rng, **rhythm)
        pick = np.empty(labels.size, int)
        for c, pool in pools.items():
            m = labels == c
            pick[m] = rng.choice(pool, m.sum())
        r_ms = np.round(np.cumsum(pre) * 1000).astype(np.int64)
        rr = rr_features(r_ms, 1000.0, spec.local_beats, spec.normalise, spec.running_beats)
        windows, features = _inputs(beats.windows[pick, :, 0], rr, spec)
        sets.append(Beats(np.full(labels.size, f"synthetic-{k}"), r_ms, labels,
                          db=np.full(labels.size, "synthetic"), windows=windows, rr=features))
    return Beats.concat(sets)


def build_beats(records, db: str = "mitdb", root=None, spec: BeatSpec = BeatSpec(),
                mapping=None, progress: bool = False) -> Beats:
    """Chapter 07's inputs for the beats of ``records``: windows and RR features.

    The beats are :func:`ecgutils.beats.record_beats`'s, at the reference marks as
    annotated (:func:`record_inputs` finds R near each at ``spec.fs``), of the first
    lead of ``spec.leads`` a record has. Every annotated QRS (any beat symbol) counts
    for the RR intervals; all beats are returned, Q and F included, so a caller can
    decide what to train or score on.

    Parameters
    ----------
    records : sequence of str
    db : str
    root : path, optional
    spec : BeatSpec
    mapping : dict, optional
        Beat symbol -> class (default :data:`ecgutils.data.AAMI_MAP`).
    progress : bool
        Show a progress bar over the records.

    Returns
    -------
    Beats
        ``windows`` (n, spec.window_length, spec.n_channels) and ``rr``
        (n, len(spec.feature_names)) float32; ``label``, ``record``, ``sample`` (the
        beat mark, in samples of the original record) and ``db`` of each beat.

    See Also
    --------
    ecgutils.beats.record_beats, record_inputs
    """
    records = [str(r) for r in records]
    if not records:
        raise ValueError("build_beats: no records given")
    iterator = records
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(records, desc=f"beats {db}", leave=False)
    sets = []
    for record in iterator:
        beats = _beats.record_beats([record], db, root, lead=spec.leads, mapping=mapping,
                                    r_search_s=None)
        info = beats.signals[record]
        windows, rr = record_inputs(info["signal"], info["fs"], beats.sample, spec)
        sets.append(Beats(beats.record, beats.sample, beats.label, db=beats.db,
                          windows=windows, rr=rr))
    return Beats.concat(sets)


# --------------------------------------------------------------------------- protocol
#: Chapter 07's augmentation of the training windows (``augment_windows``' defaults),
#: chosen by ``tools/ch07_design_cv.py``; None would train on the windows as they are.
AUGMENT: dict = {}


def select_records(beats: Beats, val_fraction: float = 0.3, seed: int = 0,
                   min_count: int = 20, forbidden=_data.DS2) -> dict:
    """Split the training records into ``train`` and ``val`` (for model selection).

    Records, not beats, are split, so validation scores new patients; every split holds
    at least ``min_count`` S and V beats. No record of ``forbidden`` (DS2, the test set)
    and no record of another database than MIT-BIH (the external test set) may be among
    them: that is asserted, not assumed.
    """
    records = sorted(set(beats.record.tolist()))
    leaked = sorted(set(records) & {str(r) for r in forbidden})
    if leaked:
        raise ValueError(f"records {leaked} are test (DS2) records: they must never reach "
                         f"training or model selection")
    if beats.db is not None:
        other = sorted(set(beats.record[beats.db != "mitdb"].tolist()))
        if other:
            raise ValueError(f"records {other[:5]} come from another database (the "
                             f"external test set): they must never reach training or "
                             f"model selection")
    counts = beats.counts().reindex(columns=["S", "V"], fill_value=0)
    splits, _, _ = _splits.split_records_covering(
        counts, (1 - val_fraction, val_fraction), seed=seed, min_count=min_count,
        names=("train", "val"), strict=False)
    _splits.check_disjoint(splits)
    return splits


def model_inputs(beats: Beats) -> list:
    """``[windows, rr]``, as the model takes them."""
    return [beats.windows, beats.rr]


def class_indices(beats: Beats, spec: BeatSpec = BeatSpec()) -> np.ndarray:
    """Integer class of each beat (index into ``spec.classes``); -1 for other classes."""
    return _data.class_indices(beats.label, spec.classes)


def train_classifier(train: Beats, val: Beats | None, spec: BeatSpec = BeatSpec(),
                     seed: int = 0,
                     epochs: int = 8, batch_size: int = 256, class_weight_power: float = 0.5,
                     patience: int = 3, label: str = "", augment: dict | None = None,
                     synthetic: dict | None = None, verbose: bool = True,
                     adversary: float = 0.0, record_balance: float = 0.0,
                     teacher=None, teacher_weight: float = 0.5, **model_args) -> dict:
    """Train :func:`build_interpatient_model` on the classes of ``spec``; select on ``val``.

    Selection keeps the epoch with the best mean F1 of S and V on the validation records;
    with ``val`` None the model trains exactly ``epochs`` epochs (the refit on all
    training records once selection has chosen the number of epochs). Beats of other
    classes (F, Q) are left out of training and selection. ``augment``: keyword
    arguments of :func:`ecgutils.augment.augment_windows` (``{}``: its defaults), applied
    afresh to the training windows of every batch (validation windows stay as they are);
    None trains on the windows as they are. ``synthetic``: keyword arguments of
    :func:`synthetic_beats`, whose beats (synthetic rhythms dressed with the training
    records' windows) join the training beats; None adds none. ``adversary``: the
    strength of a patient adversary (:func:`ecgutils.models.patient_adversarial`, one
    class per training record; 0: none); the model returned is the classifier alone.
    ``record_balance``: evens out how much each record teaches a class
    (:func:`record_balanced_weights`; 0: every beat of a class weighs the same).
    ``teacher``: class probabilities of each beat of ``train`` from another model (a
    forest that did not see the beat's record), learnt with weight ``teacher_weight``
    beside the labels (:func:`ecgutils.models.distillation_loss`); None: labels only.
    ``verbose``: one line per training.
    Returns :func:`ecgutils.experiment.train_and_evaluate`'s dict.
    """
    from . import config, experiment

    if len(train):  # before the seeds: it changes no result
        _warm_up_training(train.windows, train.rr, spec)
    config.set_seed(seed)
    import keras

    keras.utils.set_random_seed(seed)
    known = class_indices(train, spec) >= 0
    if teacher is not None:
        if synthetic is not None or adversary:
            raise ValueError("train_classifier: a teacher cannot be combined with "
                             "synthetic beats or an adversary")
        teacher = np.asarray(teacher, np.float32)
        if teacher.shape != (len(train), len(spec.classes)):
            raise ValueError(f"train_classifier: teacher has shape {teacher.shape}, needs "
                             f"one row of {len(spec.classes)} probabilities per training beat "
                             f"({len(train)})")
        teacher = teacher[known]
    train = train.subset(known)
    if synthetic is not None:
        fake = synthetic_beats(train, spec, rng=seed, **synthetic)
        train = Beats.concat([train, fake])
    if val is not None:
        val = val.subset(class_indices(val, spec) >= 0)
    model = build_interpatient_model(spec, rr_train=train.rr, **model_args)
    if teacher is not None:  # no "accuracy": it would read the teacher's columns as labels
        from .models import distillation_loss

        model.compile(optimizer=model.optimizer, loss=distillation_loss(teacher_weight))
    weights = experiment.class_weights(train.label, spec.classes, class_weight_power)
    data = (model_inputs(train), class_indices(train, spec))
    patients = None
    if adversary:
        from .models import patient_adversarial

        patients, names = pd.factorize(train.record)
        model = patient_adversarial(model, len(names), adversary)
    beat_weights = (record_balanced_weights(data[1], train.record, record_balance)
                    if record_balance else None)
    if augment is not None or adversary or record_balance or teacher is not None:
        data = augmented_batches(*data, weights, batch_size, seed,
                                 round(spec.before_s * spec.fs), augment, patients,
                                 beat_weights, teacher)
    fit = experiment.train_and_evaluate(
        model, data,
        None if val is None else (model_inputs(val), class_indices(val, spec)),
        epochs=epochs, batch_size=batch_size,
        class_weight=weights, patience=patience,
        score=_evaluate.s_and_v_f1(spec.classes), label=label,
        verbose=verbose)
    if teacher is not None:  # saved like any chapter-07 model: no custom loss to load
        model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    if adversary:
        fit["model"] = model.classifier
        # its own optimizer never ran: built, it saves the state a loaded model expects
        fit["model"].optimizer.build(fit["model"].trainable_variables)
    if spec.premature_rule:  # after training: the rule learns nothing
        from .models import with_premature_rule

        fit["model"] = with_premature_rule(fit["model"], spec)
    return fit


#: The waveform heads each headline training tries; validation keeps the better one.
HEADS = ("average", "flatten")


def train_headline(ds1: Beats, seed: int = 0, epochs: int = 8, batch_size: int = 256,
                   class_weight_power: float = 0.5, augment: dict | None = AUGMENT,
                   spec: BeatSpec = BeatSpec(), val_fraction: float = 0.3,
                   target_v_se: float = 0.95, verbose: bool = True,
                   refit: bool = False, adversary: float = 0.0) -> dict:
    """Chapter 07's headline model for one seed: split, two heads, the better one, its
    epochs and V operating point, all chosen on held-out DS1 records (and, with
    ``refit``, that head trained again on all of ``ds1``).

    :func:`select_records` holds out ``val_fraction`` of the records of ``ds1``; a
    :func:`train_classifier` per waveform head (:data:`HEADS`: averaged or flattened
    feature maps) trains on the others; the head with the better validation score (mean
    F1 of S and V) is kept, and the highest V threshold at which its validation records
    reach ``target_v_se`` (:func:`ecgutils.evaluate.choose_operating_point`) goes into
    the returned spec. With ``refit``, the kept head then trains again from the same
    seed on all the records of ``ds1``, validation records included, for the number of
    epochs validation chose (compared in ``tools/ch07_ensemble_cv.py`` and
    docs/decisions.md: better on DS1's held-out records and on DS2, worse on the other
    databases; not chapter 07's default). No test record (DS2, other databases) is read
    or may be in ``ds1``.

    Parameters
    ----------
    ds1 : Beats
        Training beats (MIT-BIH DS1), built with ``spec``.
    seed : int
        Chooses the validation records, the initial weights and the augmentation.
    epochs, batch_size, class_weight_power, augment
        As :func:`train_classifier` (chapter 07's values are the defaults).
    spec : BeatSpec
        The preprocessing ``ds1`` was built with (no operating point).
    val_fraction : float
        Share of the records held out for selection.
    target_v_se : float
        V sensitivity the operating point reaches on the validation records.
    verbose : bool
        One line per training.
    refit : bool
        Train the chosen head again on all of ``ds1`` and return that model.
    adversary : float
        Strength of a patient adversary in every training
        (:func:`ecgutils.models.patient_adversarial`; 0: none).

    Returns
    -------
    dict
        ``model`` (the chosen Keras model; with ``refit``, trained on all of ``ds1``),
        ``spec`` (``spec`` with the operating point:
        save it with the model), ``head``, ``history``, ``best_epoch``, ``best_score``
        (validation score of the head kept), ``scores`` (each head's), ``operating_point``
        (:func:`~ecgutils.evaluate.choose_operating_point`'s dict, of the model before
        any refit), ``refit``, ``selection_model`` (the chosen head before any refit,
        which has not seen the validation records), ``train_records``,
        ``validation_records`` and ``timing`` (seconds of training: both heads and any
        refit).

    See Also
    --------
    select_records, fit_headline, train_classifier, ecgutils.pretrained.train_pretrained

    Examples
    --------
    >>> spec = BeatSpec()
    >>> rng = np.random.default_rng(0)
    >>> n = 240
    >>> beats = Beats(np.repeat(list("abcdef"), n // 6), np.arange(n), list("NNSV") * (n // 4),
    ...               windows=rng.normal(size=(n, 90, 2)).astype("float32"),
    ...               rr=rng.normal(size=(n, 17)).astype("float32"))
    >>> fit = train_headline(beats, seed=0, epochs=1, augment=None, verbose=False)
    >>> fit["head"] in HEADS, fit["spec"].operating_point[0], len(fit["validation_records"]) > 0
    (True, 'V', True)
    """
    split = select_records(ds1, val_fraction, seed=seed)
    train, val = (ds1.subset(ds1.records_mask(split[k])) for k in ("train", "val"))
    fit = fit_headline(train, val, spec, seed, epochs, batch_size, class_weight_power,
                       augment, target_v_se, verbose, refit, adversary)
    return {**fit, "train_records": split["train"], "validation_records": split["val"]}


def fit_headline(train: Beats, val: Beats, spec: BeatSpec = BeatSpec(), seed: int = 0,
                 epochs: int = 8, batch_size: int = 256, class_weight_power: float = 0.5,
                 augment: dict | None = AUGMENT, target_v_se: float = 0.95,
                 verbose: bool = True, refit: bool = False, adversary: float = 0.0) -> dict:
    """:func:`train_headline` on given training and validation beats (any protocol:
    chapter 08 runs it on its record splits and on a beat-random split).

    With ``refit`` the chosen head is trained again, from the same seed, on the training
    *and* validation beats for the chosen number of epochs, and that model is returned;
    the selection scores and the V operating point stay those of the model that had not
    seen the validation beats. An ``adversary`` needs the beats' records (one adversary
    class per training record).

    Returns :func:`train_headline`'s dict without the record lists.
    """
    from dataclasses import replace

    candidates = {
        head: train_classifier(train, val, spec, seed=seed, epochs=epochs,
                               batch_size=batch_size, class_weight_power=class_weight_power,
                               flatten=(head == "flatten"), augment=augment,
                               label=f"seed {seed}, {head}", verbose=verbose,
                               adversary=adversary)
        for head in HEADS}
    head = max(candidates, key=lambda h: candidates[h]["best_score"])
    fit = candidates[head]
    val_proba = predict_beats(fit["model"], val, spec)[1]
    op = _evaluate.choose_operating_point(val.label, val_proba, spec.classes, "V", target_v_se)
    train_s = sum(c["timing"]["train_s"] for c in candidates.values())
    model = fit["model"]
    if refit:
        # The validation records chose the head and the epochs; the model that is kept
        # learns from them too (more patients: tools/ch07_ensemble_cv.py).
        again = train_classifier(Beats.concat([train, val]), None, spec, seed=seed,
                                 epochs=fit["best_epoch"], batch_size=batch_size,
                                 class_weight_power=class_weight_power,
                                 flatten=(head == "flatten"), augment=augment,
                                 label=f"seed {seed}, {head}, all records", verbose=verbose,
                                 adversary=adversary)
        model, train_s = again["model"], train_s + again["timing"]["train_s"]
    return {"model": model, "spec": replace(spec, operating_point=(op["class"],
                                                                   op["threshold"])),
            "head": head, "history": fit["history"], "best_epoch": fit["best_epoch"],
            "best_score": fit["best_score"],
            "scores": {h: c["best_score"] for h, c in candidates.items()},
            "operating_point": op, "refit": refit, "selection_model": fit["model"],
            "timing": {"train_s": round(train_s, 1)}}


def ensemble_model(models, name: str = "interpatient_cnn_ensemble"):
    """One Keras model whose output is the mean of ``models``' class probabilities.

    Chapter 07 trains its headline network once per seed (each seed with its own
    validation records, head and epoch); averaging their probabilities is an ensemble
    that trains nothing new and evens out what one seed's draw of validation patients
    decided. The result is an ordinary functional model with the members' inputs: it
    saves to one ``.keras`` file that loads with ``safe_mode=True``.

    Parameters
    ----------
    models : list of keras.Model
        Trained models with the same inputs and classes (e.g. :func:`train_headline`'s
        ``model`` of each seed).
    name : str
        The ensemble's name.

    Returns
    -------
    keras.Model

    See Also
    --------
    train_headline, predict_beats

    Examples
    --------
    >>> members = [build_interpatient_model(flatten=f) for f in (False, True)]
    >>> x = [np.ones((2, *t.shape[1:]), "float32") for t in members[0].inputs]
    >>> mean = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    >>> bool(np.allclose(ensemble_model(members).predict(x, verbose=0), mean, atol=1e-6))
    True
    """
    import keras

    if not models:
        raise ValueError("ensemble_model: give at least one model")
    inputs = [keras.Input(shape=t.shape[1:], name=t.name) for t in models[0].inputs]
    # each member wrapped under its own name: one model may not hold two of one name
    outputs = [keras.Model(m.inputs, m.outputs[0], name=f"member_{i}")(inputs)
               for i, m in enumerate(models)]
    mean = (outputs[0] if len(outputs) == 1
            else keras.layers.Average(name="mean_probability")(outputs))
    return keras.Model(inputs, mean, name=name)


_warmed_up = False


def _warm_up_training(windows, rr, spec: BeatSpec) -> None:
    """One training step of a throwaway network on a few training beats, once per process.

    Measured on 2 cores (``benchmarks/training_speed.py``): when the first training
    step of a process runs inside ``model.fit`` on a generator-fed dataset (as
    :func:`augmented_batches` is), every later step of that process takes about 1.5-2
    times longer and more CPU. One ``train_on_batch`` step of the same architecture
    before, on real beats, avoids it; a step on zeros, or of a tiny dense network, does
    not. Where in TensorFlow this comes from was not found. :func:`train_classifier`
    calls it before it seeds anything, so no result changes.
    """
    global _warmed_up
    if _warmed_up:
        return
    model = build_interpatient_model(spec)
    n = min(8, len(windows))
    model.train_on_batch([np.asarray(windows[:n], np.float32), np.asarray(rr[:n], np.float32)],
                         np.zeros(n, np.int64))
    _warmed_up = True


def augmented_batches(inputs, y, weights: dict, batch_size: int, seed: int, centre: int,
                      augment: dict | None, patients=None, beat_weights=None,
                      teacher=None):
    """A Keras dataset of shuffled training batches, the windows augmented afresh each time.

    Parameters
    ----------
    inputs : list ``[windows, rr]``
        Training inputs, as :func:`model_inputs` gives them.
    y : array of int
        Class index of each beat.
    weights : dict
        Class weights (index -> weight): each beat's weight is its sample weight.
    centre : int
        Index of R in the window.
    augment : dict or None
        Keyword arguments of :func:`ecgutils.augment.augment_windows`; None leaves the
        windows as they are.
    patients : array of int, optional
        Patient index of each beat: the targets become ``(n, 2)``, class then patient
        (for :func:`ecgutils.models.patient_adversarial`).
    beat_weights : array of float, optional
        Each beat's weight is also multiplied by this (:func:`record_balanced_weights`).
    teacher : array of float, shape (n, n_classes), optional
        Each beat's class probabilities from a teacher: the targets become
        ``(n, 1 + n_classes)``, class then the teacher's
        (:func:`ecgutils.models.distillation_loss`).

    Returns
    -------
    keras.utils.PyDataset
        Batches ``((windows, rr), y, sample_weight)``, reshuffled every epoch.

    Examples
    --------
    >>> w, rr = np.zeros((10, 90, 2), "float32"), np.ones((10, 17), "float32")
    >>> data = augmented_batches([w, rr], np.zeros(10, int), {0: 1.0}, 4, 0, 32, {})
    >>> len(data), [a.shape for a in data[0][0]]
    (3, [(4, 90, 2), (4, 17)])
    """
    import keras

    from .augment import augment_windows

    windows, rr = inputs
    y = np.asarray(y)
    table = np.zeros(max(weights) + 1, np.float32)
    table[list(weights)] = list(weights.values())
    sample_weight = table[y]
    if beat_weights is not None:
        sample_weight = sample_weight * np.asarray(beat_weights, np.float32)
    if patients is not None:
        y = np.stack([y, np.asarray(patients)], axis=1)
    if teacher is not None:
        y = np.column_stack([y, teacher]).astype(np.float32)

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(y))

        def __len__(self):
            return -(-len(y) // batch_size)

        def __getitem__(self, i):
            idx = np.sort(self.order[i * batch_size:(i + 1) * batch_size])
            batch = (windows[idx] if augment is None
                     else augment_windows(windows[idx], self.rng, centre=centre, **augment))
            return (batch, rr[idx]), y[idx], sample_weight[idx]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(y))

    return Batches()


def record_balanced_weights(y, records, power: float = 1.0) -> np.ndarray:
    """Beat weights that even out how much each record teaches each class.

    DS1's S beats sit in a few records (209 alone holds 40 %): a network trained on them
    learns those patients' S beats. Within each class, a beat of a record holding ``n``
    of the class's beats weighs ``(mean n over the records holding the class / n) **
    power``, rescaled so that the class's total weight stays its number of beats (the
    class weights keep their meaning). ``power`` 0 gives every beat weight 1, 1 gives
    every record the same total weight in the class.

    Examples
    --------
    >>> w = record_balanced_weights([1, 1, 1, 1, 0, 1], ["a", "a", "a", "b", "b", "b"])
    >>> w.round(2).tolist()                  # S: three beats of a, two of b
    [0.83, 0.83, 0.83, 1.25, 1.0, 1.25]
    """
    y = np.asarray(y)
    _, record = np.unique(np.asarray(records), return_inverse=True)
    _, cell = np.unique(np.stack([y, record], axis=1), axis=0, return_inverse=True)
    cell = cell.ravel()
    n = np.bincount(cell)[cell].astype(np.float64)
    w = (1.0 / n) ** float(power)
    for c in np.unique(y):   # a few classes: rescale each to its number of beats
        mine = y == c
        w[mine] *= mine.sum() / w[mine].sum()
    return w.astype(np.float32)


def predict_beats(model, beats: Beats, spec: BeatSpec = BeatSpec()):
    """``(labels, probabilities)`` of every beat; labels by ``spec.labels``."""
    proba = model.predict(model_inputs(beats), batch_size=2048, verbose=0)
    return spec.labels(proba), proba


# --------------------------------------------------------------------------- the forest
#: Columns of :func:`beat_morphology`.
MORPHOLOGY_FEATURES = ("deviation_p", "deviation_qrs", "deviation_t", "energy_p",
                       "energy_qrs", "energy_t", "corr", "corr_p", "qrs_ptp", "qrs_width")


def beat_morphology(beats, template, spec: BeatSpec = BeatSpec()) -> np.ndarray:
    """Ten numbers per beat: its shape against the patient's usual beat.

    Root-mean-square of the beat and of its difference from ``template`` over the P wave,
    the QRS (R +- 60 ms) and the T wave; correlation with the template over the whole
    window and over the P wave; QRS peak-to-peak and width (samples above 30 % of the
    largest deflection within R +- 90 ms). Columns :data:`MORPHOLOGY_FEATURES`.

    Parameters
    ----------
    beats : array, shape (n, spec.window_length)
        Beat windows of one record (channel 0 of :func:`record_inputs`).
    template : array, shape (spec.window_length,) or like ``beats``
        The usual beat: one for the record, or one per beat (:func:`local_templates`).

    Examples
    --------
    >>> spec = BeatSpec()
    >>> t = np.arange(spec.window_length)
    >>> usual = np.exp(-((t - 32) / 2.0) ** 2)
    >>> wide = np.exp(-((t - 32) / 5.0) ** 2)
    >>> m = beat_morphology(np.stack([usual, wide]), usual, spec)
    >>> m.shape, bool(m[0, 1] == 0), bool(m[1, 9] > m[0, 9])   # no deviation; wider QRS
    ((2, 10), True, True)
    """
    beats = np.asarray(beats, dtype=np.float64)
    template = np.asarray(template, dtype=np.float64)
    r, half_qrs, near = (round(s * spec.fs) for s in (spec.before_s, 0.06, 0.09))
    parts = (slice(0, r - half_qrs), slice(r - half_qrs, r + half_qrs), slice(r + half_qrs, None))
    diff = beats - template
    rms = [np.sqrt((a[:, sl] ** 2).mean(axis=1)) for a in (diff, beats) for sl in parts]

    template = np.broadcast_to(template, beats.shape)   # one usual beat, or one per beat

    def correlation(sl):
        b = beats[:, sl] - beats[:, sl].mean(axis=1, keepdims=True)
        m = template[:, sl] - template[:, sl].mean(axis=1, keepdims=True)
        return (b * m).sum(axis=1) / np.sqrt((b ** 2).sum(axis=1) * (m ** 2).sum(axis=1) + 1e-9)

    around_r = np.abs(beats[:, r - near:r + near])
    width = (around_r > 0.3 * around_r.max(axis=1, keepdims=True)).sum(axis=1)
    return np.stack(rms + [correlation(slice(None)), correlation(parts[0]),
                           np.ptp(beats[:, parts[1]], axis=1), width], axis=1).astype(np.float32)


def forest_features(beats: Beats, spec: BeatSpec = BeatSpec(),
                    template_beats: str = "on_time") -> np.ndarray:
    """The random forest's inputs: RR features, :func:`beat_morphology`, rhythm context.

    Per beat, in this column order: ``spec.rr_features`` but the rhythm context and the
    local rhythm (:data:`ecgutils.rr.LOCAL_RHYTHM_FEATURES`, the CNN's alone); the ten
    shape numbers of :func:`beat_morphology` against the record's usual beat; the six
    numbers of :func:`ecgutils.rr.rhythm_context` (how irregular the rhythm is around
    the beat) over windows centred on it, read from the record's ``pre_rr_norm``
    sequence whatever the spec's normalisation, so the forest's inputs do not change
    with the CNN's settings. The usual beat of each record is the
    median of its on-time beats (:func:`on_time_beats`), so premature beats are measured
    against the patient's usual beat even where they are the majority;
    ``template_beats="all"`` takes the median of all its beats instead (as the CNN's
    second channel does). Chapter 07's choices are compared on DS1 in
    ``tools/ch07_forest_features_cv.py``.

    Examples
    --------
    >>> spec = BeatSpec()
    >>> rng = np.random.default_rng(0)
    >>> windows = rng.normal(size=(40, spec.window_length, 2)).astype("float32")
    >>> rr = rng.uniform(0.8, 1.2, size=(40, len(spec.rr_features))).astype("float32")
    >>> beats = Beats(np.full(40, "r1"), np.arange(40), np.full(40, "N"), windows=windows, rr=rr)
    >>> forest_features(beats, spec).shape    # 6 RR + 10 shape + 6 rhythm context
    (40, 22)
    """
    if template_beats not in ("on_time", "all", "local"):
        raise ValueError(f"template_beats must be 'on_time', 'all' or 'local', got "
                         f"{template_beats!r}")
    if template_beats == "local" and "pre_to_long" not in spec.rr_features:
        raise ValueError("forest_features with template_beats='local' needs 'pre_to_long' "
                         "among spec.rr_features (it finds the on-time beats around each beat)")
    if "pre_rr_norm" not in spec.rr_features:
        raise ValueError("forest_features needs 'pre_rr_norm' among spec.rr_features "
                         "(it finds each patient's on-time beats and the rhythm around "
                         "each beat)")
    pre_rr = beats.rr[:, spec.rr_features.index("pre_rr_norm")]
    morphology = np.empty((len(beats), len(MORPHOLOGY_FEATURES)), np.float32)
    context = np.empty((len(beats), len(RHYTHM_CONTEXT_FEATURES)), np.float32)
    for record in pd.unique(beats.record):  # one template and one rhythm per patient
        m = beats.record == record
        windows = beats.windows[m, :, 0]
        if template_beats == "local":
            usual = beats.rr[m, spec.rr_features.index("pre_to_long")] >= 0.8
            morphology[m] = beat_morphology(windows, local_templates(windows[..., None],
                                                                     usual)[..., 0], spec)
        else:
            usual = on_time_beats(pre_rr[m]) if template_beats == "on_time" else slice(None)
            morphology[m] = beat_morphology(windows, np.median(windows[usual], axis=0), spec)
        context[m] = rhythm_context(pre_rr[m])
    # the forest's own columns: not the CNN's rhythm context, local rhythm or shape numbers
    rhythm = [i for i, name in enumerate(spec.rr_features)
              if name not in RHYTHM_CONTEXT_FEATURES + LOCAL_RHYTHM_FEATURES]
    return np.concatenate([beats.rr[:, rhythm], morphology, context], axis=1)


#: Trees of chapter 07's forest (and chapter 08's "classical" row).
FOREST_TREES = 200


def build_forest(seed: int = 0, trees: int = FOREST_TREES):
    """Chapter 07's random forest, unfitted: ``trees`` trees, at least 10 beats a leaf,
    classes balanced per tree (after Saenz-Cogollo & Agelli 2020), all cores.

    Examples
    --------
    >>> build_forest(3).get_params()["n_estimators"], build_forest(3, 20).random_state
    (200, 3)
    """
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(int(trees), min_samples_leaf=10, n_jobs=-1,
                                  random_state=seed, class_weight="balanced_subsample")


class BeatForest:
    """A fitted scikit-learn forest on :func:`forest_features`, used like the Keras model.

    ``predict([windows, rr])`` takes the inputs of *one record* (as :func:`record_inputs`
    gives them, so ``python -m ecgutils annotate`` applies it to any recording) and
    returns probabilities in the order of ``spec.classes``. Save it with
    ``eu.experiment.save_model(forest, "....skops", preprocessing)`` (a ``.skops`` file:
    it loads without running code).

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> spec = BeatSpec()
    >>> rng = np.random.default_rng(0)
    >>> windows = rng.normal(size=(60, spec.window_length, 2)).astype("float32")
    >>> rr = rng.uniform(0.5, 1.5, size=(60, len(spec.rr_features))).astype("float32")
    >>> beats = Beats(np.full(60, "r"), np.arange(60), list("NSV") * 20, windows=windows, rr=rr)
    >>> fitted = RandomForestClassifier(5, random_state=0).fit(forest_features(beats), beats.label)
    >>> BeatForest(fitted, spec).predict([windows, rr]).shape
    (60, 3)
    """

    def __init__(self, forest, spec: BeatSpec = BeatSpec()):
        # classes as labels ("N", "S", "V") or as indices into spec.classes (a forest
        # trained through eu.pipelines.PIPELINES["classical"])
        classes = [spec.classes[c] if isinstance(c, (int, np.integer)) and 0 <= c < len(
            spec.classes) else c for c in forest.classes_]
        unknown = sorted(set(map(str, classes)) - set(spec.classes))
        if unknown:
            raise ValueError(f"the forest knows classes {unknown} that spec.classes lacks")
        self.forest, self.spec, self.columns = forest, spec, [spec.classes.index(c)
                                                              for c in classes]

    def predict(self, inputs, batch_size=None, verbose=0):
        """Class probabilities of the beats of one record, shape ``(n, len(spec.classes))``."""
        windows, rr = inputs
        n = len(rr)
        beats = Beats(np.full(n, "record"), np.arange(n), np.full(n, ""), windows=windows, rr=rr)
        proba = self.forest.predict_proba(forest_features(beats, self.spec))
        out = np.zeros((n, len(self.spec.classes)), np.float32)
        out[:, self.columns] = proba
        return out


# --------------------------------------------------------------------------- other databases
#: Source database of the QT Database records (from their names and header comments).
#: ``sel1xx``/``sel2xx`` are MIT-BIH Arrhythmia excerpts: never new patients for a
#: model trained on MIT-BIH. ``sel30``-``sel52`` (sudden death) carry no beat labels.
QTDB_SOURCES = {
    "mitdb": "MIT-BIH Arrhythmia (excluded)",
    "svdb": "MIT-BIH Supraventricular Arrhythmia",
    "nsrdb": "MIT-BIH Normal Sinus Rhythm",
    "ltdb": "MIT-BIH Long-Term",
    "stdb": "MIT-BIH ST Change",
    "edb": "European ST-T",
    "sddb": "Sudden death (no beat labels)",
    "other": "other (sel17152, from record mqt2)",
}


def qtdb_source(record: str) -> str:
    """Key of :data:`QTDB_SOURCES` for a QT Database record name.

    Examples
    --------
    >>> [qtdb_source(r) for r in ("sel100", "sel803", "sel16265", "sele0104", "sel301")]
    ['mitdb', 'svdb', 'nsrdb', 'edb', 'stdb']
    """
    name = str(record)
    if name.startswith("sele"):
        return "edb"
    number = int(name.removeprefix("sel"))
    if 100 <= number <= 234:
        return "mitdb"
    if 300 <= number <= 399:
        return "stdb"
    if 800 <= number <= 899:
        return "svdb"
    if 30 <= number <= 52:
        return "sddb"
    if number in (14046, 14134, 14149, 14157, 14172, 14184, 15814):
        return "ltdb"
    if 16000 <= number <= 19999 and number != 17152:
        return "nsrdb"
    return "other"


def external_records(root=None) -> list[str]:
    """QT Database records from databases other than MIT-BIH Arrhythmia that have beat
    labels (an ``.atr`` file): the external test set."""
    folder = _data.database_dir("qtdb", root)
    return [r for r in _data.list_records("qtdb", root)
            if qtdb_source(r) not in ("mitdb", "sddb") and (folder / f"{r}.atr").is_file()]


# --------------------------------------------------------------------------- the literature
def _f1(se, ppv):
    return round(2 * se * ppv / (se + ppv), 3)


#: Pure inter-patient results on MIT-BIH DS2 (trained on DS1, no label of a test patient
#: used), as the papers report them (book/references.bib). de Chazal et al. (2004) and
#: Zhang et al. (2021, J Healthc Eng 2021:9946596, abstract) give Se and +P; their F1 is
#: computed from those.
PUBLISHED_DS2 = pd.DataFrame([
    ("de Chazal et al. 2004, linear discriminants",
     0.759, 0.385, _f1(0.759, 0.385), 0.777, 0.819, _f1(0.777, 0.819)),
    ("Saenz-Cogollo & Agelli 2020, random forest", None, None, 0.73, None, None, 0.91),
    ("Niu et al. 2020, symbolic CNN", None, None, 0.77, None, None, 0.90),
    ("Zhang et al. 2021, adversarial CNN",
     0.788, 0.908, _f1(0.788, 0.908), 0.925, 0.943, _f1(0.925, 0.943)),
], columns=["method", "S Se", "S +P", "S F1", "V Se", "V +P", "V F1"]).set_index("method")
