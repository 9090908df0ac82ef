"""Kaggle/Kachuee-format beats: builder, CSV reader/writer and its checks, splits, SMOTE."""
import os

import numpy as np
import pandas as pd
import pytest

import ecgutils as eu
import ecgutils.kaggle_beats as ek
import ecgutils.spectrograms as es
import ecgutils.stt as stt
from ecgutils.beats import Beats

requires_data = pytest.mark.skipif(not os.environ.get("ECG_DATA_DIR"),
                                   reason="ECG_DATA_DIR is not set: real-data test skipped")


def _spikes(fs=360, seconds=40, rr_s=0.8, first_s=0.3):
    t = np.arange(int(seconds * fs)) / fs
    r = np.arange(first_s, seconds, rr_s)
    return np.exp(-((t[:, None] - r) / 0.015) ** 2).sum(1), np.round(r * fs).astype(int)


def _good_rows(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=(n, 187)), np.arange(n) % 5


# ---------------------------------------------------------------- builder on synthetic signals
def test_extract_finds_every_spike_and_cuts_one_point_two_rr():
    x, r = _spikes(rr_s=0.8)
    beats, peaks = ek.extract_kachuee_beats(x, 360)
    assert beats.shape[1] == 187 and beats.dtype == np.float32
    # every detected peak is a true spike, and all spikes but those on window edges are found
    assert np.abs(peaks[:, None] - r[None, :]).min(axis=1).max() <= 2
    assert len(peaks) >= len(r) - 4
    assert np.all(beats[:, 0] >= 0.9)                     # each beat starts at its R peak
    assert np.all(beats >= 0) and np.all(beats <= 1)
    nonzero = (beats > 0).sum(axis=1)
    assert np.median(nonzero) == round(1.2 * 0.8 * 125)  # 1.2 T samples, then zeros


def test_extract_slow_rhythm_is_cut_to_187():
    x, _ = _spikes(rr_s=1.6, seconds=60)
    beats, _ = ek.extract_kachuee_beats(x, 360)
    assert beats.shape[1] == 187
    # 1.2 T = 1.92 s is longer than 187 samples (1.5 s at 125 Hz): the beat is cut, not
    # zero-padded, and the cut comes before the next R peak (1.6 s away)
    assert np.median((beats > 0).sum(axis=1)) == 187       # no zero padding
    assert np.all(beats[:, 20:].max(axis=1) < 0.5)          # no second R peak


def test_extract_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        ek.extract_kachuee_beats(np.zeros((10, 2)), 360)
    with pytest.raises(ValueError, match="NaN"):
        ek.extract_kachuee_beats(np.array([0.0, np.nan] * 3000), 360)
    with pytest.raises(ValueError, match="'fs'"):
        ek.extract_kachuee_beats(np.zeros(5000), 0)
    beats, peaks = ek.extract_kachuee_beats(np.zeros(100), 360)   # shorter than one window
    assert beats.shape == (0, 187) and peaks.size == 0


