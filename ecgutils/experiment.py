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

__all__ = ["class_weights", "glue", "load_model", "save_model", "subsample_majority",
           "train_and_evaluate"]

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


def _selection_callback(keras, val_inputs, val_y, score, patience):
    """Keep the weights of the epoch with the best validation ``score``; stop after
    ``patience`` epochs without improvement (Keras' EarlyStopping watches only logs)."""

    class BestOnValidation(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.best_weights, self.scores = -np.inf, -1, None, []

        def on_epoch_end(self, epoch, logs=None):
            proba = self.model.predict(val_inputs, batch_size=1024, verbose=0)
            value = float(score(val_y, proba.argmax(axis=1)))
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


def train_and_evaluate(model, train, val, test=None, classes=None, epochs: int = 10,
                       batch_size: int = 128, class_weight=None, patience: int = 3,
                       score=None, label: str = "", verbose: bool = True) -> dict:
    """Train with selection on validation, then predict the test set once.

    Parameters
    ----------
    model : keras.Model
        Compiled, with a softmax output over ``classes``.
    train, val, test : tuple ``(inputs, y)``
        ``inputs`` as ``model.fit`` takes them (an array, or a list for several inputs);
        ``y`` holds integer class indices. ``test`` is only predicted, after training.
        ``val`` None: train exactly ``epochs`` epochs, no selection (a refit on all the
        training data once the number of epochs has been chosen).
    score : callable ``(y_true, y_pred) -> float``, optional
        What selection maximises on the validation set (default: accuracy). The
        weights of the best epoch are restored; training stops after ``patience``
        epochs without a better score.
    label : str
        Named in the one summary line printed per training.

    Returns
    -------
    dict
        ``model``, ``history`` (per-epoch logs, with ``val_selection``), ``best_epoch``,
        ``best_score`` (the validation score kept),
        ``timing`` (``train_s``, ``predict_s``, ``epochs_run``, ``predict_beats_per_s``),
        and for the test set ``y_score`` (probabilities) and ``y_pred`` (indices).
    """
    import keras

    if score is None:
        def score(y_true, y_pred):
            return float(np.mean(np.asarray(y_true) == y_pred))
    callbacks, validation = [], None
    if val is not None:
        selector = _selection_callback(keras, val[0], np.asarray(val[1]), score, patience)
        callbacks, validation = [selector], (val[0], np.asarray(val[1]))
    start = time.perf_counter()
    history = model.fit(train[0], np.asarray(train[1]), validation_data=validation,
                        epochs=epochs, batch_size=batch_size, class_weight=class_weight,
                        callbacks=callbacks, verbose=0)
    train_s = time.perf_counter() - start
    epochs_run = len(history.history.get("loss", []))
    best_epoch = selector.best_epoch + 1 if val is not None else epochs_run
    out = {"model": model, "history": history.history, "best_epoch": best_epoch,
           "best_score": float(selector.best) if val is not None else None,
           "timing": {"train_s": round(train_s, 1), "epochs_run": epochs_run}}
    if test is not None:
        start = time.perf_counter()
        proba = model.predict(test[0], batch_size=1024, verbose=0)
        predict_s = time.perf_counter() - start
        out.update(y_score=proba, y_pred=proba.argmax(axis=1))
        out["timing"].update(predict_s=round(predict_s, 2),
                             predict_beats_per_s=round(len(proba) / max(predict_s, 1e-9)))
    if verbose:
        chosen = (f"best validation score {selector.best:.3f} at epoch {best_epoch}"
                  if val is not None else "no selection (fixed epochs)")
        print(f"{label or model.name}: {epochs_run} epochs in {train_s:.0f} s, {chosen}")
    return out


def save_model(model, path, preprocessing: dict) -> Path:
    """Save a Keras model and its preprocessing in one ``.keras`` file, atomically.

    The preprocessing (a JSON-able dict: sampling rate, window, class names, the
    chapter it came from...) is stored as an extra entry of the ``.keras`` zip, which
    Keras ignores and :func:`load_model` reads. The file is written under a temporary
    name and renamed, so a crash never leaves a half-written model behind.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model files end in .keras, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(PREPROCESSING_ENTRY, json.dumps(preprocessing, indent=1))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_model(path, expect: str | None = None):
    """Load a model saved by :func:`save_model`; return ``(model, preprocessing)``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a ``.keras`` archive, no preprocessing inside (a model saved by other code),
        or ``expect`` is given and the preprocessing's ``"kind"`` differs (a model of
        another chapter).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist; train one first (run the "
                                f"chapter's notebook) or check the path")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras 3 .keras file")
    with zipfile.ZipFile(path) as zf:
        if PREPROCESSING_ENTRY not in zf.namelist():
            raise ValueError(f"{path} holds no ecgutils preprocessing: it was not saved with "
                             f"eu.experiment.save_model, so it cannot be applied to a recording")
        preprocessing = json.loads(zf.read(PREPROCESSING_ENTRY))
    if expect is not None and preprocessing.get("kind") != expect:
        raise ValueError(f"{path} is a '{preprocessing.get('kind')}' model, not a '{expect}' "
                         f"model; use a model saved by the right chapter")
    from .models import import_tensorflow

    import_tensorflow()
    import keras

    # compile=False: the model only predicts here (and no optimizer state to restore)
    return keras.models.load_model(path, compile=False), preprocessing


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
