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
# # 08 · Every approach, one task, three protocols
#
# **Overview.** Chapters 02–07 each built a classifier their own way, scored it their
# own way, and most of them on beats of patients they had trained on. This chapter puts
# all of them on the **same task** (N, S and V beats of MIT-BIH, {term}`AAMI classes`)
# under the **same protocols**:
#
# 1. **{term}`DS1 → DS2 <DS1 and DS2>`** {cite:p}`dechazal2004automatic`: train on DS1, choose the epoch on held-out
#    DS1 records, predict the 22 DS2 patients once;
# 2. **other databases**: the same models on the QT Database records that come from
#    five other databases (chapter 07);
# 3. **{term}`beat-random <beat-random protocol>`**: a stratified random split of all beats
#    of the 44 non-paced
#    records, so that every patient is in training and test. Shown on purpose, beside
#    DS1 → DS2 for each approach: the gap is how much that protocol flatters a model.
#
# Each approach is a named pipeline of `ecgutils.pipelines`: a function from records to
# labelled inputs, and a model. The chapter only calls them; any reader can run any
# approach on any split in one call.
#
# **Prerequisites.** Chapters {doc}`02 <02_image_cnn>`–{doc}`07 <07_new_patients>` (what
# each approach is); {doc}`07_new_patients` (the DS1/DS2 protocol, AAMI {term}`EC57`
# {term}`gross statistics`). Terms are defined in the {doc}`../glossary`.
#
# **Time to run.** The default, one seed, trains each approach twice (DS1 and
# beat-random) with N beats subsampled and at most a few epochs: tens of minutes on
# 2 CPU cores (this run: {glue:text}`total_min:.0f` minutes; the {doc}`../runtimes` page
# has every chapter's). Smoke mode runs on five DS1, three DS2 and three external
# records, for one epoch.

# %% tags=["remove-cell"]
# In Colab, install ecgutils from the book's repository. Colab's own TensorFlow is kept:
# ecgutils does not depend on a TensorFlow build.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ecgutils @ git+https://github.com/ecg-book/ecg-book@main"], check=True)

# %% tags=["parameters"]
# None: follow ECG_SMOKE; True: few records, one epoch (CI)
smoke = None
# the first seed; the run uses seeds seed, seed + 1, ...
seed = 0
# trainings per approach and protocol (more: a spread, more time)
seeds = 1
results_dir = "results"
# "all", or a list of names of eu.pipelines.PIPELINES
approaches = "all"
# None: each pipeline's own (a few); an integer overrides them all
epochs = None
val_fraction = 0.3        # share of the DS1 records held out for selection
beat_random_test = 0.2    # share of the beats in the beat-random test split

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import numpy as np
import pandas as pd

import ecgutils as eu
from ecgutils import pipelines as pl
from ecgutils.experiment import glue

if approaches == "all":
    approaches = list(pl.PIPELINES)
chapter = eu.book.setup(globals(), "08_comparison")
ds1, ds2 = list(eu.data.DS1), list(eu.data.DS2)
if smoke:
    ds1, ds2 = list(eu.data.SMOKE_DS1), list(eu.data.SMOKE_DS2)
seed_list = list(range(seed, seed + seeds))

# %% [markdown]
# ## The approaches
#
# | chapter | what the model sees |
# |---|---|
# | 02 | each beat (0.3 s before R to 0.5 s after, at 360 Hz) drawn as a 64×64 line image |
# | 03 | chapter 03's three networks (dense, SimpleRNN, LSTM); chapter 03 gave them 200-ms windows of two leads of European ST-T records, normal against abnormal, which do not fit this task, so here they read the Kaggle-format beats of chapters 05 and 06 (Kachuee et al. 2018: 187 samples at 125 Hz from R on) |
# | 04 | a 2-s window around R, as a 32×32 STFT image |
# | 05 | Kaggle beats as 16×16 spectrograms, S and V raised by SMOTE in training |
# | 06 | Kaggle beats through one global scaler, a 1D CNN |
# | 07 | a window that keeps the P wave, the beat minus the patient's median on-time beat, RR relative to the patient's rhythm and to the neighbouring intervals, runs of early beats and the rhythm around the beat; a two-branch CNN trained on augmented windows, and a random forest on the rhythm features and the beat's shape against the patient's on-time beats |
#
# What the comparison holds fixed, so that only the approach changes:
#
# - **the beats**: every annotated beat, its mark moved to the R peak (the largest
#   deflection of the band-passed lead within 0.1 s), for every approach. Chapter 04
#   found its beats with the book's detector; here it takes the reference ones, as
#   all published DS2 results we compare with do. (The Kaggle format drops the beats of
#   each record's last, incomplete 10-s window, as Kachuee et al. do.)
# - **the classes**: N, S, V, with `e` and `j` counted as N (de Chazal's mapping, as in
#   chapter 07). F and Q beats are not trained on (a fusion beat's shape lies between N
#   and V by definition; Q beats are paced or unclassifiable); they stay in the test sets, Q is not
#   counted, and an F beat called S or V counts against {term}`+P` (`eu.ec57`);
# - **the training**: each approach's own recipe from the registry (`Pipeline.train`,
#   as its chapter trains it), N training beats subsampled (`subsample_majority`; chapter
#   06's 1D CNN draws a fresh share every epoch), {term}`class weights` (`class_weights`) to the pipeline's power, the
#   epoch kept the one with the best mean F1 of S and V on the validation beats (N
#   beats subsampled there too, since they are predicted after every epoch, each kept
#   one counting for those dropped);
# - **the rate**: every record is resampled to the rate the approach was trained at.
#
# Per approach, the training settings:

