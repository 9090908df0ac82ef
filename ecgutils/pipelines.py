"""Every approach of the book as a named pipeline, run under any protocol.

A :class:`Pipeline` turns records into labelled model inputs (a
:class:`ecgutils.beats.Beats` whose array ``x`` the model reads), builds
its model and trains it (:meth:`Pipeline.train`: the one training of the approach, which
the chapters that train it call with their own protocol); :func:`run_pipeline` is chapter
08's protocol: it trains one on some records, selects on others and scores any number of
test sets in AAMI EC57 terms, with its timing, parameter count and model file size.
:data:`PIPELINES` holds one per chapter (a new approach is one entry and its model
builder; chapter 08 runs every entry):

========================  =======  ===========================================================
name                      chapter  inputs -> model
========================  =======  ===========================================================
``image_cnn``             02       0.8-s beat windows drawn as 64x64 line images -> small CNN
``dense``                 03       Kaggle-format beats (187 samples at 125 Hz) -> dense network
``simple_rnn``            03       the same beats -> SimpleRNN
``lstm``                  03       the same beats -> LSTM
``spectrogram_cnn``       04       2-s windows at 360 Hz -> 32x32 STFT images -> 2D CNN
``smote_cnn2d``           05       Kaggle beats standardised, SMOTE, 16x16 spectrograms -> 2D CNN
``beat_cnn1d``            06       Kaggle beats, one global scaler -> 1D CNN
``interpatient``          07       P-wave window + template channel, relative RR -> two branches
``classical``             07       relative RR, shape vs usual beat, rhythm -> random forest
========================  =======  ===========================================================

All of them classify N, S and V beats (AAMI classes, ``e`` and ``j`` counted as N, after
de Chazal et al. 2004, as in chapter 07). Beats sit at the **reference** R positions: each
annotated beat mark is moved to the largest deflection of the band-passed lead within
0.1 s (the European ST-T marks of the QT Database sit about 40 ms before R), for every
pipeline, so all of them see the same beats. (Chapter 04 found its R peaks with the
book's detector; here it does not, so its beats are the others'.) Every record is
resampled to the rate its pipeline was trained at (360 Hz for chapters 02 and 04, 125 Hz
for the Kaggle format, 128 Hz for chapter 07). F and Q beats stay in the test sets (Q is
not counted, F called S or V counts as a false positive, :mod:`ecgutils.ec57`) and are
left out of training and selection.
"""
from __future__ import annotations

import functools
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import beats as _beats
from . import data as _data
from . import splits as _splits
from . import ec57 as _ec57
from . import evaluate as _evaluate
from . import experiment as _experiment
from . import interpatient as _ip
from . import kaggle_beats as _kb
from . import models as _models
from . import signal as _signal
from .beats import Beats

__all__ = ["CLASSES", "PIPELINES", "Pipeline", "beat_random_split",
           "build_inputs", "cached_inputs", "check_no_test_records", "fit_and_score",
           "result_metrics", "run_pipeline",
           "select_validation_records", "smote", "spectrogram_images", "summary",
           "training_failed"]

#: The task of every pipeline: integer labels index this tuple.
CLASSES = ("N", "S", "V")


# --------------------------------------------------------------------------- beats of a record
@functools.lru_cache(maxsize=256)
def _record_marks(record: str, db: str = "mitdb", root=None):
    """``(lead, fs, r, labels)``: :func:`ecgutils.beats.record_beats` of one record (the
    MLII-like lead, its annotated beats moved to R, see the module, and their AAMI
    classes). Cached: every pipeline starts here."""
    beats = _beats.record_beats([record], db, root)
    info = beats.signals[record]
    return info["signal"], info["fs"], beats.sample, beats.label


def _at_rate(lead, fs, r, fs_out):
    """The band-passed lead and the R marks at ``fs_out``."""
    x = _signal.resample_signal(lead, fs, fs_out) if fs != fs_out else np.asarray(lead, float)
    r = np.clip(np.round(r * (fs_out / fs)).astype(np.int64), 0, x.size - 1)
    return _signal.bandpass_filter(x, fs_out, 0.5, 40.0), r


def _image_inputs(record, db, root, size=64):
    """Chapter 02: 0.3 s before to 0.5 s after R at 360 Hz, drawn as a line image."""
    from .images import render_beat_images

    lead, fs, r, labels = _record_marks(record, db, root)
    x, r = _at_rate(lead, fs, r, 360.0)
    windows, _ = _signal.segment_beats(x, r, 360.0, 0.3, 0.5)
    return render_beat_images(windows, size=size)[..., None], labels


def _kaggle(record, db, root):
    """Kaggle-format beats (Kachuee et al. 2018) at the reference R peaks, and labels.

    Beats in a record's last incomplete 10-s window are dropped, as the paper drops them.
    """
    lead, fs, r, labels = _record_marks(record, db, root)
    beats, kept = _kb.extract_kachuee_beats(lead, fs, r_samples=r)
    return beats, labels[np.searchsorted(r, kept)]


def _kaggle_inputs(record, db, root):
    beats, labels = _kaggle(record, db, root)
    return beats[..., None], labels


