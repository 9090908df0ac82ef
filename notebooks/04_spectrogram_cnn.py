# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Spectrogram CNN with Grad-CAM, patient-wise
#
# **Overview.** We classify MIT-BIH heartbeats into the {term}`AAMI classes` N, S and V
# from pictures: each beat becomes a short-time Fourier transform (STFT) image, a
# {term}`spectrogram`, and a small 2D
# convolutional network reads it. The beats are found by our own R-peak detector, not
# taken from the annotations, so the same pipeline would work on ECG nobody annotated.
# Evaluation is {term}`patient-wise <patient-wise split>`: no record is ever in two splits. Two protocols run every
# time: a seeded 70/15/15 split of records (the protocol of the reference project we
# compare against) and the {term}`DS1/DS2 <DS1 and DS2>`
# {term}`inter-patient <inter-patient protocol>` benchmark of {cite:t}`dechazal2004automatic`.
# {term}`Grad-CAM` then shows which parts of the spectrogram drove each decision.
#
# **Prerequisites.** {doc}`01_data_tour` (the data, the detector and how it is scored);
# basic Keras (layers, `fit`, {term}`class weights`); what a spectrogram is. Terms are
# defined in the {doc}`../glossary`.
#
# **Time to run.** About ten minutes on an otherwise idle 2-core CPU with the default
# parameters (preprocessing all 48 records takes seconds, then two trainings of at most
# 10 epochs); the {doc}`../runtimes` page has the time measured in this build.

# %% tags=["remove-cell"]
# In Colab, install ecgutils from the book's repository. Colab's own TensorFlow is kept:
# ecgutils does not depend on a TensorFlow build.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ecgutils @ git+https://github.com/ecg-book/ecg-book@main"], check=True)

# %% tags=["parameters"]
# None: follow ECG_SMOKE; True: a few records, 1 epoch (CI)
smoke = None
seed = 0
results_dir = "results"
# upper limit; early stopping (patience 5) may stop sooner
epochs = 10
protocols = ["patient_70_15_15", "ds1ds2"]
records = None          # MIT-BIH records to preprocess; None: all 48
# spectrogram image is image_size x image_size (frequency x time)
image_size = 32
# N beats kept (seeded random subset) in each TRAINING set
max_train_n = 15000
# extra seeds for patient_70_15_15 (new split + training each)
spread_seeds = []

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

import ecgutils as eu
from ecgutils.experiment import glue

CLASSES = np.array(["N", "S", "V"])
chapter = eu.book.setup(globals(), "04_spectrogram_cnn")
records = records or eu.data.list_records("mitdb")
# chapter 04's spectrogram (scipy STFT, the
# eu.spectrograms.beat_spectrograms defaults)
SPECTROGRAM = dict(nperseg=64, noverlap=43, nfft=256, max_hz=45.0,
                   size=(image_size, image_size))
print(f"smoke mode: {smoke} | {len(records)} records | epochs {epochs} | "
      f"protocols {protocols}")

# %% [markdown]
# ## From records to spectrogram images
#
# For every record, as whole arrays (the only Python loop is over records):
#
# 1. band-pass 0.5–40 Hz (zero-phase Butterworth, `eu.signal.bandpass_filter`);
# 2. R peaks from `eu.signal.detect_r_peaks` on the MLII lead (`eu.data.pick_lead`);
# 3. each detection takes the AAMI class of the reference beat within 150 ms
#    (`eu.signal.label_detections`, built on `eu.signal.match_beats`). Detections with no
#    reference beat, and reference beats no detection found, are counted below;
# 4. a 2-s window centred on each R peak, z-scored;
# 5. the STFT magnitude in dB (`eu.spectrograms.beat_spectrograms`, which runs
#    `scipy.signal.spectrogram` over all windows at once: Hann window of 64 samples =
#    178 ms, step 21 samples = 58 ms, zero-padded to 256 points), rows below 45 Hz kept.
#    At 360 Hz that is 32 frequency rows (1.4 Hz apart) x 32 time frames: the image needs
#    no resizing at `image_size = 32`; other sizes are resized bilinearly. Each image is
#    standardised on its own. Chapter 05 uses the same function with its own settings.
#
# **Only beats of AAMI class N, S and V are used**: F (fusion) and Q (paced, unclassifiable)
# beats are left out, as in the reference project. A fusion beat is a normal and a
# ventricular activation meeting in the ventricles, so its shape lies between N and V by
# definition (and EC57 does not count a fusion beat called V as a false V); Q beats are
# nearly all paced, and the paced records are left out below.

