"""Annotate your own recordings: read, label every beat, write a table, annotations, a report.

For each WFDB, EDF/BDF or CSV/TXT file (:mod:`ecgutils.recordings`), one call of
:func:`annotate_files` writes into ``out_dir``:

- ``<name>_beats.csv``: the beat table (:func:`ecgutils.beat_table.annotate_signal`);
- ``<name>.<ext>``: the same beats as a WFDB annotation file (``wfdb.rdann`` reads it);
- ``<name>_report.html`` and ``<name>_report.txt``: the Holter-style report
  (:mod:`ecgutils.holter`).

Everything is checked before the long work: every input (format, lead, sampling rate of
CSV files), the model, the output folder, and that no output file exists already
(nothing is overwritten). Each file is written whole or not at all.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from .annotate import InputError, load_classifier
from .beat_table import annotate_signal, write_beat_table
from .holter import write_report
from .recordings import read_recording

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["annotate_files", "output_paths"]


def output_paths(out_dir, name: str, extension: str = "cls", report: bool = True) -> dict:
    """The files :func:`annotate_files` writes for a record called ``name``."""
    out = Path(out_dir)
    paths = {"beats": out / f"{name}_beats.csv", "annotations": out / f"{name}.{extension}"}
    if report:
        paths |= {"html": out / f"{name}_report.html", "text": out / f"{name}_report.txt"}
    return paths


def _write_annotations(table, name, extension, fs, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".annotate-"))
    try:
        wfdb.wrann(name, extension, sample=table["sample"].to_numpy(),
                   symbol=list(table["label"]), fs=fs, write_dir=str(tmp))
        os.replace(tmp / f"{name}.{extension}", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _say(line: str, file=None) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=file or sys.stdout)


def annotate_files(paths, model, out_dir, fs=None, lead=None, column=None, units=None,
                   extension: str = "cls", report: bool = True, quality=None,
                   progress: bool = True) -> list[dict]:
    """Label every beat of each recording and write its table, annotations and report.

    Parameters
    ----------
    paths : sequence of str or Path
        WFDB records, EDF/BDF files, CSV/TXT files (mixed formats are fine).
    model : str or Path
        A chapter-07 model file (``.keras`` or ``_forest.joblib``).
    out_dir : str or Path
        Folder for the outputs (made if missing).
    fs, lead, column, units
        As :func:`ecgutils.recordings.read_recording`, for every file.
    extension : str
        WFDB annotator name of the annotation files (letters and digits).
    report : bool
        Write the HTML and text reports too.
    quality : callable, optional
        ``quality(signal, fs) -> bool array`` (True where readable) for each lead;
        default: every sample readable.
    progress : bool
        A tqdm progress bar across records.

    Returns
    -------
    list of dict
        Per record: ``recording`` (:class:`~ecgutils.recordings.Recording`), ``table``,
        ``summary`` (:func:`ecgutils.holter.holter_summary`, with a report) and ``paths``.
    """
    from tqdm import tqdm

    if not str(extension).isalnum():
        raise InputError(f"--ext '{extension}' must be letters and digits (a WFDB annotator)")
    # Cheap checks first: every file's header, lead and rate (the samples are read later,
    # one recording at a time), then the model.
    names = [read_recording(p, fs, lead, column, units, header_only=True).name for p in paths]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"several inputs are named {twice}: their outputs would collide; "
                         f"annotate them into different --out folders")
    loaded, spec = load_classifier(model)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=out, prefix=".probe-").close()
    except OSError as err:
        raise InputError(f"--out '{out}' is not a writable folder ({err.strerror}); pick "
                         f"another") from err
    for name in names:
        for target in output_paths(out, name, extension, report).values():
            if target.exists():
                raise InputError(f"{target} exists: annotate never overwrites a file; remove "
                                 f"it or choose another --out")
    results = []
    for path in tqdm(paths, desc="records", unit="record", disable=not progress,
                     file=sys.stderr):
        start = time.perf_counter()
        rec = read_recording(path, fs, lead, column, units)
        _say(rec.describe())
        for note in rec.warnings:
            _say(f"warning: {note}", file=sys.stderr)
        mask = None if quality is None else quality(rec.signal, rec.fs)
        try:
            table = annotate_signal(rec.signal, rec.fs, loaded, spec=spec, quality=mask,
                                    lead=rec.lead)
        except InputError as err:
            raise InputError(f"'{rec.path}': {err}") from err
        targets = output_paths(out, rec.name, extension, report)
        write_beat_table(table, targets["beats"])
        _write_annotations(table, rec.name, extension, rec.fs, targets["annotations"])
        summary = None
        if report:
            share = None if mask is None else float(np.mean(mask))
            summary = write_report(table, rec.signal, rec.fs, targets["html"], targets["text"],
                                   rec.name, rec.lead, share)
        counts = table["label"].value_counts().reindex(list(spec.classes), fill_value=0)
        _say(f"{targets['beats']}: {len(table)} beats {counts.to_dict()} in "
             f"{time.perf_counter() - start:.1f} s")
        results.append({"recording": rec, "table": table, "summary": summary,
                        "paths": targets})
    return results
