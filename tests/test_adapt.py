"""The record-adaptive step (eu.adapt): shape families of a record's beats share their V
probability; families never cross records or half-hour stretches; annotate --adapt."""
import inspect

import numpy as np
import pytest
import wfdb

import ecgutils as eu
from ecgutils.adapt import ADAPT, adapt_to_record, cluster_beats, share_within_clusters
from ecgutils.interpatient import BeatSpec, record_inputs
from conftest import synthetic_ecg

SPEC = BeatSpec()


def _record_windows(rng, n_normal=300, n_v=30):
    """Beat windows of one record: narrow N beats, a family of wide V beats, in time
    order (V beats scattered), and the position of the V beats."""
    t = np.arange(SPEC.window_length) / SPEC.fs - SPEC.before_s
    narrow = np.exp(-(t / 0.012) ** 2)
    wide = -1.2 * np.exp(-((t - 0.02) / 0.05) ** 2)
    is_v = np.zeros(n_normal + n_v, bool)
    is_v[rng.choice(len(is_v), n_v, replace=False)] = True
    shape = np.where(is_v[:, None], wide, narrow) + rng.normal(0, 0.03, (len(is_v), t.size))
    return np.stack([shape, shape - narrow], axis=-1).astype("float32"), is_v


def test_a_missed_v_beat_of_a_v_family_becomes_v_and_an_odd_n_beat_goes_back():
    rng = np.random.default_rng(0)
    windows, is_v = _record_windows(rng)
    proba = np.where(is_v[:, None], [0.05, 0.05, 0.9], [0.9, 0.08, 0.02])
    v, n = np.flatnonzero(is_v), np.flatnonzero(~is_v)
    proba[v[:3]] = [0.6, 0.1, 0.3]            # V beats the model missed
    proba[n[:3]] = [0.35, 0.05, 0.6]          # N beats it called V
    before = SPEC.labels(proba)
    after = SPEC.labels(adapt_to_record(proba, windows, spec=SPEC))
    assert (before[v[:3]] == "N").all() and (after[v[:3]] == "V").all()
    assert (before[n[:3]] == "V").all() and (after[n[:3]] == "N").all()
    assert (after == np.where(is_v, "V", "N")).all()


def test_n_and_s_keep_their_ratio_and_rows_sum_to_one():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([2, 1, 1], 200)
    clusters = rng.integers(0, 5, 200)
    out = share_within_clusters(proba, clusters, strength=0.7)
    assert np.allclose(out.sum(1), 1)
    assert np.allclose(out[:, 0] / out[:, 1], proba[:, 0] / proba[:, 1])
    for c in range(5):                        # V of a family: mean kept, spread shrunk
        m = clusters == c
        assert out[m, 2].mean() == pytest.approx(proba[m, 2].mean())
        assert out[m, 2].std() == pytest.approx(0.3 * proba[m, 2].std())
    assert np.allclose(share_within_clusters(proba, clusters, strength=0), proba)


def test_families_never_cross_records_or_stretches():
    rng = np.random.default_rng(2)
    shapes = np.repeat(rng.normal(size=(1, 6)), 100, axis=0) + rng.normal(0, .01, (100, 6))
    groups = np.repeat(["a", "b"], 50)
    ids = cluster_beats(shapes, groups, n_clusters=3)
    assert not set(ids[:50]) & set(ids[50:])
    ids = cluster_beats(shapes, None, n_clusters=3, block_beats=30)   # 4 stretches of 25
    stretches = [set(ids[i:i + 25]) for i in range(0, 100, 25)]
    assert all(not a & b for i, a in enumerate(stretches) for b in stretches[i + 1:])
    # Identical beats: one family, whatever n_clusters asks.
    assert len(set(cluster_beats(np.ones((10, 4)), n_clusters=4))) == 1


def test_the_adaptive_step_reads_no_label():
    params = set(inspect.signature(adapt_to_record).parameters)
    assert not params & {"label", "labels", "y", "reference"}
    assert set(ADAPT) == {"n_clusters", "strength", "block_beats", "qrs_s"}


@pytest.mark.parametrize("call, words", [
    (lambda: share_within_clusters(np.ones((3, 3)) / 3, [0, 0, 0], strength=2), "strength"),
    (lambda: share_within_clusters(np.ones((3, 2)) / 2, [0, 0, 0]), "shape"),
    (lambda: adapt_to_record(np.ones((3, 3)) / 3, np.zeros((2, 90, 2))), "windows"),
    (lambda: adapt_to_record(np.ones((3, 3)) / 3, np.zeros((3, 90, 2)), k=3), "unknown"),
    (lambda: cluster_beats(np.zeros((3, 2)), ["a"]), "groups"),
])
def test_bad_arguments_are_named(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def _own_record(tmp_path, fs=250):
    x, _ = synthetic_ecg(fs, 90, seed=3)
    wfdb.wrsamp("own", fs=fs, units=["mV"], sig_name=["II"], p_signal=x[:, None],
                fmt=["16"], adc_gain=[1000], baseline=[0], write_dir=str(tmp_path))
    return tmp_path / "own"


def test_annotate_adapt_applies_the_step_to_the_model_probabilities(tmp_path, model_file,
                                                                    monkeypatch):
    """--adapt reaches annotate_files, which hands the model's probabilities and windows
    to eu.adapt.adapt_to_record and writes what it returns; without it, nothing changes."""
    from ecgutils.__main__ import main
    from ecgutils.own_recording import annotate_files

    record = _own_record(tmp_path)
    seen = {}
    monkeypatch.setattr(eu.own_recording, "annotate_files",
                        lambda *args, **kwargs: seen.update(kwargs))
    main(["annotate", str(record), "--out", str(tmp_path / "cli"), "--adapt"])
    assert seen["adapt"] is True
    monkeypatch.undo()

    cols = ["p_N", "p_S", "p_V"]
    plain = annotate_files([record], model_file, tmp_path / "plain", report=False,
                           progress=False)[0]["table"]
    # the real step: the written table is adapt_to_record of the model's probabilities
    adapted = annotate_files([record], model_file, tmp_path / "adapted", report=False,
                             progress=False, adapt=True)[0]["table"]
    _, spec = eu.annotate.load_classifier(model_file)
    windows, _ = record_inputs(eu.recordings.read_recording(record).signal, 250,
                               plain["sample"].to_numpy(), spec)
    expected = adapt_to_record(plain[cols].to_numpy(), windows, spec=spec)
    assert np.allclose(adapted[cols].to_numpy(), expected, atol=1e-6)
    assert adapted.attrs["adapted"] and not plain.attrs["adapted"]
    # and whatever the step returns is what the table holds
    monkeypatch.setattr(eu.adapt, "adapt_to_record", lambda p, w, **kw: p[:, ::-1])
    flipped = annotate_files([record], model_file, tmp_path / "flipped", report=False,
                             progress=False, adapt=True)[0]["table"]
    assert np.allclose(flipped[cols].to_numpy(), plain[cols].to_numpy()[:, ::-1])
