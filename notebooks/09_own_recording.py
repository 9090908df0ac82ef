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
# # 09 · Annotate your own recording
#
# **Overview.** Chapter 07's model labels every beat of a {term}`WFDB` record. Recordings people
# have come as an EDF file from a Holter or a CSV export from a wearable, at their own
# sampling rate, in their own units, with leads named their own way. This page takes one
# QT Database record, writes it as a WFDB record, an EDF file and a CSV file (as a
# recorder or an app would), and runs one command on all three:
#
# ```
# ecgutils annotate RECORDING [RECORDING ...] --model MODEL --out DIR [--fs HZ] [--lead NAME]
# ```
#
# For each recording it writes a beat table (CSV), a WFDB annotation file, and a
# Holter-style report (an HTML page and a text summary). Then the same thing from Python,
# `eu.annotate_signal(signal, sampling_rate, model)`, and what the model cannot do.
#
# **Prerequisites.** {doc}`07_new_patients` (the model, what its inputs are, how it does on
# new patients); its saved model file `results/07_new_patients.keras`, which a run of
# chapter 07 writes (any other chapter-07 model file can be given as `model`). Terms are
# defined in the {doc}`../glossary`.
#
# **Time to run.** Under a minute on 2 CPU cores (the record's first 10 minutes; smoke
# mode, the first 3); the {doc}`../runtimes` page has the time measured in this build.

# %% tags=["remove-cell"]
# In Colab, install ecgutils from the book's repository. Colab's own TensorFlow is kept:
# ecgutils does not depend on a TensorFlow build.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ecgutils @ git+https://github.com/ecg-book/ecg-book@main"], check=True)

# %% tags=["parameters"]
# None: follow ECG_SMOKE; True: the first 3 minutes only (CI)
smoke = None
seed = 0
results_dir = "results"
# a QT Database record from another database than MIT-BIH
record = "sel803"
minutes = 10              # how much of the record becomes "your recording"
# a chapter-07 model file; None: results_dir/07_new_patients.keras
model = None

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import contextlib
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb
from IPython.display import display
from wfdb.io.convert.edf import wfdb_to_edf

import ecgutils as eu
from ecgutils.experiment import glue

chapter = eu.book.setup(globals(), "09_own_recording")
model = Path(model) if model else results_dir / "07_new_patients.keras"
if not model.is_file():
    raise FileNotFoundError(f"no model file {model}: run chapter 07 first "
                            f"(it saves one), or give -p model PATH "
                            f"(a chapter-07 .keras or .skops file)")
print(f"record {record} ({eu.interpatient.qtdb_source(record)}), "
      f"model {model.name}")

# %% [markdown]
# ## One recording, three formats
#
# The {term}`QT Database` record stands in for your recording. We keep its first minutes and
# write them three ways, into a scratch folder:
#
# - **WFDB**, as PhysioNet gives it, with the database's own beat labels beside it (to
#   score the model at the end);
# - **EDF** {cite:p}`kemp2003edfplus`, written by wfdb's own converter (`wfdb.io.convert.edf.wfdb_to_edf`), as a
#   Holter exporter would;
# - **CSV**, as a wearable's app might export it: a time column and the two leads in
#   microvolts, with no word about units or sampling rate.

# %%
source = eu.data.database_dir("qtdb") / record
sampto = int(minutes * 60 * wfdb.rdheader(str(source)).fs)
work = Path(tempfile.mkdtemp(prefix="own-recording-"))
rec = wfdb.rdrecord(str(source), sampto=sampto, physical=False)
rec.wrsamp(write_dir=str(work))
reference = wfdb.rdann(str(source), "atr", sampto=sampto)
wfdb.wrann(record, "atr", reference.sample, reference.symbol, fs=rec.fs,
           write_dir=str(work))
# the converter reports every step
with contextlib.redirect_stdout(io.StringIO()):
    wfdb_to_edf(str(work / record),
                output_filename=str(work / f"{record}_edf.edf"))
mv = wfdb.rdrecord(str(work / record)).p_signal
pd.DataFrame({"time": np.round(np.arange(len(mv)) / rec.fs, 3),
              "ecg1": 1000 * mv[:, 0], "ecg2": 1000 * mv[:, 1]}).to_csv(
    work / f"{record}_csv.csv", index=False)
