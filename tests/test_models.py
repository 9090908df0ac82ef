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


def test_rotating_batches_keep_rare_classes_and_draw_fresh_common_ones():
    import numpy as np

    import ecgutils as eu

    y = np.array([0] * 300 + [1] * 40 + [2] * 20)
    X = np.arange(len(y), dtype=np.float32)[:, None]        # a sample's value is its index
    batches = eu.models.rotating_batches(X, y, batch_size=32, keep_fraction={0: 0.25},
                                         class_weight={0: 1.0, 1: 2.0, 2: 5.0}, seed=1)
    assert batches.epoch_size == 75 + 40 + 20 and len(batches) == 5
    seen_common = []
    for _ in range(3):
        parts = [batches[i] for i in range(len(batches))]
        index = np.concatenate([p[0][:, 0] for p in parts]).astype(int)
        labels, weights = np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
        assert len(index) == len(set(index)) == 135                    # no repeats in an epoch
        assert np.array_equal(labels, y[index])
        assert set(index[labels == 1]) == set(range(300, 340))         # rare classes whole
        assert set(index[labels == 2]) == set(range(340, 360))
        assert np.allclose(weights, np.select([labels == 0, labels == 1], [4.0, 2.0], 5.0))
        seen_common.append(set(index[labels == 0]))
        batches.on_epoch_end()
    assert seen_common[0] != seen_common[1]                            # a fresh draw each epoch
    assert len(set.union(*seen_common)) > 150


def test_rotating_batches_refuse_a_bad_fraction():
    import numpy as np
    import pytest

    import ecgutils as eu

    with pytest.raises(ValueError, match=r"'keep_fraction' for class 0 must be in \(0, 1\]"):
        eu.models.rotating_batches(np.zeros((4, 1)), np.zeros(4, int), keep_fraction={0: 0})


def test_transfer_network_reuses_and_freezes_the_pretrained_convolutions():
    import numpy as np

    import ecgutils as eu

    base = eu.models.build_beat_cnn1d(filters=(4, 4, 4, 4), dense_units=8)
    new = eu.models.build_beat_cnn1d_transfer(base, n_classes=3)
    assert new.output_shape == (None, 3) and new.name == "transfer"
    assert new.get_layer("conv1") is base.get_layer("conv1")
    frozen = {layer.name for layer in new.layers if not layer.trainable}
    assert {"conv1", "conv4", "bn1", "bn4"} <= frozen and "dense" not in frozen
    before = base.get_layer("conv2").get_weights()[0].copy()
    new.fit(np.random.default_rng(0).normal(size=(16, 187, 1)), np.arange(16) % 3, epochs=1,
            verbose=0)
    assert np.array_equal(base.get_layer("conv2").get_weights()[0], before)
    scratch = eu.models.build_beat_cnn1d_transfer()
    assert scratch.name == "scratch" and all(layer.trainable for layer in scratch.layers)


def test_siamese_waveform_compares_the_beat_with_the_usual_beat(tmp_path):
    import keras
    import numpy as np

    import ecgutils as eu
    from ecgutils.interpatient import BeatSpec

    rng = np.random.default_rng(0)
    model = eu.models.build_interpatient_model(
        BeatSpec(), rr_train=rng.normal(size=(20, 17)).astype("float32"), siamese=True)
    beats = rng.normal(size=(6, 90, 1)).astype("float32")
    rr = rng.normal(size=(6, 17)).astype("float32")
    difference = keras.Model(model.inputs, model.get_layer("beat_minus_usual").output)
    # the second channel is the beat minus the usual beat: zero when they are the same
    same = np.concatenate([beats, np.zeros_like(beats)], axis=-1)
    other = np.concatenate([beats, beats], axis=-1)   # the usual beat a flat line
    assert np.abs(difference.predict([same, rr], verbose=0)).max() == 0
    assert np.abs(difference.predict([other, rr], verbose=0)).max() > 0
    model.optimizer.build(model.trainable_variables)   # saved as a trained one would be
    model.save(tmp_path / "siamese.keras")
    loaded = keras.models.load_model(tmp_path / "siamese.keras", safe_mode=True)
    assert np.allclose(loaded.predict([other, rr], verbose=0),
                       model.predict([other, rr], verbose=0))


