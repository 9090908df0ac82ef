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
# # 01 · A tour of the data
#
# **Overview.** Every chapter of this book learns from the same real PhysioNet recordings.
# Before any network sees them, we look at what they hold: which records, leads, sampling
# rates and durations; what the cardiologists' beat annotations say; how band-pass
# filtering and {term}`wavelet denoising` change a signal; and how well a simple
# {term}`R-peak <R peak>` detector finds the beats on its own, scored against those annotations.
#
# **Prerequisites.** Python and NumPy; no deep learning yet. The data: the
# {term}`MIT-BIH Arrhythmia Database`, the {term}`European ST-T <European ST-T database>`
# excerpts of the {term}`QT Database` and the Creighton record `cu01` (see {doc}`../data`).
# Terms are defined in the {doc}`../glossary`.
#
# **Time to run.** Under a minute on a 2-core laptop CPU (all 48 MIT-BIH records); the
# {doc}`../runtimes` page has the time measured in this build.

# %% tags=["remove-cell"]
# In Colab, install ecgutils from the book's repository. Colab's own TensorFlow is kept:
# ecgutils does not depend on a TensorFlow build.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ecgutils @ git+https://github.com/ecg-book/ecg-book@main"], check=True)

# %% tags=["parameters"]
smoke = None          # None: follow ECG_SMOKE; True: a few records only (CI)
seed = 0
results_dir = "results"
records = None        # MIT-BIH records to score detection on; None: all 48

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ecgutils as eu
from ecgutils.experiment import glue

# Parameters checked (a bad one stops here, named), results folder, seed,
# data: one call (the chapter's rules: eu.book.chapter_rules).
chapter = eu.book.setup(globals(), "01_data_tour")
records = records or eu.data.list_records("mitdb")

# %% [markdown]
# ## What the data holds
#
# Each WFDB record is a header (`.hea`: leads, sampling rate, length, patient notes), a
# signal file (`.dat`) and reference annotations (`.atr`), read here with
# [wfdb](https://wfdb.readthedocs.io).

# %%
import wfdb

heads = {(db, r): wfdb.rdheader(f"{eu.data.database_dir(db)}/{r}")
         for db in ("mitdb", "qtdb", "cudb")
         for r in (["cu01"] if db == "cudb" else eu.data.list_records(db))}
overview = pd.DataFrame([{"db": db, "record": r,
                          "leads": ", ".join(h.sig_name), "fs (Hz)": h.fs,
                          "minutes": h.sig_len / h.fs / 60}
                         for (db, r), h in heads.items()])
overview.groupby("db", sort=False).agg(**{
    "records": ("record", "size"), "leads": ("leads", lambda s: s.mode()[0]),
    "fs (Hz)": ("fs (Hz)", "first"), "minutes each": ("minutes", "median"),
    "hours in all": ("minutes", lambda m: m.sum() / 60)}).round(1)

# %% [markdown]
# MIT-BIH holds 48 half-hour two-lead records at 360 Hz. The upper lead is usually the
# modified limb {term}`lead` II (MLII), but not always: record 114 stores V5 first, and the paced
# records 102 and 104 have no MLII at all. So `eu.data.pick_lead` chooses leads by name.

# %%
overview[(overview.db == "mitdb")
         & ~overview.leads.str.startswith("MLII")].round(1)

# %% [markdown]
# ## Strips with annotations
#
# Ten seconds of a few records, with each beat's annotation symbol above it
# ({numref}`fig-01-strips`). `N` is a normal beat, `V` a
# {term}`premature <premature beat>` ventricular contraction, `A` an atrial premature beat.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-01-strips", "caption": "Ten seconds of MIT-BIH records 100, 208 and 119, with the reference annotation symbol above each beat."}}
fig, axes = plt.subplots(3, 1, figsize=(12, 8), layout="constrained")
for ax, (record, start_s) in zip(axes,
                                 [("100", 0), ("208", 60), ("119", 30)]):
    eu.plots.plot_record_strip(record, "mitdb", start_s, ax=ax)

# %% [markdown]
# The other two databases ({numref}`fig-01-other-databases`). The European ST-T excerpt
# below carries ST-segment episode
# annotations (not shown on the strip: they mark intervals, chapter 03 uses them); the
# Creighton record contains a ventricular-fibrillation episode, marked `[` ... `]`.
# (MIT-BIH marks its own such episodes the same way; in record 207 they are ventricular
# flutter, rhythm `(VFL`, a fast regular sine-like wave, with `!` marks on the flutter waves
# instead of beats.)

