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
# # 01 · A tour of the data
#
# **Overview.** Every chapter of this book learns from the same real PhysioNet recordings.
# Before any network sees them, we look at what they hold: which records, leads, sampling
# rates and durations; what the cardiologists' beat annotations say; how band-pass
# filtering and wavelet denoising change a signal; and how well a simple R-peak detector
# finds the beats on its own, scored against those annotations.
#
# **Prerequisites.** Python and NumPy; no deep learning yet. The data: the MIT-BIH
# Arrhythmia Database, the European ST-T excerpts of the QT Database and the Creighton
# record `cu01` (see [About the data](../data.md)).
#
# **Time to run.** About 30 s on a 2-core laptop CPU (all 48 MIT-BIH records); a few
# seconds in smoke mode.

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
records = None        # MIT-BIH records to score the detector on; None: all 48

# %% [markdown]
# ## Imports

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ecgutils as eu

# papermill passes -p values as text: each is parsed, and a bad one stops here, named
smoke = eu.config.is_smoke(smoke)
seed = eu.config.parse_parameter("seed", seed, "int", minimum=0)
records = eu.config.parse_parameter("records", records, "list", item="str", allow_none=True)
results_dir = eu.results.resolve_results_dir(results_dir)  # <repo>/results; writable, checked now
eu.config.set_seed(seed)
if records is None and smoke:
    records = ["100", "106", "119", "207", "208"]
if records is not None:
    records = eu.data.check_records_exist(records, "mitdb")  # a typo is named, not fetched
CUDB_RECORDS = ["cu01"]  # the Creighton record this chapter shows, on every machine
for db, recs in (("mitdb", records), ("qtdb", None), ("cudb", CUDB_RECORDS)):
    eu.data.ensure_records(db, recs)  # downloads (checksummed) only what is missing
records = records or eu.data.list_records("mitdb")
print(f"data root: {eu.data.data_dir()}  |  smoke mode: {smoke}  |  {len(records)} MIT-BIH records")

# %% [markdown]
# ## What the data holds
#
# Each WFDB record is a header (`.hea`: leads, sampling rate, length, patient notes), a
# signal file (`.dat`) and reference annotations (`.atr`), read here with
# [wfdb](https://wfdb.readthedocs.io).

# %%
import wfdb


def describe(db, records=None):
    rows = []
    for r in records or eu.data.list_records(db):
        h = wfdb.rdheader(str(eu.data.database_dir(db) / r))
        rows.append({"record": r, "leads": ", ".join(h.sig_name), "fs (Hz)": h.fs,
                     "minutes": round(h.sig_len / h.fs / 60, 1)})
    return pd.DataFrame(rows)


overview = {db: describe(db, CUDB_RECORDS if db == "cudb" else None)
            for db in ("mitdb", "qtdb", "cudb")}
summary = pd.DataFrame({
    db: {"records": len(t), "leads": t["leads"].value_counts().idxmax(),
         "fs (Hz)": t["fs (Hz)"].iloc[0], "minutes each": t["minutes"].median(),
         "hours in all": round(t["minutes"].sum() / 60, 1)}
    for db, t in overview.items()}).T
summary

# %% [markdown]
# MIT-BIH holds 48 half-hour two-lead records at 360 Hz. The upper lead is usually the
# modified limb lead II (MLII), but not always: record 114 stores V5 first, and the paced
# records 102 and 104 have no MLII at all. So `eu.data.pick_lead` chooses leads by name.

# %%
overview["mitdb"].loc[~overview["mitdb"]["leads"].str.startswith("MLII")]

# %% [markdown]
# ## Strips with annotations
#
# Ten seconds of a few records, with each beat's annotation symbol above it. `N` is a
# normal beat, `V` a premature ventricular contraction, `A` an atrial premature beat.

# %%
def strip(db, record, start_s, duration_s=10, ax=None):
    rec = eu.data.load_record(record, db)
    x, lead = eu.data.pick_lead(rec)
    ann = eu.data.load_annotations(record, db)
    beat = np.isin(ann.symbol, list(eu.data.BEAT_SYMBOLS))
    return eu.plots.plot_ecg_strip(
        x, rec.fs, ann.sample[beat], np.asarray(ann.symbol)[beat], start_s, duration_s,
        ax=ax, title=f"{db}/{record}, lead {lead}, from {start_s} s")


fig, axes = plt.subplots(3, 1, figsize=(12, 8), layout="constrained")
strip("mitdb", "100", 0, ax=axes[0])
strip("mitdb", "208", 60, ax=axes[1])
strip("mitdb", "119", 30, ax=axes[2]);

# %% [markdown]
# The other two databases. The European ST-T excerpt below carries ST-segment episode
# annotations (not shown on the strip: they mark intervals, chapter 03 uses them); the
# Creighton record contains a ventricular-fibrillation episode, marked `[` ... `]`.