def _spectrogram_inputs(record, db, root):
    """Chapter 04: 2-s z-scored windows centred on R at 360 Hz, 32x32 STFT images."""
    from .spectrograms import beat_spectrograms

    lead, fs, r, labels = _record_marks(record, db, root)
    x, r = _at_rate(lead, fs, r, 360.0)
    windows, _ = _signal.segment_beats(x, r, 360.0, 1.0, 1.0)
    windows = _signal.zscore(windows, axis=1)
    return beat_spectrograms(windows, 360.0)[0][..., None], labels


def _interpatient_inputs(record, db, root):
    beats = _ip.build_beats([record], db, root)
    return [beats.windows, beats.rr], beats.label


def _classical_inputs(record, db, root):
    """Chapter 07's forest features: relative RR, shape against the usual beat, rhythm context."""
    beats = _ip.build_beats([record], db, root)
    return _ip.forest_features(beats), beats.label


# --------------------------------------------------------------------------- models
def _image_model(x, seed, n_classes):
    from .models import build_image_cnn

    return build_image_cnn(x.shape[1], n_classes)


def _beat_network(kind):
    def build(x, seed, n_classes):
        from .models import build_beat_network

        return build_beat_network(kind, x.shape[1:], n_classes=n_classes)
    return build


def _spectrogram_model(x, seed, n_classes):
    from .models import build_spectrogram_cnn

    return build_spectrogram_cnn(x.shape[1:], n_classes)


def _cnn2d_model(x, seed, n_classes):
    from .models import build_spectrogram_cnn2d

    return build_spectrogram_cnn2d(x.shape[1:], n_classes)


def _cnn1d_model(x, seed, n_classes):
    from .models import build_beat_cnn1d

    return build_beat_cnn1d(n_classes=n_classes, input_length=x.shape[1])


def _interpatient_model(x, seed, n_classes):
    return _models.build_interpatient_model(_ip.BeatSpec(), rr_train=x[1])


def _forest(x, seed, n_classes):
    return _ip.build_forest(seed)


def _beat_set(x, y, records=None) -> Beats:
    """Chapter 07's beats for inputs ``[windows, rr]``, class indices and, if known, the
    record of each beat."""
    n = len(y)
    return Beats(np.full(n, "") if records is None else np.asarray(records), np.arange(n),
                 np.asarray(CLASSES)[np.asarray(y)], windows=x[0], rr=x[1])


def _train_interpatient(train, val, test=None, *, seed=0, epochs=None, verbose=True,
                        batch_size=None, class_weight_power=None, augment=_ip.AUGMENT,
                        target_v_se=0.95, spec=None, refit=False, adversary=0.0,
                        records=None, **_protocol):
    """Chapter 07's headline training (:func:`ecgutils.interpatient.fit_headline`): two
    heads, the better one on ``val``, its V operating point chosen on ``val`` (in
    ``spec``; the labels here are the most probable class, as chapter 07's rows);
    ``refit`` and ``adversary`` as :func:`~ecgutils.interpatient.fit_headline`'s.
    ``records``: ``(training, validation)`` record names, one per beat; an adversary
    needs them (one adversary class per training record)."""
    if adversary and records is None:
        raise ValueError("adversary needs records=(training records, validation records), "
                         "one record name per beat")
    records = records or (None, None)
    fit = _ip.fit_headline(_beat_set(*train, records[0]), _beat_set(*val, records[1]),
                           spec or _ip.BeatSpec(), seed, epochs or 8, batch_size or 256,
                           0.5 if class_weight_power is None else class_weight_power,
                           augment, target_v_se, verbose, refit, adversary)
    out = {"model": fit["model"], "history": fit["history"], "best_epoch": fit["best_epoch"],
           "best_score": fit["best_score"], "spec": fit["spec"], "head": fit["head"],
           "operating_point": fit["operating_point"],
           "selection_model": fit["selection_model"],
           "timing": {**fit["timing"], "epochs_run": len(fit["history"]["val_selection"])},
           "transform": _identity, "preprocess": _identity,
           "constants": {}, "train_index": np.arange(len(train[1])),
           "train_y": np.asarray(train[1])}
    if test is not None:
        proba = fit["model"].predict(test[0] if _is_pair(test) else test, batch_size=2048,
                                     verbose=0)
        out.update(y_score=proba, y_pred=_experiment.predicted_classes(proba))
    return out


def _train_classical(train, val, test=None, *, seed=0, verbose=True, trees=None,
                     **_protocol):
    """Chapter 07's forest (:func:`ecgutils.interpatient.build_forest`) on the training
    *and* validation beats: a forest selects nothing, so it learns from all of them
    (its validation score is then in-sample, kept only to flag a failed training)."""
    x = np.concatenate([train[0], val[0]])
    y = np.concatenate([train[1], val[1]])
    model = _ip.build_forest(seed, trees or _ip.FOREST_TREES)
    start = time.perf_counter()
    model.fit(x, y)
    train_s = time.perf_counter() - start
    val_pred = model.predict(val[0])
    best = _evaluate.s_and_v_f1(CLASSES)(val[1], val_pred)
    if verbose:
        print(f"classical (seed {seed}): {model.n_estimators} trees fitted in {train_s:.0f} s")
    out = {"model": model, "history": {}, "best_epoch": None, "best_score": best,
           "timing": {"train_s": round(train_s, 1), "epochs_run": None},
           "transform": _identity, "preprocess": _identity, "constants": {},
           "train_index": np.arange(len(y)), "train_y": y}
    if test is not None:
        proba = model.predict_proba(test[0] if _is_pair(test) else test)
        out.update(y_score=proba, y_pred=_experiment.predicted_classes(proba))
    return out