# %% mystnb={"figure": {"name": "fig-01-other-databases", "caption": "A European ST-T excerpt of the QT Database (sele0104, top) and the start of the ventricular-fibrillation episode of Creighton record cu01 (bottom; dashed line)."}}
vf_start, vf_end = eu.data.vf_episodes(
    eu.data.load_annotations("cu01", "cudb"))[0] / 250
fig, axes = plt.subplots(2, 1, figsize=(12, 5.5), layout="constrained")
eu.plots.plot_record_strip("sele0104", "qtdb", 0, ax=axes[0])
eu.plots.plot_record_strip("cu01", "cudb", round(vf_start) - 5, ax=axes[1])
axes[1].axvline(vf_start, color="tab:red", ls="--")
print(f"cu01: ventricular fibrillation from {vf_start:.0f} s "
      f"to {vf_end:.0f} s (dashed line)")

# %% [markdown]
# ## Beats and AAMI classes
#
# The cardiologists annotated every {term}`QRS complex` with a symbol. For arrhythmia
# classification, ANSI/AAMI {term}`EC57` groups the symbols into five
# {term}`classes <AAMI classes>`:
#
# | class | meaning | MIT-BIH symbols |
# |---|---|---|
# | N | normal and bundle-branch-block beats | N L R e j |
# | S | supraventricular ectopic | A a J S |
# | V | ventricular ectopic | V E |
# | F | fusion of ventricular and normal | F |
# | Q | paced or unclassifiable | / f Q |
#
# Rhythm changes (`+`), noise (`~`), flutter waves (`!`) and other event marks are not
# beats. `eu.data.beat_table` lists every beat with its class and the rhythm in force.
#
# Class N is wider than "normal": it holds the normal beats (`N`) and also the beats of
# {term}`bundle branch block` (`L`, `R`), whose QRS is wide because one bundle branch
# conducts late, and {term}`escape beats <escape beat>` (`e`, `j`). In the records used here the N class holds
# {glue:text}`n_class:,` beats, of which {glue:text}`n_N:,` are `N` beats,
# {glue:text}`n_L:,` and {glue:text}`n_R:,` are bundle-branch-block beats (`L`, `R`) and
# {glue:text}`n_e:,` and {glue:text}`n_j:,` escape beats (`e`, `j`).
#
# Two classes are left out by most of the chapters that follow. A {term}`fusion beat` (F) is a
# normal and a ventricular activation meeting in the ventricles: its shape lies, by
# definition, between the two, and there are few of them; EC57 does not count a fusion
# beat called V as a false V detection. Q holds {term}`paced beats <paced beat>` (`/`, `f`), whose shape is
# set by the pacemaker's spike and the wide complex it starts rather than by the heart's
# own conduction, and the few beats nobody could classify. The four paced records
# (102, 104, 107, 217) are left out altogether, as EC57 allows.

# %%
beats = eu.data.beat_table("mitdb", records)
eu.experiment.glue_all(eu.data.class_makeup(beats, "N", "NLRej"),
                       prefix="n_")  # n_all, n_class, n_N...
beats.head()

# %%
counts = pd.crosstab(beats.record, beats.aami).reindex(
    columns=[*eu.data.AAMI_CLASSES], fill_value=0)
counts.style.background_gradient(cmap="Blues")

# %%
(beats.groupby(["aami", "symbol"]).size().sort_values(ascending=False)
 .rename("beats").to_frame().T)

# %% [markdown]
# The {term}`inter-patient <inter-patient protocol>` benchmark of {cite:t}`dechazal2004automatic`
# trains on the 22 records of {term}`DS1 <DS1 and DS2>` and tests on the 22 of DS2, leaving out the four paced records (pacemaker spikes and paced
# complexes, not the heart's own rhythm). Both halves use the two leads of each record:
# the second (usually V1) shows P waves best, which helps tell S beats from N.
# Records are not quite patients: 201 (DS1) and 202 (DS2) were taken from the same man,
# the one subject the two halves share; the book keeps the published split and says so.
# Its classes are very unequal. de Chazal et al. built the two halves to be comparable,
# with similar proportions of the beat types, but S beats come mostly from a few records
# and cannot be shared out evenly (compare the S bars of {numref}`fig-01-class-counts`).
# Few patients per class, and new ones at test, are why results on DS2 are much lower than
# on random beat splits ({term}`beat-random protocol`).

# %% mystnb={"figure": {"name": "fig-01-class-counts", "caption": "Beats of each AAMI class in DS1, DS2 and the four paced records. The count axis is logarithmic: each step is ten times more."}}
split_of = {**dict.fromkeys(eu.data.DS1, "DS1"),
            **dict.fromkeys(eu.data.DS2, "DS2")}
# the four paced records are in neither
split = beats.record.map(split_of).fillna("paced")
eu.plots.plot_class_counts(beats.aami, [*eu.data.AAMI_CLASSES], by=split,
                           log=True);