# %%
settings = pd.DataFrame([{
    "approach": p.name, "chapter": p.chapter, "model": p.title,
    "rate (Hz)": p.fs,
    "epochs (at most)": epochs or p.epochs, "N kept": p.majority_ratio,
    "class-weight power": p.class_weight_power,
    "SMOTE": p.resample is not None}
    for p in map(pl.PIPELINES.get, approaches)]).set_index("approach")
settings

# %% [markdown]
# The LSTM reads each beat one sample at a time, 187 steps, which is slow on a CPU, and
# the image CNN's 64×64 inputs are the largest here: both keep fewer N beats (and the
# LSTM, which learns slowly, gets more epochs). The random forest and chapter 07's
# network keep them all (they are fast, and chapter 07 chose its class weights for the
# full imbalance). Chapter 05's approach balances by SMOTE instead of class weights.
#
# ## The splits
#
# DS1 → DS2: the DS1 records are split into training and validation records (each side
# with S and V beats); `run_pipeline` refuses any DS2 record among them, so the check
# below is part of the run. The external test set is chapter 07's: the QT Database
# records from databases other than MIT-BIH Arrhythmia (its `sel1xx`/`sel2xx` excerpts
# are MIT-BIH patients, so they are left out).

# %%
external = eu.interpatient.external_records()
if smoke:
    external = external[::32]
splits = {s: pl.select_validation_records(ds1, val_fraction=val_fraction,
                                          seed=s)
          for s in seed_list}
for s, split in splits.items():
    pl.check_no_test_records(split["train"] + split["val"])
    print(f"seed {s}: validation records {', '.join(split['val'])}")
tests = {"DS2": (ds2, "mitdb"), "other databases": (external, "qtdb")}
glue("n_external", len(external))

# %% [markdown]
# Beat-random: all beats of the DS1 and DS2 records pooled, a stratified random
# {glue:text}`test_pct:.0%` for test, a tenth for validation, and for training as many
# beats as the DS1 training records hold (drawn from the rest), so that the two
# protocols differ in whose beats are trained on, not in how many.

# %%
glue("test_pct", beat_random_test)
results, raw = [], {}
for name in approaches:
    cache = {}  # each approach's inputs, built once per record set
    for s in seed_list:
        fit = pl.run_pipeline(name, splits[s]["train"], splits[s]["val"],
                              tests, seed=s, epochs=epochs, cache=cache)
        pooled = eu.beats.Beats.concat(
            pl.cached_inputs(name, r, cache=cache)
            for r in (splits[s]["train"], splits[s]["val"], ds2))
        n_train = len(pl.cached_inputs(name, splits[s]["train"],
                                       cache=cache))
        train, val, test = pl.beat_random_split(pooled, s, beat_random_test,
                                                train_size=n_train)
        leaky = pl.fit_and_score(name, train, val, {"beat-random": test}, s,
                                 epochs)
        for fitted in (fit, leaky):
            for test_name in fitted["tests"]:
                results.append({"approach": name, "protocol": test_name,
                                "seed": s, **pl.summary(fitted, test_name)})
        raw[name, s] = fit, leaky
table = pd.DataFrame(results)
# A training whose best validation S/V F1 is 0 found no S or V beat at any
# epoch (eu.pipelines.training_failed): its scores say nothing about the
# approach.
failed = table.loc[table["failed"], ["approach", "protocol", "seed"]].assign(
    training=lambda d: d.protocol.map(
        lambda p: "beat-random" if p == "beat-random" else "DS1"))
