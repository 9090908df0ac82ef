"""Beat windows -> spectrogram images: our vectorised way vs the reference project's way.

Ours: ``eu.spectrograms.beat_spectrograms`` over all beats at once (scipy.signal.spectrogram
in blocks of 1,024 beats, dB, crop < 45 Hz, per-image standardisation; chapter 04's defaults).
Reference: a Python loop over beats, one ``scipy.signal.stft`` each, drawn with
matplotlib, written to a PNG, read back and shrunk to the same image size.

Both start from the same z-scored 2-s windows (band-pass, detection and cutting are
shared and timed separately). The slow way runs on a subset of the beats and is scaled
per beat; the script says so in its output. Run it under the CPU lock::

    flock /tmp/ecgbook-cpu.lock python benchmarks/spectrogram_preprocessing.py
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import signal as sps  # noqa: E402

import ecgutils as eu  # noqa: E402
import ecgutils.spectrograms  # noqa: E402,F401


def reference_way(windows, fs, size=(32, 32), max_hz=45.0):
    """One STFT, one matplotlib figure, one PNG file written and read back, per beat."""
    with tempfile.TemporaryDirectory() as folder:
        return _reference_loop(windows, fs, size, max_hz, folder)


def _reference_loop(windows, fs, size, max_hz, folder):
    out = np.empty((len(windows), *size), dtype=np.float32)
    for i, w in enumerate(windows):  # the per-beat loop this chapter avoids
        f, t, z = sps.stft(w, fs=fs, nperseg=64, noverlap=43, nfft=256)
        db = 20 * np.log10(np.abs(z[f < max_hz]) + 1e-12)
        fig = plt.figure(figsize=(1.28, 1.28), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.pcolormesh(t, f[f < max_hz], db, shading="gouraud", cmap="gray")
        ax.axis("off")
        path = f"{folder}/beat_{i}.png"
        fig.savefig(path, format="png")
        plt.close(fig)
        img = Image.open(path).convert("L").resize(size[::-1], Image.BILINEAR)
        out[i] = np.asarray(img, dtype=np.float32) / 255.0
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", nargs="*", default=["100", "106", "119", "208", "209"])
    parser.add_argument("--slow-beats", type=int, default=300,
                        help="beats converted the reference way (scaled per beat)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for name in ("slow_beats", "repeats"):
        eu.config.parse_parameter(name.replace("_", "-"), getattr(args, name), "int", minimum=1)
    records = eu.data.check_records_exist(args.records, "mitdb")

    t = time.perf_counter()
    parts = [eu.spectrograms.extract_record_beats(r) for r in records]
    cut_s = time.perf_counter() - t
    windows = np.concatenate([p["windows"] for p in parts])
    fs = parts[0]["fs"]
    n = len(windows)
    print(f"{n:,} beats from records {records}; filter + detect + label + cut "
          f"(shared by both ways): {cut_s:.2f} s")

    eu.spectrograms.beat_spectrograms(windows[:2048], fs)  # warm-up (first scipy call)
    ours = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        eu.spectrograms.beat_spectrograms(windows, fs)
        ours.append(time.perf_counter() - t)
    ours_s = statistics.median(ours)

    subset = windows[np.random.default_rng(0).choice(n, min(args.slow_beats, n), replace=False)]
    reference_way(subset[:5], fs)  # warm-up (matplotlib, PIL)
    slow = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        reference_way(subset, fs)
        slow.append(time.perf_counter() - t)
    slow_per_beat = statistics.median(slow) / len(subset)
    slow_s = slow_per_beat * n

    print(f"ours (vectorised, all {n:,} beats): {ours_s:.3f} s "
          f"= {1e6 * ours_s / n:.1f} us/beat (median of {args.repeats})")
    print(f"reference (loop: STFT + matplotlib PNG + read back), measured on {len(subset)} "
          f"beats: {1e3 * slow_per_beat:.2f} ms/beat (median of {args.repeats}); "
          f"scaled per beat to {n:,} beats: {slow_s:.1f} s")
    print(f"ratio (reference / ours): {slow_s / ours_s:.0f}x")


if __name__ == "__main__":
    main()