class _BeatScaling:
    """Chapter 06's one global scaler (:func:`ecgutils.kaggle_beats.fit_beat_scaler`),
    fitted on training beats ``(n, 187, 1)``; ``scaler`` is what a saved model carries."""

    def __init__(self, x):
        self.scaler = _kb.fit_beat_scaler(x[..., 0])

    def __call__(self, x):
        return _kb.scale_beats(self.scaler, x[..., 0])


def _fit_beat_scaler(x):
    apply = _BeatScaling(x)
    return apply, {"mean": float(apply.scaler.mean_[0]), "scale": float(apply.scaler.scale_[0])}


def _reduce_lr_on_plateau():
    """Chapter 06's schedule: the learning rate times 0.3 after an epoch without a lower
    validation loss (down to 1e-5)."""
    import keras

    return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=1,
                                              min_lr=1e-5)]


class _StandardScaling:
    """Chapter 05's scaler: each sample of the beat standardised over the training beats
    (scikit-learn's ``StandardScaler``); beats come out flat, ``(n, length)``."""

    def __init__(self, x):
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler().fit(np.asarray(x).reshape(len(x), -1))

    def __call__(self, x):
        return self.scaler.transform(np.asarray(x).reshape(len(x), -1))


def _fit_standard_scaler(x):
    apply = _StandardScaling(x)
    return apply, {"mean": apply.scaler.mean_.round(6).tolist(),
                   "scale": apply.scaler.scale_.round(6).tolist()}


def smote(target: int = 2500, k_neighbors: int = 5) -> Callable:
    """A ``resample(x, y, seed)`` for :class:`Pipeline`: SMOTE raises every class but
    the majority (0) to ``target`` training beats (:func:`ecgutils.kaggle_beats.smote_oversample`;
    a class with fewer than 2 beats is left as it is).

    Examples
    --------
    >>> x, y = np.random.default_rng(0).normal(size=(30, 4)), np.array([0] * 24 + [1] * 6)
    >>> np.bincount(smote(10)(x, y, 0)[1]).tolist()
    [24, 10]
    """
    def resample(x, y, seed):
        flat = np.asarray(x).reshape(len(x), -1)
        targets = {c: target for c in np.unique(y) if c != 0 and (y == c).sum() >= 2}
        xs, ys, _ = _kb.smote_oversample(flat, y, targets, k_neighbors, seed=seed)
        return xs.reshape(-1, *np.shape(x)[1:]).astype(np.float32), ys
    return resample


def spectrogram_images(**spectrogram_kw) -> Callable:
    """A ``represent(x)`` for :class:`Pipeline`: beats at 125 Hz (``(n, length)`` or
    ``(n, length, 1)``) as spectrogram images ``(n, rows, frames, 1)``
    (:func:`ecgutils.spectrograms.beat_spectrograms`; default: chapter 05's 16x16,
    ``KAGGLE_SPECTROGRAM``)."""
    from .spectrograms import KAGGLE_SPECTROGRAM

    spectrogram_kw = {"fs": _kb.FS_KAGGLE, **(spectrogram_kw or KAGGLE_SPECTROGRAM)}

    def represent(x):
        from .spectrograms import beat_spectrograms

        return beat_spectrograms(np.asarray(x).reshape(len(x), -1), **spectrogram_kw)[0][..., None]
    return represent