# %%
data = eu.spectrograms.build_spectrogram_dataset(
    records, "mitdb", window_s=2.0, keep_windows=True, **SPECTROGRAM)
images, labels, beat_record, fs = (data["images"], data["labels"],
                                   data["records"], data["fs"])
print(f"preprocessing of {len(records)} records: "
      f"{data['timing']['total_s']} s (detect + label "
      f"+ cut: {data['timing']['beats_s']} s, "
      f"spectrograms: {data['timing']['spectrograms_s']} s)"
      f" -> {images.shape[0]:,} images of "
      f"{images.shape[1]}x{images.shape[2]}")
glue("share_n", 100 * float(np.mean(labels == "N")))
(pd.Series(labels).value_counts().reindex(CLASSES, fill_value=0)
 .rename("beats").to_frame().T)

# %% [markdown]
# ### How good are the detected beats?
#
# A detection is *unmatched* when no reference beat lies within 150 ms (a false detection:
# it has no label and is dropped); a reference beat is *missed* when no detection matched
# it. Records 102 and 104 have no MLII lead; `pick_lead` falls back to their first lead.
#
# On the non-paced records the detector reaches {term}`Se` {glue:text}`det_se:.4f` and {term}`+P`
# {glue:text}`det_ppv:.4f`, a lower +P than in chapter 01 on the same records. The
# difference is the ventricular flutter of record 207: {glue:text}`det_in_flutter`
# detections fall inside its flutter episodes, where the annotators marked flutter waves,
# not beats, so none can match. Chapter 01 leaves those stretches out, as WFDB's
# {term}`bxb` does; left out here too, +P would be {glue:text}`det_ppv_wo_flutter:.4f`.
# For this chapter they are simply dropped: a detection without a matching beat gets no
# label. {numref}`fig-04-detector` shows the records with the most errors.

# %%
totals = eu.spectrograms.detector_totals(data["detector"])
# Chapter 01 leaves out the detections inside record 207's
# ventricular-flutter episodes (flutter waves, no beats to match), as WFDB's
# bxb does; here they stay in, unmatched.
flutter, det = (eu.data.detections_in_episodes("207") if "207" in records
                else 0, totals.loc["non-paced"])
eu.experiment.glue_all(
    {"se": det.se, "ppv": det.ppv, "in_flutter": flutter,
     "ppv_wo_flutter": det.matched / (det.detections - flutter)},
    prefix="det_")
totals

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-04-detector", "caption": "The 15 records with the most detector errors: detections matching no reference beat, and reference beats no detection found."}}
worst = data["detector"].assign(
    errors=lambda d: d.unmatched_detections + d.missed_beats
).sort_values("errors", ascending=False)
ax = worst.head(15)[["unmatched_detections", "missed_beats"]].plot.bar(
    figsize=(12, 3.5), rot=0)
ax.set(xlabel="record (the 15 with most errors)", ylabel="beats")
ax.legend(["unmatched detections (dropped)", "missed reference beats"]);

# %%
worst.head(8)[["lead", "reference", "detections", "unmatched_detections",
               "missed_beats", "missed_S", "missed_V", "se", "ppv"]]

# %% [markdown]
# ## What the network sees
#
# One random beat of each class, its 2-s window and its spectrogram (drawn with
# `librosa.display.specshow` {cite:p}`mcfee2015librosa`), then the mean spectrogram of
# each class ({numref}`fig-04-spectrograms`). In the window,
# the neighbouring beats appear left and right: an S beat comes early, so its
# predecessor sits closer to the centre. The spectrogram keeps that timing on its time
# axis, and the QRS energy shows as a bright column reaching up to 20–40 Hz; V beats are
# wide and slow, so their energy stays lower.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-04-spectrograms", "caption": "One random beat of each class (N, S, V): its 2-s window, its spectrogram, and the mean spectrogram of the class."}}
rng = np.random.default_rng(seed)
times_from_r = data["times_s"] - 1.0  # the window starts 1 s before R
fig, axes = eu.plots.plt.subplots(3, 3, figsize=(13, 9),
                                  layout="constrained")
