# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · A 1D CNN on Kaggle-format heartbeats
#
# **Overview.** The Kaggle "ECG Heartbeat Categorization" files are the most used ECG
# data set in deep-learning tutorials: one heartbeat per row, 187 samples at 125 Hz, a
# label N, S, V, F or Q. Kachuee et al. (2018) derived them from MIT-BIH, and a plain 1D
# CNN is reported at 98.5 % accuracy on them. The files cannot be downloaded here and
# they throw away which patient each beat came from, so this chapter **rebuilds** them
# from the raw records with Kachuee's recipe, keeping each beat's record. We then
#
# 1. explore the beats (the usual EDA of the Kaggle notebooks);
# 2. train a 1D CNN on a stratified random split of beats, as those notebooks do;
# 3. train the same network on the inter-patient split of de Chazal et al. (2004) and
#    see how much of the score was the patients leaking across the split;
# 4. reuse the network (transfer learning) for a new task on another database.
#
# **Prerequisites.** Chapter 01 (the data, AAMI classes); Keras basics (`Sequential`
# or functional models, `fit`, callbacks).
#
# **Time to run.** About 6 minutes on 2 CPU cores (three trainings; 343 s measured,
# more when the shared machine is slow); under 2 minutes in smoke mode. If you have the
# real Kaggle CSVs, pass `csv_dir` (and `ptb_dir` for the PTB files) and the same code
# runs on them.

# %% tags=["remove-cell"]
# In Colab, install ecgutils from the book's repository. Colab's own TensorFlow is kept:
# ecgutils does not depend on a TensorFlow build.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ecgutils @ git+https://github.com/ecg-book/ecg-book@main"], check=True)

# %% tags=["parameters"]
smoke = None              # None: follow ECG_SMOKE; True: a few records, 1 epoch (CI)
seed = 0
results_dir = "results"
epochs = 14               # beat_random training (early stopping may end it sooner)
epochs_ds1ds2 = 5         # the same network on the inter-patient split
epochs_transfer = 6       # fine-tuning on the second database
batch_size = 64
class_weight_power = 0.25  # class weights are the balanced ones to this power (0 none, 1 full)
normal_fraction = 0.33    # share of the N training beats drawn afresh for each epoch (1: all)
r_peaks = "annotated"     # where beats start: "annotated" R peaks (as in the Kaggle files) or the paper's "threshold"
csv_dir = None            # folder with the real mitbih_train.csv / mitbih_test.csv, if you have them
ptb_dir = None            # folder with ptbdb_normal.csv / ptbdb_abnormal.csv, if you have them

# %% [markdown]
# ## Imports and checks

# %%
import os
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

import ecgutils as eu
import ecgutils.kaggle_beats as ek

# wfdb 4.3 calls a pandas API that pandas 3 deprecates; nothing we can act on.
warnings.filterwarnings("ignore", module="wfdb")

# papermill passes -p values as text: each is parsed, and a bad one stops here, named
P = eu.config.parse_parameter
smoke = eu.config.is_smoke(smoke)
seed = P("seed", seed, "int", minimum=0)
for name in ("epochs", "epochs_ds1ds2", "epochs_transfer", "batch_size"):
    globals()[name] = P(name, globals()[name], "int", minimum=1)
class_weight_power = P("class_weight_power", class_weight_power, "float", minimum=0, maximum=1)
normal_fraction = P("normal_fraction", normal_fraction, "float", minimum=0, maximum=1)
if normal_fraction == 0:
    raise ValueError("parameter 'normal_fraction' must be a number > 0 and <= 1, got 0.0")
r_peaks = P("r_peaks", r_peaks, "str", choices=ek.R_PEAK_SOURCES)
csv_dir = P("csv_dir", csv_dir, "str", allow_none=True)
ptb_dir = P("ptb_dir", ptb_dir, "str", allow_none=True)
results_dir = eu.results.resolve_results_dir(results_dir)  # <repo>/results; writable, checked now
eu.config.set_seed(seed)
if smoke:
    epochs = epochs_ds1ds2 = epochs_transfer = 1