def _chapter05_schedule():
    """Chapter 05's learning rate: times 0.9 every epoch, and a third after two epochs
    without a lower validation loss (down to 1e-5)."""
    import keras

    return [keras.callbacks.LearningRateScheduler(lambda e, lr: lr if e == 0 else lr * 0.9),
            keras.callbacks.ReduceLROnPlateau(factor=1 / 3, patience=2, min_lr=1e-5)]


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Pipeline:
    """One approach: how records become inputs, the model, and how it trains.

    ``inputs(record, db, root) -> (x, labels)`` makes one record's inputs;
    ``build_model(x_train, seed, n_classes)`` a compiled Keras model (or, for the
    classical baseline, a scikit-learn estimator). ``preprocess(x_train)``, when given,
    fits a transform on the training beats only and returns ``(transform, constants)``;
    ``resample(x, y, seed)`` changes the training beats only (SMOTE), and
    ``represent(x)``, when given, turns every split's (preprocessed, resampled) beats into
    what the model reads (spectrograms).
    ``majority_ratio``: share of the N training beats kept (``subsample_majority``), or
    with ``rotate_majority`` drawn afresh for every epoch, their loss weighted up to match
    (:func:`ecgutils.models.rotating_batches`); ``callbacks()``: fresh Keras callbacks
    for one training (a learning-rate schedule); ``class_weight_power``: the balanced
    class weights to this power; ``augment``: keyword arguments of
    :func:`ecgutils.augment.augment_windows`, for a model whose first input is chapter
    07's beat windows (augmented afresh in every batch). ``trainer(train, val, test, *,
    seed, **protocol)``, when given, is the approach's whole training (chapter 07's two
    models: its selection of a head and an operating point, or a forest that selects
    nothing): :meth:`train` hands it the beats as they are, and the validation beats
    whole.

    The approach (model, batch size, class-weight power, preprocessing, resampling,
    representation, augmentation, learning-rate schedule) is fixed here; :meth:`train`
    takes what a protocol chooses (which beats, which classes, the selection score and
    patience, the epoch cap, how many N beats are kept), with chapter 08's choices as
    defaults. A chapter that trains an
    approach calls :meth:`train` with its own protocol, so its numbers and chapter 08's
    come from one definition.
    """

    name: str
    chapter: str
    title: str
    inputs: Callable
    build_model: Callable
    fs: float
    epochs: int = 4
    batch_size: int = 128
    class_weight_power: float = 0.5
    majority_ratio: float = 0.15
    patience: int = 2
    preprocess: Callable | None = None
    resample: Callable | None = None
    keras: bool = True
    augment: dict | None = None
    rotate_majority: bool = False
    callbacks: Callable | None = None
    represent: Callable | None = None
    trainer: Callable | None = None

    def build_inputs(self, records, db: str = "mitdb", root=None) -> Beats:
        """Model inputs of all beats of ``records`` (one database), concatenated: a
        :class:`ecgutils.beats.Beats` with the array ``x`` (a list of arrays for a model
        with several inputs), ``label``, ``record`` and :attr:`~ecgutils.beats.Beats.y`
        the index in :data:`CLASSES` (-1 for F and Q: scored, never trained on); the
        R sample is not kept (-1).

        Examples
        --------
        >>> PIPELINES["dense"].fs, PIPELINES["image_cnn"].chapter
        (125.0, '02')
        """
        parts = []
        for record in [str(r) for r in records]:
            x, lab = self.inputs(record, db, root)
            parts.append(Beats(np.full(len(lab), record), np.full(len(lab), -1), lab,
                               classes=CLASSES, x=x))
        return Beats.concat(parts)

    def prepare(self, train, val, test=None, *, seed: int = 0,
                majority_ratio: float | None = None) -> dict:
        """The model's inputs, from a protocol's beats: N training beats subsampled,
        the preprocessing fitted on the training beats and applied to every split, the
        training beats resampled (SMOTE), the representation computed.

        Parameters
        ----------
        train, val : tuple ``(x, y)``
            Beats (as :meth:`build_inputs` makes them) and integer class indices, 0
            being the majority class (N), whose training beats are subsampled.
        test : tuple ``(x, y)`` or ``x``, optional
        seed : int
            Seeds the subsampling and the resampling.
        majority_ratio : float, optional
            Share of the N training beats kept (or, with ``rotate_majority``, drawn for
            each epoch); None: this approach's.

        Returns
        -------
        dict
            ``train``, ``val`` (and ``test``): what the model reads; ``train_index``:
            the training beats kept (indices into ``train``); ``preprocess``: the fitted
            preprocessing alone; ``transform``: preprocessing and representation, as
            :meth:`predict` applies them; ``constants``: the preprocessing's numbers;
            ``majority_ratio``; ``prepare_s``: seconds.

        See Also
        --------
        fit : trains on what this returns; train : both.

        Examples
        --------
        >>> x = np.random.default_rng(0).normal(size=(40, 187, 1))
        >>> y = np.array([0] * 30 + [1] * 5 + [2] * 5)
        >>> p = PIPELINES["smote_cnn2d"].prepare((x, y), (x, y), majority_ratio=0.5)
        >>> len(p["train_index"]), p["train"][0].shape, np.bincount(p["train"][1]).tolist()
        (25, (5015, 16, 16, 1), [15, 2500, 2500])
        """
        start = time.perf_counter()
        x, y = train[0], np.asarray(train[1])
        ratio = self.majority_ratio if majority_ratio is None else majority_ratio
        keep = np.arange(len(y))
        if ratio < 1 and not self.rotate_majority:
            keep = _experiment.subsample_majority(y, ratio, seed, majority=0)
            x, y = _take(x, keep), y[keep]
        preprocess, constants = _identity, {}
        if self.preprocess is not None:
            preprocess, constants = self.preprocess(x)
            x = preprocess(x)
        if self.resample is not None:
            x, y = self.resample(x, y, seed)
        represent = self.represent or _identity

        def transform(a):
            return represent(preprocess(a))

        out = {"train": (represent(x), y), "val": (transform(val[0]), np.asarray(val[1]))}
        if test is not None:
            out["test"] = (transform(test[0]), np.asarray(test[1])) if _is_pair(test) \
                else transform(test)
        return {**out, "train_index": keep, "preprocess": preprocess, "transform": transform,
                "constants": constants, "majority_ratio": ratio,
                "prepare_s": round(time.perf_counter() - start, 2)}

    def fit(self, prepared: dict, *, seed: int = 0, n_classes: int = len(CLASSES),
            epochs: int | None = None, patience: int | None = None, score=None,
            batch_size: int | None = None, class_weight_power: float | None = None,
            label: str | None = None, verbose: bool = True) -> dict:
        """Train on what :meth:`prepare` returned, select the epoch on its ``val``,
        predict its ``test`` once.

        Parameters
        ----------
        prepared : dict
            :meth:`prepare`'s.
        seed : int
            Seeds the model's initial weights and the shuffling.
        n_classes : int
            Outputs of the model (chapter 08: N, S, V).
        epochs, patience : int, optional
            The protocol's epoch cap and epochs without a better validation score before
            stopping; None: this approach's.
        score : callable ``(y_true, y_pred) -> float`` or ``"val_loss"``
            What selects the epoch (:func:`ecgutils.experiment.train_and_evaluate`); a
            forest is scored on ``val`` once. None: accuracy.
        batch_size, class_weight_power : optional
            A reader's change to the approach's own (None: the approach's); chapter 08
            and the chapters leave them to the approach.
        label : str, optional
            Named in the line printed per training.

        Returns
        -------
        dict
            :func:`ecgutils.experiment.train_and_evaluate`'s dict (for the forest: the
            same keys, ``best_epoch`` and ``epochs_run`` None), with ``class_weight``,
            ``train_y`` (the labels trained on, after subsampling and resampling) and
            ``prepared``'s ``transform``, ``preprocess``, ``constants`` and
            ``train_index``.

        See Also
        --------
        train : prepare and fit in one call.
        """
        from . import config

        config.set_seed(seed)
        (x, y), val, test = prepared["train"], prepared["val"], prepared.get("test")
        batch_size = batch_size or self.batch_size
        power = self.class_weight_power if class_weight_power is None else class_weight_power
        ratio = prepared["majority_ratio"]
        model = self.build_model(x, seed, n_classes)
        label = label or f"{self.name} (seed {seed})"
        weights = _experiment.class_weights(y, range(n_classes), power)
        if self.keras:
            import keras

            keras.utils.set_random_seed(seed)
            data = (x, y)
            if self.augment is not None:
                spec = _ip.BeatSpec()
                data = _ip.augmented_batches(x, y, weights, batch_size, seed,
                                             round(spec.before_s * spec.fs), self.augment)
            elif self.rotate_majority:
                from .models import rotating_batches

                data = rotating_batches(x, y, batch_size, {0: ratio} if ratio < 1 else None,
                                        weights, seed=seed)
            out = _experiment.train_and_evaluate(
                model, data, val, test, epochs=epochs or self.epochs,
                batch_size=batch_size, class_weight=weights,
                patience=self.patience if patience is None else patience, score=score,
                callbacks=self.callbacks() if self.callbacks else (), label=label,
                verbose=verbose)
        else:
            if score is None:  # train_and_evaluate's default: accuracy
                def score(y_true, y_pred):
                    return float(np.mean(np.asarray(y_true) == y_pred))
            elif not callable(score):
                raise ValueError(f"{self.name}: a forest is scored on val by a function, "
                                 f"not {score!r}")
            start = time.perf_counter()
            model.fit(x, y)
            train_s = time.perf_counter() - start
            best = float(score(val[1], model.predict(val[0])))
            out = {"model": model, "history": {}, "best_epoch": None, "best_score": best,
                   "timing": {"train_s": round(train_s, 1), "epochs_run": None}}
            if verbose:
                print(f"{label}: fitted in {train_s:.0f} s, best validation score {best:.3f}")
            if test is not None:
                start = time.perf_counter()
                proba = model.predict_proba(test[0] if _is_pair(test) else test)
                predict_s = time.perf_counter() - start
                out.update(y_score=proba, y_pred=_experiment.predicted_classes(proba))
                if _is_pair(test):
                    out["y_true"] = np.asarray(test[1])
                out["timing"].update(predict_s=round(predict_s, 2),
                                     predict_beats_per_s=round(len(proba) / max(predict_s, 1e-9)))
        out.update({k: prepared[k] for k in ("transform", "preprocess", "constants",
                                             "train_index")},
                   class_weight=weights, train_y=np.asarray(y))
        return out

    def train(self, train, val, test=None, *, seed: int = 0, majority_ratio: float | None = None,
              **fit_kw) -> dict:
        """Train this approach on ``train``, select the epoch on ``val``, predict ``test``
        once: :meth:`prepare`, then :meth:`fit` (``fit_kw``: its keyword arguments,
        the protocol's epoch cap, patience, selection score, number of classes).

        Every chapter that trains an approach of :data:`PIPELINES` calls this (or the
        two steps), with its own protocol; chapter 08's :func:`fit_and_score` too.

        Examples
        --------
        >>> x = np.random.default_rng(0).normal(size=(60, 22)).astype("float32")
        >>> y = np.repeat([0, 1, 2], 20)
        >>> out = PIPELINES["classical"].train((x, y), (x, y), (x, y), verbose=False)
        >>> out["y_pred"].shape  # one label per test beat
        (60,)
        >>> out["train_y"].shape  # the forest learns from the training and validation beats
        (120,)
        """
        if self.trainer is not None:
            return self.trainer(train, val, test, seed=seed, **fit_kw)
        prepared = self.prepare(train, val, test, seed=seed, majority_ratio=majority_ratio)
        return self.fit(prepared, seed=seed, **fit_kw)

    def predict(self, fitted: dict, x) -> np.ndarray:
        """Class probabilities of a model :meth:`fit` returned, for inputs ``x`` (its
        preprocessing and representation applied first)."""
        x = fitted["transform"](x)
        if self.keras:
            return fitted["model"].predict(x, batch_size=1024, verbose=0)
        return fitted["model"].predict_proba(x)