for j, c in enumerate(CLASSES):
    pool = np.flatnonzero(labels == c)
    if pool.size:
        i = rng.choice(pool)
        axes[0, j].plot(np.arange(data["windows"].shape[1]) / fs - 1.0,
                        data["windows"][i],
                        color=eu.plots.CLASS_COLORS[c], lw=0.8)
        axes[0, j].set(title=f"{c}: record {beat_record[i]}, "
                             f"R at {data['samples'][i] / fs:.0f} s",
                       xlabel="time from R (s)",
                       ylabel="z-scored amplitude")
        eu.plots.plot_spectrogram(images[i], data["freqs_hz"],
                                  times_from_r, axes[1, j])
        eu.plots.plot_spectrogram(
            images[pool].mean(0), data["freqs_hz"], times_from_r,
            axes[2, j], title=f"mean spectrogram, {c} ({pool.size:,})")
del data["windows"]

# %% [markdown]
# ## Two patient-wise protocols
#
# `eu.spectrograms.protocol_splits` makes both:
#
# - `patient_70_15_15`: the non-paced records split 70/15/15 into train, validation and
#   test (`eu.splits.split_records`, seeded). The four paced records (102, 104, 107, 217)
#   are left out of both protocols: nearly all their beats are paced (class Q) and
#   pacemaker spikes change the spectrum of the rest.
# - `ds1ds2`: train on DS1, test on DS2 (de Chazal et al. 2004). Four DS1 records, drawn
#   with the seed among draws whose records hold both S and V beats, are held out for
#   validation (early stopping); DS2 is used only for the final test.
#
# Splits draw subjects, not records (records 201 and 202 come from one man), and
# `eu.splits.check_disjoint` confirms that no subject sits in two splits, but for that one
# man in the published DS1/DS2 split.

# %%
make_splits = partial(eu.spectrograms.protocol_splits, records=records,
                      beat_record=beat_record, labels=labels,
                      n_val=1 if smoke else 4)
splits = {p: make_splits(p, seed=seed) for p in protocols}
pd.DataFrame([{"protocol": p, "split": name, "records": len(recs),
               **{c: int(((labels == c) & np.isin(beat_record, recs)).sum())
                  for c in CLASSES}}
              for p, s in splits.items() for name, recs in s.items()]
             ).set_index(["protocol", "split"])

# %% [markdown]
# ## The network, and the choices that make it fit on two cores
#
# The architecture follows the reference (`eu.models.build_spectrogram_cnn`): three
# blocks of `Conv2D` (32, 64, 128 filters, 3x3, ReLU), `BatchNormalization` and
# `MaxPool2D`; then `Dense(128)`, `Dropout(0.5)` and a softmax over N, S, V; Adam,
# cross-entropy, batch 32, class weights, early stopping (patience 5, best weights
# restored) on the validation records' loss (`eu.experiment.train_and_evaluate` with
# `score="val_loss"`).
#
# The reference fed 128x128 images and trained for about two hours on a GPU. On a 2-core
# CPU, 128x128 trains at about 60 images/s, so one pass over MIT-BIH would take half an
# hour. Our choices, measured on this machine:
#
# - **32x32 input.** The STFT above gives 32 frequency rows below 45 Hz and 32 time
#   frames natively: a larger image would only interpolate the same numbers. 32x32 trains
#   many times faster than 64x64.
# - **`Flatten`, not global average pooling.** Global average pooling would be cheaper,
#   but it forgets *where* a pattern sits. The S class is mostly about timing (an early
#   beat: the previous QRS column sits closer to the centre), which only a
#   position-aware head can use; at 32x32 the Flatten head (4x4x128 -> 128) is cheap.
# - **Subsampling N in training only.** {glue:text}`share_n:.0f` % of the beats are N.
#   Each training set keeps all its S and V beats and a seeded random `max_train_n` =
#   15,000 of its N beats (`eu.experiment.subsample_majority`), so an epoch takes well
#   under a minute. Validation and test sets keep every beat: the metrics are on the real
#   class mix. With only 8,000 N beats kept, noticeably more of the test patients' N
#   beats are called V: the network needs the variety of N beats more than it needs the
#   time saved.
# - **Class weights** are the square root of the "balanced" weights of that training
#   set (`eu.experiment.class_weights(..., power=0.5)`). Full balanced weights on top of
#   the subsampling push too many N beats into S, and S precision is the weak spot of
#   every patient-wise study.

# %%
# the approach (network, batch 32, class weights to the power 0.5) is
# chapter 08's entry; this chapter's protocol (detected beats, its splits, N
# beats kept, selection on the validation loss with patience 5) goes in as
# parameters of the call
approach = eu.pipelines.PIPELINES["spectrogram_cnn"]


