"""The shared experiment layer: class weights, majority subsampling, one training loop
that selects on validation and predicts the test set once, and a model file that
carries its preprocessing.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["class_weights", "glue", "glue_all", "load_model", "predicted_classes",
           "py_dataset_pipeline", "save_model", "subsample_majority", "train_and_evaluate"]

#: Name of the preprocessing record stored inside a ``.keras`` file (a zip archive).
PREPROCESSING_ENTRY = "ecgutils_preprocessing.json"


def class_weights(y, classes, power: float = 1.0) -> dict:
    """Balanced class weights (scikit-learn's ``compute_class_weight``) to a power.

    ``power`` 1 gives every class the same total weight, 0 gives every beat weight 1;
    values between soften the balance. Keys are the integer indices of ``classes``, as
    Keras' ``class_weight`` wants them.

    Examples
    --------
    >>> class_weights(["N", "N", "N", "S"], ["N", "S"])
    {0: 0.6667, 1: 2.0}
    >>> class_weights(["N", "N", "N", "S"], ["N", "S"], power=0.5)
    {0: 0.8165, 1: 1.4142}
    """
    from sklearn.utils.class_weight import compute_class_weight

    classes = np.asarray(list(classes))
    y = np.asarray(y)
    present = np.isin(classes, y)
    weights = np.ones(len(classes))
    weights[present] = compute_class_weight("balanced", classes=classes[present], y=y)
    return {i: round(float(w) ** float(power), 4) for i, w in enumerate(weights)}


def subsample_majority(y, ratio: float, seed: int = 0, majority=None) -> np.ndarray:
    """Indices that keep every minority beat and a random ``ratio`` of the majority class.

    Uses imbalanced-learn's ``RandomUnderSampler``; the indices come back sorted.

    Examples
    --------
    >>> y = np.array(["N"] * 8 + ["S"] * 2)
    >>> keep = subsample_majority(y, 0.5)
    >>> int((y[keep] == "N").sum()), int((y[keep] == "S").sum())
    (4, 2)
    """
    from imblearn.under_sampling import RandomUnderSampler

    y = np.asarray(y)
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
    values, counts = np.unique(y, return_counts=True)
    majority = values[np.argmax(counts)] if majority is None else majority
    strategy = {v: int(c) for v, c in zip(values, counts)}
    strategy[majority] = max(1, int(round(ratio * strategy[majority])))
    sampler = RandomUnderSampler(sampling_strategy=strategy, random_state=seed)
    sampler.fit_resample(np.zeros((y.size, 1)), y)
    return np.sort(sampler.sample_indices_)


def predicted_classes(proba) -> np.ndarray:
    """Class indices from model outputs: argmax of a softmax, or ``p >= 0.5`` for one
    sigmoid unit (binary models).

    Examples
    --------
    >>> predicted_classes(np.array([[0.2, 0.8], [0.9, 0.1]])).tolist()
    [1, 0]
    >>> predicted_classes(np.array([[0.7], [0.2]])).tolist()
    [1, 0]
    """
    proba = np.asarray(proba)
    if proba.ndim == 2 and proba.shape[1] == 1:
        return (proba[:, 0] >= 0.5).astype(np.int64)
    return proba.argmax(axis=1)


def _selection_callback(keras, val_inputs, val_y, score, patience):
    """Keep the weights of the epoch with the best validation ``score``; stop after
    ``patience`` epochs without improvement (Keras' EarlyStopping watches only logs)."""

    class BestOnValidation(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.best_weights, self.scores = -np.inf, -1, None, []

        def on_epoch_end(self, epoch, logs=None):
            proba = self.model.predict(val_inputs, batch_size=1024, verbose=0)
            value = float(score(val_y, predicted_classes(proba)))
            self.scores.append(value)
            if logs is not None:
                logs["val_selection"] = value
            if value > self.best:
                self.best, self.best_epoch = value, epoch
                self.best_weights = self.model.get_weights()
            elif epoch - self.best_epoch >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return BestOnValidation()


def _is_pair(data) -> bool:
    return isinstance(data, tuple) and len(data) == 2


def py_dataset_pipeline(data):
    """The ``tf.data`` pipeline that ``model.fit`` builds for a Keras ``PyDataset``, with
    tf.data's autotuning off.

    Keras (3.15) feeds a ``PyDataset`` through ``tf.data``'s ``from_generator`` and
    ``prefetch(AUTOTUNE)``, and opens a fresh iterator at every epoch's end that it
    throws away at the next epoch's start. On TensorFlow 2.21 deleting that iterator
    waits for its autotuning thread to wake: 8-10 s lost at the start of about half the
    epochs, where chapter 07's epochs take 9-14 s on 2 cores
    (``benchmarks/training_speed.py``: a 4-epoch training 63.6 s against 54.7 s,
    medians of 3, ratio 1.16, the same history).

    This pipeline yields the same batches in the same order, with the same calls: first
    ``data[0]`` and ``data[1]`` (Keras reads them to learn the shapes) and
    ``on_epoch_end``; then per pass ``on_epoch_end`` (from the second pass on),
    ``on_epoch_begin`` and ``data[0]``, ``data[1]``, ... So a ``PyDataset`` that draws
    random numbers (fresh augmentation, a new subsample each epoch) trains to the same
    weights either way.

    Parameters
    ----------
    data : keras.utils.PyDataset
        Batches ``(inputs, y[, sample_weight])``; ``inputs`` an array or a tuple of them.

    Returns
    -------
    tf.data.Dataset
        Of known length ``len(data)``, prefetching two batches.

    See Also
    --------
    train_and_evaluate : passes a ``PyDataset`` through this.

    Examples
    --------
    >>> import keras
    >>> class Counting(keras.utils.PyDataset):
    ...     epoch = 0
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         return np.full((2, 1), 10 * self.epoch + i, "float32"), np.zeros(2)
    ...     def on_epoch_end(self):
    ...         self.epoch += 1
    >>> ds = py_dataset_pipeline(Counting())     # reads two batches, ends epoch 0
    >>> [[int(x[0, 0]) for x, y in ds] for _ in range(2)]
    [[10, 11, 12], [20, 21, 22]]
    """
    from .models import import_tensorflow

    tf = import_tensorflow()
    n = len(data)
    if n == 0:
        raise ValueError("py_dataset_pipeline: the PyDataset has no batches; it needs at "
                         "least one training sample")
    # Keras reads two batches to learn the shapes, then ends an epoch before the first;
    # so does this, so that a PyDataset drawing random numbers draws the same ones
    probe = data[0]
    if n > 1:
        data[1]
    data.on_epoch_end()
    signature = tf.nest.map_structure(
        lambda a: tf.TensorSpec((None, *np.shape(a)[1:]), tf.as_dtype(np.asarray(a).dtype)),
        tuple(probe) if isinstance(probe, list) else probe)
    passes = 0

    def one_epoch():
        nonlocal passes
        if passes:
            data.on_epoch_end()
        passes += 1
        data.on_epoch_begin()
        for i in range(n):
            yield data[i]

    options = tf.data.Options()
    options.autotune.enabled = False
    return (tf.data.Dataset.from_generator(one_epoch, output_signature=signature)
            .apply(tf.data.experimental.assert_cardinality(n))
            .prefetch(2).with_options(options))


def train_and_evaluate(model, train, val, test=None, classes=None, epochs: int = 10,
                       batch_size: int = 128, class_weight=None, patience: int = 3,
                       score=None, callbacks=(), label: str = "",
                       verbose: bool = True) -> dict:
    """Train with selection on validation, then predict the test set once.

    Parameters
    ----------
    model : keras.Model
        Compiled; a softmax over the classes, or one sigmoid unit for two classes.
    train : tuple ``(inputs, y)``, or a batched dataset
        ``inputs`` as ``model.fit`` takes them (an array, or a list for several inputs);
        ``y`` holds integer class indices. A ``keras.utils.PyDataset`` or ``tf.data``
        dataset that yields ``(inputs, y[, sample_weight])`` batches is read as it is
        (``batch_size`` and ``class_weight`` are then the dataset's business); a
        ``PyDataset`` through :func:`py_dataset_pipeline`, the same batches faster.
    val : tuple ``(inputs, y)``, or None
        The held-out records that choose the epoch. None: train exactly ``epochs``
        epochs, no selection (a refit on all training data once the epochs are chosen).
    test : tuple ``(inputs, y)`` or ``inputs``, optional
        Only predicted, once, after training.
    score : callable ``(y_true, y_pred) -> float``, or ``"val_loss"``
        What selection maximises on ``val`` (default: accuracy); the best epoch's weights
        are restored and training stops after ``patience`` epochs without a better
        score. ``"val_loss"``: Keras' EarlyStopping on the validation loss instead.
    callbacks : sequence of keras callbacks
        Added to the selection (e.g. ReduceLROnPlateau).
    label : str
        Named in the one line printed per training (Keras' per-epoch lines are off).

    Returns
    -------
    dict
        ``model``, ``history`` (per-epoch logs), ``best_epoch`` (1-based), ``best_score``
        (the validation score kept; the lowest loss for ``"val_loss"``),
        ``timing`` (``train_s``, ``epochs_run``, ``predict_s``, ``predict_beats_per_s``),
        and for the test set ``y_score`` (model outputs), ``y_pred`` (class indices) and
        ``y_true`` when ``test`` has labels.
    """
    import keras

    if score is None:
        def score(y_true, y_pred):
            return float(np.mean(np.asarray(y_true) == y_pred))
    callbacks, validation, selector = list(callbacks), None, None
    if val is not None:
        validation = (val[0], np.asarray(val[1])) if _is_pair(val) else val
        if score == "val_loss":
            selector = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                     restore_best_weights=True)
        else:
            if not _is_pair(val):
                raise ValueError("selection by a score needs val as (inputs, y); pass "
                                 "score='val_loss' to select on a validation dataset")
            selector = _selection_callback(keras, val[0], np.asarray(val[1]), score, patience)
        callbacks.insert(0, selector)
    # a dataset shuffles itself (fit's own shuffle does not apply to it)
    fit_args = ({"x": train[0], "y": np.asarray(train[1]), "batch_size": batch_size,
                 "class_weight": class_weight} if _is_pair(train)
                else {"x": train, "shuffle": False})
    if isinstance(train, keras.utils.PyDataset):
        fit_args["x"] = py_dataset_pipeline(train)
    if not _is_pair(train) and score != "val_loss":
        # Keras would evaluate the validation loss (only logged here) in batches of 32
        fit_args["validation_batch_size"] = 1024
    start = time.perf_counter()
    history = model.fit(**fit_args, validation_data=validation, epochs=epochs,
                        callbacks=callbacks, verbose=0)
    train_s = time.perf_counter() - start
    logs = history.history
    epochs_run = len(logs.get("loss", []))
    if selector is None:
        best_epoch, best = epochs_run, None
    elif score == "val_loss":
        best_epoch = int(np.argmin(logs["val_loss"])) + 1
        best = float(np.min(logs["val_loss"]))
    else:
        best_epoch, best = selector.best_epoch + 1, float(selector.best)
    out = {"model": model, "history": logs, "best_epoch": best_epoch, "best_score": best,
           "timing": {"train_s": round(train_s, 1), "epochs_run": epochs_run}}
    if test is not None:
        test_inputs = test[0] if _is_pair(test) else test
        start = time.perf_counter()
        proba = model.predict(test_inputs, batch_size=1024, verbose=0)
        predict_s = time.perf_counter() - start
        out.update(y_score=proba, y_pred=predicted_classes(proba))
        if _is_pair(test):
            out["y_true"] = np.asarray(test[1])
        out["timing"].update(predict_s=round(predict_s, 2),
                             predict_beats_per_s=round(len(proba) / max(predict_s, 1e-9)))
    if verbose:
        what = "lowest validation loss" if score == "val_loss" else "best validation score"
        chosen = (f"{what} {best:.3f} at epoch {best_epoch}" if selector is not None
                  else "no selection (fixed epochs)")
        print(f"{label or model.name}: {epochs_run} epoch{'' if epochs_run == 1 else 's'} in "
              f"{train_s:.0f} s, {chosen}")
    return out


#: Suffix of a scikit-learn model (chapter 07's random forest): a ``skops.io`` archive,
#: which loads without running code, with the preprocessing as an extra JSON entry.
FOREST_SUFFIX = ".skops"
#: The only types a forest file may hold beyond skops' own safe defaults (scikit-learn
#: estimators, numpy arrays, builtins): anything else is refused before it is built.
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)
#: Suffixes of pickle files (the old forest format): refused, never opened.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
#: ``wrapper`` stored beside a forest that chapter 07 wraps in ``BeatForest``.
_BEAT_FOREST = "ecgutils.interpatient.BeatForest"


def _atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``:
    a crash never leaves a half-written model behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def save_model(model, path, preprocessing: dict) -> Path:
    """Save a model and its preprocessing in one file, atomically.

    A Keras model goes to a ``.keras`` file: the preprocessing (a JSON-able dict:
    sampling rate, window, class names, the chapter it came from...) is stored as an
    extra entry of the ``.keras`` zip, which Keras ignores and :func:`load_model` reads.
    A scikit-learn model (chapter 07's random forest, bare or wrapped in
    ``eu.interpatient.BeatForest``) goes to a ``.skops`` file (``skops.io``, a zip of
    JSON and numpy arrays that loads without running code) with the same extra entry.
    The file is written under a temporary name and renamed, so a crash never leaves a
    half-written model behind.

    See Also
    --------
    load_model : the way back, refusing pickles and untrusted types.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> tree = DecisionTreeClassifier().fit([[0.0], [1.0]], ["N", "V"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(tree, Path(tmp) / "t.skops", {"kind": "demo"})
    ...     model, pre = load_model(path, expect="demo")
    >>> model.predict([[0.9]]).tolist(), pre
    (['V'], {'kind': 'demo'})
    """
    path = Path(path)
    entry = json.dumps(preprocessing, indent=1)  # refuses what is not JSON-able, first
    if path.suffix == ".keras":
        def write(tmp):
            model.save(tmp)
            with zipfile.ZipFile(tmp, "a") as zf:
                zf.writestr(PREPROCESSING_ENTRY, entry)
    elif path.suffix == FOREST_SUFFIX:
        import skops.io as sio

        estimator, extra = model, {}
        if type(model).__name__ == "BeatForest":  # rebuilt from the spec on loading
            estimator, extra = model.forest, {"wrapper": _BEAT_FOREST}
        entry = json.dumps({**preprocessing, **extra}, indent=1)

        def write(tmp):
            sio.dump(estimator, tmp, compression=zipfile.ZIP_DEFLATED)
            with zipfile.ZipFile(tmp, "a") as zf:
                zf.writestr(PREPROCESSING_ENTRY, entry)
    else:
        raise ValueError(f"model files end in .keras (Keras) or {FOREST_SUFFIX} (scikit-learn "
                         f"models), got {path.name}")
    return _atomic_write(path, write)


def _looks_like_a_pickle(path: Path) -> bool:
    """A pickle (protocol 2+ starts with 0x80) or joblib's zlib/gzip/xz/lz4 wrapping of
    one, judged from the name and the first bytes only: nothing is unpickled."""
    with open(path, "rb") as f:
        head = f.read(6)
    return (path.suffix in PICKLE_SUFFIXES or head[:1] == b"\x80" or head[:2] == b"\x1f\x8b"
            or head[:1] == b"\x78" or head[:6] == b"\xfd7zXZ\x00")


def _old_format_message(path: Path) -> str:
    return (f"{path} is a pickle (the old .joblib model format, which can run code when "
            f"opened), so it was not opened. Re-create the model: run chapter 07 "
            f"(notebooks/07_new_patients.ipynb), which saves "
            f"results/07_new_patients_forest{FOREST_SUFFIX}, or save your own with "
            f"eu.experiment.save_model(model, 'name{FOREST_SUFFIX}', preprocessing)")


def _read_preprocessing(path: Path, zf: zipfile.ZipFile) -> dict:
    if PREPROCESSING_ENTRY not in zf.namelist():
        raise ValueError(f"{path} holds no ecgutils preprocessing: it was not saved with "
                         f"eu.experiment.save_model, so it cannot be applied to a recording")
    try:
        preprocessing = json.loads(zf.read(PREPROCESSING_ENTRY))
    except ValueError as err:
        raise ValueError(f"{path}: its preprocessing entry is damaged ({err}); re-create "
                         f"the file") from err
    if not isinstance(preprocessing, dict):
        raise ValueError(f"{path}: its preprocessing entry is not a dict; re-create the file")
    return preprocessing


def _load_forest(path: Path, preprocessing: dict):
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as err:  # a damaged archive: skops' errors vary
        raise ValueError(f"{path} cannot be read as a model file ({err}); re-create it") from err
    refused = sorted(untrusted - set(TRUSTED_TYPES))
    if refused:
        raise ValueError(f"{path} holds types outside ecgutils' trusted list ({', '.join(refused)})"
                         f"; it was not loaded. Use a model saved by eu.experiment.save_model")
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as err:
        raise ValueError(f"{path} cannot be read as a model file ({err}); re-create it") from err
    if preprocessing.get("wrapper") == _BEAT_FOREST:
        from .interpatient import BeatForest, BeatSpec

        model = BeatForest(model, BeatSpec.from_dict(preprocessing["spec"]))
    return model


def load_model(path, expect: str | None = None):
    """Load a model saved by :func:`save_model`; return ``(model, preprocessing)``.

    Nothing in the file can run code: a ``.keras`` file is loaded with Keras'
    ``safe_mode=True`` (no Lambda layers' code), a ``.skops`` file builds only
    scikit-learn and numpy types plus :data:`TRUSTED_TYPES`, and a pickle (the old
    ``.joblib`` format) is refused without being opened.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A pickle; not a ``.keras`` or ``.skops`` archive; no preprocessing inside (a model
        saved by other code); an untrusted type inside; or ``expect`` is given and the
        preprocessing's ``"kind"`` differs (a model of another chapter).

    See Also
    --------
    save_model
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist; train one first (run the "
                                f"chapter's notebook) or check the path")
    if _looks_like_a_pickle(path):
        raise ValueError(_old_format_message(path))
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a model file (.keras or {FOREST_SUFFIX} archive); "
                         f"check the path, or re-create the file")
    try:
        with zipfile.ZipFile(path) as zf:
            preprocessing = _read_preprocessing(path, zf)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path} is a damaged archive ({err}); re-create it") from err
    if expect is not None and preprocessing.get("kind") != expect:
        raise ValueError(f"{path} is a '{preprocessing.get('kind')}' model, not a '{expect}' "
                         f"model; use a model saved by the right chapter")
    if path.suffix == FOREST_SUFFIX:
        return _load_forest(path, preprocessing), preprocessing
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files end in .keras or {FOREST_SUFFIX}")
    from .models import _premature_rule_layer, import_tensorflow

    import_tensorflow()
    import keras

    _premature_rule_layer()  # registers chapter 07's one layer of its own
    # compile=False: the model only predicts here (and no optimizer state to restore);
    # safe_mode: a Lambda layer's code in the file is refused, not run
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras' messages span many lines and do not name the file
        said = str(err).strip()
        first = said.splitlines()[0].split(". ")[0] if said else type(err).__name__
        raise ValueError(f"{path} cannot be loaded as a Keras model ({first}); re-create it "
                         f"with the chapter's notebook") from err
    return model, preprocessing


def glue(name: str, value, display: bool = False):
    """Hand a number computed by the run to the prose (myst-nb's ``glue``); return it.

    The page's text then quotes it with ``{glue:text}`name:.3f``` instead of a typed
    number that goes stale. Outside a Jupyter Book build (Colab, papermill without
    myst-nb) the value is only returned.
    """
    if isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    _glue(name, value, display=display)
    return value


def glue_all(values, prefix: str = "") -> dict:
    """:func:`glue` every item of ``values`` (a dict or a Series) as ``prefix + key``.

    Returns the items as a dict, so a chapter can glue a helper's summary in one line.

    Examples
    --------
    >>> glue_all({"se": 0.99, "fp": np.int64(3)}, prefix="det_")
    {'se': 0.99, 'fp': 3}
    """
    return {str(key): glue(f"{prefix}{key}", value) for key, value in dict(values).items()}