def _identity(x):
    return x


def _is_pair(data) -> bool:
    """Whether ``data`` is ``(inputs, y)`` (a model with several inputs takes a list)."""
    return isinstance(data, tuple) and len(data) == 2


def _take(x, index):
    """Rows ``index`` of an input array, or of each array of a list of inputs."""
    return [a[index] for a in x] if isinstance(x, list) else x[index]


PIPELINES = {p.name: p for p in [
    # Epochs: in a first default run each of these still improved its validation (DS1)
    # score at its last epoch, so each got more; patience stops them where it stalls.
    # 64x64 images are the costliest inputs to train on: fewer N beats, fewer epochs
    Pipeline("image_cnn", "02", "beat images, CNN", _image_inputs, _image_model, 360.0,
             epochs=4, majority_ratio=0.1),
    Pipeline("dense", "03", "Kaggle beats, dense network", _kaggle_inputs,
             _beat_network("dense"), 125.0, epochs=16),
    Pipeline("simple_rnn", "03", "Kaggle beats, SimpleRNN", _kaggle_inputs,
             _beat_network("simple_rnn"), 125.0, epochs=8),
    # an LSTM over 187 steps is the slowest network of the book on a CPU: fewer N beats
    Pipeline("lstm", "03", "Kaggle beats, LSTM", _kaggle_inputs, _beat_network("lstm"),
             125.0, epochs=12, majority_ratio=0.1),
    # chapter 04's batch of 32: with 128, a few epochs are too few steps for this network
    Pipeline("spectrogram_cnn", "04", "2-s spectrograms, CNN", _spectrogram_inputs,
             _spectrogram_model, 360.0, epochs=6, batch_size=32),
    # chapter 05's recipe: each beat sample standardised, SMOTE on the beats, then the
    # spectrograms, the learning rate decayed (chapter 08 had SMOTE on the images of
    # unscaled beats, no schedule)
    Pipeline("smote_cnn2d", "05", "beat spectrograms, SMOTE, CNN", _kaggle_inputs,
             _cnn2d_model, 125.0, epochs=8, class_weight_power=0.0,
             preprocess=_fit_standard_scaler, resample=smote(), represent=spectrogram_images(),
             callbacks=_chapter05_schedule),
    # chapter 06's recipe: batch 64, class weights to the power 0.25, a fresh share of the
    # N beats each epoch, the learning rate cut on a plateau (chapter 08 had batch 128,
    # power 0.5, one fixed share, no schedule); the share of N is the protocol's
    Pipeline("beat_cnn1d", "06", "Kaggle beats, 1D CNN", _kaggle_inputs, _cnn1d_model,
             125.0, epochs=12, batch_size=64, class_weight_power=0.25,
             preprocess=_fit_beat_scaler, rotate_majority=True,
             callbacks=_reduce_lr_on_plateau),
    # chapter 07's two models, trained as chapter 07 trains them (ecgutils.interpatient)
    Pipeline("interpatient", "07", "P wave, template and relative RR, two-branch CNN",
             _interpatient_inputs, _interpatient_model, 128.0, epochs=8, batch_size=256,
             majority_ratio=1.0, augment=_ip.AUGMENT, trainer=_train_interpatient),
    Pipeline("classical", "07", "relative RR, beat shape and rhythm context, random forest",
             _classical_inputs, _forest, 128.0, majority_ratio=1.0, keras=False,
             trainer=_train_classical),
]}