def test_extract_at_given_peaks_keeps_low_beats_and_their_samples():
    x, r = _spikes(rr_s=0.8)
    low = r[5]
    x = x - 0.6 * np.exp(-((np.arange(x.size) - low) / (0.015 * 360)) ** 2)   # a beat at 40 %
    _, thresholded = ek.extract_kachuee_beats(x, 360)
    assert np.abs(thresholded - low).min() > 2                   # the paper's threshold drops it
    beats, peaks = ek.extract_kachuee_beats(x, 360, r_samples=r[::-1])
    edge = r >= (x.size // 3600) * 3600                          # beats in the dropped tail
    assert np.array_equal(peaks, np.sort(r[~edge]))              # the given samples, unrounded
    assert low in peaks
    assert beats.shape == (len(peaks), 187)
    assert np.median((beats > 0).sum(axis=1)) == round(1.2 * 0.8 * 125)


def test_extract_at_given_peaks_single_peak_window_takes_median_period():
    x, r = _spikes(rr_s=0.8, seconds=30)
    given = np.concatenate([r[r < 3600], [4000], r[r >= 7200]])  # one peak in window 2
    beats, peaks = ek.extract_kachuee_beats(x, 360, r_samples=given)
    assert 4000 in peaks
    lone = beats[np.flatnonzero(peaks == 4000)[0]]
    assert (lone > 0).sum() == round(1.2 * 0.8 * 125)            # T of the other windows


def test_build_rejects_unknown_r_peak_source():
    with pytest.raises(ValueError, match="'r_peaks'.*threshold.*annotated"):
        ek.build_kaggle_beats(["100"], r_peaks="detector")
    with pytest.raises(ValueError, match="'r_peaks'"):
        ek.load_kaggle_beats(records=["100"], r_peaks="qrs")


def test_label_beats_matches_within_150_ms_only():
    labels = ek.label_beats([100, 460, 900, 2000], [102, 455, 700, 2000 + 60], [0, 2, 1, 4], 360)
    assert labels.tolist() == [0, 2, -1, -1]  # 900 is 200 ms from 700; 2060 is 167 ms away


# ---------------------------------------------------------------- CSV round trip and checks
def test_csv_round_trip_is_exact_format(tmp_path):
    X, y = _good_rows()
    path = ek.write_kaggle_csv(tmp_path / "mitbih_train.csv", X, y)
    first = path.read_text().splitlines()[0].split(",")
    assert len(first) == 188 and first[-1] == f"{float(y[0]):.18e}"
    X2, y2 = ek.read_kaggle_csv(path)
    np.testing.assert_allclose(X2, X.astype(np.float32))
    assert y2.tolist() == y.tolist()


def _write(tmp_path, lines, name="bad.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _line(values):
    return ",".join(str(v) for v in values)


@pytest.mark.parametrize("case, pattern", [
    ("header", r"row 1, column 1 is not a number"),
    ("short_row", r"row 3, column 1\d\d is missing"),
    ("long_row", r"188 comma-separated values"),
    ("nan", r"row 2, column 5 is missing .*or not finite"),
    ("inf", r"row 2, column 5 is missing .*or not finite"),
    ("text", r"row 4, column 10 is not a number \('abc'\)"),
    ("label_range", r"row 2 has label 7;"),
    ("label_fraction", r"row 3 has label 1.5;"),
    ("columns", r"row 1 has 100 columns, expected 188"),
])
def test_malformed_csv_names_file_and_row(tmp_path, case, pattern):
    X, y = _good_rows()
    rows = [_line(list(X[i]) + [float(y[i])]) for i in range(len(y))]
    if case == "header":
        rows.insert(0, _line([f"c{i}" for i in range(188)]))
    elif case == "short_row":
        rows[2] = _line(list(X[2][:180]) + [0.0])
    elif case == "long_row":
        rows[2] = _line(list(X[2]) + [0.0, 1.0, 2.0])
    elif case == "nan":
        rows[1] = _line(list(X[1][:4]) + ["nan"] + list(X[1][5:]) + [0.0])
    elif case == "inf":
        rows[1] = _line(list(X[1][:4]) + ["inf"] + list(X[1][5:]) + [0.0])
    elif case == "text":
        rows[3] = _line(list(X[3][:9]) + ["abc"] + list(X[3][10:]) + [0.0])
    elif case == "label_range":
        rows[1] = _line(list(X[1]) + [7.0])
    elif case == "label_fraction":
        rows[2] = _line(list(X[2]) + [1.5])
    elif case == "columns":
        rows = [_line(X[i][:99].tolist() + [0.0]) for i in range(3)]
    path = _write(tmp_path, rows)
    with pytest.raises(ValueError, match=pattern) as err:
        ek.read_kaggle_csv(path)
    assert str(path) in str(err.value)


def test_empty_and_missing_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        ek.read_kaggle_csv(empty)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        ek.read_kaggle_csv(tmp_path / "nope.csv")


def test_loader_reads_user_csv_dir_and_uses_its_split(tmp_path):
    X, y = _good_rows(10)
    ek.write_kaggle_csv(tmp_path / "mitbih_train.csv", X[:7], y[:7])
    ek.write_kaggle_csv(tmp_path / "mitbih_test.csv", X[7:], y[7:])
    beats = ek.load_kaggle_beats(csv_dir=tmp_path)
    assert len(beats) == 10 and beats.classes == ("N", "S", "V", "F", "Q")
    train, test = ek.split_beats(beats, "beat_random")
    assert train.tolist() == list(range(7)) and test.tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="needs each beat's record"):
        ek.split_beats(beats, "ds1ds2")


def test_loader_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="mitbih_test.csv"):
        ek.write_kaggle_csv(tmp_path / "mitbih_train.csv", *_good_rows(2))
        ek.load_kaggle_beats(csv_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="ptbdb_normal.csv"):
        ek.load_ptb_beats(tmp_path)


