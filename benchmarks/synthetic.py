"""Synthetic ECG for the benchmarks: one beat template added at each R time (no per-beat
loop), so hours of signal are made in a second."""
import numpy as np


def ecg_at(r_samples, n: int, fs: float, noise: float, rng) -> np.ndarray:
    """A lead of ``n`` samples with a P-QRS-T template at each R sample, plus white noise."""
    t = np.arange(-0.3, 0.5, 1 / fs)
    template = (0.15 * np.exp(-((t + 0.16) / 0.025) ** 2) + np.exp(-(t / 0.012) ** 2)
                - 0.2 * np.exp(-((t - 0.03) / 0.01) ** 2) + 0.3 * np.exp(-((t - 0.3) / 0.05) ** 2))
    spikes = np.zeros(n)
    spikes[r_samples] = 1
    return np.convolve(spikes, template, mode="same") + noise * rng.standard_normal(n)


def r_times(rr_s, n: int, fs: float) -> np.ndarray:
    """R samples from RR intervals (s), those that fit in ``n`` samples."""
    r = np.cumsum(rr_s)
    return (r[r < n / fs - 1] * fs).astype(int)