failed = failed.drop_duplicates(["approach", "training", "seed"])
glue("failed_trainings", "; ".join(
    f"{r.approach} (its {r.training} training, seed {r.seed})"
    for r in failed.itertuples()) or "none")
glue("n_failed", len(failed))
kept = table[~table["failed"]]

# %% [markdown]
# ## One table
#
# **Failed trainings are left out.** A training counts as failed when its best validation
# score, the mean F1 of S and V, is 0: at no epoch did the network call a single
# validation S or V beat right, so it has collapsed onto N and its test scores say
# nothing about the approach. In this run, {glue:text}`n_failed` failed:
# {glue:text}`failed_trainings`. They are left out of the metrics below, of the figures,
# and of every summary that follows (best scores, gaps, rank correlation); their costs
# stay.
#
# Gross statistics (all beats of a test set pooled), mean over the seeds; the costs
# (training time, prediction speed on this machine's cores, parameters, size of the
# saved `.keras` file; for the forest, tree nodes and the pickled forest) are those of
# the DS1 training:

# %%
metrics = ["S Se", "S +P", "S F1", "V Se", "V +P", "V F1", "accuracy"]
costs = ["train s", "beats/s", "parameters", "file kB"]
mean = kept.groupby(["protocol", "approach"], sort=False)[metrics].mean()
cost_table = table[table.protocol == "DS2"].groupby(
    "approach", sort=False)[costs].mean().astype(int)
cost_table.style.format("{:,}")

# %%
mean[metrics].style.format("{:.3f}", na_rep="–")

# %% [markdown]
# ## How far to trust the DS2 rows
#
# DS2 is 22 patients, and one of them (record 232) holds most of its S beats. Two views
# of how much the DS2 figures rest on a few records (`eu.ec57`), per approach: a 95 %
# bootstrap interval of the gross F1 (the 22 records drawn with replacement 1,000 times,
# the seeds' predictions rescored on each draw and averaged), beside the sd over seeds;
# and the **record average** of Se and +P, EC57's other statistic, in which every record
# counts once ("Se rec.", "+P rec."); one table for S, one for V. Unlike chapter 07's
# EC57 section, these rows score all 30 minutes of each record, as the rest of this
# chapter does.

# %%
trust = {}
for name in approaches:
    ds2_fits = [raw[name, s][0]["tests"]["DS2"] for s in seed_list]
    reference, records = ds2_fits[0]["reference"], ds2_fits[0]["record"]
    boot = eu.ec57.bootstrap_gross(
        reference, [f["predicted"] for f in ds2_fits], records, seed=seed)
    row = {}
    for c in ("S", "V"):
        b = boot[f"{c} f1"]
        row[c, "F1"] = b["estimate"]
        row[c, "95 % CI"] = f"{b['low']:.3f}–{b['high']:.3f}"
        row[c, "sd seeds"] = b["seed_sd"]
        for key, label in (("se", "Se rec."), ("ppv", "+P rec.")):
            row[c, label] = np.mean(
                [f["record_average"][c][key] for f in ds2_fits])
    trust[name] = row
trust = pd.DataFrame(trust).T
s_width = trust["S", "95 % CI"].map(
    lambda ci: float(ci.split("–")[1]) - float(ci.split("–")[0]))
(glue("widest_s_ci", s_width.idxmax()),
 glue("widest_s_ci_width", s_width.max()))
glue("narrowest_s_ci_width", s_width.min())


def show_trust(c):
    """One class's columns: a table of five short columns."""
    return trust[c].style.format(
        lambda v: "–" if v is None or v != v else
        (f"{v:.3f}" if isinstance(v, float) else str(v))).set_caption(
        f"{c} beats, DS2")


display(show_trust("S"), show_trust("V"))

# %% [markdown]
# The 95 % intervals of S F1 span from {glue:text}`narrowest_s_ci_width:.3f` to
# {glue:text}`widest_s_ci_width:.3f` ({glue:text}`widest_s_ci`): with another 22 patients
# the ranking of close approaches could change. Where the record average of S Se sits far
# from the gross Se, a few records carry the pooled figure.

# %% [markdown]
# ## Two figures: S and V under every protocol
#
# In {numref}`fig-08-s` and {numref}`fig-08-v` the beat-random bar is what chapters
# 02–06 reported first; the DS2 bar is what the approach does for a new patient; the
# other-databases bar, for a patient recorded elsewhere.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-08-s", "caption": "S (supraventricular) beats: Se, +P and F1 of every approach on DS2, on the other databases and on the beat-random split (mean over the seeds, with their sd; failed trainings left out)."}}
eu.plots.plot_comparison(kept, ["S Se", "S +P", "S F1"], []);

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-08-v", "caption": "V (ventricular) beats: Se, +P and F1 of every approach under the same three protocols."}}
eu.plots.plot_comparison(kept, ["V Se", "V +P", "V F1"], []);