# %%
cu = eu.data.load_annotations("cu01", "cudb")
vf_start, vf_end = eu.data.vf_episodes(cu)[0] / 250
fig, axes = plt.subplots(2, 1, figsize=(12, 5.5), layout="constrained")
strip("qtdb", "sele0104", 0, ax=axes[0])
strip("cudb", "cu01", round(vf_start) - 5, ax=axes[1])
axes[1].axvline(vf_start, color="tab:red", ls="--")
axes[1].text(vf_start, axes[1].get_ylim()[0], " VF starts", color="tab:red", va="bottom")
print(f"cu01: ventricular fibrillation from {vf_start:.0f} s to {vf_end:.0f} s")

# %% [markdown]
# ## Beats and AAMI classes
#
# The cardiologists annotated every QRS complex with a symbol. For arrhythmia
# classification, ANSI/AAMI EC57 groups the symbols into five classes:
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

# %%
beats = eu.data.beat_table("mitdb", records)
print(f"{len(beats):,} beats in {beats.record.nunique()} records")
beats.head()

# %%
counts = pd.crosstab(beats.record, beats.aami).reindex(columns=list(eu.data.AAMI_CLASSES),
                                                       fill_value=0)
counts["paced"] = counts.index.isin(eu.data.PACED_RECORDS)
counts.style.background_gradient(cmap="Blues", subset=list(eu.data.AAMI_CLASSES))

# %%
symbol_counts = beats.symbol.value_counts().rename("beats").to_frame()
symbol_counts["AAMI class"] = [eu.data.AAMI_MAP[s] for s in symbol_counts.index]
symbol_counts.T

# %% [markdown]
# The de Chazal et al. (2004) inter-patient benchmark trains on the 22 records of DS1 and
# tests on the 22 of DS2, leaving out the four paced records. Its classes are very
# unequal, and unequal between the halves: one reason results on it are much lower than
# on random beat splits.

# %%
split_of = {**dict.fromkeys(eu.data.DS1, "DS1"), **dict.fromkeys(eu.data.DS2, "DS2"),
            **dict.fromkeys(eu.data.PACED_RECORDS, "paced")}
by_split = pd.crosstab(beats.record.map(split_of), beats.aami).reindex(
    columns=list(eu.data.AAMI_CLASSES), fill_value=0)
by_split

# %%
share = by_split.div(by_split.sum(axis=1), axis=0)
ax = share.plot.barh(stacked=True, figsize=(8, 2.5), logx=False,
                     color=[eu.plots.CLASS_COLORS[c] for c in share.columns])
ax.set_xlabel("share of beats")
ax.legend(ncol=5, bbox_to_anchor=(0.5, 1.02), loc="lower center", fontsize=8);

# %% [markdown]
# ## Filtering and denoising
#
# Two clean-ups recur in the chapters. A 0.5–40 Hz zero-phase Butterworth band-pass
# removes baseline wander (breathing, electrode motion) and high-frequency noise. Wavelet
# denoising (db6) shrinks small detail coefficients; its threshold is estimated from the
# data (noise sigma from the median absolute deviation of the finest details, then
# Donoho's universal threshold), not fixed.

# %%
rec = eu.data.load_record("105", "mitdb")
x, lead = eu.data.pick_lead(rec)
fs = rec.fs
window = slice(int(340 * fs), int(346 * fs))
t = np.arange(window.start, window.stop) / fs
filtered = eu.signal.bandpass_filter(x, fs)
denoised = eu.signal.wavelet_denoise(x)
fig, axes = plt.subplots(3, 1, figsize=(12, 6.5), sharex=True, layout="constrained")
for ax, y, name in zip(axes, (x, filtered, denoised),
                       ("raw (record 105: noisy)", "band-pass 0.5–40 Hz", "db6 wavelet denoised")):
    ax.plot(t, y[window], color="k", lw=0.8)
    ax.set_title(name, loc="left", fontsize=10)
    ax.set_ylabel("mV")
axes[-1].set_xlabel("time (s)");

# %% [markdown]
# ## Finding the beats without the annotations
#
# Later chapters must work on ECG nobody annotated, so they find R peaks themselves.
# `eu.signal.detect_r_peaks` follows Pan & Tompkins (1985): a 5–15 Hz band-pass, the
# derivative, squaring, a 150 ms moving integration, then an adaptive threshold (a
# fraction of the running median of the largest bump in each 2-s block), a 250 ms
# refractory period, T-wave rejection and a search-back at half the threshold when a
# beat seems missing. Each step runs on the whole record at once.
#
# We score it the EC57 way: a detection matches a reference beat within 150 ms, one to
# one. Sensitivity Se = TP / (TP + FN); positive predictivity +P = TP / (TP + FP).
# Detections inside ventricular-flutter episodes (record 207) are not counted, as WFDB's
# `bxb` does.