def test_s_from_rhythm_decides_s_against_n_from_the_rr_features_alone(tmp_path):
    import keras
    import numpy as np
    import pytest

    import ecgutils as eu
    from ecgutils.interpatient import BeatSpec

    rng = np.random.default_rng(0)
    model = eu.models.build_interpatient_model(
        BeatSpec(), rr_train=rng.normal(size=(20, 17)).astype("float32"), s_from_rhythm=True)
    rr = rng.normal(size=(6, 17)).astype("float32")
    a, b = (rng.normal(size=(6, 90, 2)).astype("float32") for _ in range(2))
    pa, pb = (model.predict([w, rr], verbose=0) for w in (a, b))
    assert np.allclose(pa.sum(axis=1), 1, atol=1e-5) and (pa >= 0).all()
    # another waveform moves P(V), not the split of the rest between N and S
    assert np.abs(pa[:, 2] - pb[:, 2]).max() > 1e-4
    assert np.allclose(pa[:, 1] / pa[:, :2].sum(1), pb[:, 1] / pb[:, :2].sum(1), atol=1e-5)
    # other RR features do move it
    pc = model.predict([a, rr + 2], verbose=0)
    assert np.abs(pc[:, 1] / pc[:, :2].sum(1) - pa[:, 1] / pa[:, :2].sum(1)).max() > 1e-4
    # the fixed 1 - P(V) does not learn
    model.fit([a, rr], np.array([0, 1, 2, 0, 1, 2]), epochs=2, verbose=0)
    not_v = model.get_layer("not_v").get_weights()
    assert not_v[0].ravel().tolist() == [-1.0] and not_v[1].tolist() == [1.0]
    model.save(tmp_path / "s_from_rhythm.keras")
    loaded = keras.models.load_model(tmp_path / "s_from_rhythm.keras", safe_mode=True)
    assert np.allclose(loaded.predict([a, rr], verbose=0), model.predict([a, rr], verbose=0))
    with pytest.raises(ValueError, match="s_from_rhythm needs the classes"):
        eu.models.build_interpatient_model(BeatSpec(classes=("N", "S", "V", "F")),
                                           s_from_rhythm=True)


def test_the_premature_rule_moves_n_to_s_where_flagged_and_loads_in_safe_mode(tmp_path):
    import subprocess
    import sys

    import numpy as np
    import pytest

    from ecgutils.annotate import MODEL_KIND

    import ecgutils as eu
    from ecgutils.interpatient import BeatSpec

    rng = np.random.default_rng(0)
    spec = BeatSpec(premature_rule=(0.85, 0.1))
    net = eu.models.build_interpatient_model(
        spec, rr_train=rng.normal(size=(20, 18)).astype("float32"))
    w = rng.normal(size=(6, 90, 2)).astype("float32")
    rr = rng.normal(size=(6, 18)).astype("float32")
    rr[:, -1] = [0, 1, 0, 1, 0, 0]
    ruled = eu.models.with_premature_rule(net, spec)
    p, q = net.predict([w, rr], verbose=0), ruled.predict([w, rr], verbose=0)
    moved = (rr[:, -1] == 1) & (p.argmax(1) != 2)
    assert moved.any()
    assert np.allclose(q[~moved], p[~moved])
    assert np.allclose(q[moved, 0], 0) and np.allclose(q[:, 2], p[:, 2])
    assert np.allclose(q[moved, 1], p[moved, 0] + p[moved, 1])
    # a flagged beat the network labels V stays V, even where P(N) + P(S) is larger
    rule = eu.models._premature_rule_layer()()
    v = np.array([[0.3, 0.2, 0.5], [0.35, 0.2, 0.45], [0.5, 0.2, 0.3]], "float32")
    out = np.asarray(rule([v, np.ones((3, 18), "float32")]))
    assert np.allclose(out[:2], v[:2]) and np.allclose(out[2], [0, 0.7, 0.3])
    # the network never reads the flag: flipping it changes nothing before the rule
    flipped = rr.copy()
    flipped[:, -1] = 1 - flipped[:, -1]
    assert np.allclose(net.predict([w, flipped], verbose=0), p)
    path = tmp_path / "07_new_patients.keras"
    eu.experiment.save_model(ruled, path, {"kind": MODEL_KIND, "spec": spec.to_dict()})
    np.savez(tmp_path / "x.npz", w=w, rr=rr)
    # a fresh interpreter: the layer is found with safe_mode=True once ecgutils loads it
    code = ("import numpy as np, ecgutils as eu; m, _ = eu.experiment.load_model("
            f"{str(path)!r}); x = np.load({str(tmp_path / 'x.npz')!r}); "
            "np.save('out.npy', m.predict([x['w'], x['rr']], verbose=0))")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert np.allclose(np.load(tmp_path / "out.npy"), q, atol=1e-6)
    with pytest.raises(ValueError, match="premature_rule is"):
        eu.models.with_premature_rule(net, BeatSpec(premature_rule=()))