def test_ptb_loader_labels_and_checks(tmp_path):
    X, _ = _good_rows(6)
    ek.write_kaggle_csv(tmp_path / "ptbdb_normal.csv", X[:2], [0, 0])
    ek.write_kaggle_csv(tmp_path / "ptbdb_abnormal.csv", X[2:], [1, 1, 1, 1])
    ptb = ek.load_ptb_beats(tmp_path)
    assert ptb.y.tolist() == [0, 0, 1, 1, 1, 1] and ptb.classes == ("normal", "abnormal")
    ek.write_kaggle_csv(tmp_path / "ptbdb_abnormal.csv", X[2:], [1, 2, 1, 1])
    with pytest.raises(ValueError, match=r"ptbdb_abnormal.csv: row 2 has label 2"):
        ek.load_ptb_beats(tmp_path)
    ek.write_kaggle_csv(tmp_path / "ptbdb_abnormal.csv", X[2:], [1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"ptbdb_abnormal.csv: row 2 has label 0"):
        ek.load_ptb_beats(tmp_path)


# ---------------------------------------------------------------- splits
def _beats(X, y, record, sample, classes=ek.KAGGLE_CLASSES):
    """Kaggle-format beats with labels given as class indices."""
    return Beats(record, sample, np.asarray(classes)[y], classes=classes, X=X)


def test_beat_random_is_stratified_and_seeded():
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    b = _beats(np.zeros((100, 187)), y, np.full(100, "100"), np.arange(100))
    tr, te = ek.split_beats(b, "beat_random", seed=3)
    assert len(te) == 20 and np.bincount(y[te]).tolist() == [16, 3, 1]
    assert set(tr).isdisjoint(te)
    assert ek.split_beats(b, "beat_random", seed=3)[1].tolist() == te.tolist()
    assert ek.split_beats(b, "beat_random", seed=4)[1].tolist() != te.tolist()


def test_ds1ds2_is_by_record_and_bad_protocol():
    rec = np.array(["101", "100", "102", "106", "100"])
    b = _beats(np.zeros((5, 187)), np.zeros(5, int), rec, np.arange(5))
    tr, te = ek.split_beats(b, "ds1ds2")
    assert rec[tr].tolist() == ["101", "106"] and rec[te].tolist() == ["100", "100"]  # 102 paced
    with pytest.raises(ValueError, match="unknown protocol 'kaggle'"):
        ek.split_beats(b, "kaggle")


# ---------------------------------------------------------------- SMOTE and spectrograms
def test_smote_targets_and_small_class_fallback():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8))
    y = np.array([0] * 50 + [1] * 7 + [2] * 3)
    Xr, yr, info = ek.smote_oversample(X, y, {1: 20, 2: 20}, k_neighbors=5)
    assert np.bincount(yr).tolist() == [50, 20, 20]
    np.testing.assert_array_equal(Xr[:60], X)               # originals kept, new ones appended
    assert info[1]["k_neighbors"] == 5 and info[2]["k_neighbors"] == 2   # documented fallback
    lo, hi = X[y == 2].min(0), X[y == 2].max(0)            # synthetic class-2 beats interpolate
    assert np.all((Xr[60:][yr[60:] == 2] >= lo - 1e-9) & (Xr[60:][yr[60:] == 2] <= hi + 1e-9))


def test_smote_single_sample_class_is_a_clear_error():
    X, y = np.random.default_rng(0).normal(size=(11, 4)), np.array([0] * 10 + [1])
    with pytest.raises(ValueError, match="class 1.*1 training sample"):
        ek.smote_oversample(X, y, {1: 10})
    with pytest.raises(ValueError, match="'k_neighbors'"):
        ek.smote_oversample(X, y, {1: 10}, k_neighbors=0)


KAGGLE_SPECTROGRAM = dict(nperseg=32, noverlap=27, nfft=None, max_hz=None, n_freqs=16,
                          scale="unit", dynamic_range_db=60)