def run_protocol(protocol, split, seed):
    ("Train on split['train'], early-stop on split['val'], "
     "test once on split['test'].")
    idx = {k: np.flatnonzero(np.isin(beat_record, v))
           for k, v in split.items()}
    ratio = min(1.0,
                max_train_n / max((labels[idx["train"]] == "N").sum(), 1))
    xy = {k: (images[i][..., None], np.searchsorted(CLASSES, labels[i]))
          for k, i in idx.items()}
    r = approach.train(xy["train"], xy["val"], xy["test"], seed=seed,
                       n_classes=len(CLASSES), epochs=epochs, patience=5,
                       score="val_loss", majority_ratio=ratio,
                       label=f"{protocol} (seed {seed})")
    y_test, y_pred = CLASSES[r["y_true"]], CLASSES[r["y_pred"]]
    return {**r, "protocol": protocol, "seed": seed, "split": split,
            "test_idx": idx["test"],
            "y_test": y_test, "y_pred": y_pred, "scores": r["y_score"],
            "metrics": eu.evaluate.classification_metrics(
                y_test, y_pred, CLASSES, r["y_score"]),
            "train_counts": {str(c): int((r["train_y"] == i).sum())
                             for i, c in enumerate(CLASSES)}}


approach.build_model(images[:1, ..., None], seed, len(CLASSES)).summary()

# %% [markdown]
# ## Training
#
# The learning curves of both protocols follow the table of training beats and weights.

# %%
runs = {p: run_protocol(p, splits[p], seed) for p in protocols}
pd.DataFrame.from_dict(
    {p: r["train_counts"] | {f"weight {c}": r["class_weight"][i]
                             for i, c in enumerate(CLASSES)}
     for p, r in runs.items()}, orient="index")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Learning curves of each protocol (patient_70_15_15, then ds1ds2): loss and accuracy on training and on the held-out validation records."}}
for p, r in runs.items():
    eu.plots.plot_training_curves(r["history"]).suptitle(
        f"{p}: training curves (validation = held-out records)",
        fontsize=10)

# %% [markdown]
# The validation curves are jumpy: the validation set is a handful of patients, and a few
# hundred beats of one of them can swing the loss. Early stopping keeps the weights of
# the epoch with the lowest validation loss.
#
# ## Test results
#
# Each protocol's test records were used once, after training; nothing was tuned on them.
# The figures after the tables show each protocol's {term}`ROC <ROC curve>` and
# precision-recall curves and {term}`confusion matrices <confusion matrix>`.

# %%
for p, r in runs.items():
    m = r["metrics"]
    print(f"{p}: test accuracy {m['accuracy']:.4f} on {m['n']:,} beats of "
          f"{len(r['split']['test'])} records; macro F1 {m['macro_f1']:.3f}")
    display(pd.DataFrame(m["per_class"]).T[
        ["precision", "recall", "f1", "roc_auc", "average_precision",
         "support"]].astype({"support": int})
        .style.format(precision=3).set_caption(p))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Test results of each protocol (patient_70_15_15, then ds1ds2): ROC and precision-recall curves, and confusion matrices."}}
for p, r in runs.items():
    fig, axes = eu.plots.plt.subplots(1, 4, figsize=(18, 4.2),
                                      layout="constrained")
    eu.plots.plot_roc_curves(r["y_test"], r["scores"], CLASSES, ax=axes[0],
                             title=f"{p}: ROC")
    eu.plots.plot_pr_curves(r["y_test"], r["scores"], CLASSES, ax=axes[1],
                            title=f"{p}: precision-recall")
    for ax, normalize in zip(axes[2:], (None, "true")):
        eu.plots.plot_confusion_matrix(r["y_test"], r["y_pred"], CLASSES,
                                       normalize, ax)

# %% [markdown]
# ### Against the reference project (`patient_70_15_15`)
#
# The reference reported accuracy 86.18 %, precision/recall .99/.86 (N), .11/.65 (S),
# .56/.93 (V). The bar for this chapter: accuracy above .8618, S precision above .11,
# V precision above .56, V recall at least .90. Two limits of this comparison: the
# reference's figures come from its own 70/15/15 split, so from other test patients
# (and, with six or seven test patients, the choice of patients alone moves every number
# a lot); and the bars leave out S recall, where the reference reached .65.

# %%
REFERENCE = {"accuracy": 0.8618, "N": (0.99, 0.86, 0.97),
             "S": (0.11, 0.65, 0.93), "V": (0.56, 0.93, 0.99)}
