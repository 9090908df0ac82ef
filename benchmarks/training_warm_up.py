"""Chapter 07's training with and without the warm-up step of ``train_classifier``.

``ecgutils.interpatient._warm_up_training`` takes one ``train_on_batch`` step of a
throwaway network on a few training beats before a process's first training. Without it,
when the first step of a process runs inside ``model.fit`` on the generator-fed
dataset of ``augmented_batches``, every later step runs slower. This times
``train_classifier`` (chapter 07's network, augmentation and selection, seed 0's DS1
split, ``--epochs`` epochs) in fresh processes, alternating without and with the step,
and prints the median training time of each and their ratio. It also checks that both
give the same training history (the step draws no random number after the seeds).

    ECG_DATA_DIR=../shared/data .venv/bin/python benchmarks/training_warm_up.py [--repeats 3]

Measured 2026-12-07 (2 cores, 2 epochs, 3 repeats): without the warm-up 36.3 / 42.4 /
45.5 s, with it 33.7 / 29.6 / 31.1 s; medians 42.4 and 31.1 s, ratio 1.36; the same
history. (In single runs a training step took 74-90 ms without and 48-58 ms with it; the
ratio of whole trainings is smaller because tracing and validation do not change.)
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
from ecgutils import interpatient as ip
if sys.argv[1] == "off":
    ip._warm_up_training = lambda *args: None
spec = ip.BeatSpec()
ds1 = ip.build_beats(eu.data.DS1, spec=spec)
split = ip.select_records(ds1, 0.3, seed=0)
train, val = (ds1.subset(ds1.records_mask(split[k])) for k in ("train", "val"))
start = time.perf_counter()
fit = ip.train_classifier(train, val, spec, seed=0, epochs=int(sys.argv[2]),
                          augment=ip.AUGMENT, verbose=False)
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
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("ECG_DATA_DIR"):
        sys.exit("error: set ECG_DATA_DIR to the folder holding mitdb/ (DS1 is trained on)")
    times = {"off": [], "on": []}
    histories = {}
    start = time.perf_counter()
    for _ in range(args.repeats):
        for mode in ("off", "on"):
            result = run(mode, args.epochs)
            times[mode].append(result["seconds"])
            histories.setdefault(mode, (result["loss"], result["selection"]))
            print(f"warm-up {mode:3s}: {result['seconds']:.1f} s", flush=True)
    off, on = (statistics.median(times[m]) for m in ("off", "on"))
    print(f"median training, {args.epochs} epochs: without the warm-up {off:.1f} s, with "
          f"it {on:.1f} s, ratio {off / on:.2f} ({time.perf_counter() - start:.0f} s in all)")
    print("same history:", histories["off"] == histories["on"])


if __name__ == "__main__":
    main()
