"""Annotate your own recordings: read, label every beat, write a table, annotations, a report.

For each WFDB, EDF/BDF or CSV/TXT file (:mod:`ecgutils.recordings`), one call of
:func:`annotate_files` writes into ``out_dir``:

- ``<name>_beats.csv``: the beat table (:func:`ecgutils.beat_table.annotate_signal`);
- ``<name>.<ext>``: the same beats as a WFDB annotation file (``wfdb.rdann`` reads it);
- ``<name>_report.html`` and ``<name>_report.txt``: the Holter-style report
  (:mod:`ecgutils.holter`).

Everything is checked before the long work: every input (format, lead, sampling rate of
CSV files), the model, the output folder, and that no output file exists already
(nothing is overwritten without ``force``). A run writes all its files at the end, or
none if a recording fails.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from .annotate import (RESERVED_EXTENSIONS, InputError, _commit, _own_files, check_record,
                       load_classifier)
from .beat_table import annotate_signal, write_beat_table
from .holter import write_report
from .pretrained import resolve_model
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


def _write_annotations(table, stretches, name, extension, fs, n_samples, folder: Path) -> Path:
    """The classified beats (N S V) and, per WFDB convention, a ``~`` at the start of each
    unreadable stretch (subtype -1) and at its end (subtype 0), in ``folder``."""
    beats = table[table["readable"]]
    starts = [a for a, _, _ in stretches]
    ends = [e for _, e, _ in stretches if e < n_samples]
    sample = np.concatenate([beats["sample"].to_numpy(), starts, ends]).astype(np.int64)
    symbol = np.array(list(beats["label"]) + ["~"] * (len(starts) + len(ends)), dtype=object)
    subtype = np.concatenate([np.zeros(len(beats), np.int64), np.full(len(starts), -1),
                              np.zeros(len(ends), np.int64)])
    order = np.argsort(sample, kind="stable")
    wfdb.wrann(name, extension, sample=sample[order], symbol=list(symbol[order]),
               subtype=subtype[order], fs=fs, write_dir=str(folder))
    return folder / f"{name}.{extension}"


def _unreadable_line(table, fs: float) -> str:
    stretches = table.attrs.get("stretches", [])
    if not stretches:
        return "all readable"
    kinds: dict[str, float] = {}
    for start, end, kind in stretches:
        kinds[kind] = kinds.get(kind, 0.0) + (end - start) / fs
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in kinds.items())
    return (f"{table.attrs['unreadable']:.1%} unreadable ({parts}; "
            f"{int((~table['readable']).sum())} detections there not classified)")


def _check_targets(inputs, out: Path, extension: str, report: bool, table: bool,
                   force: bool) -> dict:
    """Every output file of every input, after checking that none is an input's own file,
    two inputs do not share one, none is a folder, and none exists (unless ``force``)."""
    if extension.lower() in RESERVED_EXTENSIONS:
        raise InputError(f"--ext '{extension}' names a record's own files (.hea, .dat, "
                         f".atr); pick another annotator name, e.g. cls")
    own = set()
    for rec in inputs:
        own |= _own_files(check_record(rec.path)) if rec.format == "wfdb" else {
            Path(rec.path).resolve()}
    targets, seen = {}, {}
    for rec in inputs:
        paths = output_paths(out, rec.name, extension, report)
        if not table:
            paths.pop("beats")
        for target in paths.values():
            key = target.resolve()
            if key in seen:
                raise InputError(f"'{seen[key]}' and '{rec.path}' would both be written to "
                                 f"{target}; annotate them into different --out folders")
            seen[key] = rec.path
            if key in own:
                raise InputError(f"{target} is one of the files of a recording given; pick "
                                 f"another --ext or --out")
            if target.is_dir():
                raise InputError(f"{target} is a folder; pick another --ext or --out")
            if (target.exists() or target.is_symlink()) and not force:
                raise InputError(f"{target} exists already; pick another --ext or --out, or "
                                 f"give --force to replace it (the old file is kept as a "
                                 f"backup)")
        targets[rec.path] = paths
    return targets


def _say(line: str, file=None) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=file or sys.stdout)


def annotate_files(paths, model, out_dir, fs=None, lead=None, column=None, units=None,
                   extension: str = "cls", report: bool = True, quality="auto",
                   progress: bool = True, force: bool = False, table: bool = True,
                   say=None, adapt: bool = False) -> list[dict]:
    """Label every beat of each recording and write its table, annotations and report.

    Before anything is written, every input is checked (format, lead, sampling rate), the
    model is loaded, and every target is computed and checked: no input's own file (a
    record's ``.hea``, ``.dat``, ``.atr``), no two inputs to one file, no existing file
    unless ``force``. The files are written in a temporary folder and moved into place
    only when every recording has been labelled: a run writes all its files or none. With
    ``force`` an existing file is moved to ``<name>.bak`` (``.bak2``...) first.

    Parameters
    ----------
    paths : sequence of str or Path
        WFDB records, EDF/BDF files, CSV/TXT files (mixed formats are fine).
    model : str, Path or None
        A chapter-07 model file (``.keras`` or ``_forest.skops``); None: the model that
        ships with ecgutils (:func:`ecgutils.pretrained.default_model_path`).
    out_dir : str or Path
        Folder for the outputs (made if missing).
    fs, lead, column, units
        As :func:`ecgutils.recordings.read_recording`, for every file.
    extension : str
        WFDB annotator name of the annotation files (letters and digits; never hea, dat
        or atr).
    report : bool
        Write the HTML and text reports too.
    quality : "auto", callable or None
        As :func:`ecgutils.beat_table.annotate_signal` takes it; a callable
        ``quality(signal, fs) -> bool array`` (True where readable) is called per lead.
    progress : bool
        A tqdm progress bar across records.
    force : bool
        Replace existing files, keeping each old one as a backup.
    table : bool
        Write the CSV beat table too.
    say : callable, optional
        Where the one-line messages go (default: printed above the progress bar).
    adapt : bool
        Record-adaptive labels (``--adapt``): as :func:`ecgutils.beat_table.annotate_signal`
        takes it.

    Returns
    -------
    list of dict
        Per record: ``recording`` (:class:`~ecgutils.recordings.Recording`), ``table``,
        ``summary`` (:func:`ecgutils.holter.holter_summary`, with a report) and ``paths``.
    """
    from tqdm import tqdm

    say = say or _say
    extension = str(extension)
    if not extension.isalnum():
        raise InputError(f"--ext '{extension}' must be letters and digits (a WFDB annotator)")
    # Cheap checks first: every file's header, lead and rate (the samples are read later,
    # one recording at a time), then every target, then the model.
    inputs = [read_recording(p, fs, lead, column, units, header_only=True) for p in paths]
    out = Path(out_dir)
    targets = _check_targets(inputs, out, extension, report, table, force)
    loaded, spec = load_classifier(resolve_model(model))
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out, prefix=".annotate-"))
    except OSError as err:
        raise InputError(f"--out '{out}' is not a writable folder ({err.strerror}); pick "
                         f"another") from err
    results, staged = [], []
    try:
        for i, (path, header) in enumerate(tqdm(list(zip(paths, inputs)), desc="records",
                                                unit="record", disable=not progress,
                                                file=sys.stderr)):
            start = time.perf_counter()
            rec = read_recording(path, fs, lead, column, units)
            say(rec.describe())
            for note in rec.warnings:
                say(f"warning: {note}")
            mask = quality(rec.signal, rec.fs) if callable(quality) else quality
            try:
                beats = annotate_signal(rec.signal, rec.fs, loaded, spec=spec, quality=mask,
                                        lead=rec.lead, adapt=adapt)
            except InputError as err:
                raise InputError(f"'{rec.path}': {err}; nothing was written") from err
            wanted = targets[header.path]
            folder = tmp / str(i)
            folder.mkdir()
            staged.append((_write_annotations(beats, beats.attrs.get("stretches", []),
                                              rec.name, extension, rec.fs, rec.signal.size,
                                              folder), wanted["annotations"]))
            if table:
                staged.append((write_beat_table(beats, folder / wanted["beats"].name),
                               wanted["beats"]))
            summary = None
            if report:
                html, text = folder / wanted["html"].name, folder / wanted["text"].name
                summary = write_report(beats, rec.signal, rec.fs, html, text, rec.name,
                                       rec.lead, 1.0 - beats.attrs.get("unreadable", 0.0))
                staged += [(html, wanted["html"]), (text, wanted["text"])]
            counts = beats["label"][beats["readable"]].value_counts().reindex(
                list(spec.classes), fill_value=0)
            say(f"{wanted['annotations']}: {int(beats['readable'].sum())} beats "
                f"{counts.to_dict()} from lead {rec.lead} at {rec.fs:g} Hz, "
                f"{_unreadable_line(beats, rec.fs)}, in {time.perf_counter() - start:.1f} s")
            results.append({"recording": rec, "table": beats, "summary": summary,
                            "paths": wanted})
        backups = _commit(staged)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)  # only the folder this run made
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    for backup in backups:
        say(f"kept the file it replaced as {backup}")
    return results
