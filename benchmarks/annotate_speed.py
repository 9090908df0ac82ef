"""How long `python -m ecgutils annotate` takes on a database of 30-min records at 128 Hz.

Writes ``n_records`` synthetic two-lead WFDB records (30 min, 128 Hz, 60-100 bpm with
premature beats), saves an untrained chapter-07 model (speed does not depend on the
weights), and times ``annotate_records`` on all of them in one call, as the command does
(model loaded once). Prints the total and the median per record, and the share of time
in detection, inputs and prediction for one record. If chapter 07 has saved its random
forest (``results/07_new_patients_forest.skops``, trained: a forest's speed depends on
its trees), the same records are annotated with it too.

With ``--baseline REV`` the CNN run is also timed with the ``ecgutils`` of git revision
``REV`` (exported to a temporary folder), both in fresh processes on the same records and
model, alternating (baseline, current, baseline, current), and the ratio of the medians
is printed: how much a change (e.g. the signal-quality step) costs, measured in one run.

    .venv/bin/python benchmarks/annotate_speed.py [n_records] [--baseline REV]

With a baseline, the model's spec is one that revision can read (its 12 RR inputs).

Measured 2026-12-06 (2 shared cores), ``--baseline 1deb86c`` (before issue 24's
signal-quality step and safe, atomic output): on the safety branch alone, 48 records,
36.7 s before, 39.2 s after (medians of 3), ratio 1.07; with the command's whole path
(formats, staging, quality), 10.0 s before, 14.1 s after, ratio 1.41. Per record (2,611
beats): quality 0.02 s, detection 0.02 s, inputs 0.01 s, predict 0.09 s.
"""
import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import ecgutils as eu
from synthetic import ecg_at, r_times  # benchmarks/synthetic.py
from ecgutils.annotate import MODEL_KIND, annotate_records, classify_signal, read_lead
from ecgutils.interpatient import BeatSpec, record_inputs
from ecgutils.models import build_interpatient_model

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

FS, MINUTES = 128, 30


def synthetic_record(folder: Path, name: str, rng) -> None:
    """A 30-min ECG: one beat template added at each R time (no per-beat loop)."""
    n = FS * 60 * MINUTES
    rr = 60 / rng.uniform(60, 100) * (1 + 0.05 * rng.standard_normal(n // FS * 2))
    early = rng.random(rr.size) < 0.05
    rr[early] *= 0.65
    x = ecg_at(r_times(rr, n, FS), n, FS, 0.02, rng)
    sig = np.stack([x, 0.5 * x], axis=1)
    wfdb.wrsamp(name, fs=FS, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig,
                fmt=["212", "212"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(folder))


FOREST = Path(__file__).resolve().parents[1] / "results" / "07_new_patients_forest.skops"


def time_annotate(records, model_path, out, name) -> None:
    per_record = []
    start = time.perf_counter()
    last = [start]

    def progress(line):
        now = time.perf_counter()
        per_record.append(now - last[0])
        last[0] = now

    annotate_records(records, model_path, out, progress=progress)
    total = time.perf_counter() - start
    print(f"{name}: {len(records)} records of {MINUTES} min at {FS} Hz: {total:.1f} s in all "
          f"(model loaded once), median {np.median(per_record):.2f} s per record")


ROOT = Path(__file__).resolve().parents[1]
_CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from ecgutils.annotate import annotate_records
records = sys.argv[4:]
start = time.perf_counter()
annotate_records(records, sys.argv[2], sys.argv[3], progress=lambda line: None)
print(time.perf_counter() - start)
"""


def compare_with(revision: str, records, model_path, tmp: Path, repeats: int = 3) -> None:
    """Median time of ``annotate_records`` with ``revision``'s ecgutils and with this
    checkout's, each in fresh processes, alternating."""
    base = tmp / "baseline"
    base.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "ecgutils"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    times = {"baseline": [], "current": []}
    for i in range(repeats):
        for name, path in (("baseline", base), ("current", ROOT)):
            out = tmp / f"cmp_{name}_{i}"
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(model_path),
                                   str(out), *map(str, records)],
                                  capture_output=True, text=True, check=True)
            times[name].append(float(proc.stdout.strip().splitlines()[-1]))
    b, c = np.median(times["baseline"]), np.median(times["current"])
    print(f"CNN, {len(records)} records: {revision} {b:.1f} s, this checkout {c:.1f} s "
          f"(medians of {repeats}, fresh processes): ratio {c / b:.2f}")


#: BeatSpec's RR inputs and the fields it had before issues 23 and 28 added some.
OLD_RR = ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_to_local", "irregularity",
          "irregularity_long", "rr_cv_10", "changing_share_10", "median_change_10", "rr_cv_30",
          "changing_share_30", "median_change_30")
NEW_FIELDS = ("shape_features", "operating_point")


def main(n_records: int = 48, baseline: str | None = None) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "holter"
        db.mkdir()
        for i in range(n_records):
            synthetic_record(db, f"{i:03d}", rng)
        # With --baseline, a spec that revision can read too: its own RR inputs and only
        # the fields it knows (a newer field would make it refuse the file).
        spec = BeatSpec(rr_features=OLD_RR, template_beats="all") if baseline else BeatSpec()
        model = build_interpatient_model(spec, rr_train=np.ones((8, len(spec.feature_names)),
                                                                  "float32"))
        saved = {k: v for k, v in spec.to_dict().items() if not (baseline and k in NEW_FIELDS)}
        model_path = eu.experiment.save_model(model, Path(tmp) / "m.keras",
                                              {"kind": MODEL_KIND, "spec": saved})
        records = [db / f"{i:03d}" for i in range(n_records)]
        time_annotate(records, model_path, Path(tmp) / "out", "CNN")
        if baseline:
            compare_with(baseline, records, model_path, Path(tmp))
        if FOREST.is_file():
            time_annotate(records, FOREST, Path(tmp) / "out_forest", "forest")
        else:
            print(f"no {FOREST}: run chapter 07 to time its random forest too")
        # where one record's time goes (median of 3)
        x, fs, _ = read_lead(db / "000")
        loaded, _ = eu.experiment.load_model(model_path)
        parts = {"quality": [], "detect": [], "inputs": [], "predict": []}
        for _ in range(3):
            tq = time.perf_counter()
            eu.quality.ecg_quality(x, fs)
            t0 = time.perf_counter()
            parts["quality"].append(t0 - tq)
            peaks = eu.signal.detect_r_peaks(x, fs)
            t1 = time.perf_counter()
            w, rr = record_inputs(x, fs, peaks, spec)
            t2 = time.perf_counter()
            loaded.predict([w, rr], batch_size=2048, verbose=0)
            t3 = time.perf_counter()
            parts["detect"].append(t1 - t0)
            parts["inputs"].append(t2 - t1)
            parts["predict"].append(t3 - t2)
        print(f"one record ({len(peaks)} beats), medians: " +
              ", ".join(f"{k} {np.median(v):.2f} s" for k, v in parts.items()))
        classify_signal(loaded, spec, x, fs)  # the command's own path runs too


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_records", nargs="?", type=int, default=48)
    parser.add_argument("--baseline", metavar="REV", help="also time git revision REV's "
                        "ecgutils on the same records and print the ratio")
    args = parser.parse_args()
    main(args.n_records, args.baseline)
