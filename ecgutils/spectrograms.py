"""Beat spectrograms: chapter 04's 2-s windows and chapter 05's Kaggle-format beats.

Chapter 04's pipeline, one record at a time and vectorised over the beats of a record
(no Python loop per beat)::

    band-pass -> detect R peaks -> label each detection by the reference beat within
    150 ms -> 2-s window centred on R -> z-score -> STFT magnitude (dB, < 45 Hz) -> image
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import signal as sps

from . import data as _data
from . import signal as _signal
from .kaggle_beats import FS_KAGGLE

__all__ = ["beat_spectrograms", "beats_to_spectrograms", "build_spectrogram_dataset",
           "check_experiment", "extract_record_beats", "resize_images"]


# --------------------------------------------------------------------------- checks


# --------------------------------------------------------------------------- labels


# --------------------------------------------------------------------------- images
def _interp_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of linear interpolation weights (align corners)."""
    pos = np.linspace(0, n_in - 1, n_out)
    lo = np.clip(np.floor(pos).astype(int), 0, max(n_in - 2, 0))
    frac = pos - lo
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] = 1 - frac
    if n_in > 1:
        m[np.arange(n_out), lo + 1] += frac
    return m


def resize_images(images, size) -> np.ndarray:
    """Bilinear resize of a stack ``(n, h, w)`` to ``(n, *size)``, as two matrix products.

    Examples
    --------
    >>> img = np.arange(6.0).reshape(1, 2, 3)
    >>> resize_images(img, (3, 5))[0, 1].tolist()
    [1.5, 2.0, 2.5, 3.0, 3.5]
    """
    images = np.asarray(images)
    h, w = images.shape[-2:]
    if (h, w) == tuple(size):
        return images
    rows = _interp_matrix(h, size[0]).astype(images.dtype, copy=False)
    cols = _interp_matrix(w, size[1]).astype(images.dtype, copy=False)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols, optimize=True)


def beat_spectrograms(windows, fs: float, nperseg: int = 64, hop: int = 21, nfft: int = 256,
                      max_hz: float = 45.0, size=(32, 32), floor_db: float = -80.0,
                      dtype=np.float32, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """STFT magnitude in dB of many beat windows at once, as fixed-size images.

    ``scipy.signal.spectrogram`` over the whole stack, in blocks of ``chunk`` beats (Hann window of
    ``nperseg`` samples, step ``hop``, zero-padded to ``nfft``), frequencies below
    ``max_hz`` kept, ``20 log10`` of the magnitude clipped at ``floor_db`` below each
    image's peak, then resized (bilinear) to ``size`` = (frequency bins, time frames)
    and standardised per image (zero mean, unit variance). Row 0 is the lowest frequency.

    With the defaults and 2-s windows at 360 Hz (720 samples) the STFT already gives
    32 bins below 45 Hz (1.4 Hz apart) x 32 frames (58 ms apart), so no resizing happens.

    Parameters
    ----------
    windows : array, shape (n_beats, n_samples)
        Beat windows (e.g. z-scored 2-s windows centred on R).
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    images : ndarray, shape (n_beats, *size), ``dtype``
    freqs_hz : ndarray, shape (size[0],)
        Frequency of each image row.
    times_s : ndarray, shape (size[1],)
        Time of each image column from the window's start.

    Examples
    --------
    >>> fs = 360
    >>> t = np.arange(720) / fs
    >>> windows = np.stack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 30 * t)])
    >>> images, freqs, times = beat_spectrograms(windows, fs)
    >>> images.shape, bool(freqs.max() < 45)
    ((2, 32, 32), True)
    >>> [round(float(freqs[images[i].mean(axis=1).argmax()])) for i in range(2)]
    [10, 30]
    """
    windows = np.asarray(windows, dtype=np.float32)
    if windows.ndim != 2:
        raise ValueError(f"windows must be (n_beats, n_samples), got shape {windows.shape}")
    if windows.shape[1] < nperseg:
        raise ValueError(f"windows of {windows.shape[1]} samples are shorter than "
                         f"nperseg={nperseg}")
    if not 0 < hop <= nperseg:
        raise ValueError(f"hop must be in 1..nperseg ({nperseg}), got {hop}")
    if not 0 < max_hz <= fs / 2:
        raise ValueError(f"max_hz must be in (0, fs/2 = {fs / 2}], got {max_hz}")
    kw = dict(fs=fs, window="hann", nperseg=nperseg, noverlap=nperseg - hop,
              nfft=max(nfft, nperseg), detrend=False, mode="magnitude", axis=-1)
    freqs, times, _ = sps.spectrogram(windows[:1], **kw)
    keep = freqs < max_hz
    freqs = freqs[keep]
    out = np.empty((len(windows), *size), dtype=dtype)
    # Vectorised over blocks of ``chunk`` beats: one scipy call per block keeps the complex
    # STFT (n x nfft/2 x frames) in cache; one call over 100,000 beats is 3-5x slower.
    for start in range(0, len(windows), chunk):
        mag = sps.spectrogram(windows[start:start + chunk], **kw)[2][:, keep, :]
        db = 20 * np.log10(np.maximum(mag, 1e-12))
        db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) + floor_db)
        db = resize_images(db.astype(dtype, copy=False), size)
        db -= db.mean(axis=(1, 2), keepdims=True)
        db /= np.maximum(db.std(axis=(1, 2), keepdims=True), 1e-6)
        out[start:start + chunk] = db
    freqs_out = np.interp(np.linspace(0, freqs.size - 1, size[0]), np.arange(freqs.size), freqs)
    times_out = np.interp(np.linspace(0, times.size - 1, size[1]), np.arange(times.size), times)
    return out, freqs_out, times_out