def test_spectrograms_shape_range_and_bad_input():
    X = np.random.default_rng(1).normal(size=(5, 187))
    S, freqs, times = es.beat_spectrograms(X, ek.FS_KAGGLE, **KAGGLE_SPECTROGRAM)
    assert S.shape == (5, 16, 32) and S.min() >= 0 and np.allclose(S.max(axis=(1, 2)), 1)
    assert freqs.max() < ek.FS_KAGGLE / 2 and times.size == 32
    one = es.beat_spectrograms(X[2:3], ek.FS_KAGGLE, **KAGGLE_SPECTROGRAM)[0]
    np.testing.assert_allclose(one[0], S[2], atol=1e-6)
    with pytest.raises(ValueError, match="noverlap"):
        es.beat_spectrograms(X, ek.FS_KAGGLE, nperseg=16, noverlap=16)
    with pytest.raises(ValueError, match="2-D"):
        es.beat_spectrograms(X[0], ek.FS_KAGGLE)
    with pytest.raises(ValueError, match="n_freqs"):
        es.beat_spectrograms(X, ek.FS_KAGGLE, **{**KAGGLE_SPECTROGRAM, "n_freqs": 40})


def test_mel_spectrograms_match_the_stft_layout_and_find_a_tone():
    """librosa's mel bands over the same frames: same image shape; a 20 Hz tone lands in
    the band nearest 20 Hz, as in the linear STFT."""
    t = np.arange(187) / ek.FS_KAGGLE
    X = np.stack([np.sin(2 * np.pi * 20 * t), np.sin(2 * np.pi * 45 * t)])
    kw = {**KAGGLE_SPECTROGRAM, "noverlap": 22}
    stft, f_stft, t_stft = es.beat_spectrograms(X, ek.FS_KAGGLE, **kw)
    mel, f_mel, t_mel = es.beat_spectrograms(X, ek.FS_KAGGLE, **kw, method="mel")
    assert mel.shape == stft.shape == (2, 16, 16) and np.allclose(t_mel, t_stft)
    assert np.all(np.diff(f_mel) > 0) and f_mel.max() < ek.FS_KAGGLE / 2
    for S, f in ((stft, f_stft), (mel, f_mel)):
        assert np.allclose(f[S.mean(axis=2).argmax(axis=1)], [20, 45], atol=4)
    with pytest.raises(ValueError, match="needs n_freqs"):
        es.beat_spectrograms(X, ek.FS_KAGGLE, method="mel", nfft=None, max_hz=None)


@requires_data
def test_build_on_real_records_labels_and_provenance(tmp_path):
    beats = ek.build_kaggle_beats(["100", "119"])
    assert beats.X.shape[1] == 187 and set(beats.record) == {"100", "119"}
    assert set(np.unique(beats.y)) <= {0, 1, 2, 3, 4}
    assert (beats.y[beats.record == "119"] == 2).sum() > 50     # 119 has many PVCs
    # each beat's sample is within 150 ms of an annotated beat of the same class
    import ecgutils as eu
    table = eu.data.beat_table("mitdb", ["100"])
    sel = beats.record == "100"
    gap = np.abs(beats.sample[sel][:, None] - table["sample"].to_numpy()[None, :]).min(1)
    assert gap.max() <= 0.15 * 360
    path = ek.write_kaggle_csv(tmp_path / "b.csv", beats.X, beats.y)
    X, y = ek.read_kaggle_csv(path)
    assert np.array_equal(y, beats.y) and np.allclose(X, beats.X)


@requires_data
def test_annotated_build_keeps_nearly_every_annotated_beat():
    import ecgutils as eu
    records = ["100", "119", "208"]
    beats = ek.build_kaggle_beats(records, r_peaks="annotated")
    table = eu.data.beat_table("mitdb", records)
    want = table["aami"].value_counts()
    got = pd.Series(np.asarray(ek.KAGGLE_CLASSES)[beats.y]).value_counts()
    for cls, n in want.items():
        assert abs(got.get(cls, 0) - n) <= max(3, 0.01 * n), (cls, got.get(cls, 0), n)
    for rec in records:   # every beat sits exactly on an annotated beat of its record
        assert np.isin(beats.sample[beats.record == rec],
                       table.loc[table.record == rec, "sample"]).all()
    assert len(ek.build_kaggle_beats(records)) < 0.9 * len(beats)   # the threshold misses many


