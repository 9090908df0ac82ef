"""How long `ecgutils annotate` takes on one 24-hour Holter recording at 250 Hz (EDF).

Writes one synthetic 24-h lead (250 Hz, 60-100 bpm drifting over the day, 3 % early
beats, some couplets and runs, noise) as an EDF+ file, and times the whole command path,
``ecgutils.own_recording.annotate_files``: read the EDF, detect the R peaks, classify
every beat, write the beat table, the WFDB annotations and the HTML and text report.
Then the same with ``--adapt`` (the record-adaptive step, ``eu.adapt``), and the steps
one by one, to say where the time goes. Every figure is the median of ``repeats`` runs
in this one process; the bar (issue 25) is under a minute on 2 cores.

Last, the same lead written as a CSV file (time and microvolts, as a wearable's app
exports it): the time to read it, the units rule included, against the EDF file's.

The model is the one given (a chapter-07 file), else the shipped default model
(``ecgutils/pretrained``: three CNNs in one ensemble), the one `annotate` applies when
no model is given.

    .venv/bin/python benchmarks/own_recording_speed.py [repeats] [model]
"""
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import ecgutils as eu
from synthetic import ecg_at, r_times  # benchmarks/synthetic.py
from ecgutils.annotate import load_classifier
from ecgutils.interpatient import record_inputs
from ecgutils.own_recording import annotate_files

FS, HOURS = 250, 24


def synthetic_holter(path: Path, rng) -> int:
    """A 24-h ECG (one beat template at each R time, no per-beat loop); returns beats."""
    n = FS * 3600 * HOURS
    hr = 80 + 20 * np.sin(np.linspace(0, 2 * np.pi, 3600 * HOURS * 2))  # slow day/night drift
    rr = 60 / hr * (1 + 0.04 * rng.standard_normal(hr.size))
    rr[rng.random(rr.size) < 0.03] *= 0.65                                  # early beats
    r = r_times(rr, n, FS)
    x = ecg_at(r, n, FS, 0.03, rng)
    from pyedflib import highlevel

    header = {"label": "ECG II", "dimension": "mV", "sample_frequency": FS,
              "physical_min": -10.24, "physical_max": 10.235, "digital_min": -2048,
              "digital_max": 2047, "transducer": "", "prefilter": ""}
    digital = np.clip(np.round(x * 200), -2048, 2047).astype(np.int32)
    highlevel.write_edf(str(path), [digital], [header], digital=True)
    return r.size


def main(repeats: int = 3, model=None) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        edf = tmp / "holter24.edf"
        start = time.perf_counter()
        beats = synthetic_holter(edf, rng)
        print(f"wrote {edf.name}: {HOURS} h at {FS} Hz, {beats} beats, "
              f"{edf.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - start:.0f} s")
        if model is None:
            model = eu.pretrained.default_model_path()
        whole = []
        for k in range(repeats):
            start = time.perf_counter()
            annotate_files([edf], model, tmp / f"out{k}", progress=False)
            whole.append(time.perf_counter() - start)
        adapted = []
        for k in range(repeats):
            start = time.perf_counter()
            annotate_files([edf], model, tmp / f"adapted{k}", progress=False, adapt=True)
            adapted.append(time.perf_counter() - start)
        for name, times in (("", whole), (" --adapt", adapted)):
            med = float(np.median(times))
            print(f"annotate_files{name}, one 24-h recording: median {med:.1f} s of "
                  f"{repeats} ({', '.join(f'{w:.1f}' for w in times)}); "
                  f"{HOURS * 3600 / med:.0f} times faster than real time; bar 60 s: "
                  f"{'met' if med < 60 else 'NOT met'}")
        # Where the time goes (medians)
        loaded, spec = load_classifier(model)
        parts = {k: [] for k in ("read", "detect", "inputs", "predict", "adapt",
                                 "beat table", "report")}
        for k in range(repeats):
            t0 = time.perf_counter()
            rec = eu.recordings.read_recording(edf)
            t1 = time.perf_counter()
            r = eu.signal.detect_r_peaks(rec.signal, rec.fs)
            t2 = time.perf_counter()
            w, rr = record_inputs(rec.signal, rec.fs, r, spec)
            t3 = time.perf_counter()
            p = loaded.predict([w, rr], batch_size=2048, verbose=0)
            t4 = time.perf_counter()
            eu.adapt.adapt_to_record(p, w, spec=spec)
            t4a = time.perf_counter()
            table = eu.annotate_signal(rec.signal, rec.fs, loaded, spec=spec, r_peaks=r)
            t5 = time.perf_counter()
            eu.beat_table.write_beat_table(table, tmp / f"t{k}.csv")
            t6 = time.perf_counter()
            eu.holter.write_report(table, rec.signal, rec.fs, tmp / f"r{k}.html",
                                   tmp / f"r{k}.txt")
            t7 = time.perf_counter()
            for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4a - t4,
                                        t6 - t5, t7 - t6)):
                parts[name].append(dt)
        print("medians: " + ", ".join(f"{k} {np.median(v):.1f} s" for k, v in parts.items()))
        # The same lead as a wearable's CSV export (time, microvolts, no units): only the
        # reading differs, so time the reader, units rule included.
        csv = tmp / "holter24.csv"
        pd.DataFrame({"time": np.round(np.arange(rec.signal.size) / FS, 3),
                      "ecg": np.round(1000 * rec.signal)}).to_csv(csv, index=False)
        reads = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            as_csv = eu.recordings.read_recording(csv, fs=FS)
            reads.append(time.perf_counter() - t0)
        print(f"reading the same 24 h as CSV ({csv.stat().st_size / 1e6:.0f} MB, units "
              f"{as_csv.units_from}): median {np.median(reads):.1f} s, against "
              f"{np.median(parts['read']):.1f} s for the EDF file")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, sys.argv[2] if len(sys.argv) > 2 else None)
