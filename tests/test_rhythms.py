"""Synthetic rhythms (ecgutils.rhythms) and the usual beat along a record
(ecgutils.interpatient.local_templates): known answers on drawn data."""
import numpy as np
import pytest

from ecgutils import interpatient as ip
from ecgutils.beats import Beats
from ecgutils.rhythms import simulate_rhythm
from ecgutils.rr import RR_FEATURES, rr_features


def test_sinus_rhythm_with_s_runs_is_early_against_the_sinus_beats_and_resets_after():
    pre, labels = simulate_rhythm(4000, rng=1, kind="sinus", s_share=(0.3, 0.3),
                                  run_length=(3, 3), prematurity=(0.6, 0.6), v_share=(0, 0))
    s = labels == "S"
    assert 0.2 < s.mean() < 0.4
    sinus = np.median(pre[labels == "N"])
    assert np.all(pre[s] < 0.75 * sinus)
    after = np.flatnonzero(~s[1:] & s[:-1]) + 1             # first beat after a run
    assert np.median(pre[after]) > 0.95 * sinus             # the pause after the run
    lengths = np.diff(np.flatnonzero(np.diff(np.r_[0, s.astype(int), 0])))[::2]
    assert 2 < lengths.mean() < 4                           # runs of about three


def test_a_premature_majority_like_mitbih_232_is_drawn_and_labelled_s():
    pre, labels = simulate_rhythm(3000, rng=2, kind="sinus", s_share=(0.75, 0.75),
                                  run_length=(5, 5), v_share=(0, 0))
    assert (labels == "S").mean() > 0.6
    f = rr_features(np.round(np.cumsum(pre) * 1000).astype(int), 1000.0)
    pre_to_long = f[:, RR_FEATURES.index("pre_to_long")]
    # the long reference stays on the sinus beats though most beats are early
    assert np.median(pre_to_long[labels == "S"]) < 0.8 < np.median(pre_to_long[labels == "N"])


def test_atrial_fibrillation_is_irregular_and_all_n_or_v():
    pre, labels = simulate_rhythm(2000, rng=3, kind="af", v_share=(0, 0))
    assert set(labels) == {"N"}
    change = np.abs(np.diff(np.log(pre)))
    assert np.median(change) > 0.1                          # every interval differs


def test_v_beats_are_early_with_a_full_compensatory_pause_and_never_in_pairs():
    pre, labels = simulate_rhythm(3000, rng=4, kind="sinus", s_share=(0, 0),
                                  v_share=(0.05, 0.05), arrhythmia=0.0)
    v = np.flatnonzero(labels == "V")
    assert v.size > 50 and np.all(np.diff(v) > 1)
    # early, and the pause makes up for it: the two intervals span two sinus intervals
    assert np.all(pre[v] < pre[v - 1])
    alone = v[labels[v - 2] != "V"]           # the interval before is a sinus one, no pause
    assert np.allclose(pre[alone] + pre[alone + 1], 2 * pre[alone - 1], rtol=0.12)  # 3 % jitter each


def test_simulate_rhythm_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be"):
        simulate_rhythm(100, rng=0, kind="flutter")


def test_local_templates_follow_a_drifting_beat_and_skip_early_ones():
    n, length = 1200, 20
    drift = np.linspace(0, 1, n)[:, None] * np.ones(length)   # the beat's level drifts
    windows = drift[:, :, None].astype(np.float32)
    early = np.zeros(n, bool)
    early[::5] = True
    windows[early] += 5.0                                     # premature beats look different
    local = ip.local_templates(windows, ~early)
    whole = np.median(windows[~early], axis=0)
    err_local = np.abs(windows[~early] - local[~early]).mean()
    err_whole = np.abs(windows[~early] - whole).mean()
    assert err_local < 0.1 < err_whole
    assert np.all(local < 2)                                  # early beats left out


def test_synthetic_beats_use_only_the_given_records_and_the_spec_columns():
    spec = ip.BeatSpec(template_beats="local")
    rng = np.random.default_rng(0)
    n = 600
    w = rng.normal(size=(n, spec.window_length, 2)).astype("float32")
    labels = np.array(list("NNNNNNNNSV") * (n // 10))
    real = Beats(np.repeat(["101", "106"], n // 2), np.arange(n), labels, windows=w,
                 rr=np.zeros((n, len(spec.feature_names)), "float32"))
    fake = ip.synthetic_beats(real, spec, n_records=4, n_beats=300, rng=1)
    assert fake.windows.shape[1:] == (spec.window_length, 2)
    assert fake.rr.shape == (len(fake), len(spec.feature_names))
    assert set(fake.label) <= {"N", "S", "V"} and (fake.label == "S").any()
    # every window is one of the training records' beats (channel 0)
    assert np.isin(fake.windows[:, 0, 0], real.windows[:, 0, 0]).all()
