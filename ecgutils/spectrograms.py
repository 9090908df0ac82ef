"""Beat spectrograms: chapter 04's 2-s windows and chapter 05's Kaggle-format beats.

:func:`beat_spectrograms` makes the images of both chapters, vectorised over the whole
stack of beats, with explicit settings (window, overlap, FFT length, rows kept, dB range,
per-image scaling) and two methods: scipy's STFT (the default, and the faster one) or
librosa's mel bank. :func:`ecgutils.plots.plot_spectrogram` draws one with ``librosa.display.specshow``.

Chapter 04's pipeline, one record at a time and vectorised over the beats of a record
(no Python loop per beat)::

    band-pass -> detect R peaks -> label each detection by the reference beat within
    150 ms -> 2-s window centred on R -> z-score -> STFT magnitude (dB, < 45 Hz) -> image

Chapter 05's (cap, scaler, SMOTE, spectrograms per split) is the ``smote_cnn2d`` approach
of :mod:`ecgutils.pipelines` (its ``prepare``), with :data:`KAGGLE_SPECTROGRAM`.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import signal as sps

from . import beats as _beats
from . import data as _data
from . import splits as _splits
from . import signal as _signal

__all__ = ["KAGGLE_SPECTROGRAM", "beat_spectrograms", "build_spectrogram_dataset",
           "classify_segment", "detector_totals",
           "extract_record_beats", "protocol_splits",
           "resize_images"]


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


#: Chapter 05's spectrogram of a 187-sample Kaggle-format beat at 125 Hz: 16 x 16 images,
#: power in dB over a 60-dB range scaled to [0, 1] (``beat_spectrograms(beats, 125, **...)``).
KAGGLE_SPECTROGRAM = dict(nperseg=32, noverlap=22, nfft=None, max_hz=None, n_freqs=16,
                          scale="unit", dynamic_range_db=60.0)


def beat_spectrograms(beats, fs: float, nperseg: int = 64, noverlap: int = 43,
                      nfft: int | None = 256, max_hz: float | None = 45.0,
                      n_freqs: int | None = None, size=None, scale: str = "zscore",
                      dynamic_range_db: float = 80.0, method: str = "stft",
                      dtype=np.float32, chunk: int = 1024):
    """Spectrogram images of many beats at once: STFT (scipy) or mel (librosa) magnitude in dB.

    One call per block of ``chunk`` beats over the whole stack (no loop per beat): a Hann
    window of ``nperseg`` samples moved ``nperseg - noverlap`` samples at a time,
    zero-padded to ``nfft``. The magnitude goes to dB (``20 log10``), is clipped
    ``dynamic_range_db`` below each image's peak, optionally resized (bilinear) to
    ``size``, and scaled per image. Row 0 is the lowest frequency. The defaults are
    chapter 04's 2-s windows at 360 Hz (32 rows below 45 Hz x 32 frames); chapter 05's
    Kaggle beats use ``fs=125, nperseg=32, noverlap=22, nfft=None, max_hz=None,
    n_freqs=16, scale="unit", dynamic_range_db=60``.

    Parameters
    ----------
    beats : array, shape (n_beats, n_samples)
    fs : float
        Sampling rate in Hz.
    nperseg, noverlap, nfft : int
        Window length, overlap and FFT length in samples (``nfft`` None: ``nperseg``).
    max_hz : float, optional
        Keep the rows below this frequency (``"mel"``: the top of the mel bank).
    n_freqs : int, optional
        Keep at most the lowest ``n_freqs`` rows (``"mel"``: the number of mel bands,
        required).
    size : (int, int), optional
        Resize every image to (rows, frames); None keeps the native shape.
    scale : {"zscore", "unit"}
        Per image: zero mean and unit variance, or the clipped dB range mapped to [0, 1].
    method : {"stft", "mel"}
        ``scipy.signal.spectrogram``, or ``librosa.feature.melspectrogram`` (triangular
        mel bands over the same STFT).

    Returns
    -------
    images : ndarray, shape (n_beats, rows, frames), ``dtype``
    freqs_hz : ndarray, shape (rows,)
        Centre frequency of each row.
    times_s : ndarray, shape (frames,)
        Centre time of each frame from the beat's first sample.

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
    >>> S, _, _ = beat_spectrograms(np.random.default_rng(0).normal(size=(3, 187)), 125,
    ...                             **KAGGLE_SPECTROGRAM)
    >>> S.shape, float(S.min()) >= 0, round(float(S.max()), 4)
    ((3, 16, 16), True, 1.0)
    """
    beats = np.asarray(beats, dtype=np.float32)
    nfft = nperseg if nfft is None else max(nfft, nperseg)
    if beats.ndim != 2:
        raise ValueError(f"beats must be a 2-D stack (n_beats, n_samples), got shape {beats.shape}")
    if not 0 <= noverlap < nperseg <= beats.shape[1]:
        raise ValueError(f"need 0 <= noverlap ({noverlap}) < nperseg ({nperseg}) <= beat "
                         f"length ({beats.shape[1]})")
    if max_hz is not None and not 0 < max_hz <= fs / 2:
        raise ValueError(f"max_hz must be in (0, fs/2 = {fs / 2}], got {max_hz}")
    if n_freqs is not None and not 1 <= n_freqs <= nfft // 2 + 1:
        raise ValueError(f"need 1 <= n_freqs ({n_freqs}) <= nfft // 2 + 1 ({nfft // 2 + 1}, "
                         f"the frequencies an STFT of {nfft} points has)")
    if scale not in ("zscore", "unit") or method not in ("stft", "mel"):
        raise ValueError(f"scale must be 'zscore' or 'unit' and method 'stft' or 'mel', got "
                         f"{scale!r}, {method!r}")
    hop = nperseg - noverlap
    times = (np.arange((beats.shape[1] - nperseg) // hop + 1) * hop + nperseg / 2) / fs
    if method == "mel":
        import librosa

        if n_freqs is None:
            raise ValueError("method 'mel' needs n_freqs (the number of mel bands)")
        freqs = librosa.mel_frequencies(n_freqs + 2, fmax=max_hz or fs / 2)[1:-1]

        def magnitude(x):
            return librosa.feature.melspectrogram(
                y=x, sr=fs, n_fft=nfft, hop_length=hop, win_length=nperseg, window="hann",
                center=False, power=1.0, n_mels=n_freqs, fmax=max_hz or fs / 2)
    else:
        freqs = np.fft.rfftfreq(nfft, 1 / fs)
        keep = np.arange(freqs.size) if max_hz is None else np.flatnonzero(freqs < max_hz)
        keep = keep[:n_freqs]
        freqs = freqs[keep]

        def magnitude(x):
            return sps.spectrogram(x, fs=fs, window="hann", nperseg=nperseg, noverlap=noverlap,
                                   nfft=nfft, detrend=False, mode="magnitude")[2][:, keep]
    size = (freqs.size, times.size) if size is None else tuple(size)
    out = np.empty((len(beats), *size), dtype=dtype)
    # Blocks of ``chunk`` beats keep the complex STFT in cache; one call over 100,000
    # beats is 3-5x slower.
    for start in range(0, len(beats), chunk):
        db = 20 * np.log10(np.maximum(magnitude(beats[start:start + chunk]), 1e-12))
        top = db.max(axis=(1, 2), keepdims=True)
        db = resize_images(np.maximum(db, top - dynamic_range_db).astype(dtype), size)
        if scale == "unit":
            db = (db - (top - dynamic_range_db)) / dynamic_range_db
        else:
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

    The beats are :func:`ecgutils.beats.record_beats`'s detected ones: R peaks of
    :func:`ecgutils.signal.detect_r_peaks` on the MLII lead (chosen by name), not the
    annotations, each with the AAMI class of the reference beat within ``tolerance_s``;
    detections with no reference beat and beats of other classes are dropped (and
    counted).

    Returns
    -------
    dict
        ``windows`` (n, window) float32 z-scored, ``labels`` (n,) str, ``samples`` (n,)
        R-peak samples, ``fs``, ``lead`` and ``counts`` (see :func:`ecgutils.signal.label_detections`,
        plus ``kept`` and ``other_class``).
    """
    beats = _beats.record_beats([record], db, root, marks="detected",
                                tolerance_s=tolerance_s)
    info = beats.signals[record]
    x, lead, fs, counts = info["signal"], info["lead"], info["fs"], dict(info["detector"])
    filtered = _signal.bandpass_filter(x, fs, 0.5, 40.0)
    peaks, labels = beats.sample, beats.label
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