# smoke: a few records that still hold every class, on both sides of DS1/DS2
records = (["101", "106", "119", "208", "209", "100", "213", "232", "222", "217"] if smoke
           else None)
st_records = (["sele0104", "sele0107", "sele0112", "sele0121", "sele0122", "sele0211",
               "sele0606", "sele0124"] if smoke else None)
if csv_dir is None:
    eu.data.ensure_records("mitdb", records)
if ptb_dir is None:
    eu.data.ensure_records("qtdb", st_records)
CLASSES = list(ek.KAGGLE_CLASSES)
print(f"smoke mode: {smoke} | epochs {epochs}/{epochs_ds1ds2}/{epochs_transfer} | "
      f"data: {'Kaggle CSVs in ' + str(csv_dir) if csv_dir else 'rebuilt from MIT-BIH'}")

# %% [markdown]
# ## Rebuilding the Kaggle beats
#
# Kachuee et al. describe five steps, which `eu.kaggle_beats.extract_kachuee_beats` applies to
# a whole record at once (no loop over beats):
#
# 1. resample the MLII lead from 360 Hz to 125 Hz;
# 2. cut it into 10-s windows and min–max normalise each window to [0, 1];
# 3. take the local maxima that reach 0.9 as R-peak candidates;
# 4. let T be the median interval between candidates in the window;
# 5. keep 1.2·T samples from each candidate and zero-pad to 187.
#
# Each beat is matched to a cardiologist's annotated beat within 150 ms and gets its
# AAMI class (N, S, V, F, Q → 0…4); candidates that match no beat (noise, a second
# maximum on one QRS) are dropped. Unlike the Kaggle files, the record and the sample of
# every beat are kept.
#
# Step 3 taken literally is lossy: a beat is kept only if its peak reaches 90 % of its
# window's range, so beats lower than their neighbours (many S beats, V beats that point
# downwards, beats riding low on baseline wander) are left out. The Kaggle files hold
# 109,446 beats, about one fewer than the annotated beats in every record, so their
# authors must have started the beats at the annotated R peaks. With
# `r_peaks = "annotated"` (this chapter's default) the builder does the same: steps 1, 2,
# 4 and 5 as in the paper, the beats at the annotated R peaks. `r_peaks = "threshold"`
# runs the paper's step 3 as written.

# %%
start = time.perf_counter()
beats = ek.load_kaggle_beats(csv_dir=csv_dir, records=records, r_peaks=r_peaks)
build_s = time.perf_counter() - start
print(f"{len(beats):,} beats in {build_s:.1f} s"
      + (f" from {len(set(beats.record))} records ({r_peaks} R peaks)" if csv_dir is None else ""))

# %% [markdown]
# How much of each class the two ways keep:

# %%
if csv_dir is None:
    used = sorted(set(beats.record))
    other = "threshold" if r_peaks == "annotated" else "annotated"
    counts = {r_peaks: beats.y, other: ek.build_kaggle_beats(used, r_peaks=other).y}
    kept = pd.DataFrame({"annotated beats": eu.data.beat_table("mitdb", used).aami.value_counts()})
    for source in ("annotated", "threshold"):
        kept[f"{source} R peaks"] = pd.Series(np.asarray(CLASSES)[counts[source]]).value_counts()
    kept = kept.reindex(CLASSES).fillna(0).astype(int)
    for source in ("annotated", "threshold"):
        kept[f"{source} kept %"] = (100 * kept[f"{source} R peaks"] / kept["annotated beats"]).round(1)
    display(kept)

# %% [markdown]
# The builder writes and reads the exact Kaggle layout: no header, 187 values and the
# label per row, every number as `%.18e`. The reader checks every row (188 columns, all
# finite, labels 0–4) and names the file and the row of anything wrong, so the same
# loader takes your own copy of the Kaggle files through `csv_dir`.