# %% [markdown]
# ## The inflation in one picture
#
# Per approach, S F1 and V F1 on new patients (DS2) and with the patients in training
# (beat-random), in {numref}`fig-08-inflation`: the length of each line is what a
# beat-random split hides.

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-08-inflation", "caption": "S F1 and V F1 of each approach on DS2 (new patients) and on the beat-random split; each line's length is the inflation."}}
eu.plots.plot_inflation(kept);

# %% [markdown]
# And what each approach costs, for its DS1 training ({numref}`fig-08-costs`, log scales).

# %% tags=["hide-input"] mystnb={"figure": {"name": "fig-08-costs", "caption": "What each approach costs for its DS1 training: training time, prediction speed, parameters and file size (log scales)."}}
eu.plots.plot_comparison(table, [], costs, cost_rows="DS2", ncols=2);

# %% tags=["remove-input"]
ds2_mean = mean.loc["DS2"]
random_mean = mean.loc["beat-random"]  # failed trainings are not in `mean`: no gap for them
gap = random_mean["S F1"] - ds2_mean["S F1"]
best_s, best_v = ds2_mean["S F1"].idxmax(), ds2_mean["V F1"].idxmax()
glue("best_s", best_s), glue("best_s_f1", ds2_mean.loc[best_s, "S F1"])
glue("best_v", best_v), glue("best_v_f1", ds2_mean.loc[best_v, "V F1"])
glue("gap_min", gap.min()), glue("gap_max", gap.max()), glue("gap_max_name", gap.idxmax())
glue("random_s_f1_min", random_mean["S F1"].min())
glue("random_s_f1_min_name", random_mean["S F1"].idxmin())
glue("rank_corr", random_mean["S F1"].corr(ds2_mean["S F1"], method="spearman"))
glue("ds2_s_f1_median", ds2_mean["S F1"].median())
ext = mean.loc["other databases"]
glue("ext_best_v", ext["V F1"].idxmax()), glue("ext_best_v_f1", ext["V F1"].max())
glue("slowest_train", cost_table["train s"].idxmax())
glue("slowest_predict", cost_table["beats/s"].idxmin())
glue("n_approaches", len(approaches)), glue("n_seeds", len(seed_list));

# %% [markdown]
# On DS2, the best S F1 is {glue:text}`best_s_f1:.3f` ({glue:text}`best_s`) and the best
# V F1 {glue:text}`best_v_f1:.3f` ({glue:text}`best_v`); the median S F1 of the
# {glue:text}`n_approaches` approaches is {glue:text}`ds2_s_f1_median:.3f` (failed
# trainings left out throughout). Beat-random S F1 minus DS2 S F1 goes from
# {glue:text}`gap_min:.3f` to {glue:text}`gap_max:.3f`
# (the largest for {glue:text}`gap_max_name`). A small gap is no praise when the
# beat-random score itself is low: the lowest beat-random S F1, with the patients' own
# beats in training, is {glue:text}`random_s_f1_min:.3f` ({glue:text}`random_s_f1_min_name`).
# Does beat-random at least rank
# the approaches as DS2 does? The rank correlation of their S F1 under the two protocols
# is {glue:text}`rank_corr:.2f` (1: the same order). On the other databases the best V F1
# is {glue:text}`ext_best_v_f1:.3f` ({glue:text}`ext_best_v`).
#
# Costs: chapter 07's inputs are small (a 0.7-s window at 128 Hz and twelve rhythm
# features), and so is its model. In this run {glue:text}`slowest_train` took longest to train and
# {glue:text}`slowest_predict` was the slowest to predict (measured on this machine's
# cores, batches of 1024 beats).

# %% [markdown]
# ## Beside the published results
#
# Pure inter-patient results on DS2 from the papers chapter 07 cites
# {cite:p}`dechazal2004automatic,saenzcogollo2020investigating,niu2020interpatient,zhang2021interpatient`
# (their counting
# rules differ in details, so a point or two means little), with this run's
# approaches:

# %% tags=["hide-input"]
published = eu.interpatient.PUBLISHED_DS2.copy()
for name, row in ds2_mean.iterrows():
    published.loc[f"this chapter: {name}"] = row
published[eu.interpatient.PUBLISHED_DS2.columns].style.format(
    "{:.3f}", na_rep="–")