def build_inputs(name: str, records, db: str = "mitdb", root=None) -> Beats:
    """``PIPELINES[name].build_inputs(records, db, root)``."""
    return PIPELINES[name].build_inputs(records, db, root)


# --------------------------------------------------------------------------- protocols
def check_no_test_records(records, forbidden=_data.DS2) -> None:
    """Raise ``ValueError`` if a test (DS2) record is among ``records``.

    Examples
    --------
    >>> check_no_test_records(["101", "106"])
    >>> check_no_test_records(["101", "100"])
    Traceback (most recent call last):
    ...
    ValueError: records ['100'] are test (DS2) records: they must never reach training or model selection
    """
    leaked = sorted({str(r) for r in records} & {str(r) for r in forbidden})
    if leaked:
        raise ValueError(f"records {leaked} are test (DS2) records: they must never reach "
                         f"training or model selection")


def select_validation_records(records, db: str = "mitdb", root=None, val_fraction: float = 0.3,
                              seed: int = 0, min_count: int = 20) -> dict:
    """Split training records into ``train`` and ``val`` (selection), each with at least
    ``min_count`` S and V beats where possible; refuses DS2 records (chapter 07's rule)."""
    records = [str(r) for r in records]
    check_no_test_records(records)
    table = _data.beat_table(db, records, root)
    counts = pd.crosstab(table["record"], table["aami"]).reindex(
        index=records, columns=["S", "V"], fill_value=0)
    splits, _, _ = _splits.split_records_covering(
        counts, (1 - val_fraction, val_fraction), seed=seed, min_count=min_count,
        names=("train", "val"), strict=False)
    _splits.check_disjoint(splits)
    return splits


