"""Bootstrap over records: confusion counts (``eu.ec57.bootstrap_gross``) against
rescoring the drawn beats, on a DS2-sized labelling.

22 synthetic records of 2,250 beats (N, S, V, F, Q in MIT-BIH DS2's proportions about),
three seeds' labellings. The plain way draws 22 records with replacement, gathers their
beats and calls ``gross_statistics`` for each seed; ``bootstrap_gross`` sums per-record
confusion counts (one matrix product for all resamples). Prints the median time per
resample of each (5 repeats) and their ratio, then the time of a whole ``ec57_report``
(1,000 resamples, runs included).

    .venv/bin/python benchmarks/ec57_bootstrap_speed.py
"""
import time

import numpy as np

from ecgutils import ec57

RECORDS, BEATS, SEEDS, PLAIN_RESAMPLES, REPEATS = 22, 2250, 3, 20, 5

rng = np.random.default_rng(0)
reference = rng.choice(list("NSVFQ"), RECORDS * BEATS, p=[0.885, 0.04, 0.065, 0.0075, 0.0025])
records = np.repeat([f"r{i}" for i in range(RECORDS)], BEATS)
samples = np.tile(np.arange(BEATS) * 288, RECORDS)  # 0.8 s apart at 360 Hz: 30 min
predictions = []
for _ in range(SEEDS):
    p = np.where(rng.random(reference.size) < 0.1, rng.choice(list("NSV"), reference.size),
                 reference)
    predictions.append(np.where(np.isin(p, ["F", "Q"]), "N", p))


def plain(n_boot: int) -> None:
    """Resample records, gather their beats, rescore every seed."""
    boot_rng = np.random.default_rng(1)
    by_record = [np.flatnonzero(records == r) for r in np.unique(records)]
    for _ in range(n_boot):
        drawn = np.concatenate([by_record[i] for i in boot_rng.integers(0, RECORDS, RECORDS)])
        for p in predictions:
            ec57.gross_statistics(reference[drawn], p[drawn])


def counts(n_boot: int) -> None:
    ec57.bootstrap_gross(reference, predictions, records, n_boot=n_boot, seed=1)


def median_per_resample(fn, n_boot: int) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(n_boot)
        times.append((time.perf_counter() - start) / n_boot)
    return float(np.median(times))


t_plain = median_per_resample(plain, PLAIN_RESAMPLES)
t_counts = median_per_resample(counts, 1000)
print(f"{RECORDS} records x {BEATS} beats, {SEEDS} seeds; median of {REPEATS} repeats")
print(f"  rescoring drawn beats : {t_plain * 1e3:8.2f} ms per resample "
      f"({t_plain * 1000:.1f} s for 1,000)")
print(f"  confusion counts      : {t_counts * 1e3:8.3f} ms per resample "
      f"({t_counts * 1000:.2f} s for 1,000)")
print(f"  ratio                 : {t_plain / t_counts:.0f} x")
start = time.perf_counter()
ec57.ec57_report(reference, predictions, records, samples, 360.0)
print(f"ec57_report (learning period, averages, 1,000 resamples, runs): "
      f"{time.perf_counter() - start:.2f} s")
