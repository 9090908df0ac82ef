"""EC57 scoring against hand counts and against the rules of WFDB's bxb.c, rxr.c and
sumstats.c (github.com/bemoody/wfdb, app/): learning period, fusion as V, FPR,
record-average statistics, run statistics, bootstrap intervals, the escape-beat rule."""
import warnings

import numpy as np
import pytest

import ecgutils as eu
from ecgutils import ec57

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb


# ----------------------------------------------------------------- learning period
def test_learning_mask_leaves_out_the_first_five_minutes():
    fs = 360
    samples = np.array([0, 300 * fs - 1, 300 * fs, 1800 * fs])
    assert ec57.learning_mask(samples, fs).tolist() == [False, False, True, True]
    assert ec57.learning_mask(samples, fs, learning_s=0).all()
    with pytest.raises(ValueError, match="learning_s"):
        ec57.learning_mask(samples, fs, learning_s=-1)


def test_match_annotations_drops_the_learning_period_as_bxb_does():
    fs, start = 100, 300 * 100
    # reference beats: two in the learning period, two after; test: one extra in the
    # learning period, one detection 10 samples before the start matching the first
    # reference beat after it (bxb pairs them), one extra after the start
    ref_s = [1000, start - 500, start + 5, start + 400]
    ref_l = ["S", "V", "N", "S"]
    test_s = [1000, 2000, start - 500, start - 5, start + 200, start + 400]
    test_l = ["N", "V", "V", "N", "S", "S"]
    ref, pred = ec57.match_annotations(ref_s, ref_l, test_s, test_l, fs)
    assert (ref, pred) == (["N", "S", "-"], ["N", "S", "S"])
    ref, pred = ec57.match_annotations(ref_s, ref_l, test_s, test_l, fs, learning_s=0)
    assert len(ref) == 6 and ref.count("-") == 2  # everything, both extras included


def test_report_scores_nothing_in_the_learning_period():
    fs = 10
    samples = np.arange(0, 600 * fs, 8)  # 600 s, a beat every 0.8 s
    ref = np.where(np.arange(samples.size) % 10 == 3, "S", "N")
    pred = ref.copy()
    early = samples < 300 * fs
    pred[early & (ref == "S")] = "N"  # every S beat of the first 5 minutes is missed
    report = ec57.ec57_report(ref, pred, ["r"] * ref.size, samples, fs, n_boot=20)
    assert report["beats_in_learning_period"] == int(early.sum())
    assert report["beats_scored"] == int((~early).sum())
    assert report["gross"]["S se"] == 1.0
    everything = ec57.ec57_report(ref, pred, ["r"] * ref.size, samples, fs, learning_s=0,
                                  n_boot=20)
    assert everything["gross"]["S se"] == pytest.approx(0.5, abs=0.01)


# ----------------------------------------------------------------- fusion as V, FPR
def test_fusion_called_v_is_no_v_false_positive_as_in_bxb():
    # reference: N N N N S S V V F F Q -    ("-": an extra detection)
    # predicted: N N V S S V V N V S V V
    ref = list("NNNNSSVVFFQ-")
    pred = list("NNVSSVVNVSVV")
    g = ec57.gross_statistics(ref, pred)
    # bxb.c: VFP = Nv + Sv + Ov + Xv -> N->V, S->V, extra->V = 3 (F->V and Q->V are not)
    assert (g["V"]["tp"], g["V"]["fn"], g["V"]["fp"]) == (1, 1, 3)
    # VTN = beats of other reference classes (Q and extras too) not called V, not missed:
    # N->N, N->N, N->S, S->S, F->S = 5; FPR = 3 / (3 + 5)
    assert g["V"]["fpr"] == pytest.approx(3 / 8)
    # bxb.c: SFP = Ns + Vs + Fs + Os + Xs -> N->S and F->S = 2 (a fusion called S counts)
    assert (g["S"]["tp"], g["S"]["fn"], g["S"]["fp"]) == (1, 1, 2)
    # STN = N->N, N->N, N->V, V->V, V->N, F->V, Q->V, extra->V = 8
    assert g["S"]["fpr"] == pytest.approx(2 / 10)
    strict = ec57.gross_statistics(ref, pred, fusion="strict")
    assert strict["V"]["fp"] == 4 and strict["fusion_rule"] == "strict"
    assert g["fusion_as_v"] == 1 and g["fusion_rule"] == "ec57"
    with pytest.raises(ValueError, match="fusion"):
        ec57.gross_statistics(ref, pred, fusion="lenient")