def detector_totals(detector: pd.DataFrame, classes=("N", "S", "V")) -> pd.DataFrame:
    """Chapter 04's detector table summed over non-paced, paced and all records.

    ``detector`` is :func:`build_spectrogram_dataset`'s per-record table. Counts stay
    integers; ``se`` and ``ppv`` are recomputed from the sums.

    Examples
    --------
    >>> det = pd.DataFrame({"reference": [10, 20], "detections": [11, 20], "matched": [10, 19],
    ...                     "unmatched_detections": [1, 1], "missed_beats": [0, 1],
    ...                     "missed_N": [0, 1], "missed_S": [0, 0], "missed_V": [0, 0],
    ...                     "kept": [10, 19]}, index=["100", "102"])
    >>> detector_totals(det)[["reference", "matched", "se"]].to_dict("index")["all"]
    {'reference': 30, 'matched': 29, 'se': 0.9667}
    """
    cols = ["reference", "detections", "matched", "unmatched_detections", "missed_beats",
            *[f"missed_{c}" for c in classes], "kept"]
    paced = detector.index.isin(_data.PACED_RECORDS)
    groups = {"non-paced": ~paced, "paced": paced, "all": np.ones(len(detector), bool)}
    totals = pd.DataFrame({name: detector.loc[rows, cols].sum() for name, rows in groups.items()
                           if rows.any()}).T.astype(int)
    return totals.assign(se=(totals.matched / totals.reference).round(4),
                         ppv=(totals.matched / totals.detections).round(4))


