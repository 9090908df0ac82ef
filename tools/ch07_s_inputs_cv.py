"""Which inputs of the forest let a small network find S beats in new DS1 patients?

On the folds of ``ch07_design_cv.record_folds`` (three folds of DS1 *records*, DS2 never
touched), a small MLP (64 and 32 units, dropout 0.2, the class weights to the power
0.5, 8 epochs) learns from the forest's inputs (``ip.forest_features``) and predicts the
held-out fold; the forest itself (``ip.build_forest``) is the reference. Each is scored
on its own (gross S and V F1, ``eu.ec57``), and, given ``--hybrid=DIR`` (the
out-of-fold probabilities that ``tools/ch07_hybrid_cv.py --save=DIR`` writes), also with
V from chapter 07's network and S (elsewhere N) from the MLP. About 2 minutes a draw on
2 cores.

    ECG_DATA_DIR=../shared/data .venv/bin/python tools/ch07_s_inputs_cv.py \\
        --seed=0 --seed=1 --seed=2 --seed=3 --seed=4 --hybrid=/tmp/hyb

What it showed (2026-12-07, 2 cores, draws 0-4, about 2 min a draw; mean S F1 | mean V
F1 on its own; then the mean S F1 with V from the network, whose own S F1 over the same
draws is .425):

- MLP on all 22 inputs, standardised: .370 | .767; with V from the network .403;
- quantile-transformed (flat beyond the training range, as a tree's splits are):
  .320 | .829; .345;
- piecewise-linear encoded (16 bins a column; Gorishniy et al. 2022): .392 | .825; .410;
- the twelve rhythm numbers (the six RR and six rhythm-context columns, no shape
  numbers): .436 | .614; with V from the network .549 (.448 / .656 / .521 / .470 /
  .650);
- the network's own 17 RR features (``BeatSpec.rr_features``): .427 | .615; .526;
- the forest: .466 | .792.

An earlier run (class weights not rounded to 4 decimals; this one ran beside the test
suite) differed by up to .015: Keras on the CPU is not bit-for-bit repeatable. On DS1,
the shape numbers let a network learn its training patients' S beats; the encodings
that give a network a tree's flat extrapolation do not close the gap to the forest. The
network built on this (``build_interpatient_model(s_from_rhythm=True)``, "S from rhythm"
in ``tools/ch07_design_cv.py``) did not carry the gain over to DS2 or to the other
databases (docs/decisions.md).
"""
import sys
import time
from pathlib import Path

import numpy as np

import ecgutils as eu
from ecgutils import ec57
from ecgutils import interpatient as ip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ch07_design_cv import CHAPTER, forest_out_of_fold, record_folds  # noqa: E402

RHYTHM = np.r_[0:6, 16:22]   # the forest's RR and rhythm-context columns, no shape numbers


def standardised(train, test):
    mean, sd = train.mean(0), train.std(0) + 1e-9
    return (train - mean) / sd, (test - mean) / sd


def quantiles(train, test):
    from sklearn.preprocessing import QuantileTransformer

    q = QuantileTransformer(n_quantiles=200, random_state=0).fit(train)
    return q.transform(train), q.transform(test)


def piecewise_linear(train, test, bins=16):
    """Each column as ``bins`` numbers in [0, 1] between its training quantiles
    (Gorishniy et al. 2022): constant beyond the training range."""
    columns = [[], []]
    for j in range(train.shape[1]):
        edges = np.unique(np.quantile(train[:, j], np.linspace(0, 1, bins + 1)))
        low, high = edges[:-1], edges[1:]
        for out, x in zip(columns, (train, test)):
            out.append(np.clip((x[:, j, None] - low) / (high - low), 0, 1))
    return tuple(np.concatenate(c, axis=1) for c in columns)


def mlp_proba(x_train, y_train, x_test, seed, n_classes=3):
    import keras

    keras.utils.set_random_seed(seed)
    weights = np.array(list(eu.experiment.class_weights(y_train, range(n_classes),
                                                        0.5).values()))
    model = keras.Sequential([
        keras.Input((x_train.shape[1],)),
        keras.layers.Dense(64, activation="relu"), keras.layers.Dropout(0.2),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dropout(0.2),
        keras.layers.Dense(n_classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x_train.astype("float32"), y_train, sample_weight=weights[y_train], epochs=8,
              batch_size=256, verbose=0)
    return model.predict(x_test.astype("float32"), batch_size=4096, verbose=0)


def main(args):
    seeds = [int(a.split("=")[1]) for a in args if a.startswith("--seed=")] or [0]
    hybrid = next((Path(a.split("=", 1)[1]) for a in args if a.startswith("--hybrid=")), None)
    eu.pipelines.check_no_test_records(eu.data.DS1)   # DS2 never reaches the choice
    beats = ip.build_beats(eu.data.DS1, spec=CHAPTER)
    features = ip.forest_features(beats, CHAPTER).astype(np.float64)
    known = ip.class_indices(beats, CHAPTER)
    variants = {
        "MLP, 22 inputs": (slice(None), standardised),
        "MLP, 22 quantile": (slice(None), quantiles),
        "MLP, 22 piecewise-linear": (slice(None), piecewise_linear),
        "MLP, 12 rhythm": (RHYTHM, standardised),
        "MLP, network's 17 RR": ("rr", standardised),
    }
    classes = np.asarray(CHAPTER.classes)
    n, s, v = (classes.tolist().index(c) for c in "NSV")
    for seed in seeds:
        start = time.perf_counter()
        proba = {name: np.zeros((len(beats), len(classes))) for name in variants}
        for records in record_folds(beats, seed).values():
            test = beats.records_mask(records)
            train = ~test & (known >= 0)
            for name, (columns, encode) in variants.items():
                x = (beats.rr.astype(np.float64) if isinstance(columns, str)
                     else features[:, columns])
                x_train, x_test = encode(x[train], x[test])
                proba[name][test] = mlp_proba(x_train, known[train], x_test, seed)
        proba["forest"] = forest_out_of_fold(beats, CHAPTER, seed)
        network = None
        if hybrid is not None:
            saved = np.load(hybrid / f"ch07_hybrid_cv_folds{seed}.npz")
            if not np.array_equal(saved["record"], beats.record):
                sys.exit(f"error: {hybrid} holds other beats than this DS1 table; rerun "
                         "tools/ch07_hybrid_cv.py --save")
            network = saved["network"]
        print(f"folds {seed} ({time.perf_counter() - start:.0f} s)", flush=True)
        for name, p in proba.items():
            rows = [("alone", p.argmax(1))]
            if network is not None and name != "forest":
                rows.append(("V network", np.where(network.argmax(1) == v, v,
                                                   np.where(p.argmax(1) == s, s, n))))
            for how, label in rows:
                g = ec57.gross_statistics(beats.label, classes[label])
                print(f"  {name:26s} {how:9s}: S Se/+P {g['S']['se']:.3f}/"
                      f"{g['S']['ppv']:.3f} F1 {g['S']['f1']:.3f} | V F1 {g['V']['f1']:.3f}",
                      flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
