"""Beat-window augmentations for what changes from one database to another (chapter 07).

A model trained on one database meets others recorded with other leads and electrode
places (amplitude, polarity and the shape of the waves change), at other sampling rates,
with other noise and baseline wander, and annotated by other habits (the beat mark a
little before or after R). Each function here draws one random change per beat, for a
batch of beat windows at once (no loop over beats).

Windows are ``(n, length, channels)`` arrays as :func:`ecgutils.interpatient.record_inputs`
makes them: channel 0 the beat, channel 1 (if any) the beat minus the record's usual
beat. :func:`augment_windows` applies the changes to the beat and to the usual beat
behind channel 1, so the two channels stay consistent: a lead change alters both, a
noise or a shift of the beat mark only the beat.
"""
from __future__ import annotations

import numpy as np

__all__ = ["augment_windows", "baseline_wander", "change_axis", "flip_polarity",
           "scale_amplitude", "shift_and_stretch", "white_noise"]


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def scale_amplitude(windows, rng=None, low: float = 0.6, high: float = 1.6) -> np.ndarray:
    """Each beat times a gain drawn log-uniformly in ``[low, high]`` (another lead, gain).

    Examples
    --------
    >>> w = np.ones((1000, 90, 1), "float32")
    >>> g = scale_amplitude(w, 0)[:, 0, 0]
    >>> bool(g.min() >= 0.6 and g.max() <= 1.6), bool(abs(np.log(g).mean()) < 0.05)
    (True, True)
    """
    windows = np.asarray(windows, np.float32)
    gain = np.exp(_rng(rng).uniform(np.log(low), np.log(high), (len(windows), 1, 1)))
    return (windows * gain).astype(np.float32)


def flip_polarity(windows, rng=None, p: float = 0.1) -> np.ndarray:
    """A share ``p`` of the beats turned upside down (a lead whose QRS points down).

    Examples
    --------
    >>> w = np.ones((1000, 90, 1), "float32")
    >>> round(float((flip_polarity(w, 0, p=0.2)[:, 0, 0] < 0).mean()), 1)
    0.2
    """
    windows = np.asarray(windows, np.float32)
    sign = np.where(_rng(rng).random((len(windows), 1, 1)) < p, -1.0, 1.0)
    return (windows * sign).astype(np.float32)


def change_axis(windows, rng=None, strength: float = 0.3, knots: int = 4) -> np.ndarray:
    """Each beat times a smooth random gain along the window (another electrical axis).

    Another lead sees the P wave, the QRS and the T wave of the same heart at other
    relative sizes. The gain is a random curve through ``knots`` points spread over the
    window (log-gain uniform in ``+-strength``), linearly interpolated.

    Examples
    --------
    >>> w = np.ones((500, 90, 1), "float32")
    >>> out = change_axis(w, 0)[..., 0]
    >>> bool(np.ptp(out, axis=1).mean() > 0.1), bool(np.all(np.abs(np.diff(out)) < 0.1))
    (True, True)
    """
    windows = np.asarray(windows, np.float32)
    n, length = windows.shape[:2]
    points = _rng(rng).uniform(-strength, strength, (n, knots))
    position = np.linspace(0, knots - 1, length)
    left = np.minimum(position.astype(int), knots - 2)
    frac = position - left
    log_gain = points[:, left] * (1 - frac) + points[:, left + 1] * frac
    return (windows * np.exp(log_gain)[:, :, None]).astype(np.float32)


def shift_and_stretch(windows, rng=None, max_shift: float = 3.0,
                      max_stretch: float = 0.1, centre: int | None = None) -> np.ndarray:
    """Each beat moved by up to ``max_shift`` samples and stretched in time by up to
    ``max_stretch`` (a share) around ``centre`` (R; default: the middle of the window).

    The shift is a beat mark placed a little off R, as another annotator or detector
    would; the stretch a recording at another sampling rate read as if it were at the
    model's, or another heart rate's shorter or longer waves. Linear interpolation; the
    window's edge values continue past its ends.

    Examples
    --------
    >>> t = np.arange(90.0)
    >>> w = np.exp(-((t - 32) / 3) ** 2)[None, :, None].repeat(200, 0).astype("float32")
    >>> peak = shift_and_stretch(w, 0, max_shift=3, max_stretch=0, centre=32)[..., 0].argmax(1)
    >>> int(peak.min()) >= 29, int(peak.max()) <= 35, len(set(peak.tolist())) > 3
    (True, True, True)
    """
    windows = np.asarray(windows, np.float32)
    n, length = windows.shape[:2]
    rng = _rng(rng)
    centre = length // 2 if centre is None else centre
    shift = rng.uniform(-max_shift, max_shift, (n, 1))
    stretch = np.exp(rng.uniform(-max_stretch, max_stretch, (n, 1)))
    source = np.clip(centre + (np.arange(length) - centre) / stretch - shift, 0, length - 1)
    left = np.minimum(source.astype(int), length - 2)
    frac = (source - left)[..., None]
    rows = np.arange(n)[:, None]
    out = windows[rows, left] * (1 - frac) + windows[rows, left + 1] * frac
    return out.astype(np.float32)