# %%
with tempfile.TemporaryDirectory() as tmp:
    demo = beats.subset(np.arange(min(len(beats), 2000)))
    path = ek.write_kaggle_csv(Path(tmp) / "mitbih_test.csv", demo.X, demo.y)
    first_line = path.read_text().splitlines()[0]
    X_back, y_back = ek.read_kaggle_csv(path)
    assert np.array_equal(y_back, demo.y) and np.allclose(X_back, demo.X)
    print(f"{len(first_line.split(','))} columns; first row starts: {first_line[:75]}...")
    bad = Path(tmp) / "broken.csv"
    bad.write_text(first_line + "\n" + first_line.rsplit(",", 1)[0] + ",7.0\n")
    try:
        ek.read_kaggle_csv(bad)
    except ValueError as err:
        print("a malformed file is refused:", str(err).replace(tmp, "<tmp>"))

# %% [markdown]
# ## Exploring the beats
#
# The Kaggle layout as a table: columns 0–186 are the samples, 187 the label; we add the
# record and the R-peak sample.

# %%
frame = beats.to_frame()
frame.head()

# %%
frame.info(memory_usage="deep", verbose=False)
print(f"missing values: {int(frame.isna().sum().sum())}")
print(f"duplicated beats (same 187 samples and label): "
      f"{int(frame.duplicated(subset=list(range(188))).sum())}")

# %%
counts = pd.Series(np.asarray(CLASSES)[beats.y]).value_counts().reindex(CLASSES, fill_value=0)
class_table = pd.DataFrame({"beats": counts, "%": (100 * counts / counts.sum()).round(2)})
class_table

# %% [markdown]
# Four of five beats are normal, and F is a fraction of a percent: accuracy alone will
# flatter any model, so we report per-class and macro scores too. The mean ± one standard
# deviation per class shows what the network has to tell apart; every beat starts at its
# R peak, and the zero padding shows as the tail that falls to 0.

# %%
fig, axes = plt.subplots(1, 5, figsize=(16, 3), sharey=True, layout="constrained")
names = np.asarray(CLASSES)[beats.y]
for ax, c in zip(axes, CLASSES):
    eu.plots.plot_beats(beats.X, names, ek.FS_KAGGLE, classes=[c], ax=ax)
    ax.set_title(c)
axes[0].set_ylabel("normalised amplitude");

# %% [markdown]
# ## Protocol 1: a random split of beats (as on Kaggle)
#
# The Kaggle split is a stratified random 80/20 split of **beats**. Each patient
# contributes thousands of near-identical beats, so the same patients sit on both sides:
# the network is tested on people it has already seen. We do it on purpose, to reproduce
# the published numbers, and measure the leak in the next section. 10 % of the training
# beats are held out for validation (early stopping and learning-rate decisions); the
# test beats are used once, at the end.

# %%
def prepare(train_idx, test_idx, source=beats, val_fraction=0.1, scaler=None):
    """Validation split (stratified), StandardScaler fitted on training beats only."""
    tr, va = train_test_split(train_idx, test_size=val_fraction, stratify=source.y[train_idx],
                              random_state=seed)
    scaler = scaler or ek.fit_beat_scaler(source.X[tr])
    as_input = lambda idx: ek.scale_beats(scaler, source.X[idx])
    return {"X": (as_input(tr), as_input(va), as_input(test_idx)),
            "y": (source.y[tr], source.y[va], source.y[test_idx]), "scaler": scaler}


def class_weights(y, n_classes, power=class_weight_power):
    """Balanced class weights, tempered by ``power`` (1: fully balanced, 0: none)."""
    present = np.unique(y)
    w = compute_class_weight("balanced", classes=present, y=y) ** float(power)
    weights = dict.fromkeys(range(n_classes), 1.0) | dict(zip(present.tolist(), w / w.min()))
    return {int(k): float(v) for k, v in weights.items()}