# ---------------------------------------------------------------- ST-T episodes (transfer task)
@requires_data
def test_st_t_beats_on_real_excerpts():
    beats = stt.build_st_t_beats(["sele0104", "sele0107"])
    assert beats.classes == ("normal", "abnormal")
    assert set(beats.record) == {"sele0104", "sele0107"}
    assert beats.y[beats.record == "sele0107"].sum() == 0     # no episodes in sele0107
    assert beats.y[beats.record == "sele0104"].sum() > 0      # T-wave episode from 6637 on
    # labels follow stt.st_episodes of signal 0: its ST depression 158947-176553 is abnormal
    s, y = beats.sample[beats.record == "sele0104"], beats.y[beats.record == "sele0104"]
    assert y[(s >= 158947) & (s <= 176553)].all()


# ---------------------------------------------------------------- scaling
def test_beat_scaler_keeps_shapes_where_a_per_sample_scaler_blows_up_the_padding():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = np.zeros((200, 187))
    X[:, :100] = rng.uniform(0, 1, (200, 100))
    X[0, :180] = rng.uniform(0, 1, 180)          # one long beat reaches into the padding
    per_sample = StandardScaler().fit(X).transform(X)
    # why we do not scale per sample: the long beat's tail becomes one large constant
    assert np.ptp(X[0, 150:180]) > 0.5 and np.ptp(per_sample[0, 150:180]) < 1e-9
    assert per_sample[0, 150:180].min() > 14
    scaled = ek.scale_beats(ek.fit_beat_scaler(X), X)
    assert scaled.shape == (200, 187, 1) and scaled.dtype == np.float32
    assert np.abs(scaled).max() < 5
    # one affine map for every value: each beat keeps its shape and its padding stays flat
    assert np.allclose(scaled[..., 0], (X - X.mean()) / X.std(), atol=1e-5)
    assert np.ptp(scaled[5, 100:, 0]) == 0


def test_scale_beats_refuses_a_stack_that_is_not_2d():
    scaler = ek.fit_beat_scaler(np.ones((3, 187)))
    with pytest.raises(ValueError, match=r"2-D stack of beats, got shape \(3, 187, 1\)"):
        ek.scale_beats(scaler, np.ones((3, 187, 1)))


def test_scaled_splits_hold_out_stratified_validation_and_scale_with_training_beats():
    rng = np.random.default_rng(0)
    b = _beats(rng.random((100, 187)), np.array([0] * 80 + [1] * 20), np.full(100, "100"),
               np.arange(100))
    parts = ek.scaled_splits(b, np.arange(80, dtype=int).tolist() + list(range(80, 96)),
                             np.arange(96, 100), val_fraction=0.25, seed=0)
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = parts["train"], parts["val"], parts["test"]
    assert (len(y_tr), len(y_va), len(y_te)) == (72, 24, 4)
    assert y_va.sum() == 4                                        # stratified: 16 of 96 are 1
    assert abs(float(X_tr.mean())) < 1e-5 and abs(float(X_tr.std()) - 1) < 1e-4
    given = ek.fit_beat_scaler(np.zeros((2, 187)) + [[0.0], [2.0]])
    reused = ek.scaled_splits(b, np.arange(96), np.arange(96, 100), scaler=given)
    assert reused["scaler"] is given
    assert np.allclose(reused["test"][0][..., 0], b.X[96:] - 1.0, atol=1e-6)


def test_split_by_record_keeps_patients_whole_and_both_kinds_in_every_part():
    rec = np.repeat([f"r{i}" for i in range(10)], 4)
    y = np.isin(rec, ["r0", "r1", "r2", "r3", "r4"]) & (np.arange(40) % 4 == 0)
    beats = _beats(np.zeros((40, 187)), y.astype(int), rec, np.arange(40), ek.PTB_CLASSES)
    split, index = ek.split_by_record(beats, (0.6, 0.2, 0.2), seed=3)
    assert sorted(sum(split.values(), [])) == sorted(set(rec))
    for part in ("train", "val", "test"):
        assert set(rec[index[part]]) == set(split[part])
        assert 0 < beats.y[index[part]].sum() < len(index[part])   # episodes and none


