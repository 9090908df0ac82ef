"""Keras models of the book, and a quiet TensorFlow import."""
from __future__ import annotations

import contextlib
import functools
import os
import sys

import numpy as np

__all__ = ["BEAT_NETWORKS", "build_beat_cnn1d", "build_beat_cnn1d_transfer", "build_beat_network",
           "build_image_cnn", "build_interpatient_model", "build_spectrogram_cnn",
           "build_spectrogram_cnn2d", "distillation_loss",
           "import_tensorflow", "patient_adversarial", "rotating_batches",
           "with_premature_rule"]


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


def build_beat_cnn1d(n_classes: int = 5, input_length: int = 187, filters=(32, 64, 128, 256),
                     kernel_size: int = 5, dense_units: int = 128, dropout: float = 0.05,
                     learning_rate: float = 2e-3, pool_sizes=(3, 2, 2, 2)):
    """1D CNN for single beats (chapter 06), compiled with Adam and sparse categorical CE.

    Per block: Conv1D, MaxPooling1D (``pool_sizes``, one per block), BatchNormalization,
    LeakyReLU; after the last block a Dropout, then Flatten, Dense + LeakyReLU + Dropout,
    and a softmax over ``n_classes``.

    Pooling before BatchNorm and LeakyReLU is a common variant of the block. On two CPU
    cores it trains at the same speed as Conv-BN-LeakyReLU-Pool-Dropout blocks
    (``benchmarks/beat_cnn1d_speed.py``: ratio 1.00); it is the order chapter 06's
    numbers were measured with. The defaults are chapter 06's network.

    Examples
    --------
    >>> model = build_beat_cnn1d(n_classes=5)
    >>> model.output_shape
    (None, 5)
    >>> [model.get_layer(f"pool{i}").output.shape[1] for i in (1, 2, 3, 4)]
    [62, 31, 15, 7]
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
        x = layers.MaxPooling1D(pool_sizes[i], name=f"pool{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.LeakyReLU(0.1, name=f"lrelu{i + 1}")(x)
    x = layers.Dropout(dropout, name="conv_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.1, name="dense_lrelu")(x)
    x = layers.Dropout(2 * dropout, name="dense_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="beat_cnn1d")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_beat_cnn1d_transfer(pretrained=None, n_classes: int = 2, learning_rate: float = 1e-3):
    """A :func:`build_beat_cnn1d` network with a new softmax over ``n_classes``, for
    transfer learning (chapter 06).

    With ``pretrained`` (a trained :func:`build_beat_cnn1d` model) its layers are reused
    and its convolution and BatchNorm layers frozen: only the dense layer and the new
    softmax learn. Without, the same shape starts from random weights (the baseline the
    transfer is compared with). Compiled with Adam and sparse categorical cross-entropy.

    Examples
    --------
    >>> base = build_beat_cnn1d(filters=(4, 4, 4, 4), dense_units=8)
    >>> new = build_beat_cnn1d_transfer(base)
    >>> new.output_shape, new.get_layer("conv1").trainable, new.get_layer("dense").trainable
    ((None, 2), False, True)
    >>> build_beat_cnn1d_transfer().name
    'scratch'
    """
    import_tensorflow()
    import keras

    base = pretrained or build_beat_cnn1d()
    features = base.get_layer("dense_drop").output
    out = keras.layers.Dense(n_classes, activation="softmax", name="target_softmax")(features)
    model = keras.Model(base.inputs[0], out, name="scratch" if pretrained is None else "transfer")
    if pretrained is not None:
        for layer in model.layers:
            layer.trainable = not layer.name.startswith(("conv", "bn"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def rotating_batches(X, y, batch_size: int = 64, keep_fraction=None, class_weight=None,
                     seed: int = 0):
    """Training batches for ``model.fit`` in which common classes are subsampled afresh
    every epoch, their loss weighted up to match (a Keras ``PyDataset``).

    Each epoch holds every sample of a class not named in ``keep_fraction`` and a new
    random ``keep_fraction[c]`` of the samples of class ``c``, shuffled. Those samples
    weigh ``1 / keep_fraction[c]`` times their ``class_weight``, so the expected loss is
    that of a full epoch while an epoch costs less. Over ``1 / keep_fraction[c]`` epochs
    the network still sees about every sample once. With the four in five normal beats
    of MIT-BIH kept at a third, an epoch is about twice as short, and the rare classes,
    which most errors come from, are visited twice as often for the same time.
    EarlyStopping and ReduceLROnPlateau work per (shorter) epoch as usual.

    Parameters
    ----------
    X, y : arrays
        Training inputs (first axis: samples) and integer labels.
    keep_fraction : dict {label: fraction in (0, 1]}, optional
        Share of each named class drawn per epoch; other classes are kept whole.
    class_weight : dict {label: weight}, optional
        Per-class loss weights (as ``fit``'s ``class_weight``, which a dataset cannot take).

    Examples
    --------
    >>> y = np.array([0] * 90 + [1] * 10)
    >>> batches = rotating_batches(np.zeros((100, 4)), y, batch_size=32, keep_fraction={0: 1 / 3})
    >>> len(batches), batches.epoch_size
    (2, 40)
    >>> Xb, yb, wb = batches[0]
    >>> np.unique(wb[yb == 0]).round(3).tolist(), np.unique(wb[yb == 1]).tolist()
    ([3.0], [1.0])
    """
    import_tensorflow()
    import keras

    X, y = np.asarray(X), np.asarray(y)
    keep_fraction = dict(keep_fraction or {})
    for label, fraction in keep_fraction.items():
        if not 0 < fraction <= 1:
            raise ValueError(f"parameter 'keep_fraction' for class {label!r} must be in (0, 1], "
                             f"got {fraction!r}")
    by_class = {int(c): np.flatnonzero(y == c) for c in np.unique(y)}
    draws = {c: int(round(keep_fraction.get(c, 1.0) * len(i))) for c, i in by_class.items()}
    weight = np.ones(len(y), dtype=np.float32)
    for c, i in by_class.items():
        weight[i] = (class_weight or {}).get(c, 1.0) / keep_fraction.get(c, 1.0)

    class RotatingBatches(keras.utils.PyDataset):
        epoch_size = sum(draws.values())

        def __init__(self):
            super().__init__()
            self._rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return -(-self.epoch_size // batch_size)

        def __getitem__(self, i):
            take = self._order[i * batch_size:(i + 1) * batch_size]
            return X[take], y[take], weight[take]

        def on_epoch_end(self):
            picked = [i if draws[c] == len(i) else self._rng.choice(i, draws[c], replace=False)
                      for c, i in by_class.items()]
            self._order = self._rng.permutation(np.concatenate(picked))

    return RotatingBatches()


def build_spectrogram_cnn2d(input_shape=(16, 32, 1), n_classes: int = 5,
                            filters=(32, 64, 128, 256), dropout: float = 0.2,
                            dense_units: int = 128, learning_rate: float = 1e-3,
                            weight_decay: float = 1e-4, bn_momentum: float = 0.9):
    """2D CNN for beat spectrograms (chapter 05), compiled with AdamW.

    Four blocks (one per entry of ``filters``): Conv2D 3x3, MaxPooling2D(2) (only while
    both sides are >= 2), BatchNormalization, ReLU, Dropout (pooling first, as in
    :func:`build_beat_cnn1d`; at most slightly faster on a CPU); then
    GlobalAveragePooling2D, Dense, Dropout and a softmax. The learning rate is a plain
    float, so ReduceLROnPlateau may lower it. ``bn_momentum`` is 0.9, not
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
        if height >= 2 and width >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
            height, width = height // 2, width // 2
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i + 1}")(x)
        x = layers.ReLU(name=f"relu{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"drop{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dense_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name="spectrogram_cnn2d")
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_spectrogram_cnn(input_shape=(32, 32, 1), n_classes: int = 3, filters=(32, 64, 128),
                          dense_units: int = 128, dropout: float = 0.5,
                          learning_rate: float = 1e-3, name: str = "spectrogram_cnn"):
    """2D CNN for beat spectrograms (chapter 04), compiled with Adam and sparse
    categorical cross-entropy (integer labels).

    One block per entry of ``filters``: ``Conv2D(3x3, same, ReLU)`` -> ``BatchNormalization``
    -> ``MaxPool2D(2)``, named ``conv1``, ``bn1``, ``pool1``... Then ``Flatten`` (it keeps
    *where* in time and frequency a pattern sits), ``Dense(dense_units, ReLU)``,
    ``Dropout`` and a softmax over ``n_classes``. The last convolution, ``conv<k>``, is
    the layer Grad-CAM looks at.

    Examples
    --------
    >>> m = build_spectrogram_cnn((32, 32, 1), 3)
    >>> m.output_shape, m.get_layer("conv3").output.shape
    ((None, 3), (None, 8, 8, 128))
    """
    import_tensorflow()
    import keras
    from keras import layers

    stack = [keras.Input(shape=tuple(input_shape), name="spectrogram")]
    for i, f in enumerate(filters, start=1):
        stack += [layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}"),
                  layers.BatchNormalization(name=f"bn{i}"),
                  layers.MaxPool2D(2, name=f"pool{i}")]
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(dense_units, activation="relu", name="dense"),
              layers.Dropout(dropout, name="dropout"),
              layers.Dense(n_classes, activation="softmax", name="softmax")]
    model = keras.Sequential(stack, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_image_cnn(image_size: int = 64, n_classes: int = 6, channels: int = 1,
                    learning_rate: float = 1e-3, name: str = "image_cnn"):
    """The image CNN of chapter 02, compiled with Adam and sparse categorical CE.

    Raw 0-255 pixels go in: a ``Rescaling(1/255)`` layer inside the model divides them,
    so the saved model takes images as they are on disk. Two 3x3 convolutions of 32
    filters with ReLU, each followed by 2x2 max pooling, a dense layer of 128 units and
    a softmax over ``n_classes`` (the reference tutorial's architecture).

    Examples
    --------
    >>> build_image_cnn(64, 6).output_shape
    (None, 6)
    """
    import_tensorflow()
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((image_size, image_size, channels), name="image"),
        layers.Rescaling(1 / 255),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ], name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