train_idx, test_idx = ek.split_beats(beats, "beat_random", seed=seed)
data = prepare(train_idx, test_idx)
weights = class_weights(data["y"][0], len(CLASSES))
print({k: len(v) for k, v in zip(("train", "validation", "test"), data["y"])})
print("class weights:", {CLASSES[k]: round(v, 2) for k, v in weights.items()})

# %% [markdown]
# Fully balanced class weights (`class_weight_power = 1`) multiply the loss of an F beat
# by about 100; in our trials that raised minority recall but cost several points of
# accuracy, because the network then calls many normal beats F or S. A fourth root keeps
# the order (rare classes count more) with a gentler push.
#
# **One scaler for all samples.** The beats are standardised with one mean and one
# standard deviation over every sample of every training beat
# (`eu.kaggle_beats.fit_beat_scaler`), not with a StandardScaler per time sample. Past
# about 1 s nearly every beat is zero padding, so a per-sample scaler divides that tail
# by a tiny deviation: the few long beats that reach it get values of up to 33
# deviations there, whatever their shape. One mean and deviation keep each beat's
# shape, and where its padding starts, which tells the network the median RR interval
# of its window. In our trials this raised validation accuracy by 0.17 points for
# both network widths we tried. Raw, unscaled beats did as well or better (0.9866
# against 0.9849 for a small network): standardising is part of the recipe this
# chapter follows, and this way of doing it costs nothing.
#
# ### The network
#
# Four blocks of Conv1D → MaxPool → BatchNorm → LeakyReLU (32, 64, 128 and 256 filters;
# pooling by 3, then 2, 2 and 2), Dropout, a dense layer and a softmax over the five
# classes; Adam and sparse categorical cross-entropy (`eu.models.build_beat_cnn1d`).
# A fourth block raised validation accuracy over three in our trials; the shorter
# epochs below pay for it.
#
# **Shorter epochs.** Four in five training beats are normal and most of them are
# near-copies of each other. Each epoch therefore holds every S, V, F and Q beat and a
# fresh third of the N beats (`normal_fraction`), whose loss weighs three times as much
# (`eu.models.rotating_batches`). An epoch costs less than half as much, the network sees
# every N beat about once per three epochs, and the rare classes, where most errors are,
# come round twice as often. The learning rate is cut by 0.3 whenever the validation
# loss stalls for an epoch; early stopping keeps the best epoch.

# %%
tf = eu.models.import_tensorflow()
import keras

keras.utils.set_random_seed(seed)
model = eu.models.build_beat_cnn1d(n_classes=len(CLASSES))
model.summary(line_length=90)

# %%
def fit(model, data, epochs, class_weight=None, keep_fraction=None, patience=5):
    (X_tr, X_va, _), (y_tr, y_va, _) = data["X"], data["y"]
    batches = eu.models.rotating_batches(X_tr, y_tr, batch_size, keep_fraction, class_weight,
                                         seed=seed)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                      restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=1,
                                          min_lr=1e-5),
    ]
    start = time.perf_counter()
    history = model.fit(batches, validation_data=(X_va, y_va), epochs=epochs,
                        callbacks=callbacks, verbose=2)
    return history, time.perf_counter() - start


def evaluate(model, data, classes):
    start = time.perf_counter()
    score = model.predict(data["X"][2], batch_size=1024, verbose=0)
    predict_s = time.perf_counter() - start
    names = np.asarray(classes)
    y_true, y_pred = names[data["y"][2]], names[score.argmax(1)]
    return eu.evaluate.classification_metrics(y_true, y_pred, classes, score), y_true, y_pred, predict_s


history, train_s = fit(model, data, epochs, weights, {0: normal_fraction})
metrics_random, y_true, y_pred, predict_s = evaluate(model, data, CLASSES)
print(f"trained {len(history.epoch)} epochs in {train_s:.0f} s")

# %%
eu.plots.plot_training_curves(history);