# %% [markdown]
# What the classes look like ({numref}`fig-01-class-shapes`): the mean beat of each class
# ± one standard deviation, in
# the chosen lead after the band-pass filter of the next section, 0.25 s before to 0.45 s
# after the annotated R peak. Ventricular (V) beats are wide and often inverted; S beats
# look much like N beats (they differ mainly in timing, the {term}`RR interval`, which one
# beat does not show).

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-01-class-shapes", "caption": "The mean beat of each AAMI class \u00b1 one standard deviation: chosen lead, band-passed, 0.25 s before to 0.45 s after the R peak."}}
# the beat windows chapter 02 draws as images: chosen lead, band-passed,
# around each R peak
windows, meta, _ = eu.images.collect_windows(records, eu.data.AAMI_MAP,
                                             before_s=0.25, after_s=0.45)
eu.plots.plot_class_waveforms(windows, meta["label"], 360,
                              classes=list(eu.data.AAMI_CLASSES),
                              before_s=0.25);

# %% [markdown]
# ## Filtering and denoising
#
# Two clean-ups recur in the chapters. A 0.5–40 Hz zero-phase Butterworth band-pass
# removes baseline wander (breathing, electrode motion) and high-frequency noise. Wavelet
# denoising (db6) shrinks small detail coefficients; its threshold is estimated from the
# data (noise sigma from the median absolute deviation of the finest details, then
# Donoho's universal threshold {cite:p}`donoho1994ideal`), not fixed. {numref}`fig-01-filters`
# shows both on a noisy stretch.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-01-filters", "caption": "Six seconds of record 105 (noisy): raw, after the 0.5\u201340 Hz band-pass, and after db6 wavelet denoising."}}
eu.plots.plot_signal_versions(
    eu.data.pick_lead(eu.data.load_record("105"))[0], 360, {
        "raw (record 105: noisy)": lambda s: s,
        "band-pass 0.5–40 Hz": lambda s: eu.signal.bandpass_filter(s, 360),
        "db6 wavelet denoised": eu.signal.wavelet_denoise},
    start_s=340, duration_s=6);

# %% [markdown]
# ## Finding the beats without the annotations
#
# Later chapters must work on ECG nobody annotated, so they find R peaks themselves.
# `eu.signal.detect_r_peaks` follows {cite:t}`pan1985realtime`: a 5–15 Hz band-pass, the
# derivative, squaring, a 150 ms moving integration, then an adaptive threshold (a
# fraction of the running median of the largest bump in each 2-s block), a 250 ms
# refractory period, T-wave rejection and a search-back at half the threshold when a
# beat seems missing. Each step runs on the whole record at once.
# The refractory period also caps detection at one beat every 250 ms, 240 a minute
# (60 s / 250 ms): the waves of ventricular flutter, about 250–350 a minute, come faster
# than that, so the detector cannot follow a flutter wave by wave.
#
# We score it the EC57 way: a detection matches a reference beat within 150 ms, one to
# one. Sensitivity {term}`Se` = TP / (TP + FN); positive predictivity {term}`+P` =
# TP / (TP + FP).
# Detections inside the ventricular-flutter episodes of record 207 (between `[` and `]`,
# where flutter waves `!` are marked and no beats) are not counted, as WFDB's {term}`bxb`
# does.

# %%
start, rows, detections = time.perf_counter(), [], {}
for r in records:
    x, lead = eu.data.pick_lead(eu.data.load_record(r, "mitdb"))
    detections[r] = eu.signal.detect_r_peaks(x, 360)
    ref = beats.loc[beats.record == r, "sample"].to_numpy()
    # not scored, as in WFDB bxb
    vf = eu.data.vf_episodes(eu.data.load_annotations(r))
    rows.append({"record": r, "lead": lead,
                 "paced": r in eu.data.PACED_RECORDS, "beats": len(ref),
                 **eu.signal.score_detections(ref, detections[r], 360,
                                              exclude=vf)})
detector_s = glue("detector_s", time.perf_counter() - start)
scores = pd.DataFrame(rows).set_index("record")
scores.style.format(precision=4).highlight_between(subset=["se", "ppv"],
                                                   right=0.99, color="#fdd")

# %%
overall = scores.assign(records=1).groupby(
    np.where(scores.paced, "paced", "non-paced"))[
    ["records", "beats", "tp", "fp", "fn"]].sum()
overall.loc["all"] = overall.sum()
tp, fp, fn = overall.tp, overall.fp, overall.fn
overall = overall.assign(se=tp / (tp + fn), ppv=tp / (tp + fp)).round(4)
(glue("se", overall.loc["non-paced", "se"]),
 glue("ppv", overall.loc["non-paced", "ppv"]))
