"""ecgutils.rr.local_rhythm on synthetic rhythms with known answers."""
import numpy as np
import pytest

from ecgutils.rr import LOCAL_RHYTHM_FEATURES, RR_FEATURES, local_rhythm, rr_features

COLUMN = {name: i for i, name in enumerate(LOCAL_RHYTHM_FEATURES)}


def column(f, name):
    return f[:, COLUMN[name]]


def runs(f, name):
    return np.round(2 ** column(f, name) - 1).astype(int)


def test_steady_rhythm_is_on_time_everywhere():
    f = local_rhythm(np.full(200, 0.8))
    for name in ("pre_local", "post_local", "post_to_pre", "pre_to_prev", "pre_to_long",
                 "pre_to_run_start"):
        assert np.allclose(column(f, name), 1.0), name
    assert (runs(f, "early_run") == 0).all() and (runs(f, "fast_run") == 0).all()


def test_isolated_premature_beats_are_early_then_followed_by_a_pause():
    pre = np.ones(300)
    premature = np.arange(20, 300, 40)
    pre[premature], pre[premature + 1] = 0.6, 1.4       # compensatory pause
    f = local_rhythm(pre)
    assert np.allclose(column(f, "pre_local")[premature], 0.6)
    assert np.allclose(column(f, "pre_to_long")[premature], 0.6)
    assert np.allclose(column(f, "post_to_pre")[premature], 1.4 / 0.6)
    assert (runs(f, "early_run")[premature] == 1).all()
    assert (runs(f, "fast_run")[premature] == 1).all()
    # the beat after the pause and the ones after it are not early
    others = np.setdiff1d(np.arange(300), premature)
    assert (runs(f, "early_run")[others] == 0).all()
    assert (column(f, "pre_local")[others] >= 1.0).all()


def test_a_run_of_premature_beats_counts_up_and_stays_early_against_the_rhythm_before():
    pre = np.r_[np.ones(50), np.full(6, 0.55), 1.5, np.ones(50)]
    f = local_rhythm(pre)
    run = np.arange(50, 56)
    assert runs(f, "early_run")[run].tolist() == [1, 2, 3, 4, 5, 6]
    assert runs(f, "fast_run")[run].tolist() == [1, 2, 3, 4, 5, 6]
    # the first is early against the previous beat, the others as fast as each other ...
    assert column(f, "pre_to_prev")[50] == pytest.approx(0.55)
    assert np.allclose(column(f, "pre_to_prev")[51:56], 1.0)
    # ... and every one of them early against the interval before the run
    assert np.allclose(column(f, "pre_to_run_start")[run], 0.55)
    assert runs(f, "early_run")[56] == 0 and column(f, "post_to_pre")[55] > 2


def test_premature_majority_with_pauses_stays_early_against_the_long_intervals():
    # runs of four early beats, each followed by one on-time beat after a pause: the
    # median is the premature rhythm's, the long reference (90th percentile) is not
    pre = np.tile(np.r_[np.full(4, 0.6), 1.6], 50)
    f = local_rhythm(pre)[18:-18]           # away from the ends
    early = pre[18:-18] == 0.6
    assert np.allclose(column(f, "pre_local")[early], 1.0)    # the median is fooled
    assert (column(f, "pre_to_long")[early] < 0.85).all()      # the long reference is not
    assert (runs(f, "early_run")[early] >= 1).all()
    assert (runs(f, "early_run")[~early] == 0).all()
    assert (runs(f, "fast_run")[early] == 0).all()


def test_atrial_fibrillation_gives_short_runs_and_changing_intervals():
    rng = np.random.default_rng(0)
    fibrillation = rng.uniform(0.4, 1.2, 2000)
    premature = np.ones(2000)
    premature[np.arange(10, 2000, 10)] = 0.6
    f_af, f_pac = local_rhythm(fibrillation), local_rhythm(premature)
    # every AF interval differs from the one before; premature beats in a steady rhythm
    # change only at and just after each premature beat
    change = lambda f: np.mean(np.abs(np.log(column(f, "pre_to_prev"))) > 0.1)
    assert change(f_af) > 0.7 and change(f_pac) < 0.25
    # runs of early intervals are short in AF (uniform intervals: rarely many in a row)
    assert np.percentile(runs(f_af, "early_run"), 99) <= 4
    # ratios: any unit gives the same numbers
    assert np.allclose(local_rhythm(fibrillation * 360), f_af, atol=1e-5)


def test_rr_features_carry_the_local_rhythm_columns():
    t = np.cumsum(np.r_[0, np.ones(40), 0.6, 1.4, np.ones(40)])
    f = rr_features((t * 250).astype(int), 250)
    assert f.shape[1] == len(RR_FEATURES)
    local = f[:, [RR_FEATURES.index(n) for n in LOCAL_RHYTHM_FEATURES]]
    pre = np.r_[1.0, np.diff(t)]
    assert np.allclose(local, local_rhythm(pre), atol=1e-5)


@pytest.mark.parametrize("bad", [np.ones((3, 2)), np.array([1.0]), np.array([1.0, 0.0, 1.0])])
def test_local_rhythm_refuses_bad_intervals(bad):
    with pytest.raises(ValueError, match="local_rhythm"):
        local_rhythm(bad)


def test_regular_premature_flags_an_early_beat_in_a_steady_rhythm_only():
    from ecgutils.rr import regular_premature

    steady = np.ones(80)
    assert not regular_premature(steady).any()
    one = steady.copy()
    one[40], one[41] = 0.75, 1.25         # early, then the pause that resets the sinus node
    assert np.flatnonzero(regular_premature(one)).tolist() == [40]
    # as early, but the next interval no longer: not the premature beat's signature
    assert not regular_premature(np.r_[np.ones(40), 0.75, 0.75, np.ones(40)])[40]
    # moderately early (0.9 of the rhythm) is not early; "early" sets the bar
    mild = steady.copy()
    mild[40], mild[41] = 0.9, 1.1
    assert not regular_premature(mild).any()
    assert regular_premature(mild, early=0.95)[40]


def test_regular_premature_flags_the_last_beat_of_a_run_and_no_fibrillation():
    from ecgutils.rr import regular_premature

    run = np.r_[np.ones(40), 0.6, 0.6, 0.6, 0.6, 1.4, np.ones(40)]
    # inside the run each interval is as long as the next: only the last beat, before
    # the pause, has the isolated premature beat's signature (the network reads runs)
    assert np.flatnonzero(regular_premature(run)).tolist() == [43]
    fibrillation = np.random.default_rng(1).uniform(0.45, 1.1, 400)
    assert regular_premature(fibrillation)[15:-15].sum() == 0
    # the regular-rhythm condition is what keeps fibrillation out
    assert regular_premature(fibrillation, regular=np.inf)[15:-15].sum() > 50
    # slow breathing-driven sinus arrhythmia (+-10 %): no beat early against its neighbours
    sinus = 1 + 0.1 * np.sin(np.arange(400) * 2 * np.pi / 12)
    assert not regular_premature(sinus).any()
