"""Two speed-ups of chapter 07's training, each against the training without it.

Both change no result; each comparison prints the median training time of the two
variants, their ratio, and whether they gave the same training history. Trainings run
``train_classifier`` (chapter 07's network, augmentation and selection, seed 0's DS1
split, ``--epochs`` epochs, no early stop) in fresh processes, the two variants
alternating, ``--repeats`` times each.

- ``--compare warm-up``: ``ecgutils.interpatient._warm_up_training`` takes one
  ``train_on_batch`` step of a throwaway network on a few training beats before a
  process's first training. Without it, when the first step of a process runs inside
  ``model.fit`` on the generator-fed batches, every later step runs slower.
- ``--compare pipeline``: ``train_and_evaluate`` reads a ``PyDataset`` through
  ``ecgutils.experiment.py_dataset_pipeline`` (tf.data's autotuning off), not through
  Keras' own pipeline, which stalls 8-10 s at the start of about half the epochs.

    ECG_DATA_DIR=../shared/data .venv/bin/python benchmarks/training_speed.py --compare pipeline

Measured on 2 cores:

- warm-up, 2026-12-07 (2 epochs, before the pipeline change): without 36.3 / 42.4 /
  45.5 s, with 33.7 / 29.6 / 31.1 s; medians 42.4 and 31.1 s, ratio 1.36, the same
  history. Again 2026-12-08, with the new pipeline: 39.0 against 31.5 s, ratio 1.24.
  (In single runs a step took 74-90 ms without and 48-58 ms with it; whole trainings
  gain less because tracing and validation do not change.)
- pipeline, 2026-12-08 (4 epochs): Keras' 63.6 / 52.8 / 64.2 s, ours 54.7 / 54.3 /
  56.0 s; medians 63.6 and 54.7 s, ratio 1.16, the same history. Chapter 07's default
  run went from 15.9 to 11.8 min with the same results.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import ecgutils as eu
from ecgutils import experiment
from ecgutils import interpatient as ip
if sys.argv[1] == "without-warm-up":
    ip._warm_up_training = lambda *args: None
if sys.argv[1] == "keras-pipeline":
    experiment.py_dataset_pipeline = lambda data: data   # fit reads the PyDataset itself
spec = ip.BeatSpec()
ds1 = ip.build_beats(eu.data.DS1, spec=spec)
split = ip.select_records(ds1, 0.3, seed=0)
train, val = (ds1.subset(ds1.records_mask(split[k])) for k in ("train", "val"))
epochs = int(sys.argv[2])
start = time.perf_counter()
fit = ip.train_classifier(train, val, spec, seed=0, epochs=epochs, patience=epochs,
                          augment=ip.AUGMENT, verbose=False)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "loss": fit["history"]["loss"],
                  "selection": fit["history"]["val_selection"]}))
"""

#: Per comparison: the variant without the speed-up, then the one with it.
VARIANTS = {"warm-up": ("without-warm-up", "as-shipped"),
            "pipeline": ("keras-pipeline", "as-shipped")}


def run(mode, epochs):
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(epochs)], check=True,
                         capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per training (default: 2 for warm-up, 4 for pipeline)")
    args = parser.parse_args()
    if not os.environ.get("ECG_DATA_DIR"):
        sys.exit("error: set ECG_DATA_DIR to the folder holding mitdb/ (DS1 is trained on)")
    epochs = args.epochs or {"warm-up": 2, "pipeline": 4}[args.compare]
    modes = VARIANTS[args.compare]
    times = {mode: [] for mode in modes}
    histories = {}
    start = time.perf_counter()
    for _ in range(args.repeats):
        for mode in modes:
            result = run(mode, epochs)
            times[mode].append(result["seconds"])
            histories.setdefault(mode, (result["loss"], result["selection"]))
            print(f"{mode:15s}: {result['seconds']:.1f} s", flush=True)
    slow, fast = (statistics.median(times[m]) for m in modes)
    print(f"median training, {epochs} epochs: {modes[0]} {slow:.1f} s, {modes[1]} "
          f"{fast:.1f} s, ratio {slow / fast:.2f} ({time.perf_counter() - start:.0f} s in all)")
    print("same history:", histories[modes[0]] == histories[modes[1]])


if __name__ == "__main__":
    main()
