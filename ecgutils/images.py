"""ECG beats as small grayscale line images, image folders, and image models with their classes.

Chapter 02 trains a 2D CNN on pictures of single heartbeats. This module makes those
pictures from the raw signals, so anyone can regenerate them:

- :func:`render_beat_images` rasterises a stack of beat windows into ``(n, H, W)`` uint8
  images (a dark line on white, no axes) with array operations only: every beat of a
  database is drawn at once, no plotting library, no loop per beat.
- :func:`episode_window_anchors` and :func:`split_windows_by_time` cut sliding windows
  inside rhythm episodes that have no beats (ventricular flutter or fibrillation) and
  split them by time; their class is :data:`VF_CLASS`, ``"VFL+VF"``, since MIT-BIH 207's
  episodes are flutter (``(VFL``) and the Creighton ones fibrillation (``(VF``).
- :func:`split_patientwise`, :func:`ecgutils.splits.split_beat_random` and :func:`cap_per_class` give
  every window a split (patient-wise or beat-random) and cap the images per class.
- :func:`write_image_folders` writes PNG files into ``<root>/<split>/<class>/``, the
  layout ``keras.utils.image_dataset_from_directory`` reads;
  :func:`image_folder_dataset` reads one split back with integer labels.
- :func:`save_image_model` / :func:`load_image_model` keep the class names, image size,
  colour mode and how the images were drawn inside the ``.keras`` file (the entry of
  :func:`ecgutils.experiment.save_model`), so a model can be used without guessing;
  :func:`load_image_file` reads one image the way the model expects it (used by the
  command ``python -m ecgutils.predict_image``).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from .experiment import PREPROCESSING_ENTRY

__all__ = ["cap_per_class", "collect_windows", "episode_window_anchors",
           "image_folder_dataset", "load_image_file", "load_image_model", "MODEL_KIND",
           "MODEL_METADATA", "read_model_metadata", "render_beat_images", "save_image_model",
           "split_patientwise", "split_windows_by_time", "VF_CLASS", "write_image_folders"]

#: Name of the member of a ``.keras`` archive that holds the class names and image format
#: (the preprocessing entry of :func:`ecgutils.experiment.save_model`).
MODEL_METADATA = PREPROCESSING_ENTRY
#: The ``"kind"`` of an image classifier, for ``eu.experiment.load_model(path, expect=...)``.
MODEL_KIND = "image_cnn"


# --------------------------------------------------------------------------- rendering
def _image_size(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        height, width = (int(s) for s in size)
        ok = all(float(s).is_integer() for s in size)
    except (TypeError, ValueError):
        ok = False
    if not ok or height < 4 or width < 4:
        raise ValueError(f"parameter 'size' must be an int >= 4 or a (height, width) pair of "
                         f"ints >= 4, got {size!r}")
    return height, width


def render_beat_images(beats, size=64, line_width: int = 1, margin_px: int = 2,
                       oversample: int = 8, chunk: int = 4096) -> np.ndarray:
    """Draw each beat window as a grayscale line image: black trace on white, no axes.

    Each beat is stretched to the image: time runs over the full width, and the voltage
    range of that beat (its minimum to its maximum) over the height less ``margin_px``
    at top and bottom, positive up. The trace is linearly interpolated at ``oversample``
    points per pixel column; each column is inked from the lowest to the highest point
    of the trace inside it, so steep QRS slopes stay connected. All beats of a chunk are
    drawn at once with array operations.

    Parameters
    ----------
    beats : array, shape (n_beats, n_samples)
        Beat windows (e.g. from :func:`ecgutils.signal.segment_beats`), any unit.
    size : int or (height, width)
        Image size in pixels; 64 gives 64 x 64 images.
    line_width : int
        Line thickness in pixels.
    margin_px : int
        Blank rows kept above the highest and below the lowest point.
    oversample : int
        Interpolated points per pixel column.
    chunk : int
        Beats drawn per batch (bounds the memory used: about 20 kB per beat at 64 x 64).

    Returns
    -------
    ndarray of uint8, shape (n_beats, height, width)
        255 is background, 0 is ink.

    Examples
    --------
    >>> t = np.linspace(0, 1, 200)
    >>> beats = np.stack([np.sin(2 * np.pi * t), np.exp(-((t - 0.4) / 0.02) ** 2)])
    >>> images = render_beat_images(beats, size=32)
    >>> images.shape, images.dtype
    ((2, 32, 32), dtype('uint8'))
    >>> bool(((images == 0).sum(axis=1) >= 1).all())  # every column holds some ink
    True
    >>> int(np.argmin(images[0][:, 8])) < 16  # the sine is high in the first quarter
    True
    """
    beats = np.asarray(beats, dtype=float)
    if beats.ndim != 2 or beats.shape[1] < 2:
        raise ValueError(f"beats must be a 2-D array (n_beats, n_samples >= 2), got shape "
                         f"{beats.shape}")
    if not np.isfinite(beats).all():
        raise ValueError("beats hold NaN or inf values; clean or drop those beats first")
    height, width = _image_size(size)
    for name, value, low in (("line_width", line_width, 1), ("oversample", oversample, 1),
                             ("chunk", chunk, 1), ("margin_px", margin_px, 0)):
        if isinstance(value, bool) or not float(value).is_integer() or value < low:
            raise ValueError(f"parameter '{name}' must be an integer >= {low}, got {value!r}")
    if 2 * margin_px + line_width > height:
        raise ValueError(f"margin_px={margin_px} and line_width={line_width} leave no room "
                         f"in an image {height} pixels high")
    n, n_samples = beats.shape
    k = int(oversample)
    # Points at x = -0.5 + j / k (pixel units): column c holds points c*k ... (c+1)*k,
    # sharing its end points with its neighbours, so the trace stays connected.
    u = np.linspace(0, n_samples - 1, width * k + 1)
    i0 = np.minimum(np.floor(u).astype(np.int64), n_samples - 2)
    frac = u - i0
    columns = np.arange(width)[:, None] * k + np.arange(k + 1)  # (width, k + 1)
    rows = np.arange(height)[None, :, None]
    half = (int(line_width) - 1) / 2
    usable = height - 1 - 2 * margin_px
    out = np.empty((n, height, width), dtype=np.uint8)
    for start in range(0, n, int(chunk)):
        b = beats[start:start + int(chunk)]
        y = b[:, i0] * (1 - frac) + b[:, i0 + 1] * frac
        low, high = b.min(axis=1, keepdims=True), b.max(axis=1, keepdims=True)
        span = high - low
        flat = span[:, 0] <= 0
        scaled = (y - low) / np.where(span > 0, span, 1.0)
        scaled[flat] = 0.5
        r = margin_px + (1 - scaled) * usable  # row coordinate, high voltage at the top
        seg = r[:, columns]  # (n, width, k + 1)
        top = np.floor(seg.min(axis=2) - half + 0.5)
        bottom = np.floor(seg.max(axis=2) + half + 0.5)
        ink = (rows >= top[:, None, :]) & (rows <= bottom[:, None, :])
        if line_width > 1:
            from scipy import ndimage

            ink = ndimage.maximum_filter1d(ink, size=int(line_width), axis=2)
        out[start:start + len(b)] = np.where(ink, 0, 255)
    return out


# --------------------------------------------------------------------------- windows
def episode_window_anchors(episodes, fs: float, before_s: float, after_s: float,
                           step_s: float) -> np.ndarray:
    """Anchor samples of sliding windows that lie wholly inside episodes.

    An anchor plays the part of an R peak: the window is ``[anchor - before, anchor +
    after)`` in samples, as in :func:`ecgutils.signal.segment_beats`. Windows start at
    each episode's start and advance by ``step_s``; one that would run past the
    episode's end is left out, so a short episode may give none.

    Parameters
    ----------
    episodes : array, shape (n_episodes, 2)
        ``(start, end)`` samples, e.g. from :func:`ecgutils.data.vf_episodes`.
    fs : float
        Sampling rate in Hz.
    before_s, after_s : float
        Window before and after the anchor, in seconds.
    step_s : float
        Stride between windows, in seconds (windows overlap when it is shorter than
        ``before_s + after_s``).

    Examples
    --------
    >>> episode_window_anchors([(0, 10), (20, 24)], fs=1, before_s=2, after_s=3, step_s=2)
    array([2, 4, 6])
    """
    episodes = np.asarray(episodes, dtype=np.int64).reshape(-1, 2)
    if fs <= 0 or step_s <= 0 or before_s < 0 or after_s < 0 or before_s + after_s <= 0:
        raise ValueError(f"need fs > 0, step_s > 0, before_s >= 0, after_s >= 0 and a "
                         f"positive window; got fs={fs}, step_s={step_s}, "
                         f"before_s={before_s}, after_s={after_s}")
    if (episodes[:, 1] < episodes[:, 0]).any():
        raise ValueError("episodes must be (start, end) pairs with end >= start")
    before, after = round(before_s * fs), round(after_s * fs)
    step = max(1, round(step_s * fs))
    anchors = [np.arange(s + before, e - after + 1, step) for s, e in episodes]
    return np.concatenate(anchors).astype(np.int64) if anchors else np.zeros(0, np.int64)


def split_windows_by_time(anchors, episodes, fs: float, before_s: float, after_s: float,
                          fractions=(0.7, 0.15, 0.15),
                          names=("train", "val", "test")) -> np.ndarray:
    """Assign windows inside episodes to consecutive stretches of episode time.

    The episodes of one record are laid end to end; the first ``fractions[0]`` of that
    time goes to ``names[0]``, the next to ``names[1]``, and so on. A window that
    straddles a cut is given ``""`` (drop it), so no two parts share a sample.

    Returns
    -------
    ndarray of str
        One name (or ``""``) per anchor.

    Examples
    --------
    >>> a = episode_window_anchors([(0, 100)], fs=1, before_s=0, after_s=10, step_s=10)
    >>> a.tolist()
    [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    >>> split_windows_by_time(a, [(0, 100)], fs=1, before_s=0, after_s=10).tolist()[5:]
    ['train', 'train', 'val', '', 'test']
    """
    anchors = np.asarray(anchors, dtype=np.int64)
    episodes = np.asarray(episodes, dtype=np.int64).reshape(-1, 2)
    episodes = episodes[np.argsort(episodes[:, 0])]
    if len(fractions) != len(names) or not np.isclose(sum(fractions), 1):
        raise ValueError(f"fractions {fractions} must sum to 1, one per name {names}")
    before, after = round(before_s * fs), round(after_s * fs)
    lengths = episodes[:, 1] - episodes[:, 0]
    offset = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    which = np.searchsorted(episodes[:, 0], anchors - before, side="right") - 1
    inside = (which >= 0) & (anchors + after <= episodes[np.clip(which, 0, None), 1])
    if not inside.all():
        bad = anchors[~inside][:3].tolist()
        raise ValueError(f"windows at anchors {bad}... do not lie inside any episode")
    start = offset[which] + (anchors - before - episodes[which, 0])
    end = start + before + after
    cuts = np.concatenate([[0], np.cumsum(fractions) * lengths.sum()])
    part = np.searchsorted(cuts, start, side="right") - 1
    part = np.clip(part, 0, len(names) - 1)
    fits = end <= cuts[part + 1] + 1e-9
    return np.where(fits, np.asarray(names, dtype=object)[part], "").astype(str)


#: Class of the windows cut inside ventricular flutter (``(VFL``, MIT-BIH 207) and
#: fibrillation (``(VF``, Creighton) episodes: the two rhythms are one class here.
VF_CLASS = "VFL+VF"


def collect_windows(records, symbol_classes: dict, db: str = "mitdb", vf_records=(),
                    vf_db: str = "cudb", fs: float = 360.0, before_s: float = 0.3,
                    after_s: float = 0.5, vf_step_s: float = 0.25, vf_class: str = VF_CLASS,
                    vf_rhythms=("VFL", "VF"), band_hz=(0.5, 40.0), root=None):
    """Beat windows of the chosen symbols, and sliding windows inside VF episodes.

    Every record is band-pass filtered (``band_hz``) and resampled to ``fs`` if needed
    (Creighton records are 250 Hz); one lead is used (:func:`ecgutils.data.pick_lead`).
    The beats are :func:`ecgutils.beats.record_beats`'s (reference marks as annotated):
    beats whose symbol is in ``symbol_classes`` give one window each, around their
    annotated R peak; beats near the record's ends are left out. In every record of
    ``records`` and ``vf_records``, ventricular flutter/fibrillation episodes are the
    stretches where a rhythm in ``vf_rhythms`` is in force (``(VFL``, ``(VF``) AND that
    are marked ``[`` ... ``]``; a record with rhythm notes but no marks, or marks but no
    rhythm notes, uses the one it has. Windows every ``vf_step_s`` inside them get the
    class ``vf_class``; their anchor plays the part of the R peak.

    Returns
    -------
    windows : ndarray of float32, shape (n, round(before_s*fs) + round(after_s*fs))
    meta : DataFrame
        One row per window: ``db``, ``record``, ``sample`` (anchor, at ``fs``),
        ``symbol`` (``vf_class``, :data:`VF_CLASS` by default, for episode windows), ``label``.
    episodes : dict
        ``(db, record) -> array of (start, end)`` VF episodes, in samples at ``fs``.
    """
    import pandas as pd

    from . import beats as ecg_beats
    from . import data as ecg_data
    from . import signal as ecg_signal

    if before_s < 0 or after_s < 0 or before_s + after_s <= 0:
        raise ValueError(f"need before_s >= 0, after_s >= 0 and a positive window, got "
                         f"before_s={before_s}, after_s={after_s}")
    windows, metas, episodes = [], [], {}
    for database, names in ((db, records), (vf_db, vf_records)):
        for record in [str(r) for r in names]:
            ann = ecg_data.load_annotations(record, database, root)
            if database == db:
                beats = ecg_beats.record_beats([record], database, root, r_search_s=None)
                x, rec_fs = beats.signals[record]["signal"], beats.signals[record]["fs"]
            else:  # only its rhythm episodes are used
                rec = ecg_data.load_record(record, database, root)
                x, rec_fs = ecg_data.pick_lead(rec)[0], float(rec.fs)
            ratio = fs / rec_fs
            if ratio != 1:
                x = ecg_signal.resample_signal(x, rec_fs, fs)
            x = ecg_signal.bandpass_filter(x, fs, *band_hz)
            if database == db:
                samples = np.round(beats.sample * ratio).astype(np.int64)
                symbols = beats.symbol
                take = np.isin(symbols, list(symbol_classes))
                w, kept = ecg_signal.segment_beats(x, samples[take], fs, before_s, after_s,
                                                   edge="drop")
                windows.append(w.astype(np.float32))
                metas.append(pd.DataFrame({
                    "db": database, "record": record, "sample": samples[take][kept],
                    "symbol": symbols[take][kept],
                    "label": [symbol_classes[s] for s in symbols[take][kept]]}))
            marked = ecg_data.vf_episodes(ann)
            rhythm = ecg_data.rhythm_episodes(ann, vf_rhythms)
            if len(marked) and len(rhythm):
                spans = ecg_data.intersect_episodes(marked, rhythm)
            else:
                spans = marked if len(marked) else rhythm
            spans = np.round(spans * ratio).astype(np.int64).reshape(-1, 2)
            spans[:, 1] = np.minimum(spans[:, 1], len(x))
            if not len(spans):
                continue
            episodes[(database, record)] = spans
            anchors = episode_window_anchors(spans, fs, before_s, after_s, vf_step_s)
            w, kept = ecg_signal.segment_beats(x, anchors, fs, before_s, after_s, edge="drop")
            windows.append(w.astype(np.float32))
            metas.append(pd.DataFrame({"db": database, "record": record,
                                       "sample": anchors[kept], "symbol": vf_class,
                                       "label": vf_class}))
    if not windows:
        raise ValueError("no records given: pass records= and/or vf_records=")
    meta = pd.concat(metas, ignore_index=True)
    return np.concatenate(windows), meta, episodes


# --------------------------------------------------------------------------- splits
def split_patientwise(meta, record_split: dict, vf_spans: dict, fs: float, before_s: float,
                      after_s: float, vf_class: str = VF_CLASS,
                      fractions=(0.7, 0.15, 0.15)) -> np.ndarray:
    """The split of each window in a patient-wise protocol.

    Beat windows follow their record's split (``record_split``: split name -> records).
    VF windows come from too few recordings to be split by patient: within each
    recording they follow :func:`split_windows_by_time` (its VF episodes laid end to end
    and cut by ``fractions``); a window that straddles a cut gets ``""`` (not used).

    Parameters
    ----------
    meta : DataFrame
        :func:`collect_windows`'s ``meta`` (``db``, ``record``, ``sample``, ``label``).
    record_split : dict
        Split name -> records, e.g. from :func:`ecgutils.splits.split_records_covering`.
    vf_spans : dict
        ``(db, record) -> (start, end)`` VF episodes at ``fs`` (:func:`collect_windows`).

    Returns
    -------
    ndarray of str
        One split name (or ``""``) per window.

    Examples
    --------
    >>> import pandas as pd
    >>> meta = pd.DataFrame({"db": "mitdb", "record": ["100", "101", "207", "207"],
    ...                      "sample": [500, 900, 110, 190], "label": ["N", "N", VF_CLASS, VF_CLASS]})
    >>> spans = {("mitdb", "207"): np.array([[100, 200]])}
    >>> split_patientwise(meta, {"train": ["100", "207"], "test": ["101"]}, spans, fs=1,
    ...                   before_s=10, after_s=10, fractions=(0.5, 0.5),
    ...                   ).tolist()  # names follow record_split's keys
    ['train', 'test', 'train', 'test']
    """
    split_of = {str(r): name for name, recs in record_split.items() for r in recs}
    split = meta["record"].astype(str).map(split_of).fillna("").to_numpy(dtype=object)
    is_vf = (meta["label"] == vf_class).to_numpy()
    split[is_vf] = ""
    for (db, rec), spans in vf_spans.items():
        sel = np.flatnonzero(is_vf & (meta["db"] == db).to_numpy()
                             & (meta["record"].astype(str) == str(rec)).to_numpy())
        split[sel] = split_windows_by_time(meta["sample"].to_numpy()[sel], spans, fs,
                                           before_s, after_s, fractions=fractions,
                                           names=tuple(record_split))
    return split.astype(str)


def cap_per_class(labels, split, caps: dict, seed: int = 0) -> dict:
    """Indices kept in each split: at most ``caps[name]`` windows of each class, at random.

    A cap of None keeps the whole split (the test split keeps the real mix of beats).

    Returns
    -------
    dict
        Split name -> sorted indices into ``labels``.

    Examples
    --------
    >>> labels = np.array(list("NNNNNVV"))
    >>> kept = cap_per_class(labels, np.array(["train"] * 5 + ["test"] * 2),
    ...                      {"train": 2, "test": None})
    >>> labels[kept["train"]].tolist(), kept["test"].tolist()
    (['N', 'N'], [5, 6])
    """
    import pandas as pd

    frame = pd.DataFrame({"label": np.asarray(labels), "split": np.asarray(split)})
    chosen = {}
    for name, cap in caps.items():
        part = frame[frame["split"] == name]
        if cap is not None:
            part = part.sample(frac=1, random_state=seed).groupby("label").head(cap)
        chosen[name] = np.sort(part.index.to_numpy())
    return chosen


# --------------------------------------------------------------------------- folders
def _check_folder_name(kind: str, name: str) -> None:
    if not name or "/" in name or "\\" in name or name.startswith(".") or name != name.strip():
        raise ValueError(f"{kind} name {name!r} cannot be a folder name (empty, a path, "
                         f"hidden or padded)")


def write_image_folders(root, images, classes, splits, names, class_names=None,
                        compress_level: int = 1):
    """Write images as PNG files into ``<root>/<split>/<class>/<name>.png``.

    Each split is written into a hidden temporary folder and renamed into place only
    when complete (an old folder of that split is replaced), so a crash never leaves a
    half-written split that looks finished. Every class gets a folder in every split,
    even an empty one, so ``image_dataset_from_directory(..., class_names=...)`` always
    finds the same classes.

    Parameters
    ----------
    root : path
        Folder for the splits; created if missing.
    images : array of uint8, shape (n, height, width)
    classes, splits, names : sequences of str, length n
        Class folder, split folder and file name (without ``.png``) of each image.
    class_names : sequence of str, optional
        All classes (default: those in ``classes``).
    compress_level : int
        zlib level 0-9 for the PNG files (1: fast, files a little larger).

    Returns
    -------
    pandas.DataFrame
        Images written per class (rows) and split (columns).

    Examples
    --------
    >>> import tempfile
    >>> img = render_beat_images(np.random.default_rng(0).normal(size=(3, 50)), size=16)
    >>> root = Path(tempfile.mkdtemp())
    >>> counts = write_image_folders(root, img, ["a", "b", "a"], ["train", "train", "test"],
    ...                              ["x0", "x1", "x2"], class_names=["a", "b"])
    >>> counts.to_dict()
    {'test': {'a': 1, 'b': 0}, 'train': {'a': 1, 'b': 1}}
    >>> sorted(str(p.relative_to(root)) for p in root.rglob("*.png"))
    ['test/a/x2.png', 'train/a/x0.png', 'train/b/x1.png']
    """
    import pandas as pd
    from PIL import Image

    images = np.asarray(images)
    classes, splits, names = (np.asarray(v, dtype=str) for v in (classes, splits, names))
    n = len(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape (n, height, width), got "
                         f"{images.dtype} {images.shape}")
    if not len(classes) == len(splits) == len(names) == n:
        raise ValueError(f"images ({n}), classes ({len(classes)}), splits ({len(splits)}) and "
                         f"names ({len(names)}) must have the same length")
    class_names = sorted(set(classes)) if class_names is None else [str(c) for c in class_names]
    unknown = sorted(set(classes) - set(class_names))
    if unknown:
        raise ValueError(f"classes {unknown} are not in class_names {class_names}")
    for c in class_names:
        _check_folder_name("class", c)
    for s in set(splits):
        _check_folder_name("split", s)
    keys = np.char.add(np.char.add(splits, "/"), np.char.add(np.char.add(classes, "/"), names))
    uniq, count = np.unique(keys, return_counts=True)
    if (count > 1).any():
        raise ValueError(f"file names must be unique within a split and class; repeated: "
                         f"{uniq[count > 1][:3].tolist()}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for split in sorted(set(splits)):
        tmp = root / f".{split}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        for c in class_names:
            (tmp / c).mkdir(parents=True)
        try:
            for i in np.flatnonzero(splits == split):
                buf = io.BytesIO()
                Image.fromarray(images[i], mode=None).save(buf, format="PNG",
                                                           compress_level=compress_level)
                (tmp / classes[i] / f"{names[i]}.png").write_bytes(buf.getvalue())
            final = root / split
            old = root / f".{split}.old-{os.getpid()}"
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    table = pd.crosstab(pd.Categorical(classes, categories=class_names),
                        pd.Categorical(splits, categories=sorted(set(splits))), dropna=False)
    table.index = [str(c) for c in table.index]
    table.columns = [str(c) for c in table.columns]
    table.index.name, table.columns.name = "class", "split"
    return table


def image_folder_dataset(folder, class_names, image_size, batch_size: int = 32,
                         shuffle: bool = False, seed: int = 0, color_mode: str = "grayscale",
                         class_weight: dict | None = None):
    """One split's image folder as a batched dataset with integer labels.

    ``keras.utils.image_dataset_from_directory`` reads ``<folder>/<class>/*.png``
    (``label_mode="int"``, the class order fixed by ``class_names``); pixel values stay
    0-255 (the model rescales). With ``class_weight`` ({class index: weight}) each batch
    carries a per-image sample weight, the dataset form of Keras' ``class_weight``.

    Returns
    -------
    dataset : tf.data.Dataset
        ``(images, labels[, weights])`` batches, prefetched.
    y : ndarray of int
        The label of each file, from its folder; in the order of the batches when
        ``shuffle`` is False (with shuffling only the counts are meaningful).
    """
    from . import models

    tf = models.import_tensorflow()
    import keras

    height, width = _image_size(image_size)
    class_names = [str(c) for c in class_names]
    ds = keras.utils.image_dataset_from_directory(
        folder, labels="inferred", label_mode="int", class_names=class_names,
        color_mode=color_mode, batch_size=batch_size, image_size=(height, width),
        shuffle=shuffle, seed=seed, verbose=False)
    y = np.array([class_names.index(Path(p).parent.name) for p in ds.file_paths], dtype=np.int64)
    if class_weight is not None:
        weights = tf.constant([float(class_weight.get(i, 1.0)) for i in range(len(class_names))])
        ds = ds.map(lambda x, label: (x, label, tf.gather(weights, label)))
    return ds.prefetch(tf.data.AUTOTUNE), y


# --------------------------------------------------------------------------- models
def save_image_model(model, path, class_names, image_size, color_mode: str = "grayscale",
                     preprocessing: dict | None = None) -> Path:
    """Save a Keras image classifier with its class names, image size and colour mode.

    Written by :func:`ecgutils.experiment.save_model` (to a temporary file, renamed when
    complete), with ``kind`` :data:`MODEL_KIND`; ``keras.saving.load_model`` ignores the
    extra entry, :func:`read_model_metadata` reads it.

    Parameters
    ----------
    model : keras.Model
        Its last layer must have one output per class.
    path : path ending in ``.keras``
    class_names : sequence of str
        In the order of the model's outputs.
    image_size : int or (height, width)
    color_mode : {"grayscale", "rgb"}
    preprocessing : dict, optional
        How to make an image from a new recording (sampling rate, window around the R
        peak, band-pass, line width...), stored under ``"rendering"``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras (Keras 3 format), got {path}")
    height, width = _image_size(image_size)
    if color_mode not in ("grayscale", "rgb"):
        raise ValueError(f"color_mode must be 'grayscale' or 'rgb', got {color_mode!r}")
    class_names = [str(c) for c in class_names]
    n_out = model.outputs[0].shape[-1]
    if n_out != len(class_names):
        raise ValueError(f"the model has {n_out} outputs but {len(class_names)} class names "
                         f"were given: {class_names}")
    channels = 1 if color_mode == "grayscale" else 3
    expected = (height, width, channels)
    if tuple(model.inputs[0].shape[1:]) != expected:
        raise ValueError(f"the model takes inputs of shape {tuple(model.inputs[0].shape[1:])}, "
                         f"not {expected} (image_size={image_size}, color_mode={color_mode!r})")
    from .experiment import save_model

    meta = {"kind": MODEL_KIND, "class_names": class_names, "image_size": [height, width],
            "color_mode": color_mode, "pixel_range": [0, 255],
            "format": "ecgutils image classifier 2"}
    if preprocessing:
        meta["rendering"] = dict(preprocessing)
    return save_model(model, path, meta)


def read_model_metadata(path) -> dict:
    """The class names, image size, colour mode (and rendering) stored by
    :func:`save_image_model`.

    Reads only the archive, without TensorFlow, so a wrong path fails fast.

    Raises
    ------
    FileNotFoundError
        No such file (or it is a folder).
    ValueError
        Not a ``.keras`` archive, or one saved without ecgutils metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}" +
                                (" (it is a folder)" if path.is_dir() else ""))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            if MODEL_METADATA not in members:
                raise ValueError(f"model {path} has no class names ({MODEL_METADATA} is missing "
                                 f"from the archive); save it with "
                                 f"ecgutils.images.save_image_model")
            meta = json.loads(archive.read(MODEL_METADATA))
    except zipfile.BadZipFile:
        raise ValueError(f"model {path} is not a Keras 3 .keras file (not a zip archive)") from None
    except PermissionError:
        raise PermissionError(f"model file {path} cannot be read (permission denied)") from None
    for key in ("class_names", "image_size", "color_mode"):
        if key not in meta:
            raise ValueError(f"model {path}: {MODEL_METADATA} lacks '{key}'")
    return meta


def load_image_model(path):
    """Load a model saved by :func:`save_image_model`; return ``(model, metadata)``."""
    meta = read_model_metadata(path)
    from . import models

    models.import_tensorflow()
    import keras

    try:
        # safe_mode: a Lambda layer's code in a shared file is refused, not run
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras' errors do not name the file
        raise ValueError(f"Keras could not load model {path}: {err}") from err
    return model, meta


def load_image_file(path, image_size, color_mode: str = "grayscale"):
    """Read one image for an image model: ``(array of float32, notes)``.

    The array has shape ``(height, width, channels)`` with values 0-255, as
    ``image_dataset_from_directory`` gives them (the model rescales). An image of another
    size is resized (bilinear) and one in colour is converted to grayscale (or the
    reverse); transparent pixels are laid on white (the training images' background);
    an image that is mostly dark (a light trace on black) is inverted; a blank image is
    flagged. ``notes`` says what was done, so the caller can show it.

    Raises
    ------
    FileNotFoundError
        No such file, or it is a folder.
    PermissionError
        The file cannot be read.
    ValueError
        The file is not an image, or it is damaged (truncated or corrupt).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    height, width = _image_size(image_size)
    if not path.exists():
        raise FileNotFoundError(f"image not found: {path}")
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder, not an image file")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"image {path} cannot be read (permission denied)")
    try:
        with Image.open(path) as img:
            img.load()
            image = img.copy()
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image (Pillow cannot identify its format)") from None
    except PermissionError:
        raise PermissionError(f"image {path} cannot be read (permission denied)") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"image {path} is damaged and cannot be decoded ({err})") from None
    notes = []
    original_mode = image.mode
    if image.mode.startswith("I;16") or (image.mode == "I" and np.asarray(image).max() > 255):
        # Pillow's convert("L") clips 16-bit grey levels at 255 instead of scaling them
        # (ten levels became two): scale the 0-65535 range to 0-255 ourselves.
        levels = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.round(levels * (255 / 65535)).astype(np.uint8), "L")
        notes.append("16-bit grey levels scaled to 8 bits")
        original_mode = "L"
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        # Converting straight to grayscale drops the alpha channel: a trace drawn on a
        # transparent background (often stored as transparent black) became all black.
        rgba = image.convert("RGBA")
        see_through = np.asarray(rgba)[..., 3] < 255
        if see_through.any():
            rgba = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
            notes.append(f"transparent pixels ({see_through.mean():.0%} of the image) were laid "
                         f"on white, the background of the training images")
        image = rgba.convert("RGB")
    target_mode = "L" if color_mode == "grayscale" else "RGB"
    if image.mode != target_mode:
        image = image.convert(target_mode)
    if original_mode != target_mode:
        notes.append(f"converted from {original_mode} to "
                     f"{'grayscale' if target_mode == 'L' else 'RGB'}")
    if image.size != (width, height):
        notes.append(f"resized from {image.size[0]}x{image.size[1]} to {width}x{height} pixels "
                     f"(the model's input size)")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    brightness = array.mean(axis=2)
    if brightness.max() - brightness.min() < 1:
        notes.append(f"the image is blank (every pixel {brightness.flat[0]:.0f}): it holds no "
                     f"trace, so the class it gets means nothing")
    elif np.median(brightness) < 128:
        # The model learnt dark traces on white (see beats_to_images): a light trace on a
        # dark background would be read upside down.
        array = 255 - array
        notes.append("the image looked inverted (a light trace on a dark background); it was "
                     "inverted to a dark trace on white, as the model was trained on")
    return array, notes
