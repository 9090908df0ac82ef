"""Chapter 06's 1D CNN: training speed of two block orders, same layers and weights count.

``pool_first`` is ``eu.models.build_beat_cnn1d``: Conv1D -> MaxPool -> BatchNorm ->
LeakyReLU per block, one Dropout after the last block. ``classic`` is the common order,
Conv1D -> BatchNorm -> LeakyReLU -> MaxPool -> Dropout in every block (the chapter's
network until November 2026). Both have the same convolutions, dense head and number of
weights; only where the elementwise layers run differs.

Each model trains ``--repeats`` epochs on the same random beats after a warm-up epoch;
the script prints the median beats per second of each and their ratio, all measured in
one run (timings on shared machines are noisy, so compare ratios, not absolute rates)::

    python benchmarks/beat_cnn1d_speed.py

Measured on 2 cores (November 2026): ratio 1.00 at batch 64 and at batch 256, for three
and four blocks. The order does not matter for speed here; what made chapter 06's
training cheaper is its shorter epochs (``eu.models.rotating_batches``).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ecgutils as eu


def build_classic(filters, pool_sizes, kernel_size=5, dense_units=128, dropout=0.05):
    """The same network with Conv-BN-LeakyReLU-Pool-Dropout blocks."""
    import keras
    from keras import layers

    inputs = keras.Input((187, 1))
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv1D(f, kernel_size if i == 0 else max(3, kernel_size - 2 * (i > 1)),
                          padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.1)(x)
        x = layers.MaxPooling1D(pool_sizes[i])(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    x = layers.LeakyReLU(0.1)(layers.Dense(dense_units)(x))
    x = layers.Dropout(2 * dropout)(x)
    model = keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy")
    return model


def beats_per_second(model, X, y, batch_size, repeats):
    model.fit(X[:4096], y[:4096], batch_size=batch_size, epochs=1, verbose=0)  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y, batch_size=batch_size, epochs=1, verbose=0)
        rates.append(len(X) / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    eu.models.import_tensorflow()
    import keras

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.beats, 187, 1)).astype("float32")
    y = rng.integers(0, 5, args.beats)
    filters, pools = (32, 64, 128, 256), (3, 2, 2, 2)   # the chapter's network
    keras.utils.set_random_seed(0)
    pool_first = eu.models.build_beat_cnn1d(filters=filters, pool_sizes=pools)
    classic = build_classic(filters, pools)
    assert pool_first.count_params() == classic.count_params()
    rates = {"pool_first": beats_per_second(pool_first, X, y, args.batch_size, args.repeats),
             "classic": beats_per_second(classic, X, y, args.batch_size, args.repeats)}
    print(f"{args.beats} beats, batch {args.batch_size}, filters {filters}, median of "
          f"{args.repeats} epochs each")
    for name, rate in rates.items():
        print(f"  {name:10s} {rate:8.0f} beats/s")
    print(f"  ratio pool_first / classic: {rates['pool_first'] / rates['classic']:.2f}")


if __name__ == "__main__":
    main()
