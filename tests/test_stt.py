"""ecgutils.stt: European ST-T records, binary labels, ST/T episode parsing, ST features,
episode matching; the `edb` code path on small synthetic WFDB records; chapter 03's checks."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, roc_auc_score

import ecgutils as eu
import ecgutils.data as eudata
import ecgutils.stt as stt

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

ROOT = Path(__file__).resolve().parents[1]
REAL = pytest.mark.skipif(not os.environ.get("ECG_DATA_DIR"),
                          reason="ECG_DATA_DIR is not set: real-data test skipped")
FS = 250


def _ann(pairs):
    """A minimal annotation: [(sample, aux_note), ...]."""
    return SimpleNamespace(sample=np.array([p[0] for p in pairs]),
                           aux_note=[p[1] for p in pairs])


def _write_record(folder: Path, name: str, seconds=80, symbols=None, extra=(),
                  comments=("Produced by xform from record e0104, beginning at 1:35:00.000",),
                  st_mv=None, mark_offset=0):
    """Two-lead 250 Hz record with beats once a second; ``extra``: (sample, symbol, aux).

    ``mark_offset``: the beat annotations sit this many samples after R (negative:
    before R, as on some European ST-T records)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = seconds * FS
    peaks = np.arange(FS // 2, n - FS // 2, FS)
    t = np.arange(n)
    d = t[:, None] - peaks[None, :]
    x = (np.exp(-(d / 3.0) ** 2) + 0.3 * np.exp(-((d - 70) / 12.0) ** 2)).sum(1)
    sig = np.stack([x, 0.5 * x], axis=1)
    if st_mv is not None:  # add an ST shift (mV) to lead 1 between the given samples
        lo, hi, mv = st_mv
        seg = ((d >= 15) & (d <= 45)).any(1) & (t >= lo) & (t <= hi)
        sig[seg, 0] += mv
    wfdb.wrsamp(name, fs=FS, units=["mV", "mV"], sig_name=["V4", "MLIII"], p_signal=sig,
                fmt=["212", "212"], adc_gain=[200, 200], baseline=[0, 0],
                comments=list(comments), write_dir=str(folder))
    symbols = ["N"] * len(peaks) if symbols is None else list(symbols)
    samples, aux = list(peaks[: len(symbols)] + mark_offset), [""] * len(symbols)
    for s, sym, note in extra:
        samples.append(s), symbols.append(sym), aux.append(note)
    order = np.argsort(samples, kind="stable")
    wfdb.wrann(name, "atr", sample=np.asarray(samples)[order],
               symbol=list(np.asarray(symbols, dtype=object)[order]),
               aux_note=list(np.asarray(aux, dtype=object)[order]), write_dir=str(folder))
    (folder / "RECORDS").write_text(
        "\n".join(sorted({p.stem for p in folder.glob("*.hea")})) + "\n")
    return peaks


# --------------------------------------------------------------------------- episodes
def test_st_episodes_pairs_opens_and_closes_per_lead_and_kind():
    ann = _ann([(10, "(ST1+"), (20, "(ST2-"), (30, "AST1+200"), (40, "ST1+)"),
                (50, "(T1++"), (60, "ST2-)"), (70, "T1++)"), (80, "(ST1+"), (90, "ST1+)"),
                (95, "(N")])
    ep = stt.st_episodes(ann, sig_len=100)
    assert list(ep.columns) == ["lead", "kind", "direction", "start", "end", "open_start",
                                "open_end"]
    got = ep[["lead", "kind", "direction", "start", "end"]].values.tolist()
    assert got == [[0, "ST", "+", 10, 40], [0, "ST", "+", 80, 90], [1, "ST", "-", 20, 60],
                   [0, "T", "++", 50, 70]]
    assert not ep.open_start.any() and not ep.open_end.any()


def test_st_episodes_unterminated_and_already_running():
    ann = _ann([(500, "ST2-)"), (700, "(ST1+"), (800, "(T2-")])
    ep = stt.st_episodes(ann, sig_len=1000).set_index(["kind", "lead"])
    assert ep.loc[("ST", 1), ["start", "end", "open_start"]].tolist() == [0, 500, True]
    assert ep.loc[("ST", 0), ["start", "end", "open_end"]].tolist() == [700, 999, True]
    assert ep.loc[("T", 1), ["start", "end", "open_end"]].tolist() == [800, 999, True]
    # without sig_len an open episode ends at the last annotation
    assert stt.st_episodes(ann).query("kind == 'T'")["end"].item() == 800


def test_st_episodes_empty_and_kind_filter():
    ep = stt.st_episodes(_ann([(1, ""), (2, "(N"), (3, "AST1-100")]), sig_len=10)
    assert ep.empty and "start" in ep.columns
    ann = _ann([(1, "(ST1+"), (5, "ST1+)"), (6, "(T1-"), (9, "T1-)")])
    assert stt.st_episodes(ann, kinds=("T",))["kind"].tolist() == ["T"]


def test_st_episodes_of_one_signal_for_the_kaggle_format_beats():
    """The cases the former array parser (st_t_episodes) handled, read per lead."""
    aux = ["(ST1+", "(T2-", "AST1+200", "T2-)", "ST1+)", "ST1-)", "(T1++"]
    ep = stt.st_episodes(_ann(list(zip([100, 150, 200, 300, 400, 500, 800], aux))), sig_len=1000)
    lead0 = ep.loc[ep.lead == 0, ["start", "end"]].values.tolist()
    assert sorted(lead0) == [[0, 500], [100, 400], [800, 999]]
    assert ep.loc[ep.lead == 1, ["start", "end"]].values.tolist() == [[150, 300]]
    assert stt.st_episodes(_ann([(1, ""), (2, "N")]), sig_len=10).empty


def test_merge_and_membership_are_inclusive():
    assert eudata.merge_intervals([(0, 5), (5, 8), (10, 12)]).tolist() == [[0, 8], [10, 12]]
    assert eudata.merge_intervals([(3, 20), (5, 8)]).tolist() == [[3, 20]]
    assert eudata.merge_intervals(np.empty((0, 2))).shape == (0, 2)
    inside = eudata.samples_in_episodes([-1, 0, 8, 9, 10, 12, 13], [(10, 12), (0, 8)])
    assert inside.tolist() == [False, True, True, False, True, True, False]
    assert not eudata.samples_in_episodes([1, 2], np.empty((0, 2))).any()
    # overlapping intervals, and a DataFrame from st_episodes
    frame = pd.DataFrame({"start": [0, 5], "end": [10, 7]})
    assert eudata.samples_in_episodes([7, 10, 11], frame).tolist() == [True, True, False]
    # the same answer as the brute-force comparison with every interval
    rng = np.random.default_rng(0)
    iv = np.sort(rng.integers(0, 10_000, (40, 2)), axis=1)
    s = rng.integers(-10, 10_010, 5000)
    brute = ((s[:, None] >= iv[:, 0]) & (s[:, None] <= iv[:, 1])).any(1)
    assert (eudata.samples_in_episodes(s, iv) == brute).all()


def test_beats_to_episodes_and_matching():
    s = np.arange(200) * FS
    pos = (s >= 20 * FS) & (s <= 80 * FS) | (s >= 100 * FS) & (s <= 110 * FS)
    det = stt.beats_to_episodes(s, pos, FS, min_duration_s=30)
    assert det.tolist() == [[20 * FS, 80 * FS]]
    assert stt.beats_to_episodes(s, np.zeros(200, bool), FS).shape == (0, 2)
    with pytest.raises(ValueError, match="differ in shape"):
        stt.beats_to_episodes(s, pos[:-1], FS)
    m = stt.match_episodes([(20 * FS, 80 * FS)], det)
    assert (m["se"], m["ppv"]) == (1.0, 1.0)
    m = stt.match_episodes([(0, 100), (1000, 1100)], [])
    assert m["se"] == 0.0 and m["ppv"] is None and m["fn"] == 2
    # a short detection inside a long reference episode matches it (it covers the detection);
    # a detection that sticks out for most of its length does not
    m = stt.match_episodes([(0, 1000)], [(100, 200), (900, 1500)])
    assert (m["tp_ref"], m["tp_det"], m["fp"]) == (1, 1, 1)
    m = stt.match_episodes([(0, 1000)], [(900, 1500)])
    assert (m["tp_ref"], m["tp_det"]) == (0, 0)
    with pytest.raises(ValueError, match="min_overlap"):
        stt.match_episodes([(0, 1)], [(0, 1)], min_overlap=0)


def test_detect_episodes_smooths_within_each_record():
    from scipy import ndimage

    s = np.arange(100) * FS
    p_a = np.where(s >= 40 * FS, 0.8, 0.2)       # record a: an episode from 40 s to the end
    p_a[80] = 0.0                                 # with one dissenting beat inside
    p_b = np.where(s <= 20 * FS, 0.8, 0.2)       # record b: 21 s, too short for an episode
    # record b first: beats need not come grouped in any order of records
    smoothed, episodes = stt.detect_episodes(np.repeat(["b", "a"], 100), np.r_[s, s],
                                             np.r_[p_b, p_a], FS, smooth_beats=5,
                                             min_duration_s=30)
    assert episodes["a"].tolist() == [[40 * FS, 99 * FS]]
    assert episodes["b"].shape == (0, 2)
    assert smoothed[180] == pytest.approx(0.8)                      # the lone dip is gone
    # each record is smoothed on its own: no record's beats leak into another's median
    assert np.allclose(smoothed[:100], ndimage.median_filter(p_b, 5, mode="nearest"))
    assert np.allclose(smoothed[100:], ndimage.median_filter(p_a, 5, mode="nearest"))
    shuffled = np.random.default_rng(0).permutation(200)           # nor does their order
    again, _ = stt.detect_episodes(np.repeat(["b", "a"], 100)[shuffled], np.r_[s, s][shuffled],
                                   np.r_[p_b, p_a][shuffled], FS, smooth_beats=5)
    assert np.allclose(again, smoothed[shuffled])


def test_plot_episode_track_draws_episodes_and_returns_the_figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = np.arange(300) * FS
    fig, axes = plt.subplots(2, 1)
    ref = pd.DataFrame({"start": [10 * FS, 200 * FS], "end": [60 * FS, 250 * FS]})
    out = eu.plots.plot_episode_track(s, np.sin(s / 1e4), FS, reference=ref, detected=[(0, 500)],
                                 raw=np.cos(s / 1e4), levels=(-0.1, 0.1), ax=axes[1])
    assert out is fig and len(axes[1].patches) == 2 and not axes[0].lines
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert labels == ["per beat", "reference episode", "detected episode"]
    plt.close(fig)


# --------------------------------------------------------------------------- labels
def test_binary_map_is_stable_and_covers_every_beat_symbol():
    assert set(stt.EDB_BINARY_MAP) >= set(eudata.BEAT_SYMBOLS)
    assert stt.EDB_BINARY_MAP["N"] == "normal"
    assert {k for k, v in stt.EDB_BINARY_MAP.items() if v == "normal"} == {"N"}
    for s in "VSFJ":
        assert stt.EDB_BINARY_MAP[s] == "abnormal"
    labels = stt.binary_beat_labels(list("NVSFJNQ?"))
    assert labels.tolist() == ["normal", "abnormal", "abnormal", "abnormal", "abnormal",
                               "normal", "", ""]
    for non_beat in ("+", "~", "s", "T", "|"):
        with pytest.raises(ValueError, match="not beat labels"):
            stt.binary_beat_labels(["N", non_beat])


def test_binary_metrics_agree_with_sklearn():
    rng = np.random.default_rng(3)
    y_true = (rng.random(500) < 0.1).astype(int)
    prob = np.clip(0.6 * y_true + rng.normal(0.3, 0.2, 500), 0, 1)
    m = stt.binary_metrics(y_true, prob[:, None])                # a sigmoid column is fine
    tn, fp, fn, tp = confusion_matrix(y_true, prob >= 0.5, labels=[False, True]).ravel()
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (tp, fn, tn, fp)
    assert m["sensitivity"] == round(tp / (tp + fn), 4) == m["per_class"]["abnormal"]["se"]
    assert m["specificity"] == round(tn / (tn + fp), 4)
    assert m["balanced_accuracy"] == round(balanced_accuracy_score(y_true, prob >= 0.5), 4)
    assert m["per_class"]["abnormal"]["roc_auc"] == round(roc_auc_score(y_true, prob), 4)
    strict = stt.binary_metrics(y_true, prob, threshold=0.9)
    assert strict["sensitivity"] < m["sensitivity"] and strict["threshold"] == 0.9
    none = stt.binary_metrics([0, 0], [0.1, 0.7], classes=("no_st", "in_st"))
    assert none["sensitivity"] is None and none["specificity"] == 0.5
    assert none["balanced_accuracy"] is None
    with pytest.raises(ValueError, match="shape"):
        stt.binary_metrics([1, 0], [0.5])


# --------------------------------------------------------------------------- records
def test_european_st_records_picks_excerpts_and_edb(tmp_path):
    _write_record(tmp_path / "qtdb", "sele0104", seconds=10)
    _write_record(tmp_path / "qtdb", "sele0999", seconds=10, comments=("Age: 50",))
    _write_record(tmp_path / "qtdb", "sel100", seconds=10,
                  comments=("Produced by xform from record 100",))
    assert stt.european_st_records("qtdb", root=tmp_path) == ["sele0104"]
    _write_record(tmp_path / "edb", "e0103", seconds=10, comments=())
    _write_record(tmp_path / "edb", "e0104", seconds=10, comments=())
    assert stt.european_st_records("edb", root=tmp_path) == ["e0103", "e0104"]
    with pytest.raises(ValueError, match="'database'"):
        stt.european_st_records("mitdb", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="No 'edb' recordings"):
        stt.european_st_records("edb", root=tmp_path / "nowhere")


def test_record_table_counts_beats_and_episode_marks(tmp_path):
    extra = [(5 * FS, "s", "(ST1+"), (6 * FS, "s", "AST1+100"), (9 * FS, "s", "ST1+)"),
             (3 * FS, "+", "(N"), (7 * FS, "~", "")]
    _write_record(tmp_path / "qtdb", "sele0104", seconds=12, extra=extra)
    table = stt.record_table(["sele0104"], "qtdb", root=tmp_path)
    row = table.loc["sele0104"]
    assert row["source"] == "e0104" and row["leads"] == "V4, MLIII" and row["fs (Hz)"] == FS
    assert row["minutes"] == 0.2 and row["beats"] == 11 and row["ST/T marks"] == 3


def test_edb_path_loads_beats_labels_and_episodes(tmp_path):
    """The full-database code path, on synthetic `edb` records with the same annotations."""
    n_beats = 79
    symbols = ["N"] * n_beats
    symbols[10], symbols[30], symbols[31], symbols[50] = "V", "S", "Q", "F"
    extra = [(20 * FS, "s", "(ST1+"), (30 * FS, "s", "AST1+200"), (50 * FS + 100, "s", "ST1+)"),
             (5 * FS, "+", "(N"), (60 * FS, "~", ""), (70 * FS + 10, "T", "(T2-")]
    peaks = _write_record(tmp_path / "edb", "e0103", seconds=80, symbols=symbols, extra=extra,
                          comments=(), st_mv=(20 * FS, 50 * FS + 100, 0.3))
    records = stt.european_st_records("edb", root=tmp_path)
    beats, table, info = stt.load_record_beats(records[0], "edb", root=tmp_path)
    assert beats.shape == (n_beats - 1, 50, 2) and beats.dtype == np.float32  # Q dropped
    assert table["symbol"].tolist().count("Q") == 0 and len(table) == n_beats - 1
    assert set(table["symbol"]) == {"N", "V", "S", "F"}
    assert (table["label"] == "abnormal").sum() == 3
    assert np.isin(table["sample"], peaks).all()          # only beats, no s/T/+/~ marks
    in_st = (table["sample"] >= 20 * FS) & (table["sample"] <= 50 * FS + 100)
    assert (table["in_st"] == in_st).all()
    assert (table["in_t"] == (table["sample"] >= 70 * FS + 10)).all()
    ep = info["episodes"]
    assert ep[["kind", "lead", "start", "end"]].values.tolist() == [
        ["ST", 0, 20 * FS, 50 * FS + 100], ["T", 1, 70 * FS + 10, 80 * FS - 1]]
    # the raised ST segment shows in the ST feature of lead 1, not of lead 2
    change = table.groupby("in_st")[["st_change1", "st_change2"]].median()
    assert change.loc[True, "st_change1"] > 0.2 > abs(change.loc[True, "st_change2"])
    assert list(table.columns[7:]) == list(stt.ST_FEATURES)
    assert np.isfinite(table[list(stt.ST_FEATURES)].to_numpy()).all()


def test_load_record_beats_aligns_marks_before_r_to_r(tmp_path):
    """Marks 32 ms before R (as on sele0104) move to R: windows are centred on R and the
    ST level is measured from R; without alignment the ST window starts 32 ms early."""
    peaks = _write_record(tmp_path / "edb", "e0103", seconds=40, comments=(), mark_offset=-8,
                          st_mv=(0, 40 * FS, 0.3))
    beats, table, _ = stt.load_record_beats("e0103", "edb", root=tmp_path)
    assert (table["sample"] == peaks).all() and (table["mark"] == peaks - 8).all()
    assert (beats[:, :, 0].argmax(axis=1) == beats.shape[1] // 2).all()   # R in the centre
    raw, unaligned, _ = stt.load_record_beats("e0103", "edb", root=tmp_path, r_search_s=None)
    assert (unaligned["sample"] == peaks - 8).all()
    assert (raw[:, :, 0].argmax(axis=1) == beats.shape[1] // 2 + 8).all()
    # ST raised 60-180 ms after R: measured 100-120 ms after R it is all there
    assert table["st_level1"].median() == pytest.approx(0.3, abs=0.05)


def test_load_record_beats_bad_inputs(tmp_path):
    _write_record(tmp_path / "edb", "e0103", seconds=10, comments=())
    with pytest.raises(FileNotFoundError, match="e0999"):
        stt.load_record_beats("e0999", "edb", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="No 'qtdb' recordings"):
        stt.load_record_beats("sele0104", "qtdb", root=tmp_path)


def test_st_features_window_follows_fs():
    fs = 500
    peaks = np.arange(fs, 60 * fs, fs)
    x = np.zeros((61 * fs, 2))
    idx = (peaks[:, None] + np.arange(int(0.1 * fs), int(0.12 * fs))).ravel()
    x[idx, 1] = -0.15                                  # ST depression in lead 2
    f = stt.st_features(x, peaks, fs)
    assert f["st_level2"].round(3).eq(-0.15).all() and f["st_level1"].eq(0).all()
    assert np.allclose(f["rr_s"][1:], 1.0)


# --------------------------------------------------------------------------- real data
@REAL
def test_real_qtdb_excerpts_labels_and_episodes():
    records = stt.european_st_records("qtdb")
    assert len(records) == 33 and records[0] == "sele0104" and records[-1] == "sele0704"
    ann = eudata.load_annotations("sele0104", "qtdb")
    ep = stt.st_episodes(ann, sig_len=225000)
    st = ep[ep.kind == "ST"][["lead", "direction", "start", "end"]].values.tolist()
    assert st == [[0, "-", 158947, 176553], [1, "+", 139489, 183995]]
    _, table, _ = stt.load_record_beats("sele0114", "qtdb")
    assert (table.label == "abnormal").sum() == 124 and len(table) == 699


def test_notebook_refuses_an_unknown_database(tmp_path):
    """Parameter checks run before any data or training (no TensorFlow needed)."""
    papermill = Path(sys.executable).parent / "papermill"
    if not papermill.exists():
        pytest.skip("papermill is not installed")
    nb = ROOT / "notebooks" / "03_st_t_dense_rnn.ipynb"
    out = subprocess.run([str(papermill), "-k", "python3", str(nb), str(tmp_path / "o.ipynb"),
                          "-p", "database", "mimic", "-p", "results_dir", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT / "notebooks", timeout=300)
    assert out.returncode != 0
    assert "parameter 'database' must be one of ('qtdb', 'edb'), got 'mimic'" in out.stdout + out.stderr
    assert not (tmp_path / "03_st_t_dense_rnn.json").exists()