# %% [markdown]
# ## Results file
#
# One run per approach, protocol and seed, with the EC57 gross statistics (per class:
# +P as precision, {term}`Se` as recall) and the costs:

# %% tags=["remove-input"]
protocol_of = {"DS2": "ds1ds2", "other databases": "external_qtdb", "beat-random": "beat_random"}


def runs_of(name, s, fitted, test_name):
    scores = pl.result_metrics(fitted["tests"][test_name]["gross"],
                               fitted["tests"][test_name]["record_average"])
    timing = {"train_s": fitted["train_s"],
              "predict_beats_per_s": fitted["tests"][test_name]["predict_beats_per_s"]}
    return eu.results.make_run(protocol_of[test_name], name, pl.CLASSES, scores, timing,
                               seed=s, best_epoch=fitted["best_epoch"],
                               parameters=fitted["parameters"], file_bytes=fitted["file_bytes"],
                               train_beats=fitted["train_beats"], training_failed=fitted["failed"])


runs = [runs_of(name, s, fitted, t) for (name, s), pair in raw.items() for fitted in pair
        for t in fitted["tests"]]
parameters = dict(smoke=smoke, seed=seed, seeds=seeds, approaches=approaches, epochs=epochs,
                  val_fraction=val_fraction, beat_random_test=beat_random_test,
                  settings=settings.reset_index().to_dict("records"))
path = eu.results.write_results(results_dir, "08_comparison", parameters, runs)
total_min = chapter.elapsed_min()
glue("total_min", total_min)
print(f"wrote {path}; the chapter ran in {total_min:.1f} min")

# %% [markdown]
# ## Summary
#
# - Under one protocol the approaches of chapters 02–07 can be compared at last: on new
#   patients (DS2) the best S F1 was {glue:text}`best_s_f1:.3f` and the best V F1
#   {glue:text}`best_v_f1:.3f`, against S F1 0.73–0.84 and V F1 0.90–0.93 in the
#   published pure inter-patient results.
# - The beat-random protocol of the earlier chapters gave S F1 up to
#   {glue:text}`gap_max:.3f` above DS2 in this run: it measures how well a model knows
#   the patients it was trained on.
# - Read the DS2 rows against the inputs: chapter 07's approaches see the rhythm
#   relative to the patient and around the beat, the P wave and the beat against the
#   patient's usual beat; the others see one beat. The costs table says what each model
#   takes to train and to run.
# - This run trained {glue:text}`n_seeds` seed(s) per approach and protocol and took
#   {glue:text}`total_min:.1f` minutes; with more seeds (`-p seeds 3`) the bars show a
#   spread, which for S F1 is wide (chapter 07).
#
# ## What's next
#
# `eu.pipelines.run_pipeline(name, train_records, val_records, tests)` runs any approach
# on any split: try another validation fraction, another external database, or a new
# pipeline added to `eu.pipelines.PIPELINES`.
#
# ## Exercises
#
# ```{exercise} Three seeds
# :label: ex-08-seeds
# Run three seeds per approach and protocol. Before you look: which will spread more over
# the seeds, S F1 or V F1 on DS2, and could the order of the approaches change?
# ```
#
# ```{solution} ex-08-seeds
# :class: dropdown
# S F1 spreads more: DS1 holds few S beats, in a handful of records, and each seed holds
# out other validation records and starts from other weights, while most of DS2's S
# beats sit in one record. Approaches whose S F1 lie close together can swap places. The
# run takes about three times as long.
#
#     papermill notebooks/08_comparison.ipynb out.ipynb -p seeds 3
# ```
#
# ```{exercise} A larger beat-random test split
# :label: ex-08-split
# Raise the beat-random test share from a fifth to a half, for chapter 07's two
# approaches only. Does the inflation (beat-random S F1 minus DS2 S F1) shrink?
# ```
#
# ```{solution} ex-08-split
# :class: dropdown
# Hardly: the training set keeps as many beats as the DS1 training records hold, and
# beats of every patient are still on both sides of the split. The inflation comes from
# whose beats are trained on, not from how many are tested, so the gap stays.
#
#     papermill notebooks/08_comparison.ipynb out.ipynb -p beat_random_test 0.5 -p approaches "['interpatient', 'classical']"
# ```
#
# ## References
#
# This chapter draws on {cite}`dechazal2004automatic,kachuee2018ecg,luz2016survey,saenzcogollo2020investigating,niu2020interpatient,zhang2021interpatient,aami2012ec57,laguna1997database`;
# every work cited in the book is listed in the {doc}`../references`.