def beat_random_split(inputs: Beats, seed: int = 0, test_size: float = 0.2,
                      val_size: float = 0.1, train_size: int | None = None
                      ) -> tuple[Beats, Beats, Beats]:
    """``(train, val, test)``: a stratified random split of beats, patients on every side.

    This is the protocol the book warns about (chapters 02-06): beats of one patient are
    in training and test. It is here to measure how much it flatters a model.
    ``train_size``: keep at most that many training beats (stratified), e.g. as many as
    another protocol trains on, so that only the split differs.

    Examples
    --------
    >>> inp = Beats(np.zeros(100), np.arange(100), ["N"] * 80 + ["V"] * 20, classes=CLASSES,
    ...             x=np.zeros((100, 2)))
    >>> [len(s) for s in beat_random_split(inp)]
    [70, 10, 20]
    >>> [len(s) for s in beat_random_split(inp, train_size=35)]
    [35, 10, 20]
    """
    from sklearn.model_selection import train_test_split

    split = _splits.split_beat_random(inputs.label, (1 - val_size - test_size, val_size, test_size),
                                    seed)
    train, val, test = (np.flatnonzero(split == name) for name in ("train", "val", "test"))
    if train_size is not None and train_size < len(train):
        train, _ = train_test_split(train, train_size=train_size, random_state=seed,
                                    stratify=inputs.label[train])
    return inputs.subset(np.sort(train)), inputs.subset(val), inputs.subset(test)


def _model_size(pipeline, model, constants) -> tuple[int, int]:
    """``(parameters, file bytes)`` of a trained model, saved as a user would get it
    (``eu.experiment.save_model``: a ``.keras`` file, or a ``.skops`` file for a forest)."""
    suffix = ".keras" if pipeline.keras else _experiment.FOREST_SUFFIX
    with tempfile.TemporaryDirectory() as tmp:
        path = _experiment.save_model(
            model, Path(tmp) / f"{pipeline.name}{suffix}",
            {"kind": f"ecgutils.pipelines.{pipeline.name}", "classes": list(CLASSES),
             "fs": pipeline.fs, "preprocessing": constants})
        if pipeline.keras:
            return int(model.count_params()), path.stat().st_size
        return int(sum(t.tree_.node_count for t in model.estimators_)), path.stat().st_size


def training_failed(val_score) -> bool:
    """Whether a training failed: its best validation score (the mean F1 of S and V) is 0
    or missing, so at no epoch did the model call a single validation S or V beat right
    (a network collapsed onto N, or a validation set without S and V beats). Such a
    model's test scores say nothing about its approach; :func:`summary` flags them so
    that comparisons can leave them out.

    Examples
    --------
    >>> training_failed(0.0), training_failed(None), training_failed(float("nan")), training_failed(0.31)
    (True, True, True, False)
    """
    return not (val_score is not None and np.isfinite(val_score) and val_score > 0)


def fit_and_score(name: str, train: Beats, val: Beats, tests: dict, seed: int = 0,
                  epochs: int | None = None, verbose: bool = True,
                  val_majority_ratio: float = 0.3) -> dict:
    """Train pipeline ``name`` on ``train``, select on ``val``, score every test set.

    N training beats are subsampled to the pipeline's ``majority_ratio``, and N
    validation beats to ``val_majority_ratio`` (they are predicted after every epoch;
    each kept N beat then weighs for those dropped in the score); the class
    weights are :func:`ecgutils.experiment.class_weights` to its ``class_weight_power``;
    the epoch kept is the one with the best mean F1 of S and V on ``val``
    (:func:`ecgutils.experiment.train_and_evaluate`). Each test set is predicted once.

    Returns
    -------
    dict
        ``tests``: ``{test name: {"gross": ec57 gross statistics, "record_average":
        :func:`ecgutils.ec57.record_average`, "predicted": labels, "reference": the test
        beats' labels, "record": their records, "predict_beats_per_s"}}`` (reference and
        record let a caller pool seeds in :func:`ecgutils.ec57.bootstrap_gross`);
        ``train_s``, ``best_epoch``, ``epochs_run``,
        ``val_score`` (the best validation score), ``failed`` (:func:`training_failed`),
        ``parameters`` (Keras weights; for the forest, tree nodes), ``file_bytes``,
        ``train_beats``.
    """
    pipeline = PIPELINES[name]
    train, val = train.subset(train.y >= 0), val.subset(val.y >= 0)
    n_val = int((val.y == 0).sum())
    if val_majority_ratio < 1 and pipeline.trainer is None:
        val = val.subset(_experiment.subsample_majority(val.y, val_majority_ratio, seed,
                                                        majority=0))
    score = _evaluate.s_and_v_f1(CLASSES, n_val / max(int((val.y == 0).sum()), 1))
    fit = pipeline.train((train.x, train.y), (val.x, val.y), seed=seed, epochs=epochs,
                         score=score, verbose=verbose)
    model = fit["model"]
    out = {"tests": {}, "train_beats": int(len(fit["train_y"])),
           "train_s": fit["timing"]["train_s"], "best_epoch": fit["best_epoch"],
           "epochs_run": fit["timing"]["epochs_run"], "val_score": fit["best_score"]}
    out["failed"] = training_failed(out["val_score"])
    if out["failed"] and verbose:
        print(f"{name} (seed {seed}): training failed: best validation S/V F1 "
              f"{out['val_score']} (no validation S or V beat found at any epoch)")
    for test_name, test in tests.items():
        start = time.perf_counter()
        proba = pipeline.predict(fit, test.x)
        seconds = time.perf_counter() - start
        predicted = np.asarray(CLASSES)[_experiment.predicted_classes(proba)]
        out["tests"][test_name] = {
            "gross": _ec57.gross_statistics(test.label, predicted),
            "record_average": _ec57.record_average(test.label, predicted, test.record),
            "predicted": predicted, "reference": test.label, "record": test.record,
            "predict_beats_per_s": round(len(test) / max(seconds, 1e-9))}
    out["parameters"], out["file_bytes"] = _model_size(pipeline, model, fit["constants"])
    return out


