"""Chapter 04 helpers: labelling by matching, beat spectrograms, the CNN, Grad-CAM, checks."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ecgutils as eu
import ecgutils.explain
import ecgutils.data as eu_data
import ecgutils.signal as eu_signal
import ecgutils.spectrograms as F

ROOT = Path(__file__).resolve().parents[1]
requires_data = pytest.mark.skipif(not os.environ.get("ECG_DATA_DIR"),
                                   reason="ECG_DATA_DIR is not set: real-data test skipped")
FS = 360


# ----------------------------------------------------------------------- labels by matching
def test_label_detections_matches_within_150_ms_and_counts_errors():
    ref = np.array([1000, 2000, 3000, 4000])
    det = np.array([1010, 2000 + 50, 3000 + 60, 5000])  # 28 ms, 139 ms, 167 ms, far
    labels, counts = eu_signal.label_detections(ref, ["N", "V", "S", "N"], det, FS)
    assert labels.tolist() == ["N", "V", "", ""]
    assert counts["matched"] == 2 and counts["unmatched_detections"] == 2
    assert counts["missed_beats"] == 2 and counts["missed_by_class"] == {"S": 1, "N": 1}
    assert counts["detections"] == 4 and counts["reference"] == 4


def test_label_detections_one_to_one_and_bad_input():
    labels, counts = eu_signal.label_detections([1005], ["V"], [1000, 1010], FS)
    assert sorted(labels.tolist()) == ["", "V"] and counts["unmatched_detections"] == 1
    labels, counts = eu_signal.label_detections([5, 500], ["N", "S"], [], FS)
    assert labels.size == 0 and counts["missed_beats"] == 2
    with pytest.raises(ValueError, match="same length"):
        eu_signal.label_detections([1, 2], ["N"], [1], FS)


# ----------------------------------------------------------------------- spectrograms
def test_beat_spectrograms_find_frequency_and_time():
    t = np.arange(720) / FS
    tones = np.stack([np.sin(2 * np.pi * f * t) for f in (5, 20, 40)])
    images, freqs, times = F.beat_spectrograms(tones, FS)
    assert images.shape == (3, 32, 32) and images.dtype == np.float32
    assert freqs.max() < 45 and np.all(np.diff(freqs) > 0) and np.all(np.diff(times) > 0)
    peak_hz = freqs[images.mean(axis=2).argmax(axis=1)]
    assert np.allclose(peak_hz, [5, 20, 40], atol=1.5)
    # a click 0.5 s into the window lights up the column at 0.5 s
    click = np.zeros((1, 720))
    click[0, 180] = 1
    img, _, times = F.beat_spectrograms(click, FS)
    assert abs(times[img[0].mean(axis=0).argmax()] - 0.5) < 0.06
    # per-image standardisation
    assert np.allclose(images.mean(axis=(1, 2)), 0, atol=1e-4)
    assert np.allclose(images.std(axis=(1, 2)), 1, atol=1e-3)


def test_beat_spectrograms_chunks_do_not_change_the_result():
    x = np.random.default_rng(0).normal(size=(50, 720))
    a = F.beat_spectrograms(x, FS, chunk=7)[0]
    b = F.beat_spectrograms(x, FS, chunk=1024)[0]
    assert np.allclose(a, b, atol=1e-5)


def test_beat_spectrograms_resize_and_bad_input():
    x = np.random.default_rng(0).normal(size=(4, 500))  # 2 s at 250 Hz
    images, freqs, times = F.beat_spectrograms(x, 250, size=(24, 40))
    assert images.shape == (4, 24, 40) and freqs.shape == (24,) and times.shape == (40,)
    with pytest.raises(ValueError, match="n_beats, n_samples"):
        F.beat_spectrograms(np.zeros(720), FS)
    with pytest.raises(ValueError, match=r"nperseg \(64\) <= beat length \(30\)"):
        F.beat_spectrograms(np.zeros((2, 30)), FS)
    with pytest.raises(ValueError, match="noverlap"):
        F.beat_spectrograms(np.zeros((2, 720)), FS, noverlap=64)
    with pytest.raises(ValueError, match="max_hz"):
        F.beat_spectrograms(np.zeros((2, 720)), FS, max_hz=300)


def test_resize_images_is_bilinear():
    img = np.arange(12.0).reshape(1, 3, 4)
    assert F.resize_images(img, (3, 4)) is img
    big = F.resize_images(img, (5, 7))
    assert big.shape == (1, 5, 7)
    assert big[0, 0, 0] == 0 and big[0, -1, -1] == 11 and np.isclose(big[0, 2, 3], 5.5)


# ----------------------------------------------------------------------- parameter checks
def _fake_db(tmp_path):
    folder = tmp_path / "mitdb"
    folder.mkdir(exist_ok=True)
    (folder / "RECORDS").write_text("100\n101\n")
    return tmp_path


def test_check_records_exist_names_a_missing_or_repeated_record(tmp_path):
    assert eu_data.check_records_exist([100, "101"], root=_fake_db(tmp_path)) == ["100", "101"]
    with pytest.raises(FileNotFoundError, match=r"\['999'\].*mitdb"):
        eu_data.check_records_exist(["100", "999"], root=_fake_db(tmp_path))
    with pytest.raises(ValueError, match="repeats"):
        eu_data.check_records_exist(["100", "100"], root=_fake_db(tmp_path))


# ----------------------------------------------------------------------- model and Grad-CAM
def _blob_images(n, seed=0):
    """Class 0: a bright blob in the left half; class 1: in the right half."""
    rng = np.random.default_rng(seed)
    x = 0.3 * rng.normal(size=(n, 32, 32)).astype(np.float32)
    y = rng.integers(0, 2, n)
    rows = rng.integers(4, 28, n)
    cols = np.where(y == 0, rng.integers(4, 12, n), rng.integers(20, 28, n))
    rr, cc = np.mgrid[0:32, 0:32]
    x += 3 * np.exp(-((rr - rows[:, None, None]) ** 2 + (cc - cols[:, None, None]) ** 2) / 8)
    return x[..., None], y


def test_cnn_shapes_and_grad_cam_finds_the_blob():
    eu.models.import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    model = eu.models.build_spectrogram_cnn((32, 32, 1), 2, filters=(8, 16, 16), dense_units=16)
    assert model.output_shape == (None, 2)
    assert model.get_layer("conv3").output.shape[1:3] == (8, 8)
    x, y = _blob_images(600)
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    xt, yt = _blob_images(64, seed=1)
    cams, probs = eu.explain.grad_cam(model, xt, "conv3")
    assert (probs.argmax(1) == yt).mean() > 0.9
    assert cams.shape == (64, 32, 32) and cams.min() >= 0 and cams.max() <= 1
    left = cams[:, :, :16].sum(axis=(1, 2)) / (cams.sum(axis=(1, 2)) + 1e-9)
    share_on_blob_side = np.where(yt == 0, left, 1 - left)
    assert np.median(share_on_blob_side) > 0.5
    # one batch or many, explained class forced or not: the same maps
    cams_small, _ = eu.explain.grad_cam(model, xt, "conv3", batch_size=5)
    assert np.allclose(cams, cams_small, atol=1e-4)
    forced, _ = eu.explain.grad_cam(model, xt[:, :, :, 0], "conv3", class_index=probs.argmax(1))
    assert np.allclose(cams, forced, atol=1e-4)
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        eu.explain.grad_cam(model, xt, "conv9")
    with pytest.raises(ValueError, match="2D feature map"):
        eu.explain.grad_cam(model, xt, "dense")
    fig = eu.plots.plot_grad_cam(xt[:3], cams[:3], ["a", "b", "c"], np.arange(32.0),
                                   np.arange(32.0))
    assert len(fig.axes) == 3



# ----------------------------------------------------------------------- real data
@requires_data
def test_extract_record_beats_on_mitdb_100():
    part = F.extract_record_beats("100")
    c = part["counts"]
    assert part["lead"] == "MLII" and part["fs"] == 360
    assert part["windows"].shape == (c["kept"], 720)
    assert set(np.unique(part["labels"])) <= {"N", "S", "V"}
    assert c["matched"] + c["unmatched_detections"] == c["detections"]
    assert c["matched"] + c["missed_beats"] == c["reference"]
    assert c["matched"] / c["reference"] > 0.99
    assert np.allclose(part["windows"].mean(1), 0, atol=1e-4)
    # the labels are the annotations' classes: 100 has 33 A beats (S) and 1 V
    assert 30 <= (part["labels"] == "S").sum() <= 33 and (part["labels"] == "V").sum() == 1


@requires_data
@pytest.mark.slow
@pytest.mark.parametrize("param,value,message", [
    ("epochs", "0", "parameter 'epochs' must be an integer >= 1"),
    ("protocols", "['beat_randm']", "parameter 'protocols' must be a list of texts with items"),
    ("records", "['100', '999']", "['999'] are not in database 'mitdb'"),
])
def test_notebook_refuses_bad_parameters_before_work(tmp_path, param, value, message):
    out = tmp_path / "out.ipynb"
    cmd = [str(Path(sys.executable).parent / "papermill"), "-k", "python3", "--cwd",
           str(ROOT / "notebooks"), str(ROOT / "notebooks" / "04_spectrogram_cnn.ipynb"),
           str(out), "-p", "smoke", "True", "-p", "results_dir", str(tmp_path / "r"),
           "-p", param, value]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and message in proc.stderr + proc.stdout
    assert not list((tmp_path / "r").glob("*"))  # no results (the folder is checked first)