overall

# %% [markdown]
# The target was Se and +P of at least 99 % on the non-paced records; this run reaches
# Se {glue:text}`se:.4f` and +P {glue:text}`ppv:.4f` on them, detecting and scoring every
# record in {glue:text}`detector_s:.1f` s. The misses concentrate in a
# few hard records (for example 203 and 228, with multiform PVCs and noise).
# {numref}`fig-01-worst` shows the worst stretch of the hardest record.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-01-worst", "caption": "The worst stretch of the record where the detector misses most beats: reference annotations above, detections in green."}}
worst = scores[~scores.paced].se.idxmin()
reference = beats.loc[beats.record == worst, "sample"].to_numpy()
missed = reference[
    eu.signal.match_beats(reference, detections[worst], 360)[0] < 0]
start_s = max(0, missed[len(missed) // 2] / 360 - 5) if len(missed) else 0
eu.plots.plot_record_strip(worst, "mitdb", start_s,
                           detected=detections[worst]);

# %% [markdown]
# ## Saving the numbers

# %% tags=["remove-input"]
se, ppv, n = overall.loc["non-paced", ["se", "ppv", "beats"]]
f1 = round(2 * se * ppv / (se + ppv), 4)
per_class = {"beat": {"precision": ppv, "recall": se, "f1": f1, "support": int(n)}}
run = eu.results.make_run("qrs_detection", "ecgutils.signal.detect_r_peaks", ["beat"], {
    "accuracy": None, "macro_f1": f1, "per_class": per_class, "se": se, "ppv": ppv,
    "totals": overall.to_dict("index"), "per_record": scores.drop(columns="lead").to_dict("index")},
    {"detect_and_score_s": round(detector_s, 2)}, records=records,
    note="non-paced records; ventricular flutter episodes (207) excluded as in WFDB bxb")
print("wrote", eu.results.write_results(results_dir, "01_data_tour",
                                        {"smoke": smoke, "seed": seed, "records": records}, [run]))

# %% [markdown]
# ## Summary
#
# - MIT-BIH gives 48 half-hour records (360 Hz, two leads); the records used here hold
#   {glue:text}`n_all:,` annotated beats, {glue:text}`n_class:,` of them in the AAMI N
#   class ({glue:text}`n_N:,` normal `N` beats, the rest bundle-branch-block and escape
#   beats): the classes are very unequal.
# - Leads must be chosen by name; records differ.
# - A vectorised Pan-Tompkins-style detector finds the beats of the non-paced records
#   (Se {glue:text}`se:.4f`, +P {glue:text}`ppv:.4f` in this run, against a design target
#   of 99 %), in seconds for a whole database.
# - The classes differ in shape (V beats are wide) but S beats look like N beats: their
#   difference is in timing.
#
# ## What's next
#
# Chapter 02 turns beats into images for a 2D CNN; chapter 04 classifies beats found by
# this detector from their spectrograms, with patient-wise evaluation.
#
# ## Exercises
#
# ```{exercise} Noisy records
# :label: ex-01-noisy
# Score the detector on records 105 and 108 only. Both are noisy, and 108 also has tall
# P and T waves. Before you run it: which falls more, {term}`Se` or {term}`+P`, and why?
# ```
#
# ```{solution} ex-01-noisy
# :class: dropdown
# Noise bursts and tall T or P waves add bumps that pass the threshold, so the detector
# makes *extra* detections more than it misses beats: expect +P to fall further than Se.
# The refractory period and the T-wave rejection limit the damage only for waves that
# follow a QRS closely. Run:
#
#     papermill notebooks/01_data_tour.ipynb out.ipynb -p records "['105', '108']"
#
# and read the `fp` and `fn` columns of the per-record table.
# ```
#
# ```{exercise} Paced records
# :label: ex-01-paced
# Run the chapter on the four paced records only. Predict the class table (which AAMI
# class dominates?) and whether the detector, tuned on the heart's own QRS complexes,
# still finds the paced beats.
# ```
#
# ```{solution} ex-01-paced
# :class: dropdown
# Nearly every beat is Q (paced `/` and paced fusions `f`), so the class table has one
# large column. A paced complex is wide and large and starts with a sharp pacemaker spike,
# which the 5–15 Hz band-pass and the derivative pass on: most paced beats are still
# found, and the `paced` row of the totals table shows how well. Run:
#
#     papermill notebooks/01_data_tour.ipynb out.ipynb -p records "['102', '104', '107', '217']"
# ```
#
# ## References
#
# This chapter draws on {cite}`moody2001impact,pan1985realtime,dechazal2004automatic,aami2012ec57,donoho1994ideal`;
# every work cited in the book is listed in the {doc}`../references`.