# %% [markdown]
# The training loss lies above the validation loss because it is weighted (class
# weights, and N beats three times) and computed with Dropout on; the validation loss
# is neither. The steps down in the training loss follow the learning-rate cuts.
#
# ### How good is it?

# %%
def headline(m):
    return {"accuracy": m["accuracy"], "macro precision": m["macro_precision"],
            "macro recall": m["macro_recall"], "macro F1": m["macro_f1"],
            "weighted precision": m["weighted_precision"],
            "weighted recall": m["weighted_recall"], "weighted F1": m["weighted_f1"]}


def add_weighted(m):
    """Support-weighted precision and recall (the reference reports these)."""
    support = np.array([v["support"] for v in m["per_class"].values()], float)
    for key in ("precision", "recall"):
        values = np.array([v[key] for v in m["per_class"].values()])
        m[f"weighted_{key}"] = round(float(np.average(values, weights=support)), 4)
    return m


metrics_random = add_weighted(metrics_random)
pd.Series(headline(metrics_random), name="beat_random").to_frame().T

# %%
print(classification_report(y_true, y_pred, labels=CLASSES, digits=4, zero_division=0))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
eu.plots.plot_confusion_matrix(y_true, y_pred, CLASSES, ax=axes[0])
eu.plots.plot_confusion_matrix(y_true, y_pred, CLASSES, normalize="true", ax=axes[1]);

# %% [markdown]
# In the default run (seed 0, 14 epochs, under four minutes of training on two cores)
# the network reached an accuracy of 0.986 and a macro F1 of 0.924. That is 99.5 % of
# the N beats, 99 % of the Q beats, 95 % of the V beats, 82 % of the S beats and 79 %
# of the F beats. It is far above the reference this chapter started from (accuracy
# 0.9186, weighted F1 0.9338) and at the 98.5 % reported for plain 1D CNNs on the
# Kaggle files. Two runs of this notebook on the same machine gave the same numbers to
# the fourth decimal; a trial run of the same network outside the notebook (up to 18
# epochs) scored 0.9864. Other CPUs and library versions round differently, so expect
# the third decimal to move by about 0.001.
#
# What got it there, measured on the validation beats in trial runs: one scaler for
# all samples instead of one per sample (+0.17 points), a fourth convolution block, and
# shorter epochs (a third of the N beats each), which bought the epochs. Before those changes, eight trial runs of a three-block network
# (more filters, up to 20 epochs, other batch sizes, dropout and pooling; up to 12
# minutes of training) stayed between 0.980 and 0.984.
#
# About a hundred S beats are still called N in every configuration we tried. An atrial
# premature beat conducted normally looks like a normal beat from its R peak onwards;
# what marks it is an early P wave and a short RR interval *before* the R peak. The
# Kaggle format cuts both away.
#
# The model is saved in the Keras format next to the results (written under a temporary
# name first, so an interrupted run never leaves a file that looks complete).

# %%
Path(results_dir).mkdir(parents=True, exist_ok=True)
model_path = Path(results_dir) / "06_beat_1d_cnn.keras"
partial = model_path.with_name(".06_beat_1d_cnn.partial.keras")
model.save(partial)
os.replace(partial, model_path)
print(f"saved {model_path}")

# %% [markdown]
# ## Protocol 2: new patients (DS1 → DS2)
#
# The honest question is how the network does on a patient it has never seen. de Chazal
# et al. (2004) split the non-paced MIT-BIH records into DS1 (training) and DS2 (test),
# 22 patients each. Same network, same preprocessing; validation beats come from DS1
# only, so DS2 is untouched until the test.

# %%
runs_compared = {"beat_random": metrics_random}
timing = {"beat_random": {"preprocess_s": round(build_s, 2), "train_s": round(train_s, 2),
                          "predict_s": round(predict_s, 2), "epochs_run": len(history.epoch)}}