def run_pipeline(name: str, train_records, val_records, tests: dict, seed: int = 0,
                 epochs: int | None = None, db: str = "mitdb", root=None, cache=None,
                 verbose: bool = True) -> dict:
    """Train ``name`` on ``train_records``, select on ``val_records`` (both ``db``), score
    ``tests = {"ds2": (records, "mitdb"), "external": (records, "qtdb")}``.

    No DS2 record may be among the training or validation records (``ValueError``).
    ``cache`` (a dict) keeps the inputs of each record set between calls.
    Returns :func:`fit_and_score`'s dict.

    Examples
    --------
    >>> run_pipeline("dense", ["101", "100"], ["106"], {})
    Traceback (most recent call last):
    ...
    ValueError: records ['100'] are test (DS2) records: they must never reach training or model selection
    """
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline {name!r}; use one of {list(PIPELINES)}")
    check_no_test_records(list(train_records) + list(val_records))
    cache = {} if cache is None else cache

    def inputs(records, database):
        return cached_inputs(name, records, database, root, cache)

    return fit_and_score(name, inputs(train_records, db), inputs(val_records, db),
                         {k: inputs(*v) for k, v in tests.items()}, seed, epochs, verbose)


def cached_inputs(name: str, records, db: str = "mitdb", root=None, cache=None) -> Beats:
    """:func:`build_inputs`, kept in ``cache`` (a dict) so that a record set is built once
    per approach however many seeds and protocols use it (:func:`run_pipeline` shares it).
    """
    key = (name, tuple(str(r) for r in records), db)
    if cache is None:
        return build_inputs(name, records, db, root)
    if key not in cache:
        cache[key] = build_inputs(name, records, db, root)
    return cache[key]


def summary(result: dict, test: str) -> dict:
    """One flat row: S and V Se, +P, F1 (gross), their record averages (``S Se avg``...),
    accuracy, the costs of a run on ``test``, and ``failed`` (:func:`training_failed`):
    leave failed trainings out of comparisons."""
    g, avg = result["tests"][test]["gross"], result["tests"][test]["record_average"]
    return {**{k: v for k, v in _ec57.summary_row(g).items() if k[0] in "SV" or k == "accuracy"},
            **{f"{c} {name} avg": avg[c][key] for c in ("S", "V")
               for name, key in (("Se", "se"), ("+P", "ppv"))},
            "failed": bool(result.get("failed", training_failed(result.get("val_score")))),
            "train s": result["train_s"],
            "beats/s": result["tests"][test]["predict_beats_per_s"],
            "parameters": result["parameters"], "file kB": round(result["file_bytes"] / 1024)}


def result_metrics(gross: dict, record_average: dict | None = None) -> dict:
    """The ``metrics`` of a results-file run (:mod:`ecgutils.results`) from EC57 gross
    statistics: accuracy, per class (N, S, V) +P as precision and Se as recall, macro F1
    over N, S and V, and the statistics themselves under ``ec57`` (NaN as None), with
    :func:`ecgutils.ec57.record_average`'s under ``record_average`` when given.

    Examples
    --------
    >>> m = result_metrics(_ec57.gross_statistics(list("NNSV"), list("NNSS")))
    >>> m["per_class"]["S"], m["macro_f1"]
    ({'precision': 0.5, 'recall': 1.0, 'f1': 0.6667, 'support': 1}, 0.5556)
    """
    per_class = {c: {"precision": gross[c]["ppv"], "recall": gross[c]["se"],
                     "f1": gross[c]["f1"], "support": gross[c]["tp"] + gross[c]["fn"]}
                 for c in CLASSES}
    macro = round(float(np.mean([per_class[c]["f1"] for c in CLASSES])), 4)
    extra = {} if record_average is None else {"record_average": record_average}
    return _ec57.json_ready({"accuracy": gross["accuracy"], "macro_f1": macro,
                             "per_class": per_class, "ec57": gross, **extra})


