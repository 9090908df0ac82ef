import subprocess
import sys

SCRIPT = """
import ecgutils as eu
tf = eu.models.import_tensorflow()
import keras, numpy as np
m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
m.compile("adam", "sparse_categorical_crossentropy")
m.fit(np.zeros((32, 8)), np.zeros(32), epochs=1, verbose=0)
print(m.predict(np.zeros((4, 8)), verbose=0).shape)
import sys; print("later stderr still works", file=sys.stderr)
"""


def test_tensorflow_starts_quietly():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "(4, 2)"
    assert proc.stderr.strip() == "later stderr still works", proc.stderr[-2000:]


def test_ecgutils_does_not_import_tensorflow():
    proc = subprocess.run([sys.executable, "-c",
                           "import sys, ecgutils; print('tensorflow' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False" and proc.stderr == "", proc.stderr


def test_beat_cnn1d_pools_per_block_and_checks_their_number():
    import pytest

    import ecgutils as eu

    model = eu.models.build_beat_cnn1d(n_classes=5, filters=(8, 16, 16), pool_sizes=(3, 2, 2))
    assert [model.get_layer(f"pool{i}").output.shape[1] for i in (1, 2, 3)] == [62, 31, 15]
    assert model.output_shape == (None, 5)
    with pytest.raises(ValueError, match="'pool_sizes'.*one size per block"):
        eu.models.build_beat_cnn1d(filters=(8, 16, 16), pool_sizes=(2, 2))
