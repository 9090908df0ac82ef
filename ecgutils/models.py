"""Keras models of the book, and a quiet TensorFlow import."""
from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["build_beat_cnn1d", "build_spectrogram_cnn", "build_spectrogram_cnn2d", "import_tensorflow"]


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


def build_beat_cnn1d(n_classes: int = 5, input_length: int = 187, filters=(16, 32, 64),
                     kernel_size: int = 5, dense_units: int = 128, dropout: float = 0.05,
                     learning_rate: float = 2e-3, pool_sizes=(3, 2, 2)):
    """1D CNN for single beats (chapter 06), compiled with Adam and sparse categorical CE.

    Per block: Conv1D, BatchNormalization, LeakyReLU, MaxPooling1D (``pool_sizes``, one
    per block), Dropout; then Flatten, Dense + LeakyReLU + Dropout, and a softmax over
    ``n_classes``. Pooling by 3 after the first block trained about 1.5 to 2 times as
    many beats per second as pooling by 2 on two CPU cores (noisy measurements).

    Examples
    --------
    >>> model = build_beat_cnn1d(n_classes=5)
    >>> model.output_shape
    (None, 5)
    """
    if len(pool_sizes) != len(filters):
        raise ValueError(f"parameter 'pool_sizes' needs one size per block ({len(filters)}), "
                         f"got {pool_sizes!r}")
    import_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input((input_length, 1), name="beat")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv1D(f, kernel_size if i == 0 else max(3, kernel_size - 2 * (i > 1)),
                          padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.LeakyReLU(0.1, name=f"lrelu{i + 1}")(x)
        x = layers.MaxPooling1D(pool_sizes[i], name=f"pool{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"drop{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.1, name="dense_lrelu")(x)
    x = layers.Dropout(2 * dropout, name="dense_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="beat_cnn1d")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_spectrogram_cnn2d(input_shape=(16, 32, 1), n_classes: int = 5,
                            filters=(32, 64, 128, 256), dropout: float = 0.2,
                            dense_units: int = 128, learning_rate: float = 1e-3,
                            weight_decay: float = 1e-4, decay_steps: int | None = None,
                            bn_momentum: float = 0.9):
    """2D CNN for beat spectrograms (chapter 05), compiled with AdamW.

    Four blocks (one per entry of ``filters``): Conv2D 3x3, BatchNormalization, ReLU,
    MaxPooling2D(2) (only while both sides are >= 2), Dropout; then
    GlobalAveragePooling2D, Dense, Dropout and a softmax. With ``decay_steps`` the
    learning rate follows a cosine decay over that many steps (a schedule); without it
    it is a plain float that ReduceLROnPlateau may lower. ``bn_momentum`` is 0.9, not
    Keras' 0.99: with a few dozen steps per epoch the slower moving averages are still
    near their initial values after the first epochs, and validation predictions made
    with them collapse onto one class.

    Examples
    --------
    >>> model = build_spectrogram_cnn2d()
    >>> model.output_shape
    (None, 5)
    """
    import_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="spectrogram")
    x = inputs
    height, width = input_shape[0], input_shape[1]
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i + 1}")(x)
        x = layers.ReLU(name=f"relu{i + 1}")(x)
        if height >= 2 and width >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
            height, width = height // 2, width // 2
        x = layers.Dropout(dropout, name=f"drop{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dense_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="spectrogram_cnn2d")
    lr = (keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.05)
          if decay_steps else learning_rate)
    model.compile(optimizer=keras.optimizers.AdamW(lr, weight_decay=weight_decay),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


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
    >>> m = build_spectrogram_cnn((32, 32, 1), 3)
    >>> m.output_shape, m.get_layer("conv3").output.shape
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