def test_unknown_labels_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"predicted holds labels outside .*\['A'\]"):
        ec57.gross_statistics(["N"], ["A"])


# ----------------------------------------------------------------- record average
def test_record_average_is_the_mean_over_records_where_defined():
    records = ["a"] * 4 + ["b"] * 6 + ["c"] * 3
    ref = list("NSSV") + list("NSSSSV") + list("NNV")
    pred = list("NSSV") + list("NSNNNN") + list("NSV")
    avg = ec57.record_average(ref, pred, records)
    # S Se: a 2/2, b 1/4, c undefined (no S beat) -> (1 + 0.25) / 2
    assert avg["S"]["se"] == pytest.approx(0.625) and avg["S"]["records_se"] == 2
    # S +P: a 2/2, b 1/1, c 0/1 -> 2 / 3
    assert avg["S"]["ppv"] == pytest.approx(0.6667, abs=1e-4) and avg["S"]["records_ppv"] == 3
    # V Se: a 1, b 0, c 1
    assert avg["V"]["se"] == pytest.approx(0.6667, abs=1e-4)
    # V +P: b never labels V: its +P is undefined and left out
    assert avg["V"]["ppv"] == 1.0 and avg["V"]["records_ppv"] == 2
    gross = ec57.gross_statistics(ref, pred)
    assert gross["S"]["se"] == pytest.approx(3 / 6, abs=1e-4)  # pooled: 3 of 6


# ----------------------------------------------------------------- runs
def _beats(labels, rr=80):
    return np.arange(len(labels)) * rr, np.array(list(labels))