#: The three beat classifiers of chapter 03.
BEAT_NETWORKS = ("dense", "simple_rnn", "lstm")


def build_beat_network(kind: str, input_shape, n_classes: int = 2, units: int = 32,
                       learning_rate: float = 1e-3):
    """Chapter 03's beat classifiers: a dense network, a SimpleRNN or an LSTM.

    ``input_shape`` is ``(time steps, channels)``. ``dense`` flattens the beat into 64,
    32 and 16 ReLU units; ``simple_rnn`` and ``lstm`` read it sample by sample with
    ``units`` cells and keep the last state. Two classes end in one sigmoid unit
    (binary cross-entropy, ROC-AUC logged as ``auc``); more end in a softmax (sparse
    categorical cross-entropy).

    Examples
    --------
    >>> build_beat_network("lstm", (187, 1)).output_shape
    (None, 1)
    >>> build_beat_network("dense", (187, 1), n_classes=3).output_shape
    (None, 3)
    """
    if kind not in BEAT_NETWORKS:
        raise ValueError(f"kind must be one of {BEAT_NETWORKS}, got {kind!r}")
    import_tensorflow()
    import keras
    from keras import layers

    body = {"dense": [layers.Flatten(), layers.Dense(64, activation="relu"),
                      layers.Dense(32, activation="relu"), layers.Dense(16, activation="relu")],
            "simple_rnn": [layers.SimpleRNN(units)],
            "lstm": [layers.LSTM(units)]}[kind]
    binary = n_classes == 2
    head = layers.Dense(1, activation="sigmoid") if binary else layers.Dense(
        n_classes, activation="softmax")
    model = keras.Sequential([keras.Input(shape=tuple(input_shape)), *body, head], name=kind)
    if binary:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                      metrics=[keras.metrics.AUC(name="auc")])
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_interpatient_model(spec=None, rr_train=None, filters=(16, 32, 64),
                             kernel_size: int = 7, rr_units: int = 32, dense_units: int = 64,
                             dropout: float = 0.3, learning_rate: float = 1e-3,
                             flatten: bool = False, noise: float = 0.0,
                             morph_units: int | None = None,
                             loss="sparse_categorical_crossentropy",
                             siamese: bool = False, s_from_rhythm: bool = False):
    """Chapter 07's two-branch Keras model: a 1D CNN over the beat window, a dense branch
    over RR (``spec``: an :class:`ecgutils.interpatient.BeatSpec`, default its defaults).

    The RR branch starts with a ``Normalization`` layer adapted to ``rr_train`` (the
    training beats' RR features), so its constants live inside the saved model. ``loss``:
    any Keras loss of integer class targets (``tools/ch07_design_cv.py`` tries a focal
    loss). ``siamese``: with ``spec.template_channel``, one convolutional stack reads the
    beat and, separately, the patient's usual beat (the beat minus the second channel);
    the head gets the beat's summary and its difference from the usual beat's summary, a
    patient-wise normalisation of the waveform features (``tools/ch07_design_cv.py``).

    ``s_from_rhythm`` (classes N, S, V) factorises the decision: P(V) from both branches,
    P(S | not V) from a head that reads the RR features alone, so the output is
    ``[(1 - P(V)) P(N | not V), (1 - P(V)) P(S | not V), P(V)]``. An S beat has its
    patient's usual QRS; what marks it is its timing, and a P wave that the waveform
    branch may learn as each training patient's own. Trained with the usual
    cross-entropy, whose terms split into V against the rest and, for beats that are not
    V, S against N. Better on held-out DS1 records, worse on the other databases: not
    chapter 07's design (``tools/ch07_design_cv.py``, "S from rhythm"; docs/decisions.md).

    Examples
    --------
    >>> from ecgutils.interpatient import BeatSpec
    >>> m = build_interpatient_model(BeatSpec(), rr_train=np.ones((4, 17), "float32"))
    >>> [tuple(i.shape) for i in m.inputs], tuple(m.outputs[0].shape)
    ([(None, 90, 2), (None, 17)], (None, 3))
    >>> f = build_interpatient_model(BeatSpec(), np.ones((4, 17), "float32"),
    ...                              s_from_rhythm=True)
    >>> p = f.predict([np.zeros((2, 90, 2), "float32"), np.ones((2, 17), "float32")],
    ...               verbose=0)
    >>> p.shape, np.allclose(p.sum(axis=1), 1)     # P(N), P(S), P(V)
    ((2, 3), True)
    """
    from .interpatient import BeatSpec

    spec = BeatSpec() if spec is None else spec
    if s_from_rhythm and tuple(spec.classes) != ("N", "S", "V"):
        raise ValueError(f"s_from_rhythm needs the classes ('N', 'S', 'V'), got "
                         f"{tuple(spec.classes)}")
    import_tensorflow()
    import keras
    from keras import layers

    window = keras.Input((spec.window_length, spec.n_channels), name="window")
    rr = keras.Input((len(spec.feature_names),), name="rr")
    h = layers.GaussianNoise(noise)(window) if noise else window
    siamese = siamese and spec.template_channel

    def waveform(h):
        for f in filters:
            h = layers.Conv1D(f, kernel_size, padding="same", use_bias=False)(h)
            h = layers.BatchNormalization()(h)
            h = layers.ReLU()(h)
            h = layers.MaxPooling1D(2)(h)
        # Averaging over time keeps what the filters found, not exactly where: on held-out
        # DS1 records and on DS2 it generalised to new patients' S beats better than
        # Flatten, which kept more of each training patient's own shapes (chapter 07).
        return layers.Flatten()(h) if flatten else layers.GlobalAveragePooling1D()(h)

    if siamese:  # one stack, shared by the beat and the usual beat
        stack = keras.Input((spec.window_length, 1))
        stack = keras.Model(stack, waveform(stack), name="waveform")
        beat = h[..., :1]
        hb, hu = stack(beat), stack(beat - h[..., 1:])
        h = layers.Concatenate()([hb, layers.Subtract(name="beat_minus_usual")([hb, hu])])
    else:
        h = waveform(h)
    if morph_units:  # a narrow summary of the waveform, so the rhythm keeps its say
        h = layers.Dropout(dropout)(h)
        h = layers.Dense(morph_units, activation="relu")(h)
    norm = layers.Normalization(name="rr_normalization")
    rr_read = rr
    if spec.premature_rule:  # the rule's flag (last column) is for premature_rule only
        n = len(spec.feature_names)
        rr_read = layers.Reshape((n - 1,))(
            layers.Cropping1D((0, 1))(layers.Reshape((n, 1))(rr)))
        rr_train = None if rr_train is None else np.asarray(rr_train)[:, :-1]
    if rr_train is not None:
        norm.adapt(np.asarray(rr_train, dtype="float32"))
    g = layers.Dense(rr_units, activation="relu")(norm(rr_read))
    z = layers.Concatenate()([h, g])
    z = layers.Dropout(dropout)(z)
    z = layers.Dense(dense_units, activation="relu", name="embedding")(z)
    z = layers.Dropout(dropout)(z)
    if s_from_rhythm:
        p_v = layers.Dense(1, activation="sigmoid", name="v_probability")(z)
        not_v = layers.Dense(1, trainable=False, name="not_v",  # 1 - P(V), fixed
                             kernel_initializer=keras.initializers.Constant(-1.0),
                             bias_initializer=keras.initializers.Constant(1.0))(p_v)
        s = layers.Dense(dense_units, activation="relu", name="s_rhythm")(norm(rr_read))
        s = layers.Dropout(dropout)(s)
        s = layers.Dense(rr_units, activation="relu")(s)
        s = layers.Dense(2, activation="softmax", name="s_given_not_v")(s)
        out = layers.Concatenate(name="class")([layers.Multiply()([not_v, s]), p_v])
    else:
        out = layers.Dense(len(spec.classes), activation="softmax", name="class")(z)
    model = keras.Model([window, rr], out, name="interpatient_cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                  metrics=["accuracy"])
    return model


def distillation_loss(teacher_weight: float = 0.5):
    """A loss that learns from the labels and from a teacher's probabilities (Hinton,
    Vinyals and Dean 2015).

    Training targets are ``(n, 1 + n_classes)``: the class index, then the teacher's class
    probabilities for the beat; the loss is ``(1 - teacher_weight)`` times the
    cross-entropy against the label plus ``teacher_weight`` times that against the
    teacher. Targets of one column (validation beats) get the label's cross-entropy
    alone. Chapter 07's DS1 comparison uses a random forest's out-of-record
    probabilities as the teacher (``tools/ch07_design_cv.py``).

    Examples
    --------
    >>> loss = distillation_loss(0.5)
    >>> y = np.array([[1, 0.5, 0.5, 0.0]], "float32")     # label S, teacher N or S
    >>> p = np.array([[0.5, 0.5, 0.0]], "float32")
    >>> round(float(loss(y, p)[0]), 3)                   # both cross-entropies: -log 0.5
    0.693
    >>> round(float(loss(np.array([1.0]), p)[0]), 3)     # a label alone
    0.693
    """
    import keras
    from keras import ops

    def loss(y_true, y_pred):
        if len(y_true.shape) == 1 or y_true.shape[-1] == 1:
            return keras.losses.sparse_categorical_crossentropy(
                ops.reshape(y_true, (-1,)), y_pred)
        hard = keras.losses.sparse_categorical_crossentropy(y_true[:, 0], y_pred)
        soft = keras.losses.categorical_crossentropy(y_true[:, 1:], y_pred)
        return (1 - teacher_weight) * hard + teacher_weight * soft
    return loss


@functools.cache
def _premature_rule_layer():
    """The Keras layer of :func:`with_premature_rule`, registered so that a saved model
    loads with ``safe_mode=True`` once ecgutils is imported (no code in the file)."""
    import keras

    @keras.saving.register_keras_serializable(package="ecgutils")
    class PrematureRule(keras.layers.Layer):
        """``[proba, rr]`` -> proba with P(N) moved to S where the last RR column is 1
        and the largest probability is not V's (classes N, S, V)."""

        def call(self, inputs):
            proba, rr = inputs
            ops = keras.ops
            # V is the label only where it beats both (argmax takes the first of a tie)
            not_v = proba[:, 2:3] <= ops.maximum(proba[:, :1], proba[:, 1:2])
            flagged = ops.cast(ops.logical_and(rr[:, -1:] > 0.5, not_v), proba.dtype)
            moved = flagged * proba[:, :1]
            return keras.ops.concatenate(
                [proba[:, :1] - moved, proba[:, 1:2] + moved, proba[:, 2:]], axis=1)

        def compute_output_shape(self, input_shapes):
            return input_shapes[0]

    return PrematureRule


def with_premature_rule(model, spec):
    """``model`` with chapter 07's fixed S rule on its output (``spec.premature_rule``).

    Where :func:`ecgutils.rr.regular_premature` flags a beat (early against the intervals
    around it, a longer one after, a regular rhythm) and whose largest probability is not
    V's, the network's probability of N goes to S: such a beat is labelled S unless the
    network labels it V. The network is trained without the rule and never reads the flag;
    the rule learns nothing, so DS1's few S records cannot bend it. Better on held-out
    DS1 records, worse on DS2 and the other databases: not chapter 07's design
    (``tools/ch07_s_rule_cv.py``, docs/decisions.md).

    Parameters
    ----------
    model : keras.Model
        A trained :func:`build_interpatient_model` (classes N, S, V) whose ``spec`` has a
        ``premature_rule``.
    spec : ecgutils.interpatient.BeatSpec

    Returns
    -------
    keras.Model
        The same inputs and layers, with the rule after the output.

    See Also
    --------
    ecgutils.rr.regular_premature : the flag.

    Examples
    --------
    >>> from ecgutils.interpatient import BeatSpec
    >>> spec = BeatSpec(premature_rule=(0.85, 0.1))
    >>> net = build_interpatient_model(spec)
    >>> x = [np.zeros((2, spec.window_length, 2), "float32"),
    ...      np.zeros((2, len(spec.feature_names)), "float32")]
    >>> x[1][1, -1] = 1                                    # the second beat is flagged
    >>> p, q = net.predict(x, verbose=0), with_premature_rule(net, spec).predict(x, verbose=0)
    >>> moved = p[1, 0] if p[1].argmax() != 2 else 0.0    # unless the network says V
    >>> bool(np.allclose(p[0], q[0])), bool(np.isclose(q[1, 1], p[1, 1] + moved))
    (True, True)
    """
    import keras

    if not spec.premature_rule:
        raise ValueError("with_premature_rule: spec.premature_rule is (); nothing to add")
    out = _premature_rule_layer()(name="premature_rule")([model.outputs[0], model.inputs[1]])
    ruled = keras.Model(model.inputs, out, name=model.name)
    ruled.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return ruled


def patient_adversarial(classifier, n_patients: int, strength: float = 0.3,
                        units: int = 32):
    """``classifier`` wrapped for training against a patient adversary.

    A small head reads the classifier's ``embedding`` layer and learns to tell which
    training patient a beat comes from; the classifier adds to its loss, weighted by
    ``strength``, the adversary's cross-entropy against equal odds for every patient
    (the confusion loss of Tzeng et al. 2015), so it learns features that serve the
    classes but leave the patient a guess, the aim of the subject-invariant CNN of Zhang
    et al. 2021. Reversing the adversary's gradient (Ganin and Lempitsky 2015) rewards a
    confidently *wrong* patient instead, which keeps patients apart. The wrapper trains
    on batches whose targets are ``(n, 2)`` integers, class then patient index; it
    predicts the classifier's class probabilities, so selection on validation records is
    unchanged. Only ``wrapper.classifier`` is saved or applied: the adversary is not part
    of the model that labels beats. Not chapter 07's default (``tools/ch07_design_cv.py``
    holds the comparison).

    Parameters
    ----------
    classifier : keras.Model
        A softmax classifier with a layer named ``"embedding"``
        (:func:`build_interpatient_model`).
    n_patients : int
        Number of training patients (the adversary's classes).
    strength : float
        Weight of the confusion loss (0: the adversary learns but changes nothing).
    units : int
        Hidden units of the adversary.

    Returns
    -------
    keras.Model
        Compiled with a new optimizer like the classifier's (its learning rate);
        ``classifier`` is the wrapped model.

    Examples
    --------
    >>> clf = build_interpatient_model()
    >>> w = patient_adversarial(clf, n_patients=4)
    >>> x = [np.zeros((8, 90, 2), "float32"), np.zeros((8, 17), "float32")]
    >>> y = np.stack([np.arange(8) % 3, np.arange(8) % 4], axis=1)
    >>> w.fit(x, y, epochs=1, verbose=0).history["adversary_loss"][0] > 0
    True
    >>> w.predict(x, verbose=0).shape, w.classifier is clf
    ((8, 3), True)
    """
    tf = import_tensorflow()
    import keras
    from keras import layers

    class PatientAdversarial(keras.Model):
        def __init__(self):
            super().__init__(name=f"{classifier.name}_patient_adversarial")
            self.classifier = classifier
            self.both = keras.Model(classifier.inputs,
                                    [classifier.get_layer("embedding").output,
                                     classifier.outputs[0]])
            self.adversary = keras.Sequential(
                [layers.Dense(units, activation="relu"), layers.Dense(n_patients)],
                name="patient_adversary")
            self.adversary.build((None, classifier.get_layer("embedding").units))
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.adversary_tracker = keras.metrics.Mean(name="adversary_loss")

        def call(self, inputs, training=False):
            return self.classifier(inputs, training=training)

        @property
        def metrics(self):
            return [self.loss_tracker, self.adversary_tracker]

        def train_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            y = tf.cast(y, "int32")
            weight = (tf.ones_like(y[:, 0], "float32") if sample_weight is None
                      else tf.cast(sample_weight, "float32"))

            with tf.GradientTape(persistent=True) as tape:
                z, proba = self.both(x, training=True)
                class_loss = tf.reduce_mean(weight * keras.losses.sparse_categorical_crossentropy(
                    y[:, 0], proba))
                # the adversary learns patients from the embedding as it is ...
                adversary_loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                    y[:, 1], self.adversary(tf.stop_gradient(z)), from_logits=True))
                # ... while the classifier is pushed to leave it guessing: its cross-entropy
                # against equal odds for every patient (reversing the adversary's gradient
                # instead rewards confidently wrong patients, which keeps them apart)
                confusion = -tf.reduce_mean(tf.nn.log_softmax(self.adversary(z)))
                encoder_loss = class_loss + strength * confusion
            own, theirs = (self.classifier.trainable_variables,
                           self.adversary.trainable_variables)
            self.optimizer.apply_gradients(
                zip(tape.gradient(encoder_loss, own) + tape.gradient(adversary_loss, theirs),
                    own + theirs))
            del tape
            self.loss_tracker.update_state(class_loss)
            self.adversary_tracker.update_state(adversary_loss)
            return {"loss": self.loss_tracker.result(),
                    "adversary_loss": self.adversary_tracker.result()}

        def test_step(self, data):  # validation beats: class targets only
            x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
            self.loss_tracker.update_state(tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(y, self(x, training=False))))
            return {"loss": self.loss_tracker.result()}

    model = PatientAdversarial()
    model.compile(optimizer=type(classifier.optimizer).from_config(
        classifier.optimizer.get_config()))
    return model
