"""Kaggle-format beats -> spectrogram images: scipy's STFT vs librosa's STFT and mel bank.

Chapter 05 turns every 187-sample beat (125 Hz) into a 16 x 16 image. Three ways, all
vectorised over the whole stack of beats (``eu.spectrograms.beat_spectrograms`` and
librosa's own calls), on the same beats and giving the same output shape:

- ``scipy``: ``beat_spectrograms(method="stft")`` (``scipy.signal.spectrogram``, the
  chapter's default);
- ``librosa mel``: ``beat_spectrograms(method="mel")`` (``librosa.feature.melspectrogram``
  over the stack, 16 mel bands);
- ``librosa stft``: ``librosa.stft`` magnitude over the stack, lowest 16 bins, the same
  dB and [0, 1] scaling, to separate the STFT from the mel bank.

Each way runs ``--repeats`` times after one warm-up call (librosa compiles with numba on
first use); the script prints every run, the medians and the ratios. Run it under the
CPU lock::

    flock /tmp/ecgbook-cpu.lock python benchmarks/spectrogram_librosa_vs_scipy.py
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ecgutils as eu
import ecgutils.kaggle_beats as ek
import ecgutils.spectrograms as es

#: Chapter 05's default spectrogram (16 frequency rows x 16 frames of a 187-sample beat).
KAGGLE = dict(nperseg=32, noverlap=22, nfft=None, max_hz=None, n_freqs=16, scale="unit",
              dynamic_range_db=60.0)


def librosa_stft_images(beats, n_freqs=16, nperseg=32, hop=10, dynamic_range_db=60.0):
    """librosa.stft over the stack, then the same dB clipping and [0, 1] scaling."""
    import librosa

    mag = np.abs(librosa.stft(beats, n_fft=nperseg, hop_length=hop, window="hann",
                              center=False))[:, :n_freqs]
    db = 20 * np.log10(np.maximum(mag, 1e-12))
    floor = db.max(axis=(1, 2), keepdims=True) - dynamic_range_db
    return ((np.maximum(db, floor) - floor) / dynamic_range_db).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", nargs="*", default=None,
                        help="MIT-BIH records to cut beats from (default: all 48)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    eu.config.parse_parameter("repeats", args.repeats, "int", minimum=1)
    records = None if args.records is None else eu.data.check_records_exist(args.records)
    beats = ek.load_kaggle_beats(records=records, r_peaks="threshold")
    X = ek.scale_beats(ek.fit_beat_scaler(beats.X), beats.X)[..., 0]
    print(f"{len(X):,} beats of {X.shape[1]} samples at {ek.FS_KAGGLE} Hz")

    ways = {
        "scipy": lambda: es.beat_spectrograms(X, ek.FS_KAGGLE, **KAGGLE)[0],
        "librosa mel": lambda: es.beat_spectrograms(X, ek.FS_KAGGLE, **KAGGLE, method="mel")[0],
        "librosa stft": lambda: librosa_stft_images(X),
    }
    times, shapes = {}, {}
    for name, way in ways.items():
        shapes[name] = way().shape  # warm-up (numba compiles librosa's kernels here)
        times[name] = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - t)
    if len(set(shapes.values())) != 1:
        raise AssertionError(f"the ways give different shapes: {shapes}")
    print(f"output shape {shapes['scipy']} for every way")
    for name, runs in times.items():
        med = statistics.median(runs)
        print(f"{name:13s} median {med:.3f} s = {1e6 * med / len(X):.2f} us/beat; runs "
              + " ".join(f"{r:.3f}" for r in runs))
    base = statistics.median(times["scipy"])
    for name in ("librosa mel", "librosa stft"):
        print(f"ratio {name} / scipy: medians {statistics.median(times[name]) / base:.2f}x, "
              f"first run {times[name][0] / times['scipy'][0]:.2f}x")


if __name__ == "__main__":
    main()
