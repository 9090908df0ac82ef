import numpy as np
import pytest

import ecgutils as eu
from conftest import requires_data, synthetic_ecg


@pytest.mark.parametrize("fs,hr", [(360, 60), (360, 150), (250, 45), (125, 100)])
def test_detector_finds_every_synthetic_beat(fs, hr):
    x, truth = synthetic_ecg(fs=fs, seconds=60, hr_bpm=hr, noise=0.05, seed=hr)
    peaks = eu.signal.detect_r_peaks(x, fs)
    score = eu.signal.score_detections(truth, peaks, fs)
    assert score["se"] == 1.0 and score["ppv"] == 1.0, score
    ref_to_det, _ = eu.signal.match_beats(truth, peaks, fs)
    assert np.abs(peaks[ref_to_det] - truth).max() <= 0.02 * fs  # lands on the R wave


def test_detector_follows_amplitude_changes():
    x, truth = synthetic_ecg(seconds=60, seed=3)
    x[len(x) // 2:] *= 0.2  # lead contact change: beats become 5x smaller
    score = eu.signal.score_detections(truth, eu.signal.detect_r_peaks(x, 360), 360)
    assert score["se"] >= 0.98 and score["ppv"] >= 0.98, score


def test_detector_bad_input():
    with pytest.raises(ValueError, match="NaN or inf"):
        eu.signal.detect_r_peaks(np.full(3600, np.nan), 360)
    with pytest.raises(ValueError, match="one lead"):
        eu.signal.detect_r_peaks(np.zeros((3600, 2)), 360)
    with pytest.raises(ValueError, match="at least 2 s"):
        eu.signal.detect_r_peaks(np.zeros(100), 360)


def test_scoring_counts_and_exclusion():
    s = eu.signal.score_detections([110, 480, 2000], [100, 500, 1000, 5000], fs=360,
                                   exclude=[(4000, 6000)])
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 1)
    # one detection cannot match two beats
    s = eu.signal.score_detections([90, 110], [100], fs=360)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 1)
    # 50 samples = 139 ms: inside the 150 ms window, outside a 100 ms one
    s = eu.signal.score_detections([100 + 50], [100], fs=360)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 0)
    s = eu.signal.score_detections([100 + 50], [100], fs=360, tolerance_s=0.1)
    assert (s["tp"], s["fp"], s["fn"]) == (0, 1, 1)
    s = eu.signal.score_detections([100 + 55], [100], fs=360)  # 153 ms
    assert (s["tp"], s["fp"], s["fn"]) == (0, 1, 1)


def test_segment_beats_vectorised_and_edges():
    x = np.arange(100.0)
    beats, kept = eu.signal.segment_beats(x, [0, 50, 99], fs=10, before_s=0.3, after_s=0.5)
    assert beats.shape == (3, 8) and kept.tolist() == [0, 1, 2]
    assert beats[1].tolist() == list(range(47, 55))
    assert beats[0, :3].tolist() == [0, 0, 0] and beats[2, -1] == 99
    beats, kept = eu.signal.segment_beats(np.stack([x, -x], 1), [0, 50, 99], fs=10,
                                          before_s=0.3, after_s=0.5, edge="drop")
    assert beats.shape == (1, 8, 2) and kept.tolist() == [1]
    with pytest.raises(ValueError, match="edge"):
        eu.signal.segment_beats(x, [5], fs=10, edge="wrap")


def test_bandpass_removes_wander_and_keeps_qrs():
    x, truth = synthetic_ecg(seconds=30, noise=0)
    t = np.arange(x.size) / 360
    wander = 0.5 * np.sin(2 * np.pi * 0.1 * t)
    assert np.std(eu.signal.bandpass_filter(wander, 360)[360:-360]) < 0.02
    y = eu.signal.bandpass_filter(x + wander, 360)
    assert np.all(y[truth] > 0.5)                          # R waves kept
    with pytest.raises(ValueError, match="high_hz"):
        eu.signal.bandpass_filter(x, 360, 0.5, 200)


def test_wavelet_denoise_per_signal_threshold():
    rng = np.random.default_rng(0)
    x, _ = synthetic_ecg(seconds=10, noise=0)
    stack = np.stack([x + 0.01 * rng.standard_normal(x.size), x + 0.2 * rng.standard_normal(x.size)])
    y = eu.signal.wavelet_denoise(stack)
    assert y.shape == stack.shape
    err_in = np.std(stack - x, axis=1)
    err_out = np.std(y - x, axis=1)
    assert err_out[1] < 0.65 * err_in[1]       # heavy noise: much reduced
    assert err_out[0] < 3 * err_in[0]          # light noise: signal not destroyed


def test_zscore_and_resample():
    z = eu.signal.zscore(np.random.default_rng(1).normal(5, 3, size=(4, 500)))
    assert np.allclose(z.mean(1), 0) and np.allclose(z.std(1), 1)
    x, _ = synthetic_ecg(fs=360, seconds=10)
    y = eu.signal.resample_signal(x, 360, 125)
    assert y.shape == (1250,)
    assert eu.signal.resample_signal(np.zeros(2500), 250, 360).shape == (3600,)


@requires_data
def test_real_detector_reaches_99_percent_on_non_paced_mitdb():
    beats = eu.data.beat_table("mitdb")
    tp = fp = fn = 0
    for record in eu.data.list_records("mitdb"):
        if record in eu.data.PACED_RECORDS:
            continue
        rec = eu.data.load_record(record)
        x, _ = eu.data.pick_lead(rec)
        reference = beats.loc[beats.record == record, "sample"].to_numpy()
        s = eu.signal.score_detections(reference, eu.signal.detect_r_peaks(x, rec.fs), rec.fs,
                                       exclude=eu.data.vf_episodes(eu.data.load_annotations(record)))
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
    assert tp + fn == 100_733  # every non-paced reference beat is scored
    assert tp / (tp + fn) >= 0.99 and tp / (tp + fp) >= 0.99, (tp, fp, fn)