def white_noise(windows, rng=None, max_sd: float = 0.05) -> np.ndarray:
    """Gaussian noise, its standard deviation uniform in ``[0, max_sd]`` per beat (in units
    of the record's median QRS amplitude, as the windows are scaled).

    Examples
    --------
    >>> w = np.zeros((2000, 90, 1), "float32")
    >>> sd = white_noise(w, 0, max_sd=0.1).std(axis=(1, 2))
    >>> bool(0.04 < sd.mean() < 0.06), bool(sd.max() <= 0.12)
    (True, True)
    """
    windows = np.asarray(windows, np.float32)
    rng = _rng(rng)
    sd = rng.uniform(0, max_sd, (len(windows), 1, 1))
    return (windows + sd * rng.standard_normal(windows.shape)).astype(np.float32)


def baseline_wander(windows, rng=None, max_offset: float = 0.2,
                    max_slope: float = 0.3) -> np.ndarray:
    """An offset and a linear drift per beat: the slow baseline wander that the band-pass
    filter leaves over a 0.7-s window (``max_slope``: the largest change over the window).

    Examples
    --------
    >>> w = np.zeros((500, 90, 1), "float32")
    >>> out = baseline_wander(w, 0)[..., 0]
    >>> bool(np.allclose(np.diff(out, 2), 0, atol=1e-6)), bool(np.abs(out).max() <= 0.35)
    (True, True)
    """
    windows = np.asarray(windows, np.float32)
    n, length = windows.shape[:2]
    rng = _rng(rng)
    offset = rng.uniform(-max_offset, max_offset, (n, 1))
    slope = rng.uniform(-max_slope, max_slope, (n, 1))
    drift = offset + slope * (np.linspace(-0.5, 0.5, length))
    return (windows + drift[:, :, None]).astype(np.float32)


def augment_windows(windows, rng=None, centre: int | None = None, p_flip: float = 0.05,
                    amplitude=(0.6, 1.6), axis: float = 0.3, shift: float = 3.0,
                    stretch: float = 0.1, noise: float = 0.05, wander: float = 0.2) -> np.ndarray:
    """All the changes above, one random draw per beat, consistent across the channels.

    The usual beat behind channel 1 (``channel 0 - channel 1``) gets the lead changes of
    its beat (amplitude, polarity, axis, sampling rate); the beat alone gets the shift
    of its mark, the noise and the wander. Channel 1 is then the changed beat minus the
    changed usual beat. A strength of 0 (or ``amplitude=None``) leaves that change out.

    Parameters
    ----------
    windows : array, shape (n, length, channels)
        Channel 0 the beat; channel 1, if there, the beat minus the record's usual beat.
    rng : numpy Generator or int seed
    centre : int
        Index of R in the window (``round(spec.before_s * spec.fs)``).

    Returns
    -------
    ndarray, same shape, float32

    See Also
    --------
    ecgutils.interpatient.train_classifier : trains on freshly augmented windows every epoch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> beat = rng.normal(size=(50, 90, 1)).astype("float32")
    >>> usual = rng.normal(size=(1, 90, 1)).astype("float32")
    >>> w = np.concatenate([beat, beat - usual], axis=2)
    >>> out = augment_windows(w, 1, centre=32, noise=0, wander=0, shift=0)
    >>> # no change of the beat alone: channel 0 - channel 1 is the same usual beat changed
    >>> # as its beat was, so where the beat is the usual one, channel 1 stays zero
    >>> same = augment_windows(np.concatenate([usual, 0 * usual], 2).repeat(5, 0), 2,
    ...                        centre=32, noise=0, wander=0, shift=0)
    >>> out.shape, bool(np.allclose(same[..., 1], 0))
    ((50, 90, 2), True)
    """
    windows = np.asarray(windows, np.float32)
    rng = _rng(rng)
    channels = windows.shape[2]
    parts = [windows[..., :1]]
    if channels > 1:
        parts.append(windows[..., :1] - windows[..., 1:2])    # the usual beat
    for change in _lead_changes(p_flip, amplitude, axis, stretch, centre):
        seed = int(rng.integers(2 ** 32))                      # the same draws for both
        parts = [change(part, np.random.default_rng(seed)) for part in parts]
    beat = parts[0]
    if shift:
        beat = shift_and_stretch(beat, rng, max_shift=shift, max_stretch=0, centre=centre)
    if noise:
        beat = white_noise(beat, rng, noise)
    if wander:
        beat = baseline_wander(beat, rng, wander, 1.5 * wander)
    out = [beat, beat - parts[1]] if channels > 1 else [beat]
    return np.concatenate(out, axis=2).astype(np.float32)


def _lead_changes(p_flip, amplitude, axis, stretch, centre):
    """The changes that a beat and its usual beat share (those of the lead and the rate)."""
    changes = []
    if p_flip:
        changes.append(lambda w, r: flip_polarity(w, r, p_flip))
    if amplitude:
        changes.append(lambda w, r: scale_amplitude(w, r, *amplitude))
    if axis:
        changes.append(lambda w, r: change_axis(w, r, axis))
    if stretch:
        changes.append(lambda w, r: shift_and_stretch(w, r, 0, stretch, centre))
    return changes
