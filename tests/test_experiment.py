"""The shared experiment layer: the modes of train_and_evaluate every chapter uses."""
import numpy as np
import pytest

import ecgutils as eu


@pytest.fixture(scope="module")
def keras():
    eu.models.import_tensorflow()
    import keras

    return keras


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


def test_val_loss_selection_restores_the_lowest_loss_epoch(keras):
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    out = eu.experiment.train_and_evaluate(model, (x[:160], y[:160]), (x[160:200], y[160:200]),
                                           (x[200:], y[200:]), epochs=5, batch_size=32,
                                           score="val_loss", patience=10, verbose=False)
    losses = out["history"]["val_loss"]
    assert out["best_epoch"] == int(np.argmin(losses)) + 1
    assert out["best_score"] == pytest.approx(min(losses))
    assert out["y_true"].tolist() == y[200:].tolist()
    # the restored weights are the best epoch's: evaluating gives the best loss again
    assert model.evaluate(x[160:200], y[160:200], verbose=0) == pytest.approx(min(losses), rel=1e-4)


def test_binary_sigmoid_model_gets_thresholded_classes(keras):
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    out = eu.experiment.train_and_evaluate(model, (x[:160], y[:160]), (x[160:200], y[160:200]),
                                           x[200:], epochs=3, batch_size=32, verbose=False)
    assert out["y_score"].shape == (40, 1)
    assert out["y_pred"].tolist() == (out["y_score"][:, 0] >= 0.5).astype(int).tolist()
    assert "y_true" not in out  # the test set came without labels
    assert out["best_score"] == max(out["history"]["val_selection"])


def test_a_batched_dataset_is_passed_through(keras):
    x, y = _data()
    batches = eu.models.rotating_batches(x[:160], y[:160], batch_size=32, seed=0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    out = eu.experiment.train_and_evaluate(model, batches, (x[160:200], y[160:200]),
                                           (x[200:], y[200:]), epochs=2, verbose=False)
    assert out["timing"]["epochs_run"] == 2 and out["y_pred"].shape == (40,)
    with pytest.raises(ValueError, match="score='val_loss'"):
        eu.experiment.train_and_evaluate(model, batches, batches, epochs=1, verbose=False)


def _random_batches(kind, x, y):
    if kind == "augmented":  # chapter 07's: fresh augmentation drawn in every batch
        return eu.interpatient.augmented_batches([x, x[:, :3, 0].copy()], y, {0: 1.0, 1: 2.0},
                                                 32, 0, 10, {})
    # chapter 06's: a new subsample of class 0 drawn at every epoch's end
    return eu.models.rotating_batches(x, y, batch_size=32, keep_fraction={0: 0.5}, seed=0)


def _first_windows(batches):
    inputs = batches[0][0]
    return np.asarray(inputs[0] if isinstance(inputs, tuple) else inputs)


@pytest.mark.parametrize("kind", ["augmented", "rotating"])
def test_a_py_dataset_trains_as_keras_own_pipeline_would(keras, kind):
    """train_and_evaluate feeds a PyDataset through its own tf.data pipeline (tf.data's
    autotuning off: Keras' own loses seconds per epoch). A PyDataset that draws random
    numbers must still give the training that Keras' pipeline gives, to the last bit."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 20, 1)).astype("float32")
    y = (x[:, 5, 0] > 0).astype(int)

    def model():
        keras.utils.set_random_seed(0)
        inputs = [keras.Input((20, 1))]
        h = keras.layers.Flatten()(inputs[0])
        if kind == "augmented":
            inputs.append(keras.Input((3,)))
            h = keras.layers.Concatenate()([h, inputs[1]])
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.Dropout(0.2)(h))
        m = keras.Model(inputs, out)
        m.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return m

    keras_own = model().fit(_random_batches(kind, x, y), epochs=3, shuffle=False,
                            verbose=0).history["loss"]
    ours = eu.experiment.train_and_evaluate(model(), _random_batches(kind, x, y), None,
                                            epochs=3, verbose=False)["history"]["loss"]
    assert ours == keras_own
    # the batches change from epoch to epoch: read in another order, they would differ
    batches = _random_batches(kind, x, y)
    before = _first_windows(batches)
    batches.on_epoch_end()
    assert not np.array_equal(before, _first_windows(batches))


def test_py_dataset_pipeline_turns_autotuning_off(keras):
    batches = eu.models.rotating_batches(*_data(), batch_size=32, seed=0)
    ds = eu.experiment.py_dataset_pipeline(batches)
    assert ds.options().autotune.enabled is False
    assert int(ds.cardinality()) == len(batches)


def test_extra_callbacks_run(keras):
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    seen = []
    spy = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    eu.experiment.train_and_evaluate(model, (x, y), None, epochs=3, callbacks=[spy],
                                     verbose=False)
    assert seen == [0, 1, 2]


def test_one_line_per_training(keras, capsys):
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    eu.experiment.train_and_evaluate(model, (x[:160], y[:160]), (x[160:], y[160:]), epochs=2,
                                     label="tiny")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tiny: 2 epochs")
