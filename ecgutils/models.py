"""Keras models of the book, and a quiet TensorFlow import."""
from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["build_spectrogram_cnn", "import_tensorflow"]


def import_tensorflow():
    """Import TensorFlow without its start-up noise; return the module.

    TensorFlow's absl and oneDNN start-up lines are written by C++ straight to file
    descriptor 2 and ignore ``TF_CPP_MIN_LOG_LEVEL`` in part, so stderr is pointed at
    /dev/null for the import only. Later errors still show.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _stderr_to_devnull():
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")
        tf.config.list_logical_devices("CPU")  # device start-up lines come here, silenced too
    return tf


@contextlib.contextmanager
def _stderr_to_devnull():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def build_spectrogram_cnn(input_shape=(32, 32, 1), n_classes: int = 3, filters=(32, 64, 128),
                          dense_units: int = 128, dropout: float = 0.5, pooling: str = "flatten",
                          learning_rate: float = 1e-3, name: str = "spectrogram_cnn"):
    """2D CNN for beat spectrograms (chapter 04), compiled with Adam and cross-entropy.

    One block per entry of ``filters``: ``Conv2D(3x3, same, ReLU)`` -> ``BatchNormalization``
    -> ``MaxPool2D(2)``, named ``conv1``, ``bn1``, ``pool1``... Then ``Flatten`` (keeps
    *where* in time and frequency a pattern sits) or ``GlobalAveragePooling2D``
    (``pooling="gap"``: fewer weights, position-blind), ``Dense(dense_units, ReLU)``,
    ``Dropout`` and a softmax over ``n_classes``. The last convolution, ``conv<k>``, is
    the layer Grad-CAM looks at.

    Examples
    --------
    >>> m = build_spectrogram_cnn((32, 32, 1), 3)  # doctest: +SKIP
    >>> m.output_shape, m.get_layer("conv3").output.shape  # doctest: +SKIP
    ((None, 3), (None, 8, 8, 128))
    """
    if pooling not in ("flatten", "gap"):
        raise ValueError(f"pooling must be 'flatten' or 'gap', got {pooling!r}")
    import_tensorflow()
    import keras
    from keras import layers

    stack = [keras.Input(shape=tuple(input_shape), name="spectrogram")]
    for i, f in enumerate(filters, start=1):
        stack += [layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}"),
                  layers.BatchNormalization(name=f"bn{i}"),
                  layers.MaxPool2D(2, name=f"pool{i}")]
    stack += [layers.Flatten(name="flatten") if pooling == "flatten"
              else layers.GlobalAveragePooling2D(name="gap"),
              layers.Dense(dense_units, activation="relu", name="dense"),
              layers.Dropout(dropout, name="dropout"),
              layers.Dense(n_classes, activation="softmax", name="softmax")]
    model = keras.Sequential(stack, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
