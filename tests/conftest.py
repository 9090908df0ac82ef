"""Shared fixtures: small WFDB records written by the tests, and the real-data switch."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

ROOT = Path(__file__).resolve().parents[1]

# Figures drawn by the tests themselves need no screen. Only this process: MPLBACKEND is
# NOT exported, since it would replace the inline backend in executed notebooks.
import matplotlib  # noqa: E402

matplotlib.use("Agg")

# Notebooks and subprocesses run elsewhere: hand them an absolute data root.
if os.environ.get("ECG_DATA_DIR"):
    _p = Path(os.environ["ECG_DATA_DIR"]).expanduser()
    os.environ["ECG_DATA_DIR"] = str((_p if _p.is_absolute() else ROOT / _p).resolve()) \
        if (_p if _p.is_absolute() else ROOT / _p).exists() else str(_p.resolve())
REAL_DATA = os.environ.get("ECG_DATA_DIR")

# Whatever a test runs (notebooks, the book build, subprocesses) writes its results to a
# temporary folder, never to the user's <repo>/results (issue 15 item 10): chapters
# resolve their default results_dir through ECG_RESULTS_DIR.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

TEST_RESULTS_DIR = tempfile.mkdtemp(prefix="ecg-book-test-results-")
os.environ["ECG_RESULTS_DIR"] = TEST_RESULTS_DIR
atexit.register(shutil.rmtree, TEST_RESULTS_DIR, ignore_errors=True)
requires_data = pytest.mark.skipif(
    not REAL_DATA,
    reason="ECG_DATA_DIR is not set: real-data test skipped (set ECG_DATA_DIR=../shared/data)")


def synthetic_ecg(fs: float = 360, seconds: float = 20, hr_bpm: float = 72, noise: float = 0.02,
                  seed: int = 0):
    """A plausible ECG: P, QRS and T bumps per beat, slight RR jitter, wander and noise.

    Returns the signal (mV) and the R-peak samples.
    """
    rng = np.random.default_rng(seed)
    rr = 60 / hr_bpm * (1 + 0.05 * rng.standard_normal(int(seconds * hr_bpm / 60) + 2))
    r_times = 0.5 + np.cumsum(rr) - rr[0]
    r_times = r_times[r_times < seconds - 0.5]
    t = np.arange(int(seconds * fs)) / fs
    d = t[:, None] - r_times[None, :]
    x = (0.15 * np.exp(-((d + 0.16) / 0.025) ** 2) + 1.0 * np.exp(-(d / 0.012) ** 2)
         - 0.2 * np.exp(-((d - 0.03) / 0.01) ** 2) + 0.3 * np.exp(-((d - 0.3) / 0.05) ** 2)).sum(1)
    x += 0.3 * np.sin(2 * np.pi * 0.2 * t) + noise * rng.standard_normal(t.size)
    return x, np.round(r_times * fs).astype(int)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    """An untrained chapter-07 model saved as the chapter saves it (weights are fixed, so
    equal inputs give equal outputs: enough to compare formats and test the command)."""
    import ecgutils as eu
    from ecgutils.annotate import MODEL_KIND
    from ecgutils.interpatient import BeatSpec
    from ecgutils.models import build_interpatient_model

    spec = BeatSpec()
    model = build_interpatient_model(spec, rr_train=np.random.default_rng(0).normal(
        1, 0.1, (50, len(spec.feature_names))).astype("float32"))
    path = tmp_path_factory.mktemp("model") / "07_new_patients.keras"
    eu.experiment.save_model(model, path, {"kind": MODEL_KIND, "spec": spec.to_dict()})
    return path


def one_error_line(proc, *words):
    """A command-line run that failed with exactly one ``error:`` line holding ``words``."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def make_record(tmp_path):
    """Write a two-lead WFDB record (+ .atr) under ``tmp_path/<db>/`` and return its folder."""

    def _make(name="900", db="testdb", seconds=20, fs=360, symbols=None, signal=None,
              extra_annotations=(), custom_labels=None):
        folder = tmp_path / db
        folder.mkdir(exist_ok=True)
        x, peaks = synthetic_ecg(fs, seconds)
        sig = np.stack([x, 0.5 * x], axis=1) if signal is None else signal
        wfdb.wrsamp(name, fs=fs, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig,
                    fmt=["212", "212"], adc_gain=[200, 200], baseline=[0, 0],
                    write_dir=str(folder))
        symbols = ["N"] * len(peaks) if symbols is None else list(symbols)
        samples = list(peaks[: len(symbols)])
        aux = [""] * len(samples)
        for sample, symbol, note in extra_annotations:
            samples.append(sample), symbols.append(symbol), aux.append(note)
        order = np.argsort(samples, kind="stable")
        wfdb.wrann(name, "atr", sample=np.asarray(samples)[order],
                   symbol=list(np.asarray(symbols, dtype=object)[order]),
                   aux_note=list(np.asarray(aux, dtype=object)[order]),
                   custom_labels=custom_labels, write_dir=str(folder))
        (folder / "RECORDS").write_text(
            "\n".join(sorted({p.stem for p in folder.glob("*.hea")})) + "\n")
        return folder, name, peaks

    return _make


@pytest.fixture
def custom_labels():
    return pd.DataFrame({"label_store": [42], "symbol": ["Z"], "description": ["not a code"]})

# The repository's own scripts (tools/*.py) are imported by the tests.
import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