bar = None
if "patient_70_15_15" in runs:
    m = runs["patient_70_15_15"]["metrics"]
    pc = m["per_class"]
    bar = {"accuracy > .8618": m["accuracy"] > 0.8618,
           "S precision > .11": pc["S"]["precision"] > 0.11,
           "V precision > .56": pc["V"]["precision"] > 0.56,
           "V recall >= .90": pc["V"]["recall"] >= 0.90}
    eu.experiment.glue_all(
        {"acc": m["accuracy"],
         "bars_met": f"{sum(bar.values())} of {len(bar)}"}, prefix="p70_")
    eu.experiment.glue_all(
        {f"{c.lower()}_{k}": pc[c][key] for c in "SV"
         for k, key in (("ppv", "precision"), ("se", "recall"),
                        ("f1", "f1"))}, prefix="p70_")
    display(pd.DataFrame(
        [{"": "accuracy", "reference": REFERENCE["accuracy"],
          "this chapter": m["accuracy"]}]
        + [{"": f"{c} {name}", "reference": REFERENCE[c][k],
            "this chapter": pc[c].get(name)}
           for c in CLASSES
           for k, name in enumerate(("precision", "recall", "roc_auc"))]
    ).set_index("").round(3), pd.Series(bar, name="bar met").to_frame())

# %% [markdown]
# ### Against de Chazal et al. (2004) (`ds1ds2`)
#
# The inter-patient benchmark, in AAMI terms: sensitivity Se (recall) and positive
# predictivity +P (precision) for S and V. de Chazal's linear discriminant on hand-made
# morphology **and RR-interval** features reached S 75.9/38.5 and V 77.7/81.9 (Se/+P, %).

# %%
DECHAZAL = {"S": (75.9, 38.5), "V": (77.7, 81.9)}
if "ds1ds2" in runs:
    pc = runs["ds1ds2"]["metrics"]["per_class"]
    comparison = pd.DataFrame(
        {(c, k): {"de Chazal 2004": DECHAZAL[c][j],
                  "this chapter": round(100 * pc[c][key], 1)}
         for c in ("S", "V")
         for j, (k, key) in enumerate((("Se", "se"), ("+P", "ppv")))})
    for (c, k), (theirs, ours) in comparison.items():
        name = f"ds2_{c.lower()}_{'se' if k == 'Se' else 'ppv'}"
        (glue(name, ours),
         glue(f"{name}_vs", "above" if ours > theirs else "below"))
    display(comparison)

# %% [markdown]
# **Where we stand.** In this run the network found {glue:text}`ds2_v_se:.1f` % of DS2's
# V beats ({glue:text}`ds2_v_se_vs` de Chazal's 77.7 %) with a positive predictivity of
# {glue:text}`ds2_v_ppv:.1f` % ({glue:text}`ds2_v_ppv_vs` their 81.9 %). For S it found
# {glue:text}`ds2_s_se:.1f` % of the S beats ({glue:text}`ds2_s_se_vs` their 75.9 %) at
# a +P of {glue:text}`ds2_s_ppv:.1f` % ({glue:text}`ds2_s_ppv_vs` their 38.5 %). S beats
# are where a linear model with explicit {term}`RR-interval <RR interval>` features, from
# both leads, has the advantage over this spectrogram CNN, which sees one lead, on S beats
# of unseen patients. The second lead of most records is V1, where P
# waves show best, and an early beat with an abnormal P wave is what makes an S beat.
# The two protocols differ a lot: the 70/15/15 split trains on 31 patients and tests on
# 7, DS1/DS2 trains on 18 (with 4 more for validation) and tests on 22 others. de Chazal
# et al. built DS1 and DS2 to be comparable, with similar proportions of the beat types,
# but the S beats of each half come mostly from a few patients, so a model that has not
# learned S beats in general meets very different ones at test.

# %% [markdown]
# ## Spread over seeds
#
# One 70/15/15 split puts only six or seven patients in the test set, so its numbers
# depend on which patients they are. Each seed in `spread_seeds` draws a new split and
# trains a new network (e.g. `-p spread_seeds "[1, 2]"`, about 6 minutes per seed on
# two cores). The default run leaves it out (`spread_seeds = []`) to stay short, so the
# table below holds seed 0 only. With other seeds, V recall can swing from above the .90
# bar to well below it, and S precision as much: read the single-split numbers above with
# that in mind.

# %%
seed_runs = ({seed: runs["patient_70_15_15"]}
             if "patient_70_15_15" in runs else {})
seed_runs |= {s: run_protocol("patient_70_15_15",
                              make_splits("patient_70_15_15", seed=s), s)
              for s in spread_seeds if s != seed}