print(f"{rec.sig_len} samples at {rec.fs:g} Hz; leads named {rec.sig_name}")
for f in sorted(work.iterdir()):
    print(f"  {f.name:20s} {f.stat().st_size / 1e3:8.1f} kB")

# %% [markdown]
# ## The command
#
# One command takes the three files. The CSV file cannot say its sampling rate, so
# `--fs 250` gives it (for the WFDB and EDF files it must agree with what they say). The
# CSV file does not say its units either: the reader infers them from the typical QRS
# amplitude, the median peak-to-peak range of 2-s blocks, which is about 0.1–5 mV for a
# surface ECG; a range of 30 or more means microvolts. The model scales every recording
# by its own median QRS amplitude, so units never change a label; they set the scale of
# the report's strip.

# %%
command = ["ecgutils", "annotate", str(work / record),
           str(work / f"{record}_edf.edf"), str(work / f"{record}_csv.csv"),
           "--fs", f"{rec.fs:g}", "--model", str(model),
           "--out", str(work)]
print("$", " ".join(Path(c).name if "/" in c else c for c in command))
clock = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "ecgutils", *command[1:]],
                      capture_output=True, text=True,
                      env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
command_s = glue("command_s", time.perf_counter() - clock)
print(proc.stdout.replace(str(work) + "/", ""))
print("\n".join(line.replace(str(work) + "/", "")
                for line in proc.stderr.splitlines()
                if line.startswith(("warning:", "error:"))))
if proc.returncode:
    raise RuntimeError(f"ecgutils annotate failed: "
                       f"{proc.stderr.strip().splitlines()[-1]}")

# %% [markdown]
# The command said which lead it used and why it warned: the QT Database names its leads
# only "signal 0" and "signal 1", so nothing tells the reader that a {term}`lead` is MLII,
# the lead the model was trained on. The warning says how to choose (`--lead`, or `--column`
# in a CSV file). It took {glue:text}`command_s:.0f` s for the three files, the start of
# Python and TensorFlow included.
#
# Each recording got four files: `NAME_beats.csv`, `NAME.cls` (WFDB annotations,
# readable by `wfdb.rdann` and PhysioNet's tools), `NAME_report.html` and
# `NAME_report.txt`. The beat table has one row per beat:

# %%
tables = {fmt: eu.beat_table.read_beat_table(work / f"{name}_beats.csv")
          for fmt, name in [("WFDB", record), ("EDF", f"{record}_edf"),
                            ("CSV", f"{record}_csv")]}
display(tables["CSV"].head())
same = pd.DataFrame({fmt: {
    "beats": len(t),
    "same beats as WFDB": t["sample"].equals(tables["WFDB"]["sample"]),
    "same labels": t["label"].equals(tables["WFDB"]["label"]),
    "largest probability difference": float(np.abs(
        t.filter(like="p_").to_numpy()
        - tables["WFDB"].filter(like="p_").to_numpy()).max())
    if len(t) == len(tables["WFDB"]) else np.nan}
    for fmt, t in tables.items()}).T
display(same)
formats_agree = bool(same["same beats as WFDB"].all()
                     and same["same labels"].all())
glue("formats_agree", "the same" if formats_agree else "NOT the same");

# %% [markdown]
# The three formats give {glue:text}`formats_agree` beats and labels: EDF holds the
# WFDB record's 12-bit samples exactly, and the CSV file's microvolts are the same numbers
# scaled.
#
# ## The report
#
# `NAME_report.html` is one self-contained page (its figures are embedded, it fetches
# nothing) and `NAME_report.txt` the same numbers as text. It shows what a Holter
# summary shows first: beat counts, heart rate over time, the ectopic burden per hour,
# {term}`couplets <couplet>` and {term}`runs <run>` of S and V beats with their times, the worst minute as a labelled
# strip, and the share of the recording that was readable. Here is the text of the
# EDF file's report:

# %%
print((work / f"{record}_edf_report.txt").read_text())
print(f"HTML report: "
      f"{(work / f'{record}_edf_report.html').stat().st_size / 1e3:.0f} kB, "
      f"figures inside")

# %% [markdown]
# and its three figures, drawn by the same functions: the heart rate
# ({numref}`fig-09-rate`), the ectopic burden ({numref}`fig-09-burden`) and the worst minute
# ({numref}`fig-09-strip`).