if csv_dir is None:
    ds_train, ds_test = ek.split_beats(beats, "ds1ds2")
    data_ds = prepare(ds_train, ds_test)
    print({k: len(v) for k, v in zip(("train (DS1)", "validation (DS1)", "test (DS2)"),
                                      data_ds["y"])})
    keras.utils.set_random_seed(seed)
    model_ds = eu.models.build_beat_cnn1d(n_classes=len(CLASSES))
    history_ds, train_ds_s = fit(model_ds, data_ds, epochs_ds1ds2,
                                 class_weights(data_ds["y"][0], len(CLASSES)), {0: normal_fraction})
    metrics_ds, y_true_ds, y_pred_ds, predict_ds_s = evaluate(model_ds, data_ds, CLASSES)
    runs_compared["ds1ds2"] = add_weighted(metrics_ds)
    timing["ds1ds2"] = {"train_s": round(train_ds_s, 2), "predict_s": round(predict_ds_s, 2),
                        "epochs_run": len(history_ds.epoch)}
else:
    print("The Kaggle CSVs do not say which patient a beat came from: ds1ds2 is skipped.")

# %%
comparison = pd.DataFrame({name: headline(m) for name, m in runs_compared.items()}).T
per_class_f1 = pd.DataFrame({name: {c: m["per_class"][c]["f1"] for c in CLASSES}
                             for name, m in runs_compared.items()}).T.add_prefix("F1 ")
comparison.join(per_class_f1)

# %%
if "ds1ds2" in runs_compared:
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    eu.plots.plot_confusion_matrix(y_true, y_pred, CLASSES, normalize="true", ax=axes[0],
                                   title="beat_random")
    eu.plots.plot_confusion_matrix(y_true_ds, y_pred_ds, CLASSES, normalize="true", ax=axes[1],
                                   title="ds1ds2 (new patients)");

# %% [markdown]
# **Why the gap.** Under `beat_random` the test beats come from the same 48 people as the
# training beats, often from the same minute: recognising *this patient's* ectopic beat
# is easy once you have seen a hundred of its twins. Under `ds1ds2` every test patient
# is new. Beat shapes differ more between people than between a person's normal and
# ectopic beats, S beats look like normal beats apart from their timing (which a single
# beat cut at its R peak barely shows), and the classes are distributed differently in
# DS1 and DS2. Accuracy stays high because most beats are normal; per-class F1 for S and
# F is where the fall shows. Published numbers on the Kaggle split say little about a
# new patient.

# %% [markdown]
# ## Transfer learning
#
# Kachuee et al. reuse their MIT-BIH network for myocardial infarction on the PTB
# Diagnostic database (95.9 % accuracy). The PTB files are used when you pass `ptb_dir`.

# %%
if ptb_dir is not None:
    target = ek.load_ptb_beats(ptb_dir)
    target_protocol = "beat_random"
    t_train, t_test = ek.split_beats(target, "beat_random", seed=seed)
    print(f"PTB: {len(target):,} beats from {ptb_dir}")
else:
    print("No PTB files here (ptb_dir=None): this part uses the European ST-T excerpts instead.")

# %% [markdown]
# Without PTB we transfer to a task that exists in our data: the 33 European ST-T
# excerpts of the QT Database (15 min, 250 Hz, leads such as V4, CM5 or D3, not MLII).
# Their annotations mark ST-segment and T-wave episodes (`(ST1+` … `ST1+)`), the changes
# ischaemia causes. The same recipe cuts Kachuee-format beats from the first lead; a beat
# is *abnormal* when it lies in an ST or T episode of that lead, *normal* otherwise. The
# split is by patient: records go whole into training, validation or test, with records
# that have episodes and those that have none split separately so that every part has
# both.

