"""Records -> beats: the one beat table of the book and the one container that carries it.

Every chapter starts from the same beats. :func:`record_beats` turns records into
them: for each record one lead (chosen by name), its sampling rate, the R marks and
the class of every beat. The marks are either the reference annotation's (moved to
the R peak of the band-passed lead, or kept as annotated) or the book's detector's
(:func:`ecgutils.signal.detect_r_peaks`), each detection labelled with the reference
beat it matches. Every representation is a function of that table:

==========================================  ==============================================
representation                              of the beat table
==========================================  ==============================================
``images.collect_windows``                  0.8-s windows at 360 Hz, chapter 02's symbols
``stt.load_record_beats``                   both leads, denoised, 0.2-s windows (ST-T)
``spectrograms.extract_record_beats``       detected beats, 2-s z-scored windows
``kaggle_beats.build_kaggle_beats``         187-sample beats of 10-s windows (Kachuee)
``interpatient.build_beats``                P-wave windows, template channel, RR features
``pipelines.PIPELINES[name].build_inputs``  each approach's model inputs
==========================================  ==============================================

:class:`Beats` carries beats through the book: per-beat metadata (``record``,
``sample``, ``label``, optional ``db`` and ``source``) and the representation arrays the
beats carry (``windows``, ``rr``, ``X``, ``x``...), each with the beats on its first axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import data as _data
from . import signal as _signal

__all__ = ["Beats", "LEADS", "MARKS", "record_beats"]

#: Lead preference of every chapter: the first of these a record has, else its lead 0.
LEADS = ("MLII", "II", "ML2")
#: Where the beats of :func:`record_beats` sit.
MARKS = ("reference", "detected")
_META = ("record", "sample", "label", "db", "source")


@dataclass(init=False, repr=False, eq=False)
class Beats:
    """Beats of one or more records: where each one is, its class, and what it carries.

    Parameters
    ----------
    record : array of str, shape (n,)
        Record of each beat (``""`` when unknown, as for the real Kaggle CSVs).
    sample : array of int, shape (n,)
        R mark in samples of the record at its own rate (-1 when unknown).
    label : array of str, shape (n,)
        Class of each beat: an AAMI class (N, S, V, F, Q), or the class name of another
        task (``"normal"``/``"abnormal"``); ``""`` for a detection that matches no
        reference beat.
    classes : tuple of str
        The task's classes: :attr:`y` indexes them.
    db, source : array of str, shape (n,), optional
        Database of each beat; where it came from (``"built"``, a CSV file's name...).
    signals : dict, optional
        Record -> ``{"signal", "fs", "lead", ...}``: the lead the marks belong to, as
        :func:`record_beats` gives it.
    **arrays : ndarray, or list of ndarrays
        Representations, beats on the first axis, read as attributes (``beats.windows``,
        ``beats.rr``, ``beats.X``, ``beats.x``). A list holds the inputs of a model with
        several inputs, each with the beats on its first axis.

    Attributes
    ----------
    y : ndarray of int, shape (n,)
        Index of each label in ``classes``; -1 for a label not among them (F and Q beats
        of an N/S/V task, unmatched detections).

    See Also
    --------
    record_beats : the beats of records, where every representation starts.

    Examples
    --------
    >>> beats = Beats(["100", "100", "101"], [10, 20, 30], ["N", "V", "F"],
    ...               classes=("N", "S", "V"), X=np.zeros((3, 4)))
    >>> len(beats), beats.y.tolist(), beats.X.shape
    (3, [0, 2, -1], (3, 4))
    >>> part = beats.subset(beats.y >= 0)
    >>> part.record.tolist(), part.X.shape
    (['100', '100'], (2, 4))
    >>> len(Beats.concat([beats, part])), beats.counts().loc["100"].tolist()
    (5, [0, 1, 1])
    """

    record: np.ndarray
    sample: np.ndarray
    label: np.ndarray
    classes: tuple
    db: np.ndarray | None
    source: np.ndarray | None
    arrays: dict
    signals: dict

    def __init__(self, record, sample, label, *, classes=_data.AAMI_CLASSES, db=None,
                 source=None, signals=None, **arrays):
        label = np.asarray(label).astype(str)
        n = len(label)
        object.__setattr__(self, "arrays", {})
        self.label = label
        self.record = np.asarray(record).astype(str)
        self.sample = np.asarray(sample).astype(np.int64)
        self.classes = tuple(classes)
        self.db = None if db is None else np.asarray(db).astype(str)
        self.source = None if source is None else np.asarray(source).astype(str)
        self.signals = dict(signals or {})
        self.arrays.update(arrays)
        for name in _META:
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"Beats: '{name}' has {len(value)} rows, label has {n}")
        for name, value in self.arrays.items():
            for part in (value if isinstance(value, (list, tuple)) else [value]):
                if len(part) != n:
                    raise ValueError(f"Beats: '{name}' has {len(part)} rows, label has {n}")

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"Beats has no array {name!r} (it carries {sorted(arrays)})")

    def __setattr__(self, name, value):
        if name in self.__dict__.get("arrays", {}):
            self.arrays[name] = value
        else:
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"Beats({len(self)} beats, {len(set(self.record))} records, "
                f"classes={self.classes}, arrays={sorted(self.arrays)})")

    def __len__(self) -> int:
        return len(self.label)

    @property
    def y(self) -> np.ndarray:
        return _data.class_indices(self.label, self.classes)

    def _parts(self) -> dict:
        return {name: getattr(self, name) for name in _META}

    def subset(self, index) -> "Beats":
        """The beats at ``index`` (integer indices or a boolean mask), every array sliced."""
        meta = {k: None if v is None else v[index] for k, v in self._parts().items()}
        arrays = {k: [a[index] for a in v] if isinstance(v, (list, tuple)) else v[index]
                  for k, v in self.arrays.items()}
        return Beats(**meta, classes=self.classes, signals=self.signals, **arrays)

    @classmethod
    def concat(cls, items) -> "Beats":
        """The beats of ``items`` one after the other (same classes and arrays).

        ``db`` and ``source`` are kept where every item has them.
        """
        items = list(items)
        if not items:
            raise ValueError("Beats.concat: no beats given")
        first = items[0]
        for other in items[1:]:
            if other.classes != first.classes or sorted(other.arrays) != sorted(first.arrays):
                raise ValueError(f"Beats.concat: {other} does not match {first}")
        meta = {k: None if any(getattr(i, k) is None for i in items)
                else np.concatenate([getattr(i, k) for i in items]) for k in _META}
        arrays = {}
        for k, v in first.arrays.items():
            if isinstance(v, (list, tuple)):
                arrays[k] = [np.concatenate(p) for p in zip(*(i.arrays[k] for i in items))]
            else:
                arrays[k] = np.concatenate([i.arrays[k] for i in items])
        signals = {}
        for i in items:
            signals.update(i.signals)
        return cls(**meta, classes=first.classes, signals=signals, **arrays)

    def records_mask(self, records) -> np.ndarray:
        """Mask of the beats of ``records``."""
        return np.isin(self.record, [str(r) for r in records])

    def counts(self) -> pd.DataFrame:
        """Beats per record (rows) and class (columns), integers."""
        return pd.crosstab(pd.Series(self.record, name="record"),
                           pd.Series(self.label, name="class"))

    def to_frame(self, array: str = "X") -> pd.DataFrame:
        """The Kaggle layout: the columns of a 2-D array (``X``: 0..186), then its
        number of columns (187) = :attr:`y`, then ``record`` and ``sample``."""
        values = self.arrays[array]
        frame = pd.DataFrame(values)
        frame[values.shape[1]] = self.y
        frame["record"] = self.record
        frame["sample"] = self.sample
        return frame


def _pick(rec, lead):
    """One lead by name preference (a sequence of names), by index (an int), or every
    lead (``None``: a 2-D signal)."""
    if lead is None:
        return rec.p_signal, ",".join(rec.sig_name)
    if isinstance(lead, (int, np.integer)):
        return rec.p_signal[:, int(lead)], rec.sig_name[int(lead)]
    return _data.pick_lead(rec, tuple(lead))


def record_beats(records, db: str = "mitdb", root=None, *, marks: str = "reference",
                 lead=LEADS, mapping: dict | None = None, r_search_s: float | None = 0.1,
                 tolerance_s: float = 0.15) -> Beats:
    """The beats of ``records``: one lead, its rate, the R marks and each beat's class.

    The one way from records to beats: every chapter's representation (images,
    spectrograms, Kaggle-format beats, P-wave windows, RR features) starts here.
    Reference beats are the annotated beats of :func:`ecgutils.data.beat_table` that
    lie inside the signal, in increasing order.

    Parameters
    ----------
    records : str or sequence of str
    db : str
        Database folder under the data root (one database per call).
    root : path, optional
        Data root (default: :func:`ecgutils.data.data_root`'s).
    marks : {"reference", "detected"}
        ``"reference"``: the annotated beats, each moved to the largest deflection of
        the band-passed (0.5-40 Hz) lead within ``r_search_s`` (some databases mark
        the QRS onset, e.g. the European ST-T excerpts of the QT Database, about 40 ms
        before R). ``"detected"``: the R peaks of
        :func:`ecgutils.signal.detect_r_peaks`, each labelled with the reference beat it
        matches within ``tolerance_s`` (``""`` for a false detection); the counts of
        :func:`ecgutils.signal.label_detections` are in ``signals[record]["detector"]``.
    lead : sequence of str, int or None
        Names in order of preference (the record's lead 0 if it has none of them), a
        lead index, or None for every lead (``signal`` is then 2-D).
    mapping : dict, optional
        Beat symbol -> class (default :data:`ecgutils.data.AAMI_MAP`); every beat symbol
        of the records needs one.
    r_search_s : float or None
        Reference marks: how far to look for R; None keeps the marks as annotated.
    tolerance_s : float
        Detected marks: the matching window.

    Returns
    -------
    Beats
        ``record``, ``sample`` (R, at the record's own rate), ``label`` (class, via
        ``mapping``), ``db`` and the array ``symbol`` (the annotation symbol; ``""``
        for a false detection); ``signals[record]``: ``signal`` (the lead, physical
        units, not filtered), ``fs``, ``lead`` (its name), and the header's
        ``sig_name`` (every lead's name) and ``comments``.

    Raises
    ------
    ValueError
        A record has no beat annotations, or a beat symbol no class in ``mapping``.

    See Also
    --------
    Beats : the container.
    ecgutils.data.beat_table : the annotations as a table.
    ecgutils.signal.refine_to_r, ecgutils.signal.label_detections

    Examples
    --------
    >>> beats = record_beats(["100"])                          # doctest: +SKIP
    >>> beats.signals["100"]["fs"], beats.counts().loc["100", "V"]  # doctest: +SKIP
    (360.0, 1)
    """
    from . import config as _config

    _config.check_choice("marks", marks, MARKS)
    records = [str(records)] if isinstance(records, str) else [str(r) for r in records]
    if not records:
        raise ValueError("record_beats: no records given")
    parts = []
    for record in records:
        rec = _data.load_record(record, db, root)
        x, name = _pick(rec, lead)
        fs = float(rec.fs)
        table = _data.beat_table(db, [record], root, mapping)
        samples = table["sample"].to_numpy()
        keep = (samples >= 0) & (samples < rec.sig_len)
        keep &= np.concatenate([[True], np.diff(samples) > 0])
        table = table[keep]
        samples = table["sample"].to_numpy()
        info = {"signal": x, "fs": fs, "lead": name, "sig_name": list(rec.sig_name),
                "comments": list(rec.comments)}
        if marks == "detected":
            one = x if x.ndim == 1 else x[:, 0]
            peaks = _signal.detect_r_peaks(one, fs)
            labels, info["detector"] = _signal.label_detections(
                samples, table["aami"].to_numpy(), peaks, fs, tolerance_s)
            symbols, _ = _signal.label_detections(samples, table["symbol"].to_numpy(), peaks,
                                                  fs, tolerance_s)
            samples = peaks
        else:
            labels, symbols = table["aami"].to_numpy(), table["symbol"].to_numpy()
            if r_search_s is not None:
                one = x if x.ndim == 1 else x[:, 0]
                filtered = _signal.bandpass_filter(one, fs, 0.5, 40.0)
                samples = _signal.refine_to_r(filtered, samples, fs, r_search_s)
        n = len(samples)
        parts.append(Beats(np.full(n, record), samples, labels, db=np.full(n, db),
                           signals={record: info}, symbol=np.asarray(symbols).astype(str)))
    return Beats.concat(parts)
