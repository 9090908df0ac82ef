"""Chapter 07's training fed through Keras' own pipeline for a ``PyDataset`` and through
``ecgutils.experiment.py_dataset_pipeline``.

Keras 3.15 feeds a ``PyDataset`` through ``tf.data`` with ``prefetch(AUTOTUNE)`` and
throws away an iterator at each epoch's start; on TensorFlow 2.21, deleting it waits for
its autotuning thread to wake, 8-10 s at the start of about half the epochs.
``train_and_evaluate`` now builds the same pipeline with autotuning off. This times
``train_classifier`` (chapter 07's network, augmentation and selection, seed 0's DS1
split, ``--epochs`` epochs) in fresh processes, alternating the two pipelines, and prints
the median training time of each, their ratio, and whether both gave the same training
history (they must: the same batches in the same order).

    ECG_DATA_DIR=../shared/data .venv/bin/python benchmarks/training_pipeline.py [--repeats 3]
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
if sys.argv[1] == "keras":
    experiment.py_dataset_pipeline = lambda data: data   # fit reads the PyDataset itself
spec = ip.BeatSpec()
ds1 = ip.build_beats(eu.data.DS1, spec=spec)
split = ip.select_records(ds1, 0.3, seed=0)
train, val = (ds1.subset(ds1.records_mask(split[k])) for k in ("train", "val"))
start = time.perf_counter()
fit = ip.train_classifier(train, val, spec, seed=0, epochs=int(sys.argv[2]),
                          augment=ip.AUGMENT, patience=int(sys.argv[2]), verbose=False)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "loss": fit["history"]["loss"],
                  "selection": fit["history"]["val_selection"]}))
"""


def run(mode, epochs):
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(epochs)], check=True,
                         capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    if not os.environ.get("ECG_DATA_DIR"):
        sys.exit("error: set ECG_DATA_DIR to the folder holding mitdb/ (DS1 is trained on)")
    times = {"keras": [], "ecgutils": []}
    histories = {}
    start = time.perf_counter()
    for _ in range(args.repeats):
        for mode in times:
            result = run(mode, args.epochs)
            times[mode].append(result["seconds"])
            histories.setdefault(mode, (result["loss"], result["selection"]))
            print(f"{mode:8s} pipeline: {result['seconds']:.1f} s", flush=True)
    old, new = (statistics.median(times[m]) for m in times)
    print(f"median training, {args.epochs} epochs: Keras' pipeline {old:.1f} s, "
          f"py_dataset_pipeline {new:.1f} s, ratio {old / new:.2f} "
          f"({time.perf_counter() - start:.0f} s in all)")
    print("same history:", histories["keras"] == histories["ecgutils"])


if __name__ == "__main__":
    main()