# %%
if ptb_dir is None:
    start = time.perf_counter()
    target = eu.stt.build_st_t_beats(st_records)
    target_build_s = time.perf_counter() - start
    target_protocol = "st_episode_patient"
    has_episode = pd.Series(target.y).groupby(target.record).max()
    parts = [eu.data.split_records(has_episode.index[has_episode == flag], (0.6, 0.2, 0.2),
                                   seed=seed) for flag in (0, 1)]
    split = {k: sorted(parts[0][k] + parts[1][k]) for k in ("train", "val", "test")}
    eu.data.check_disjoint(split)
    idx = {k: np.flatnonzero(np.isin(target.record, v)) for k, v in split.items()}
    print(f"{len(target):,} ST-T beats in {target_build_s:.1f} s")
    display(pd.DataFrame({k: {"records": len(split[k]), "beats": len(idx[k]),
                              "abnormal %": round(100 * target.y[idx[k]].mean(), 1)}
                          for k in split}).T)

# %% [markdown]
# Two networks of the same shape learn the new task for the same number of epochs: one
# starts from the MIT-BIH weights (its convolution blocks frozen, the dense layer and a
# new two-class softmax trained), the other from random weights. Both see the beats
# through the MIT-BIH scaler, as the pretrained network expects.

# %%
def transfer_model(pretrained=None):
    keras.utils.set_random_seed(seed)
    base = pretrained or eu.models.build_beat_cnn1d(n_classes=len(CLASSES))
    features = base.get_layer("dense_drop").output
    out = keras.layers.Dense(2, activation="softmax", name="target_softmax")(features)
    new = keras.Model(base.inputs[0], out, name="transfer" if pretrained else "scratch")
    if pretrained is not None:
        for layer in new.layers:
            layer.trainable = not layer.name.startswith(("conv", "bn"))
    new.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return new


scaler = data["scaler"]
as_input = lambda i: ek.scale_beats(scaler, target.X[i])
if ptb_dir is None:
    t_data = {"X": tuple(as_input(idx[k]) for k in ("train", "val", "test")),
              "y": tuple(target.y[idx[k]] for k in ("train", "val", "test"))}
else:
    t_data = prepare(t_train, t_test, source=target, scaler=scaler)
t_weights = class_weights(t_data["y"][0], 2, power=1.0)
transfer_results, transfer_timing, transfer_histories = {}, {}, {}
for name, pretrained in (("pretrained on MIT-BIH", model), ("from scratch", None)):
    net = transfer_model(pretrained)
    hist, seconds = fit(net, t_data, epochs_transfer, t_weights, patience=3)
    m, *_, pred_s = evaluate(net, t_data, list(target.classes))
    transfer_results[name] = add_weighted(m)
    transfer_histories[name] = hist
    transfer_timing[name] = {"train_s": round(seconds, 2), "predict_s": round(pred_s, 2),
                             "epochs_run": len(hist.epoch)}

# %%
pd.DataFrame({name: {**headline(m), "ROC-AUC (abnormal)":
                     m["per_class"]["abnormal"].get("roc_auc")}
              for name, m in transfer_results.items()}).T

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for name, hist in transfer_histories.items():
    axes[0].plot(np.arange(1, len(hist.epoch) + 1), hist.history["val_loss"], "o-", ms=3, label=name)
    axes[1].plot(np.arange(1, len(hist.epoch) + 1), hist.history["val_accuracy"], "o-", ms=3,
                 label=name)
for ax, label in zip(axes, ("validation loss", "validation accuracy")):
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.legend(fontsize=8)

# %% [markdown]
# Read the table with care, and with the ROC-AUC first: accuracy here is mostly the
# share of normal beats among the test patients. In the default run (seed 0) neither
# network separated the episode beats of the new patients from their other beats (an
# ROC-AUC near or below 0.5), and starting from the MIT-BIH weights did not change that.
# The limit is the label, not the transfer: an ST or T episode is a change of the ST
# level or T wave relative to *that patient's own* baseline, which one min–max
# normalised beat of a stranger cannot show; the leads also differ from MIT-BIH's MLII,
# and seven test patients make a noisy score. Kachuee et al.'s 95.9 % on PTB MI comes
# from a beat-random split of PTB beats, with the same patient leak as `beat_random`
# above. Transfer learning is worth trying when the target task can be read from single
# beats; a per-patient ST-change detector (chapter 03) needs the patient's own reference.
#
# ## Saving the numbers