def test_saved_model_on_raw_beats_predicts_as_the_model_on_scaled_beats(tmp_path):
    import ecgutils as eu

    eu.models.import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = np.arange(80) % 5
    X = rng.uniform(0, 0.2, (80, 187))
    X[np.arange(80)[:, None], 30 * y[:, None] + np.arange(20)] += 0.8   # a bump per class
    scaler = ek.fit_beat_scaler(X[:60])
    model = eu.models.build_beat_cnn1d(filters=(4, 4, 4, 4), dense_units=8)
    # a few epochs, so that the outputs differ between beats and a wrong scaling shows
    model.fit(ek.scale_beats(scaler, X[:60]), y[:60], epochs=15, verbose=0)
    in_memory = model.predict(ek.scale_beats(scaler, X), verbose=0)
    assert len(set(in_memory.argmax(1))) > 2
    pre = ek.beat_preprocessing(scaler, ek.KAGGLE_CLASSES, "annotated")
    path = eu.experiment.save_model(model, tmp_path / "beats.keras", pre)

    labels, proba = ek.classify_beats(path, X)
    assert np.allclose(proba, in_memory, atol=1e-6)
    assert labels.tolist() == np.asarray(ek.KAGGLE_CLASSES)[in_memory.argmax(1)].tolist()
    _, stored = eu.experiment.load_model(path, expect=ek.MODEL_KIND)
    assert (stored["fs"], stored["beat_length"], stored["r_peaks"]) == (125, 187, "annotated")
    assert stored["classes"] == list(ek.KAGGLE_CLASSES)
    assert stored["scaler"] == {"mean": float(scaler.mean_[0]), "sd": float(scaler.scale_[0])}
    with pytest.raises(ValueError, match=r"beats of shape \(n, 187\) at 125 Hz"):
        ek.classify_beats(path, X[:, :100])


@requires_data
def test_kept_beats_table_counts_classes_as_integers():
    table = ek.kept_beats_table(["100", "119"])
    assert table.index.tolist() == list(ek.KAGGLE_CLASSES)
    assert table["annotated beats"].dtype.kind == "i" and not table.isna().any().any()
    assert (table["annotated R peaks"] <= table["annotated beats"]).all()
    assert table.loc["V", "threshold R peaks"] < table.loc["V", "annotated R peaks"]


# ---------------------------------------------------------------- notebook parameters
@pytest.mark.slow
@pytest.mark.parametrize("name, param, value, message", [
    ("06_beat_1d_cnn", "epochs", "0", "parameter 'epochs' must be an integer >= 1, got 0"),
    ("05_smote_spectrogram_cnn", "epochs", "0", "parameter 'epochs' must be an integer >= 1, got 0"),
    ("06_beat_1d_cnn", "r_peaks", "qrs", "parameter 'r_peaks' must be one of"),
    ("06_beat_1d_cnn", "normal_fraction", "0", "parameter 'normal_fraction' must be a number > 0 and <= 1"),
])
def test_notebook_refuses_bad_parameters_before_work(name, param, value, message, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    papermill = Path(sys.executable).parent / "papermill"
    proc = subprocess.run(
        [str(papermill), "-k", "python3", "--cwd", str(root / "notebooks"),
         str(root / "notebooks" / f"{name}.ipynb"), str(tmp_path / "out.ipynb"),
         "-p", param, value, "-p", "results_dir", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()                 # nothing was trained or written


def test_class_error_report_finds_records_and_symbols_of_the_errors(make_record):
    """Every DS2 (test) beat called V: the false V calls are its N and L beats, by record
    and by reference symbol, and the L beats (bundle branch block) are counted."""
    n = 20
    folder, _, _ = make_record(name="101", seconds=30)                       # DS1
    folder, _, _ = make_record(name="100", seconds=30, symbols=["N", "L", "V", "L"] * n)  # DS2
    beats = ek.build_kaggle_beats(["101", "100"], "testdb", folder.parent, r_peaks="annotated")
    test = ek.split_beats(beats, "ds1ds2")[1]
    result = {"y_true": beats.y[test], "y_pred": np.full(len(test), 2)}       # all called V
    summary, by_record = ek.class_error_report(beats, result, "V", db="testdb", root=folder.parent)
    symbols = eu.data.symbols_at(beats.record[test], beats.sample[test], "testdb", folder.parent)
    assert summary["missed"] == 0 and summary["false"] == int((symbols != "V").sum()) > 0
    assert summary["top_record"] == "100" and summary["top_record_share"] == 1.0
    assert summary["false_bbb"] == pytest.approx((symbols == "L").sum() / (symbols != "V").sum())
    assert summary["false_symbols"].split(", ")[0].endswith(" L")
    assert by_record.index.tolist() == ["100"] and by_record["false V"].iloc[0] == summary["false"]