# %%
start = time.perf_counter()
rows, detections = [], {}
for r in records:
    rec = eu.data.load_record(r, "mitdb")
    x, lead = eu.data.pick_lead(rec)
    peaks = eu.signal.detect_r_peaks(x, rec.fs)
    ann = eu.data.load_annotations(r, "mitdb")
    reference = beats.loc[beats.record == r, "sample"].to_numpy()
    score = eu.signal.score_detections(peaks, reference, rec.fs,
                                       exclude=eu.data.vf_episodes(ann))
    detections[r] = peaks
    rows.append({"record": r, "lead": lead, "paced": r in eu.data.PACED_RECORDS,
                 "beats": len(reference), **score})
detector_s = time.perf_counter() - start
scores = pd.DataFrame(rows).set_index("record")
print(f"detector + scoring: {detector_s:.1f} s for {len(records)} records")
scores.style.highlight_between(subset=["se", "ppv"], right=0.99, color="#fdd")

# %%
def totals(table):
    tp, fp, fn = table[["tp", "fp", "fn"]].sum()
    return {"records": len(table), "beats": int(table.beats.sum()), "tp": int(tp),
            "fp": int(fp), "fn": int(fn), "se": round(tp / (tp + fn), 4),
            "ppv": round(tp / (tp + fp), 4)}


groups = {"non-paced": ~scores.paced, "paced": scores.paced, "all": scores.paced | True}
overall = pd.DataFrame({name: totals(scores[rows]) for name, rows in groups.items()
                        if rows.any()}).T
overall

# %% [markdown]
# The target was Se and +P of at least 99 % on the non-paced records. The misses
# concentrate in a few hard records (for example 203 and 228, with multiform PVCs and
# noise). Here is the worst stretch of the hardest record, detections in green:

# %%
worst = scores[~scores.paced].se.idxmin()
rec = eu.data.load_record(worst, "mitdb")
x, lead = eu.data.pick_lead(rec)
ref = beats[beats.record == worst]
ref_to_det, _ = eu.signal.match_beats(detections[worst], ref["sample"].to_numpy(), rec.fs)
missed = ref["sample"].to_numpy()[ref_to_det < 0]
start_s = max(0, missed[len(missed) // 2] / rec.fs - 5) if len(missed) else 0
eu.plots.plot_ecg_strip(x, rec.fs, ref["sample"], ref["symbol"], start_s, 10,
                        detected=detections[worst],
                        title=f"record {worst}: reference symbols above, detections ▼");

# %% [markdown]
# ## Saving the numbers

# %%
nonpaced = totals(scores[~scores.paced])
f1 = 2 * nonpaced["se"] * nonpaced["ppv"] / (nonpaced["se"] + nonpaced["ppv"])
run = eu.results.make_run(
    "qrs_detection", "ecgutils.signal.detect_r_peaks", ["beat"],
    {"accuracy": None, "macro_f1": round(f1, 4),
     "per_class": {"beat": {"precision": nonpaced["ppv"], "recall": nonpaced["se"],
                            "f1": round(f1, 4), "support": nonpaced["beats"]}},
     "se": nonpaced["se"], "ppv": nonpaced["ppv"], "totals": overall.to_dict("index"),
     "per_record": scores.drop(columns="lead").to_dict("index")},
    {"detect_and_score_s": round(detector_s, 2)},
    records=records, note="non-paced records; VF episodes excluded as in WFDB bxb")
path = eu.results.write_results(results_dir, "01_data_tour",
                                {"smoke": smoke, "seed": seed, "records": records}, [run])
print(f"wrote {path}")

# %% [markdown]
# ## Summary
#
# - MIT-BIH gives 48 half-hour records (360 Hz, two leads) and 109,494 annotated beats,
#   90,631 of them normal: the classes are very unequal.
# - Leads must be chosen by name; records differ.
# - A vectorised Pan-Tompkins-style detector finds the beats of the non-paced records with
#   Se and +P above 99 %, in a few seconds for the whole database.
#
# ## What's next
#
# Chapter 02 turns beats into images for a 2D CNN; chapter 04 classifies beats found by
# this detector from their spectrograms, with patient-wise evaluation.
#
# ## References
#
# - Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. *IEEE Eng Med Biol* 20(3):45–50, 2001.
# - Pan J, Tompkins WJ. A real-time QRS detection algorithm. *IEEE Trans Biomed Eng* 32(3):230–236, 1985.
# - de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG morphology and heartbeat interval features. *IEEE Trans Biomed Eng* 51(7):1196–1206, 2004.
# - ANSI/AAMI EC57: Testing and reporting performance results of cardiac rhythm and ST segment measurement algorithms.
# - Donoho DL, Johnstone IM. Ideal spatial adaptation by wavelet shrinkage. *Biometrika* 81(3):425–455, 1994.