def test_run_counts_on_a_synthetic_record_with_known_couplets_and_runs():
    #            0         1         2         3
    #            0123456789012345678901234567890123456
    ref_l = list("NVVNNVVVNNVFVVVVVNNSSNNSSSNNVNNSSNNNN")
    test_l = list("NVVNNVVNNNVVVVVNVNNSSNNSSSSNVNNNNNNSS")
    # reference V-type runs (F extends them, as in rxr): couplet 1-2, short 5-7,
    # long 10-16 (7 beats, F at 11); isolated V at 28.
    # reference S runs: couplet 19-20, short 23-25, couplet 31-32.
    # test V runs: couplet 1-2, couplet 5-6, short 10-14, isolated 16 and 28.
    # test S runs: couplet 19-20, short 23-26, couplet 35-36.
    samples, ref = _beats(ref_l)
    _, test = _beats(test_l)
    c = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=0)
    # V couplet: reference 1-2 found by the test couplet; the test couplets 1-2 and 5-6
    # both lie in reference runs of 2 or more beats -> both true
    assert [c[f"V couplet {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [1, 0, 2, 0]
    # V short: reference 5-7 meets only the test couplet 5-6 -> missed; the test short run
    # 10-14 lies in the reference long run -> true
    assert [c[f"V short {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [0, 1, 1, 0]
    # V long: reference 10-16 meets at most 5 test V beats in a row -> missed; no test
    # long run
    assert [c[f"V long {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [0, 1, 0, 0]
    # V run (3 or more): reference 5-7 missed, 10-16 found; test 10-14 true
    assert [c[f"V run {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [1, 1, 1, 0]
    # S couplet: reference 19-20 found, 31-32 missed; test 19-20 true, 35-36 false
    assert [c[f"S couplet {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [1, 1, 1, 1]
    # S short: reference 23-25 found (test 23-26 has 3 beats inside its window); the test
    # run 23-26 has the reference run of 3 in its window -> true
    assert [c[f"S short {k}"] for k in ("TPs", "FN", "TPp", "FP")] == [1, 0, 1, 0]
    # the same record with its first 10 beats in a learning period: the V couplet 1-2 and
    # the short run 5-7 are no longer scored on either side
    late = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=8.0)
    assert late["V couplet TPs"] + late["V couplet FN"] == 0
    assert late["V short FN"] == 0 and late["V long FN"] == 1


def test_n_beats_in_atrial_fibrillation_make_s_runs_as_in_rxr():
    # beats 3-10 in atrial fibrillation: 8 N beats, a V beat at 7 breaks them up
    samples, ref = _beats("NNNNNNNVNNNNNN")
    af = np.zeros(ref.size, bool)
    af[3:11] = True
    _, test = _beats("NNNNNNNVNSSNNN")  # the test calls two beats in the episode S
    plain = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=0)
    assert plain["S short FN"] == 0 and plain["S couplet FP"] == 1  # no S in the reference
    c = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=0, ref_af=af)
    # reference S runs: 3-6 (4 beats, a short run) and 8-10 (3 beats), both missed
    assert (c["S short TPs"], c["S short FN"]) == (0, 2)
    # the test couplet 9-10 lies in the reference run 8-10: true
    assert (c["S couplet TPp"], c["S couplet FP"]) == (1, 0)
    # V runs do not change
    assert all(c[k] == plain[k] for k in c if k.startswith("V"))
    with pytest.raises(ValueError, match="ref_af"):
        ec57.run_counts(samples, ref, samples, test, fs=100, ref_af=af[:3])


def test_a_run_longer_than_the_window_counts_only_its_beats_inside():
    # the test labels a run of 8 V beats; the reference has a couplet at its end: in the
    # couplet's window (150 ms either side, beats every 100 ms at 100 Hz) lie 3 test V
    # beats (one before, the couplet's two), so the couplet is found
    samples, ref = _beats("NNNNNNNVVNN", rr=10)
    _, test = _beats("NVVVVVVVVNN", rr=10)
    c = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=0)
    assert (c["V couplet TPs"], c["V couplet FN"]) == (1, 0)
    # the test long run holds at most 2 reference V beats in a row: a false long run
    assert (c["V long TPp"], c["V long FP"]) == (0, 1)


def test_longest_run_in_windows_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    times = np.sort(rng.choice(5000, 400, replace=False))
    in_run = rng.random(400) < 0.6
    t0 = rng.integers(-100, 5000, 300)
    t1 = t0 + rng.integers(0, 400, 300)
    got = ec57._longest_in_windows(times, in_run, t0, t1)
    for k in range(t0.size):
        inside = in_run[(times >= t0[k]) & (times <= t1[k])]
        best = run = 0
        for x in inside:
            run = run + 1 if x else 0
            best = max(best, run)
        assert got[k] == best, k


def test_run_statistics_pool_and_average_records():
    samples, ref = _beats("NVVNNNVVNN")
    _, test = _beats("NVVNNNNNNN")
    a = ec57.run_counts(samples, ref, samples, test, fs=100, learning_s=0)
    b = ec57.run_counts(samples[:5], ref[:5], samples[:5], ref[:5], fs=100, learning_s=0)
    table = ec57.run_statistics([a, b])
    # couplets: record a finds 1 of 2, record b 1 of 1 -> gross 2/3, average (0.5 + 1) / 2
    assert table.loc["V couplet", "reference"] == 3
    assert table.loc["V couplet", "Se"] == pytest.approx(0.6667, abs=1e-4)
    assert table.loc["V couplet", "Se avg"] == pytest.approx(0.75)
    assert table.loc["V couplet", "+P"] == 1.0
    assert np.isnan(table.loc["S couplet", "Se"])


# ----------------------------------------------------------------- bootstrap
def _records(n, rng):
    ref, pred, rec = [], [], []
    for r in range(n):
        k = 200
        labels = rng.choice(list("NSV"), k, p=[0.8, 0.1, 0.1])
        wrong = rng.random(k) < rng.uniform(0.05, 0.4)
        guess = np.where(wrong, rng.choice(list("NSV"), k), labels)
        ref += labels.tolist()
        pred += guess.tolist()
        rec += [f"r{r}"] * k
    return np.array(ref), np.array(pred), np.array(rec)


def test_bootstrap_is_deterministic_covers_the_estimate_and_narrows_with_more_records():
    rng = np.random.default_rng(0)
    ref, pred, rec = _records(40, rng)
    ci = ec57.bootstrap_gross(ref, pred, rec, n_boot=500, seed=7)
    same = ec57.json_ready  # NaN (no seed noise with one labelling) as None, comparable
    assert same(ci) == same(ec57.bootstrap_gross(ref, pred, rec, n_boot=500, seed=7))
    assert same(ci) != same(ec57.bootstrap_gross(ref, pred, rec, n_boot=500, seed=8))
    gross = ec57.gross_statistics(ref, pred)
    for name in ("S se", "S ppv", "V se", "V ppv", "S fpr"):
        cls, key = name.split()
        assert ci[name]["estimate"] == pytest.approx(gross[cls][key], abs=1e-4)
        assert ci[name]["low"] <= ci[name]["estimate"] <= ci[name]["high"]
        assert np.isnan(ci[name]["seed_sd"])  # one labelling: no seed noise to tell
    few = ec57.bootstrap_gross(*(x[np.isin(rec, [f"r{r}" for r in range(5)])]
                                 for x in (ref, pred, rec)), n_boot=500, seed=7)
    for name in ("S se", "V se", "accuracy"):
        assert few[name]["high"] - few[name]["low"] > ci[name]["high"] - ci[name]["low"]


def test_bootstrap_separates_seed_noise_from_the_choice_of_records():
    rng = np.random.default_rng(1)
    ref, pred, rec = _records(20, rng)
    other = pred.copy()
    flip = rng.random(pred.size) < 0.1
    other[flip] = "N"  # a second "seed" that misses some beats the first finds
    ci = ec57.bootstrap_gross(ref, [pred, other], rec, n_boot=300, seed=0)
    one = [ec57.gross_statistics(ref, p)["S"]["se"] for p in (pred, other)]
    assert ci["S se"]["estimate"] == pytest.approx(np.mean(one), abs=1e-4)
    assert ci["S se"]["seed_sd"] == pytest.approx(np.std(one, ddof=1), abs=1e-4)
    assert ci["S se"]["record_sd"] > 0 and ci["S se"]["undefined"] == 0


def test_resample_weights_draw_every_record_set_of_the_right_size():
    w = ec57._resample_weights(7, 1000, np.random.default_rng(0))
    assert w.shape == (1000, 7) and (w.sum(axis=1) == 7).all()
    assert w.mean() == pytest.approx(1.0, abs=0.05)


# ----------------------------------------------------------------- escape beats
def test_escape_beats_are_n_everywhere(tmp_path):
    assert eu.data.aami_class(["e", "j", "n", "E"]).tolist() == ["N", "N", "N", "V"]
    # through the scoring command's path: a reference of escape beats, a test of N beats
    fs, samples = 100, np.arange(50, 60 * 100, 80)
    symbols = np.array(["e", "j", "n", "N"])[np.arange(samples.size) % 4]
    wfdb.wrsamp("900", fs=fs, units=["mV"], sig_name=["MLII"], p_signal=np.zeros((6000, 1)),
                fmt=["16"], adc_gain=[200], baseline=[0], write_dir=str(tmp_path))
    wfdb.wrann("900", "atr", sample=samples, symbol=symbols.tolist(), write_dir=str(tmp_path))
    wfdb.wrann("900", "cls", sample=samples, symbol=["N"] * samples.size,
               write_dir=str(tmp_path))
    stats, _ = eu.annotate.score_records([tmp_path / "900"], test="cls", learning_s=0)
    assert stats["N"]["se"] == 1.0 and stats["S"]["fp"] == 0 and stats["n_beats"] == samples.size