spread = pd.DataFrame.from_dict({s: {
    "test records": " ".join(r["split"]["test"]),
    "accuracy": r["metrics"]["accuracy"],
    **{f"{c} {k}": r["metrics"]["per_class"][c][k]
       for c in "SV" for k in ("precision", "recall")},
    "macro F1": r["metrics"]["macro_f1"]} for s, r in seed_runs.items()},
    orient="index")
spread.rename_axis("seed").round(3)

# %% [markdown]
# ## Grad-CAM: where does the network look?
#
# Grad-CAM {cite:p}`selvaraju2017gradcam` weights the 128 feature maps of the last convolution
# (`conv3`, 8x8 at this input size) by the average gradient of the predicted class's
# score, keeps the positive part and stretches it over the image. Below, for the
# `patient_70_15_15` model, the top rows are correctly classified test beats of each
# class and the bottom rows wrong ones (true -> predicted), in {numref}`fig-04-gradcam`.
# The time axis runs from 1 s before to 1 s after the detected R peak.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-04-gradcam", "caption": "Grad-CAM of the patient_70_15_15 model on test beats: correctly classified beats of each class (top) and misclassified ones (bottom, true -> predicted)."}}
main = runs.get("patient_70_15_15") or next(iter(runs.values()))
test_images = images[main["test_idx"]]
ok = main["y_test"] == main["y_pred"]
picked = [(kind, i) for kind, right in (("correct", ok), ("wrong", ~ok))
          for c in CLASSES
          # two of each, if any
          for pool in [np.flatnonzero((main["y_test"] == c) & right)]
          for i in rng.choice(pool, min(2, pool.size), replace=False)]
titles = [f"{kind}: {main['y_test'][i]} -> {main['y_pred'][i]} "
          f"(p={main['scores'][i].max():.2f})"
          for kind, i in picked]
picked = [i for _, i in picked]
t = time.perf_counter()
cams, _ = eu.explain.grad_cam(main["model"], test_images[picked], "conv3")
grad_cam_s_per_image = (time.perf_counter() - t) / max(len(picked), 1)
eu.plots.plot_grad_cam(test_images[picked], cams, titles,
                       freqs_hz=data["freqs_hz"], times_s=times_from_r,
                       ncols=6);

# %% [markdown]
# Single maps are noisy, so we also average Grad-CAM over up to 300 correctly classified
# test beats per class, and measure where the heat lies (`eu.explain.heat_shares`): the
# share within ±0.15 s of the R peak (the beat's own QRS), before that, and below 15 Hz.
# The first row is the heat of an even map, for scale; the mean maps follow the table.

# %%
mean_cams, heat = {}, {"even": eu.explain.heat_shares(
    np.ones((1, *test_images.shape[1:])), data["freqs_hz"], times_from_r)}
for c in CLASSES:
    pool = np.flatnonzero((main["y_test"] == c) & ok)
    if pool.size:  # up to 300 correct beats of the class
        cam_c, _ = eu.explain.grad_cam(main["model"], test_images[
            rng.choice(pool, min(300, pool.size), replace=False)], "conv3")
        mean_cams[c], heat[f"correct_{c}"] = (
            cam_c.mean(0),
            eu.explain.heat_shares(cam_c, data["freqs_hz"], times_from_r))
# every class gets its glue keys (NaN when no beat of it was classified
# right, as in smoke)
heat = pd.DataFrame(heat).T.reindex(
    ["even", *(f"correct_{c}" for c in CLASSES)])
# e.g. heat_correct_V_below
for (row, col), share in heat.unstack().swaplevel().items():
    glue(f"heat_{row}_{col.split()[0]}", 100 * share)
heat.dropna().round(3)

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-04-mean-cam", "caption": "Mean spectrogram and mean Grad-CAM of up to 300 correctly classified test beats of each class."}}
if mean_cams:
    eu.plots.plot_grad_cam(
        np.stack([test_images[main["y_test"] == c].mean(0)
                  for c in mean_cams]),
        np.stack(list(mean_cams.values())),
        [f"mean Grad-CAM, correct {c}" for c in mean_cams],
        freqs_hz=data["freqs_hz"], times_s=times_from_r, ncols=3);