# %% mystnb={"figure": {"name": "fig-09-rate", "caption": "Heart rate per minute of the EDF recording, from its beat table."}}
edf = eu.recordings.read_recording(work / f"{record}_edf.edf")
summary = eu.holter.holter_summary(tables["EDF"], edf.fs, edf.seconds)
eu.holter.plot_heart_rate(summary["trend"]);

# %% mystnb={"figure": {"name": "fig-09-burden", "caption": "S and V beats per hour of the EDF recording (the ectopic burden)."}}
eu.holter.plot_burden(summary["burden"]);

# %% mystnb={"figure": {"name": "fig-09-strip", "caption": "The worst minute of the EDF recording, each beat with the model's label."}}
eu.holter.plot_strip(edf.signal, edf.fs, tables["EDF"],
                     summary["worst_minute_s"]);

# %% [markdown]
# The figures come from the beat table alone: heart rate per minute is 60 over the median
# {term}`RR interval` that ends in it; a couplet is two consecutive S (or V) beats and a run
# three or more (`eu.runs.beat_runs`). Stretches that are missing, flat or noise
# (`eu.quality.ecg_quality`: NaN samples, no spread, or no peaked QRS complexes in a
# 5-s window) are not classified: their beats are `Q` in the table, left out of the
# counts, and they break runs; the report gives the readable share of the time.
#
# ## From Python
#
# The same in code, on any array: `eu.annotate_signal(signal, sampling_rate, model)`
# returns the beat table as a DataFrame.

# %%
beats = eu.annotate_signal(edf.signal, edf.fs, model, lead=edf.lead)
api_agrees = bool(beats["label"].equals(tables["EDF"]["label"]))
glue("api_agrees",
     "the same labels as" if api_agrees else "other labels than")
beats.groupby("label").agg(beats=("sample", "size"), p_N=("p_N", "mean"),
                           p_S=("p_S", "mean"), p_V=("p_V", "mean")).round(3)

# %% [markdown]
# One row per label: how many beats, and the mean probability of each class.
# `annotate_signal` gives {glue:text}`api_agrees` the command. The recording reader,
# `eu.recordings.read_recording(path, fs=None, lead=None, column=None, units=None)`, is
# the command's reader.
#
# ## How right is it here?
#
# This record comes with the QT Database's beat labels, so we can score the model as
# chapter 07 did, with the second command, `ecgutils score` ({term}`EC57` beat matching
# within 150 ms, {term}`AAMI classes`). EC57 leaves each record's first 5 minutes out as a
# {term}`learning period`; an excerpt this short is scored whole (`--learning-s 0`, here `learning_s=0`):

# %%
stats, _ = eu.annotate.score_records([work / record], "atr", "cls",
                                     learning_s=0)
print(eu.annotate.format_statistics(stats))
(glue("qrs_se", 100 * stats["qrs"]["se"]),
 glue("qrs_ppv", 100 * stats["qrs"]["ppv"]))
glue("accuracy", 100 * stats["accuracy"]);

# %% [markdown]
# The detector found {glue:text}`qrs_se:.1f` % of the labelled beats ({term}`Se`)
# ({glue:text}`qrs_ppv:.1f` % of its beats were real ones), and the beats it found were
# labelled right {glue:text}`accuracy:.1f` % of the time. One record says little: the
# model's figures on new patients, with their spread, are chapter 07's (DS2 and the
# five other databases).
#
# ## What the model cannot do
#
# - **It is not a medical device** and its labels are not a diagnosis. It was trained
#   on the 22 MIT-BIH DS1 patients, recorded in the 1970s on Holter tapes.
# - **Three classes only**: N, S and V. Fusion beats, paced beats and unclassifiable
#   beats get one of the three; there is no label for rhythm (atrial fibrillation,
#   flutter, pauses, AV block) or for ST changes.
# - **S beats are its weak class** (chapter 07): an S beat differs from an N beat mostly
#   in timing, so irregular rhythms such as atrial fibrillation make many N beats look
#   like S beats, and couplets and runs of S beats in the report inherit those errors.
# - **One lead, preferably MLII**: it was trained on MLII. Other limb leads are close;
#   chest leads (V1-V6) and single-lead patches are further from what it saw, and the
#   command warns when it cannot find a limb lead.
# - **Sampling rate**: any rate is resampled to 128 Hz, but below about 100 Hz the QRS
#   is undersampled; rates under 50 Hz are refused.
# - **Noise**: the quality check catches stretches without peaked QRS complexes, not
#   every artefact: motion artefacts that look like beats can still be detected and
#   labelled, and so can tall T waves (as during ST changes), which the model then
#   often calls V. Look at the strip before you trust a run.
# - **Units** matter only for the strip: a raw ADC export is read as microvolts (give
#   `--units`).