def protocol_splits(protocol: str, records, beat_record, labels, seed: int = 0,
                    n_val: int = 4, min_beats: int = 20) -> dict:
    """Chapter 04's patient-wise splits of ``records``: ``{"train", "val", "test"}`` lists.

    ``patient_70_15_15``: the non-paced records split 70/15/15
    (:func:`ecgutils.splits.split_records`, seeded). ``ds1ds2``: DS2 is the test set; ``n_val``
    DS1 records, drawn with the seed among draws whose records hold at least
    ``min_beats`` S and V beats (up to 200 draws; else the first draw), are held out for
    validation and the rest of DS1 trains. No record or subject is in two splits
    (:func:`ecgutils.splits.check_disjoint`), but for the one subject the published DS1/DS2
    split shares (201 and 202).

    Examples
    --------
    >>> recs = list(_data.DS1 + _data.DS2)
    >>> s = protocol_splits("ds1ds2", recs, np.array(recs), np.array(["S", "V"] * 22), n_val=2)
    >>> len(s["train"]), len(s["val"]), len(s["test"])
    (20, 2, 22)
    """
    records = [str(r) for r in records]
    if protocol == "patient_70_15_15":
        nonpaced = [r for r in records if r not in _data.PACED_RECORDS]
        splits = _splits.split_records(nonpaced, (0.7, 0.15, 0.15), seed=seed)
    elif protocol == "ds1ds2":
        ds1 = [r for r in _data.DS1 if r in records]
        ds2 = [r for r in _data.DS2 if r in records]
        if len(ds1) < 2 or not ds2:
            raise ValueError(f"protocol 'ds1ds2' needs DS1 and DS2 records; records holds "
                             f"{len(ds1)} of DS1 and {len(ds2)} of DS2")
        counts = pd.crosstab(pd.Series(np.asarray(beat_record)), pd.Series(np.asarray(labels)))
        counts = counts.reindex(index=ds1, columns=["S", "V"], fill_value=0)
        need = min(min_beats, int(counts.sum().min()))
        rng = np.random.default_rng(seed)
        draws = [sorted(rng.choice(ds1, n_val, replace=False).tolist()) for _ in range(200)]
        val = next((d for d in draws if (counts.loc[d].sum() >= need).all()), draws[0])
        splits = {"train": [r for r in ds1 if r not in val], "val": val, "test": ds2}
    else:
        raise ValueError(f"unknown protocol {protocol!r}; use 'patient_70_15_15' or 'ds1ds2'")
    _splits.check_disjoint(splits, allow_shared=_splits.DS1_DS2_SHARED
                           if protocol == "ds1ds2" else ())
    return splits


def classify_segment(model, preprocessing: dict, x, fs: float):
    """Classify every detected beat of a raw ECG segment with chapter 04's saved model.

    The steps are the ones stored in ``preprocessing`` (see the chapter's
    :func:`ecgutils.experiment.save_model` call): band-pass, R peaks from
    :func:`ecgutils.signal.detect_r_peaks`, a window centred on each peak (beats too near
    the ends are dropped), z-score, :func:`beat_spectrograms`, the network.

    Returns
    -------
    peaks : ndarray
        Sample of each classified beat in ``x``.
    probs : ndarray, shape (n_beats, n_classes)
    """
    if fs != preprocessing["fs"]:
        raise ValueError(f"the model was trained at {preprocessing['fs']} Hz; resample the "
                         f"{fs} Hz signal first")
    half = preprocessing["window_s"] / 2
    low, high = preprocessing["bandpass_hz"]
    peaks = _signal.detect_r_peaks(x, fs)
    windows, kept = _signal.segment_beats(_signal.bandpass_filter(x, fs, low, high), peaks, fs,
                                          before_s=half, after_s=half, edge="drop")
    images, _, _ = beat_spectrograms(_signal.zscore(windows, axis=1), fs,
                                     **preprocessing["spectrogram"])
    return peaks[kept], model.predict(images[..., None], verbose=0)


# --------------------------------------------------------------------------- chapter 05