# %% [markdown]
# **Reading the maps, honestly.** Grad-CAM at `conv3` has only 8x8 cells, so each cell
# covers a quarter of a second and about 5 Hz: it tells *which region*, not which
# waveform detail. Heat spread evenly would put {glue:text}`heat_even_within:.0f` % of it
# within ±0.15 s of R, {glue:text}`heat_even_before:.0f` % before that and
# {glue:text}`heat_even_below:.0f` % below 15 Hz. In this run:
#
# - **V**: {glue:text}`heat_correct_V_below:.0f` % of the heat lies below 15 Hz (an even
#   map: {glue:text}`heat_even_below:.0f` %) and {glue:text}`heat_correct_V_within:.0f` %
#   on the beat itself ({glue:text}`heat_even_within:.0f` %). A ventricular beat is wide and
#   slow, so its energy lies lower than a normal QRS's; heat above the even share below
#   15 Hz would fit that cue.
# - **N**: {glue:text}`heat_correct_N_before:.0f` % of the heat lies before R, over the
#   preceding beat and the interval to it (an even map: {glue:text}`heat_even_before:.0f`
#   %). Heat above the even share there is a weak hint that the rhythm before the beat
#   counts, no more.
# - **S**: {glue:text}`heat_correct_S_within:.0f` % of the heat sits on the beat itself
#   and {glue:text}`heat_correct_S_before:.0f` % before it, where an early beat's short
#   RR interval shows. There are few correct S beats to average, so this reading is the
#   least reliable.
#
# These are shares of one model on one split's test patients, set beside an even map's;
# at this resolution they say roughly where the heat is, not what the network has
# learned.
#
# The wrong examples show what this costs: an N beat after a short interval, or a wide
# N beat (bundle-branch block), looks like S or V to this network. Grad-CAM shows what
# correlates with the decision, not physiology; a map that lights up a region does not
# prove the network uses it the way a cardiologist would.

# %% [markdown]
# ## Save, reload, and classify a new segment
#
# `eu.experiment.save_model` writes the `patient_70_15_15` model to
# `results_dir/04_spectrogram_cnn.keras` atomically, with everything needed to use it on
# a new recording inside: sampling rate, band-pass, window, spectrogram settings and
# class names. We reload it with `eu.experiment.load_model` and classify 20 s of a test
# record straight from the raw signal (`eu.spectrograms.classify_segment`: detector,
# 2-s window, spectrogram, network).

# %%
model_path = eu.experiment.save_model(
    main["model"], Path(results_dir) / "04_spectrogram_cnn.keras",
    {"kind": "spectrogram_cnn", "chapter": "04_spectrogram_cnn", "fs": fs,
     "lead": "MLII", "window_s": 2.0, "bandpass_hz": [0.5, 40.0],
     "zscore": "per window", "spectrogram": SPECTROGRAM,
     "classes": CLASSES.tolist()})
reloaded, preprocessing = eu.experiment.load_model(
    model_path, expect="spectrogram_cnn")
same = np.allclose(reloaded.predict(test_images[:256, ..., None], verbose=0),
                   main["scores"][:256], atol=1e-5)
print(f"saved {model_path} ({model_path.stat().st_size / 1e6:.1f} MB); "
      f"reloaded model gives the same outputs: {same}")

# %%
new_record = main["split"]["test"][0]
rec = eu.data.load_record(new_record, "mitdb")
start, stop = int(600 * rec.fs), int(620 * rec.fs)  # 20 s from minute 10
peaks, probs = eu.spectrograms.classify_segment(
    reloaded, preprocessing, eu.data.pick_lead(rec)[0][start:stop], rec.fs)
ref = eu.data.beat_table("mitdb", [new_record]).query(
    "@start <= sample < @stop")
truth, _ = eu.signal.label_detections(ref["sample"].to_numpy() - start,
                                      ref["aami"].to_numpy(), peaks, rec.fs)
pd.DataFrame({"R peak (s)": (600 + peaks / rec.fs).round(2),
              "predicted": CLASSES[probs.argmax(1)],
              "annotation (AAMI)": truth}).join(
    pd.DataFrame(probs, columns=[f"p({c})" for c in CLASSES]).round(3)).T

# %% [markdown]
# ## Saving the numbers

# %% tags=["remove-input"]
notebook_s = chapter.elapsed_min() * 60
extra = {"patient_70_15_15": {"reference_project": REFERENCE, "bar": bar,
                              "seed_spread": spread.reset_index(names="seed").to_dict("records")},
         "ds1ds2": {"de_chazal_2004": {c: {"se": v[0], "ppv": v[1]} for c, v in DECHAZAL.items()}}}