# %%
params = {"smoke": smoke, "seed": seed, "epochs": epochs, "epochs_ds1ds2": epochs_ds1ds2,
          "epochs_transfer": epochs_transfer, "batch_size": batch_size,
          "class_weight_power": class_weight_power, "normal_fraction": normal_fraction,
          "r_peaks": r_peaks, "csv_dir": csv_dir, "ptb_dir": ptb_dir}
data_note = ("Kaggle CSVs" if csv_dir else
             f"rebuilt with eu.kaggle_beats.build_kaggle_beats from {len(set(beats.record))} records")
runs = [eu.results.make_run(protocol, "cnn1d", CLASSES, m, timing[protocol], data=data_note,
                            n_beats=len(beats))
        for protocol, m in runs_compared.items()]
for name, m in transfer_results.items():
    runs.append(eu.results.make_run(
        target_protocol, "cnn1d_transfer" if name.startswith("pretrained") else "cnn1d_scratch",
        list(target.classes), m, transfer_timing[name],
        task="PTB normal vs abnormal" if ptb_dir else
             "European ST-T excerpts (qtdb sele*): beat inside an ST/T episode of lead 1 or not",
        splits=None if ptb_dir else split))
path = eu.results.write_results(results_dir, "06_beat_1d_cnn", params, runs)
print(f"wrote {path}")
pd.DataFrame([{"protocol": r["protocol"], "model": r["model"], "accuracy": r["metrics"]["accuracy"],
               "macro F1": r["metrics"]["macro_f1"], **r["timing"]} for r in runs])

# %% [markdown]
# ## Summary
#
# - Kachuee's recipe gives Kaggle-format beats of all 48 records in seconds, with the
#   patient of every beat kept. Taken literally it keeps only the beats whose peak
#   reaches 90 % of their window (56 % of them); started at the annotated R peaks, as the
#   size of the Kaggle files implies, it keeps all but the last few seconds of each record.
# - A small 1D CNN (four Conv1D blocks) trained for under four minutes on two CPU cores
#   reaches 98.6 % accuracy (macro F1 0.92) on a random split of beats, the 98.5 %
#   reported for the Kaggle files. One scaler for all samples, and epochs that hold a
#   third of the normal beats, mattered more than extra filters or epochs.
# - On new patients (DS1 → DS2) the same network falls sharply, above all on S and F
#   beats: the random-split score measures memory of patients as much as skill.
# - Pretrained convolution features are easy to reuse for another database, but they
#   cannot rescue a label that single beats of new patients do not carry (ST episodes).
#
# ## What's next
#
# Chapter 07 asks what does carry over to new patients: RR intervals measured against
# each patient's own rhythm, a beat window that keeps the P wave, and selection on
# held-out training patients only. (Chapter 05 turns these beats into spectrograms for a
# 2D CNN and balances the classes with SMOTE instead of class weights.)
#
# ## References
#
# - Kachuee M, Fazeli S, Sarrafzadeh M. ECG heartbeat classification: a deep transferable
#   representation. *IEEE ICHI* 2018, 443–444. arXiv:1805.00794.
# - Fazeli S. ECG Heartbeat Categorization Dataset. Kaggle, 2018.
# - Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. *IEEE Eng Med Biol* 20(3):45–50, 2001.
# - de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
#   morphology and heartbeat interval features. *IEEE Trans Biomed Eng* 51(7):1196–1206, 2004.
# - Taddei A, et al. The European ST-T database. *European Heart Journal* 13:1164–1172, 1992.
# - Laguna P, et al. A database for evaluation of algorithms for measurement of QT and
#   other waveform intervals in the ECG. *Computers in Cardiology* 24:673–676, 1997.
