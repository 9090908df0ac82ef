"""Each augmentation of ecgutils.augment changes what it should, and only that."""
import numpy as np

from ecgutils import augment as au

CENTRE, LENGTH = 32, 90


def beats(n=400, seed=0):
    """Synthetic beats: a P wave, a narrow QRS at CENTRE, a T wave; and a usual beat."""
    t = np.arange(LENGTH, dtype=float)
    wave = lambda at, width, height: height * np.exp(-((t - at) / width) ** 2)
    usual = wave(CENTRE - 20, 3, 0.15) + wave(CENTRE, 2, 1.0) + wave(CENTRE + 35, 6, 0.3)
    rng = np.random.default_rng(seed)
    beat = usual[None] * rng.uniform(0.9, 1.1, (n, 1))
    return np.stack([beat, beat - usual[None]], axis=2).astype(np.float32), usual


def test_amplitude_scales_every_sample_of_a_beat_by_one_gain():
    w, _ = beats()
    out = au.scale_amplitude(w, 0, 0.5, 2.0)
    gain = out[:, CENTRE, 0] / w[:, CENTRE, 0]
    assert np.allclose(out, w * gain[:, None, None], rtol=1e-5)
    assert gain.min() >= 0.5 and gain.max() <= 2.0 and np.ptp(gain) > 0.8


def test_polarity_flips_a_share_of_the_beats_and_keeps_the_rest():
    w, _ = beats(2000)
    out = au.flip_polarity(w, 0, p=0.3)
    flipped = out[:, CENTRE, 0] < 0
    assert 0.25 < flipped.mean() < 0.35
    assert np.allclose(out[flipped], -w[flipped]) and np.allclose(out[~flipped], w[~flipped])


def test_axis_change_resizes_the_waves_differently_but_keeps_their_places():
    w, _ = beats()
    out = au.change_axis(w, 0, strength=0.4)
    p_ratio = out[:, CENTRE - 20, 0] / w[:, CENTRE - 20, 0]
    t_ratio = out[:, CENTRE + 35, 0] / w[:, CENTRE + 35, 0]
    assert np.std(np.log(p_ratio / t_ratio)) > 0.1          # not one gain for the whole beat
    assert (out[:, :, 0].argmax(axis=1) == CENTRE).all()     # R stays where it was
    assert np.exp(-0.4) - 1e-6 <= p_ratio.min() and p_ratio.max() <= np.exp(0.4) + 1e-6


def test_shift_moves_r_and_stretch_widens_or_narrows_the_beat():
    w, _ = beats()
    shifted = au.shift_and_stretch(w, 0, max_shift=4, max_stretch=0, centre=CENTRE)
    r = shifted[:, :, 0].argmax(axis=1)
    assert np.abs(r - CENTRE).max() <= 4 and len(np.unique(r)) >= 7
    stretched = au.shift_and_stretch(w, 0, max_shift=0, max_stretch=0.2, centre=CENTRE)
    assert (stretched[:, :, 0].argmax(axis=1) == CENTRE).all()   # around R: R stays
    # the T wave moves away from R when the beat is stretched, closer when narrowed
    t_peak = stretched[:, CENTRE + 15:, 0].argmax(axis=1) + CENTRE + 15
    assert t_peak.min() < CENTRE + 35 < t_peak.max()


def test_noise_and_wander_add_what_they_say():
    w = np.zeros((3000, LENGTH, 1), np.float32)
    noise = au.white_noise(w, 0, max_sd=0.1)
    sd = noise.std(axis=(1, 2))
    assert 0.045 < sd.mean() < 0.055 and sd.max() < 0.12
    assert abs(np.corrcoef(noise[:, :-1, 0].ravel(), noise[:, 1:, 0].ravel())[0, 1]) < 0.05
    wander = au.baseline_wander(w, 0, max_offset=0.2, max_slope=0.3)[:, :, 0]
    assert np.allclose(np.diff(wander, 2), 0, atol=1e-6)    # a straight line per beat
    assert np.abs(wander.mean(axis=1)).max() <= 0.2 + 1e-6
    assert np.abs(wander[:, -1] - wander[:, 0]).max() <= 0.3 + 1e-6


def test_augment_windows_keeps_the_template_channel_consistent():
    w, usual = beats()
    # lead changes only: the usual beat behind channel 1 changes as its beat does, so a
    # beat equal to its usual beat still has a zero second channel
    same = np.stack([np.tile(usual, (50, 1)), np.zeros((50, LENGTH))], 2).astype(np.float32)
    out = au.augment_windows(same, 0, centre=CENTRE, shift=0, noise=0, wander=0)
    assert np.abs(out[..., 0] - same[..., 0]).max() > 0.1 and np.allclose(out[..., 1], 0, atol=1e-6)
    # beat-only changes: channel 0 - channel 1 (the usual beat) is left as it was
    out = au.augment_windows(w, 0, centre=CENTRE, p_flip=0, amplitude=None, axis=0,
                             stretch=0)
    assert np.allclose(out[..., 0] - out[..., 1], usual[None], atol=1e-5)
    assert not np.allclose(out[..., 0], w[..., 0])
    # the same seed gives the same windows; one channel works too
    a = au.augment_windows(w, 3, centre=CENTRE)
    assert np.array_equal(a, au.augment_windows(w, 3, centre=CENTRE)) and a.dtype == np.float32
    assert au.augment_windows(w[..., :1], 3, centre=CENTRE).shape == (len(w), LENGTH, 1)


def test_no_change_when_every_strength_is_zero():
    w, _ = beats()
    off = dict(p_flip=0, amplitude=None, axis=0, stretch=0, shift=0, noise=0, wander=0)
    assert np.allclose(au.augment_windows(w, 0, centre=CENTRE, **off), w, atol=1e-6)