result_runs = [eu.results.make_run(
    p, "spectrogram_cnn2d", CLASSES, {**r["metrics"], "history": r["history"]},
    {**data["timing"], **r["timing"], "grad_cam_s_per_image": round(grad_cam_s_per_image, 4),
     "notebook_s_before_save": round(notebook_s, 1)}, seed=r["seed"], splits=r["split"],
    train_counts=r["train_counts"],
    class_weight={str(CLASSES[i]): w for i, w in r["class_weight"].items()},
    input_shape=[image_size, image_size, 1], detector=totals.to_dict("index"),
    note=f"N, S, V only; paced records excluded; N subsampled to {max_train_n} in training",
    **extra[p]) for p, r in runs.items()]
params = {k: globals()[k] for k in ("smoke", "seed", "epochs", "protocols", "records",
                                    "image_size", "max_train_n", "spread_seeds")}
path = eu.results.write_results(results_dir, "04_spectrogram_cnn", params, result_runs)
print(f"wrote {path}; whole notebook so far {notebook_s / 60:.1f} min")

# %% [markdown]
# ## Summary
#
# - The pipeline runs from raw signal to label without the annotations' beat positions:
#   our detector finds the beats, and the annotations only name them (150 ms matching).
#   Preprocessing all 48 records takes well under a minute, vectorised over beats.
# - A 32x32 STFT image (the STFT's native size below 45 Hz), a Flatten head, training-only
#   subsampling of N and square-root class weights make a patient-wise experiment fit
#   into minutes on two CPU cores.
# - On the reference project's protocol (`patient_70_15_15`, seed 0) this run met
#   {glue:text}`p70_bars_met` of the bars set from the reference's figures: accuracy
#   {glue:text}`p70_acc:.3f` (reference .8618), S precision {glue:text}`p70_s_ppv:.3f`
#   (.11), V precision {glue:text}`p70_v_ppv:.3f` (.56), V recall {glue:text}`p70_v_se:.3f`
#   (at least .90 required), in minutes on two CPU cores instead of two GPU hours. The
#   bars leave out S recall: the network finds {glue:text}`p70_s_se:.3f` of the S beats
#   (reference .65; S F1 {glue:text}`p70_s_f1:.3f`), so it does not match the reference on
#   S beats. And the reference's numbers come from other test patients: one split of
#   seven test patients is noisy (see the spread over seeds), so neither the bars met
#   nor missed settle which pipeline is better.
# - On DS1/DS2: S Se {glue:text}`ds2_s_se:.1f` % (de Chazal 75.9 %), V Se
#   {glue:text}`ds2_v_se:.1f` % (77.7 %), V +P {glue:text}`ds2_v_ppv:.1f` % (81.9 %). An S
#   beat is mostly an early beat of normal shape, and a 2-s picture encodes the RR
#   interval only indirectly; de Chazal's explicit RR-interval features do better there.
# - Grad-CAM shows roughly where the heat lies, a few points away from an even map; at
#   8x8 cells it is coarse, and it does not show what the network has learned.
#
# ## What's next
#
# Chapter 05 keeps the spectrogram CNN and attacks the class imbalance with SMOTE.
#
# ## Exercises
#
# ```{exercise} Fewer normal beats in training
# :label: ex-04-max-n
# Keep only 5,000 N beats in each training set instead of 15,000. Training gets faster.
# Predict what happens to V precision and to S precision on the test patients.
# ```
#
# ```{solution} ex-04-max-n
# :class: dropdown
# With fewer N beats the network sees less of the variety of normal beats, and the class
# weights, computed on the subsampled set, favour N less: more of the test patients'
# unusual N beats are called S or V, so expect the precision (+P) of S and V to fall while
# their recall holds or rises.
#
#     papermill notebooks/04_spectrogram_cnn.ipynb out.ipynb -p max_train_n 5000
# ```
#
# ```{exercise} How much do seven test patients vary?
# :label: ex-04-seeds
# Add two seeds to the spread table. Before you run: will V recall on the 70/15/15 split
# stay within a few points of seed 0's?
# ```
#
# ```{solution} ex-04-seeds
# :class: dropdown
# Each seed draws six or seven other test patients, and V beats are concentrated in a
# few of them, so V recall can move by tens of points between seeds, and S precision
# with it; the spread table then shows how little one split settles. Each seed costs one
# more training.
#
#     papermill notebooks/04_spectrogram_cnn.ipynb out.ipynb -p spread_seeds "[1, 2]"
# ```
#
# ## References
#
# This chapter draws on {cite}`moody2001impact,dechazal2004automatic,selvaraju2017gradcam,pan1985realtime,mcfee2015librosa,aami2012ec57`;
# every work cited in the book is listed in the {doc}`../references`.