# %%
parameters = {"smoke": smoke, "seed": seed, "record": record,
              "minutes": minutes, "model": str(model)}
per_class = {c: {"precision": stats[c]["ppv"], "recall": stats[c]["se"],
                 "f1": stats[c]["f1"],
                 "support": stats[c]["tp"] + stats[c]["fn"]}
             for c in ("N", "S", "V")}
clean = lambda x: (None if isinstance(x, float) and np.isnan(x)  # noqa: E731
                   else x)
per_class = {c: {k: clean(v) for k, v in m.items()}
             for c, m in per_class.items()}
f1s = [m["f1"] for m in per_class.values() if m["f1"] is not None]
run = eu.results.make_run(
    "external_qtdb", "interpatient_cnn", ["N", "S", "V"],
    {"accuracy": stats["accuracy"],
     "macro_f1": float(np.mean(f1s)) if f1s else None,
     "per_class": per_class, "qrs_se": stats["qrs"]["se"],
     "qrs_ppv": stats["qrs"]["ppv"],
     "formats_agree": formats_agree, "api_agrees": api_agrees,
     "beats": {fmt: len(t) for fmt, t in tables.items()}},
    {"command_s": command_s, "total_s": chapter.elapsed_min() * 60},
    records=[record], minutes=minutes)
path = eu.results.write_results(results_dir, "09_own_recording",
                                parameters, [run])
print(f"wrote {path}")

# %% [markdown]
# ## Summary
#
# - `ecgutils annotate` (also `python -m ecgutils annotate`) reads WFDB records, EDF,
#   EDF+ and BDF files (with pyedflib: wfdb's own EDF reader cannot read BDF or EDF+
#   files) and CSV or TXT files with `--fs`; it chooses MLII or lead II, or warns.
# - The same record as WFDB, EDF and CSV gave {glue:text}`formats_agree` beat table.
# - Each recording gets a beat table, WFDB annotations and a Holter-style report; from
#   Python, `eu.annotate_signal` returns the table as a DataFrame.
# - The model's limits are chapter 07's: three classes, one lead, S beats the hardest,
#   and a quality check that misses artefacts that look like beats.
#
# ## What's next
#
# Run it on your own recording: `pip install` the book's package (the first cell of
# this page), run chapter 07 once for a model, then
# `ecgutils annotate your.edf --model results/07_new_patients.keras --out labels`.
# Add `--adapt` for chapter 07's record-adaptive labels: the recording's beats, sorted
# into families of one QRS shape, share their V probability, as Holter software labels
# a family at once.
#
# ## Exercises
#
# ```{exercise} A patient the model has seen
# :label: ex-09-seen
# Give the chapter `sel100`, the QT Database excerpt of MIT-BIH record 100. Record 100
# is in DS1, which trained the model. What do you expect the chapter to do?
# ```
#
# ```{solution} ex-09-seen
# :class: dropdown
# It stops before any work, with an error that names the parameter `record` and says why:
# an MIT-BIH excerpt is no new patient for a model trained on MIT-BIH, and its score
# would flatter the model, as the beat-random splits of earlier chapters do. Pick a
# record from another database instead.
#
#     papermill notebooks/09_own_recording.ipynb out.ipynb -p record sel100
# ```
#
# ```{exercise} A normal heart
# :label: ex-09-normal
# Run the chapter on `sel16265`, from the MIT-BIH Normal Sinus Rhythm Database. Predict the
# report's ectopic counts and what any S or V label in it means.
# ```
#
# ```{solution} ex-09-normal
# :class: dropdown
# The subjects of that database have no significant arrhythmias, so nearly every beat is
# N: the S and V counts should be small, and most S or V labels are false alarms (a
# beat after a slightly longer pause, a noisy stretch). The score table shows them as
# false positives, and S or V +P is low or undefined.
#
#     papermill notebooks/09_own_recording.ipynb out.ipynb -p record sel16265
# ```
#
# ## References
#
# This chapter draws on {cite}`laguna1997database,kemp2003edfplus,aami2012ec57`; every work
# cited in the book is listed in the {doc}`../references`.