# --------------------------------------------------------------------------- records
def extract_record_beats(record: str, db: str = "mitdb", window_s: float = 2.0,
                         tolerance_s: float = 0.15, classes=("N", "S", "V"),
                         root=None) -> dict:
    """Band-pass, detect, label by matching, cut and z-score the beats of one record.

    R peaks come from :func:`ecgutils.signal.detect_r_peaks` on the MLII lead (chosen by
    name), not from the annotations. Each detection takes the AAMI class of the
    reference beat within ``tolerance_s``; detections with no reference beat and beats
    of other classes are dropped (and counted).

    Returns
    -------
    dict
        ``windows`` (n, window) float32 z-scored, ``labels`` (n,) str, ``samples`` (n,)
        R-peak samples, ``fs``, ``lead`` and ``counts`` (see :func:`ecgutils.signal.label_detections`,
        plus ``kept`` and ``other_class``).
    """
    rec = _data.load_record(record, db, root)
    x, lead = _data.pick_lead(rec)
    fs = float(rec.fs)
    filtered = _signal.bandpass_filter(x, fs, 0.5, 40.0)
    peaks = _signal.detect_r_peaks(x, fs)
    ref = _data.beat_table(db, [record], root)
    labels, counts = _signal.label_detections(peaks, ref["sample"].to_numpy(), ref["aami"].to_numpy(),
                                      fs, tolerance_s)
    wanted = np.isin(labels, list(classes))
    counts["other_class"] = int(((labels != "") & ~wanted).sum())
    half = window_s / 2
    windows, kept = _signal.segment_beats(filtered, peaks[wanted], fs, before_s=half,
                                          after_s=half, edge="drop")
    counts["kept"] = int(kept.size)
    counts["edge_dropped"] = int(wanted.sum() - kept.size)
    windows = _signal.zscore(windows, axis=1).astype(np.float32)
    return {"windows": windows, "labels": labels[wanted][kept], "samples": peaks[wanted][kept],
            "fs": fs, "lead": lead, "counts": counts}


