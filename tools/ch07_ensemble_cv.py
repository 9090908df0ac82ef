"""How chapter 07 trains and combines its headline networks, compared on DS1 alone.

Nested cross-validation over DS1 *records*: three outer folds (drawn with ``--draw``);
on the two training folds each seed does what chapter 07 does (``ip.select_records``
holds out 30 % of the records, a network per head of ``ip.HEADS`` trains with early
stopping on them, the better head is kept) and, as a variant, trains the kept head again
on all the training records for its best number of epochs. Every model predicts the
outer fold it never saw; the probabilities are saved (``--out``) and then combined:

- "one seed": the chosen head of each seed alone (mean of the seeds' pooled F1);
- "ensemble, chosen heads": the mean probability of the seeds' chosen heads (the
  chapter's shipped model);
- "ensemble, both heads": the mean over every head of every seed;
- "ensemble, refit on all": the mean of the chosen heads retrained on all records.

Gross S and V Se/+P/F1 (``eu.ec57``) over the out-of-fold predictions of all of DS1.

    .venv/bin/python tools/ch07_ensemble_cv.py --draw=0 --seeds=3

Issue 23 (2026-12-07, 2 cores; 3 seeds, at most 8 epochs, about 30 min a draw; S F1
(Se/+P) | V F1, pooled over the out-of-fold predictions of all DS1 N, S and V beats):

- draw 0: one seed, chosen head .260 / .183 / .244 | .856 / .706 / .852; ensemble,
  chosen heads .250 (.375/.188) | .863; both heads .274 | .875; refit on all
  .352 (.428/.299) | .894; refit + chosen .307 | .887.
- draw 1: one seed .407 / .230 / .310 | .869 / .846 / .870; ensemble, chosen heads
  .280 (.233/.351) | .866; both heads .257 | .868; refit on all .457 (.479/.436) |
  .847; refit + chosen .418 | .858.

Mean of the two draws: the chapter's ensemble (chosen heads) S F1 .265, V F1 .865;
refit on all S .405, V .871. The mean of S and V F1 rose in both draws (+.066,
+.079); S Se rose most, because each model learns from the S-rich patients its seed
had held out. Averaging both heads moved S by +.024 and -.023.

Chapter 07 then ran once with the refit (``ip.fit_headline(refit=True)``): DS2 gained
a little, the other databases lost more (S F1 .579 -> .539 on one machine), and the chapter ran over
its time bar; it stays an option (chapter 07's ``refit``), not the default. The
figures are in docs/decisions.md.
"""
import sys
import time
from pathlib import Path

import numpy as np

import ecgutils as eu
from ecgutils import ec57
from ecgutils import interpatient as ip


def arg(name, default, argv):
    for a in argv:
        if a.startswith(f"--{name}="):
            return type(default)(a.split("=", 1)[1])
    return default


def train_fold(beats, held_out, spec, seed, epochs, refit):
    """Probabilities for the held-out beats from each head, and from the refit."""
    train = beats.subset(~held_out)
    split = ip.select_records(train, 0.3, seed=seed)
    tr, val = (train.subset(train.records_mask(split[k])) for k in ("train", "val"))
    test = beats.subset(held_out)
    out, scores, best = {}, {}, {}
    for head in ip.HEADS:
        fit = ip.train_classifier(tr, val, spec, seed=seed, epochs=epochs,
                                  flatten=(head == "flatten"), augment=ip.AUGMENT,
                                  label=f"seed {seed}, {head}")
        out[head] = ip.predict_beats(fit["model"], test, spec)[1]
        scores[head], best[head] = fit["best_score"], fit["best_epoch"]
    chosen = max(scores, key=scores.get)
    if refit:
        fit = ip.train_classifier(train, None, spec, seed=seed, epochs=best[chosen],
                                  flatten=(chosen == "flatten"), augment=ip.AUGMENT,
                                  label=f"seed {seed}, {chosen}, refit")
        out["refit"] = ip.predict_beats(fit["model"], test, spec)[1]
    return out, chosen


def main(argv):
    draw, n_seeds = arg("draw", 0, argv), arg("seeds", 3, argv)
    epochs, refit = arg("epochs", 8, argv), arg("refit", 1, argv)
    out_dir = Path(arg("out", "/tmp/ch07_ensemble_cv", argv))
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = ip.BeatSpec()
    eu.pipelines.check_no_test_records(eu.data.DS1)   # DS2 never reaches the choice
    beats = ip.build_beats(eu.data.DS1, spec=spec)
    beats = beats.subset(ip.class_indices(beats, spec) >= 0)
    counts = beats.counts().reindex(columns=["S", "V"], fill_value=0)
    folds, _, _ = eu.splits.split_records_covering(counts, (0.34, 0.33, 0.33), seed=draw,
                                                 min_count=20, names=("a", "b", "c"),
                                                 strict=False)
    proba = {}
    chosen = {}
    for s in range(n_seeds):
        for records in folds.values():
            start = time.perf_counter()
            held_out = beats.records_mask(records)
            out, chosen[s, tuple(records)] = train_fold(beats, held_out, spec, s, epochs,
                                                        refit)
            out["chosen"] = out[chosen[s, tuple(records)]]
            for k, p in out.items():
                proba.setdefault((s, k), np.zeros((len(beats), 3), np.float32))[held_out] = p
            print(f"draw {draw} seed {s} fold done in {time.perf_counter() - start:.0f} s",
                  flush=True)
        np.savez(out_dir / f"draw{draw}.npz", label=beats.label, record=beats.record,
                 **{f"{s}_{k}": p for (s, k), p in proba.items()})
    report(beats.label, proba, n_seeds, spec)


def report(label, proba, n_seeds, spec):
    def row(name, p):
        g = ec57.gross_statistics(label, spec.labels(p))
        print(f"{name:34s} S Se/+P {g['S']['se']:.3f}/{g['S']['ppv']:.3f} "
              f"F1 {g['S']['f1']:.3f} | V Se/+P {g['V']['se']:.3f}/{g['V']['ppv']:.3f} "
              f"F1 {g['V']['f1']:.3f}", flush=True)

    seeds = range(n_seeds)
    for s in seeds:
        row(f"seed {s}, chosen head", proba[s, "chosen"])
    row("ensemble, chosen heads", np.mean([proba[s, "chosen"] for s in seeds], 0))
    row("ensemble, both heads", np.mean([proba[s, h] for s in seeds for h in ip.HEADS], 0))
    if (0, "refit") in proba:
        row("ensemble, refit on all", np.mean([proba[s, "refit"] for s in seeds], 0))
        row("ensemble, refit + chosen", np.mean(
            [proba[s, k] for s in seeds for k in ("refit", "chosen")], 0))


if __name__ == "__main__":
    main(sys.argv[1:])