def build_spectrogram_dataset(records, db: str = "mitdb", window_s: float = 2.0,
                              classes=("N", "S", "V"), keep_windows: bool = False,
                              root=None, **spectrogram_kw) -> dict:
    """Run :func:`extract_record_beats` and :func:`beat_spectrograms` over ``records``.

    The loop is over records; each record's beats are processed as one array. The
    spectrograms of all records are computed in one call at the end.

    Returns
    -------
    dict
        ``images`` (n, h, w) float32, ``labels`` (n,), ``records`` (n,), ``samples`` (n,),
        ``freqs_hz``, ``times_s``, ``fs``, ``detector`` (DataFrame, one row per record:
        lead, detections, reference, matched, unmatched, missed...), ``windows`` if
        ``keep_windows``, and ``timing`` (seconds for beats and for spectrograms).
    """
    records = [str(r) for r in records]
    t0 = time.perf_counter()
    parts, rows, fs = [], [], None
    for r in records:
        part = extract_record_beats(r, db, window_s, classes=classes, root=root)
        if fs is not None and part["fs"] != fs:
            raise ValueError(f"record {r} is sampled at {part['fs']} Hz, the others at {fs} Hz")
        fs = part["fs"]
        parts.append(part)
        c = part["counts"]
        rows.append({"record": r, "lead": part["lead"], "reference": c["reference"],
                     "detections": c["detections"], "matched": c["matched"],
                     "unmatched_detections": c["unmatched_detections"],
                     "missed_beats": c["missed_beats"],
                     **{f"missed_{k}": c["missed_by_class"].get(k, 0) for k in classes},
                     "other_class": c["other_class"], "kept": c["kept"]})
    t1 = time.perf_counter()
    windows = np.concatenate([p["windows"] for p in parts])
    images, freqs, times = beat_spectrograms(windows, fs, **spectrogram_kw)
    t2 = time.perf_counter()
    detector = pd.DataFrame(rows).set_index("record")
    detector["se"] = (detector.matched / detector.reference).round(4)
    detector["ppv"] = (detector.matched / detector.detections).round(4)
    out = {"images": images, "labels": np.concatenate([p["labels"] for p in parts]),
           "records": np.concatenate([np.full(len(p["labels"]), r) for p, r in zip(parts, records)]),
           "samples": np.concatenate([p["samples"] for p in parts]), "freqs_hz": freqs,
           "times_s": times, "fs": fs, "detector": detector,
           "timing": {"beats_s": round(t1 - t0, 2), "spectrograms_s": round(t2 - t1, 2),
                      "total_s": round(t2 - t0, 2)}}
    if keep_windows:
        out["windows"] = windows
    return out


def check_experiment(epochs, protocols, records, allowed_protocols, db: str = "mitdb",
                     root=None) -> tuple[int, list[str], list[str]]:
    """Check a chapter's run parameters before any work; return them normalised.

    Raises
    ------
    ValueError
        ``epochs`` is not an integer >= 1, or a protocol is not in ``allowed_protocols``.
    FileNotFoundError
        A record is not in the local copy of ``db`` (see :func:`ecgutils.data.check_records_exist`).

    Examples
    --------
    >>> check_experiment(0, ["ds1ds2"], ["100"], ("ds1ds2",))
    Traceback (most recent call last):
    ...
    ValueError: parameter 'epochs' must be an integer >= 1, got 0
    """
    from .config import check_choices, check_positive_int

    epochs = check_positive_int("epochs", epochs)
    protocols = check_choices("protocols", protocols, allowed_protocols)
    records = _data.check_records_exist(records, db, root)
    return epochs, protocols, records


def beats_to_spectrograms(X, fs: float = FS_KAGGLE, nperseg: int = 32, noverlap: int = 27,
                          n_freqs: int = 16, dynamic_range_db: float = 60.0) -> np.ndarray:
    """Short-time power spectra of many beats at once, in dB, each scaled to [0, 1].

    ``scipy.signal.spectrogram`` runs along the last axis of the whole stack. The lowest
    ``n_freqs`` frequency bins are kept; each spectrogram is clipped to
    ``dynamic_range_db`` below its own maximum and mapped to [0, 1].

    Returns
    -------
    ndarray, shape (n, n_freqs, n_frames), float32

    Examples
    --------
    >>> S = beats_to_spectrograms(np.random.default_rng(0).normal(size=(3, 187)))
    >>> S.shape, float(S.min()) >= 0, round(float(S.max()), 4)
    ((3, 16, 32), True, 1.0)
    """
    from scipy import signal as sps

    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"beats_to_spectrograms needs a 2-D stack of beats, got shape {X.shape}")
    if not 0 <= noverlap < nperseg <= X.shape[1]:
        raise ValueError(f"need 0 <= noverlap ({noverlap}) < nperseg ({nperseg}) <= "
                         f"beat length ({X.shape[1]})")
    if not 1 <= n_freqs <= nperseg // 2 + 1:
        raise ValueError(f"need 1 <= n_freqs ({n_freqs}) <= nperseg // 2 + 1 "
                         f"({nperseg // 2 + 1}, the frequencies an STFT of {nperseg} samples has)")
    _, _, S = sps.spectrogram(X, fs=fs, nperseg=nperseg, noverlap=noverlap, axis=-1)
    S = S[:, :n_freqs]
    db = 10 * np.log10(S + 1e-12)
    top = db.max(axis=(1, 2), keepdims=True)
    db = np.clip(db, top - dynamic_range_db, top)
    return ((db - (top - dynamic_range_db)) / dynamic_range_db).astype(np.float32)
