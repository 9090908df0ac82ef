"""Apply a saved chapter-07 model to any WFDB record, and score annotation files.

Command line (see ``python -m ecgutils annotate --help``)::

    python -m ecgutils annotate path/to/800 [path/to/801 ...] --model results/07_new_patients.keras --out DIR
    python -m ecgutils annotate path/to/800 --model results/07_new_patients_forest.skops --out DIR
    python -m ecgutils score path/to/800 --ref atr --test cls

``annotate`` finds the R peaks with the book's detector (no reference annotation is
needed), classifies every beat and writes ``DIR/<record>.<ext>``, a WFDB annotation file
of AAMI labels (``N S V``) that ``wfdb.rdann`` reads. Stretches that are missing, flat or
noise (:mod:`ecgutils.quality`) are not classified but marked ``~``. It writes only files
it creates: never a record's own files, never an existing file without ``--force``, and
all files of a run at once, at the end. ``score`` checks both annotation files of a
record (whole, at the record's rate, inside the signal), compares them beat by beat
(150 ms) and prints EC57 gross statistics.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from . import data as _data
from . import ec57
from . import quality as _quality
from .interpatient import BeatSpec, record_inputs
from .signal import detect_r_peaks

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["MODEL_KIND", "MIN_SECONDS", "annotate_records", "choose_lead",
           "classify_signal", "read_lead", "score_records"]

#: ``kind`` stored in the preprocessing of a chapter-07 model file.
MODEL_KIND = "interpatient_beat_classifier"
#: Shortest record the command takes: the detector and the RR features need a rhythm.
MIN_SECONDS = 10.0


class InputError(ValueError):
    """Bad input to the command line: printed as one ``error:`` line, no traceback."""


def _record_path(path) -> Path:
    p = Path(str(path))
    if p.suffix in (".hea", ".dat", ".atr"):
        p = p.with_suffix("")
    return p


def _header_fs(hea: Path) -> float | None:
    """The sampling rate written in a header's record line, None if it gives none (wfdb
    would then silently assume 250 Hz)."""
    for line in hea.read_text(errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            fields = line.split()
            if len(fields) < 3:
                return None
            try:
                return float(fields[2].split("/")[0].split("(")[0])
            except ValueError:
                return None
    return None


def _signal_files(base: Path, header) -> list[Path]:
    """The files a record consists of: its header, and the signal files its header (or
    its segments' headers) names."""
    files = [base.with_suffix(".hea")]
    if isinstance(header, wfdb.MultiRecord):
        for name in header.seg_name:
            if name != "~":
                files.append(base.parent / f"{name}.hea")
                seg = wfdb.rdheader(str(base.parent / name))
                files += [base.parent / f for f in dict.fromkeys(seg.file_name or [])]
    else:
        files += [base.parent / f for f in dict.fromkeys(header.file_name or [])]
    return files


def check_record(path, signal: bool = True) -> Path:
    """The record's base path if its header can be read and names a sampling rate, and
    (``signal=True``: to classify it) its signal files are there and whole and it is long
    enough; else InputError."""
    base = _record_path(path)
    hea = base.with_suffix(".hea")
    if not hea.is_file():
        raise InputError(f"record '{path}': no header {hea}. Give the record as wfdb names "
                         f"it (folder/name, no extension)")
    try:
        header = wfdb.rdheader(str(base))
        files = _signal_files(base, header)
    except Exception as err:  # wfdb's parse errors do not name the file
        raise InputError(f"record '{path}': header {hea} (or a segment's) cannot be read "
                         f"({err}); fix or re-export the record") from err
    fs = _header_fs(hea)
    if fs is None:
        raise InputError(f"record '{path}': header {hea} gives no sampling rate (wfdb would "
                         f"guess 250 Hz); write the rate after the number of signals")
    if not fs > 0:
        raise InputError(f"record '{path}': header {hea} gives sampling rate {fs:g} Hz; it "
                         f"must be positive (fix the header)")
    if not signal:
        return base
    if not header.n_sig:
        raise InputError(f"record '{path}' has no signals in its header; nothing to classify")
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise InputError(f"record '{path}': {', '.join(missing)} missing from {base.parent} "
                         f"(the header names them); copy the whole record")
    if header.sig_len is not None and header.sig_len < MIN_SECONDS * fs:
        raise InputError(f"record '{path}' is {header.sig_len / fs:.1f} s long; the "
                         f"classifier needs at least {MIN_SECONDS:.0f} s (a rhythm to compare "
                         f"each beat with)")
    if not isinstance(header, wfdb.MultiRecord):
        try:
            _data._check_signal_size(base, header, "", base.name)  # "": not fetched
        except ValueError as err:
            raise InputError(f"record '{path}': {err}") from err
    return base


def _own_files(base: Path) -> set:
    header = wfdb.rdheader(str(base))
    return {f.resolve() for f in _signal_files(base, header)} | {
        base.with_suffix(".atr").resolve()}


def _read_channel(base: Path, i: int) -> np.ndarray:
    try:
        rec = wfdb.rdrecord(str(base), channels=[i], m2s=True, smooth_frames=True)
    except Exception as err:  # wfdb's own errors do not name the record
        raise InputError(f"record '{base}': its signal cannot be read ({err}); the files are "
                         f"damaged: copy or export the record again") from err
    x = np.asarray(rec.p_signal if rec.p_signal is not None else rec.d_signal, float)
    return x[:, 0]


def lead_names(base: Path, header=None) -> list[str]:
    """The names of a record's leads; a multi-segment record's come from a segment."""
    header = wfdb.rdheader(str(base)) if header is None else header
    names = header.sig_name
    if names is None and isinstance(header, wfdb.MultiRecord):  # names are in a segment's header
        first = next(n for n in header.seg_name if n != "~")
        names = wfdb.rdheader(str(base.parent / first)).sig_name
    return list(names or [f"signal {i}" for i in range(header.n_sig)])


def choose_lead(path, leads=BeatSpec.leads):
    """The lead to classify: the first of ``leads`` present, else the record's first,
    unless it is mostly unreadable (:func:`ecgutils.quality.ecg_quality`); then the
    readable lead with most clean signal. Samples that are invalid stay NaN.

    Returns
    -------
    signal : ndarray, shape (n,)
    fs : float
    lead : str
    notes : list of str
        Why each preferred lead was passed over (empty if the first choice was taken).

    See Also
    --------
    read_lead : the same without the notes.
    """
    base = check_record(path)
    header = wfdb.rdheader(str(base))
    fs = _header_fs(base.with_suffix(".hea"))
    names = lead_names(base, header)
    order = [names.index(n) for n in leads if n in names]
    order += [i for i in range(len(names)) if i not in order]
    notes, best = [], None
    for i in order:
        x = _read_channel(base, i)
        quality = _quality.ecg_quality(x, fs)
        clean = float(np.mean(quality == 0))
        if clean >= 0.5:
            if notes:
                notes.append(f"lead {names[i]} used instead")
            return x, fs, names[i], notes
        counts = np.bincount(quality, minlength=len(_quality.QUALITY_LABELS)) / len(quality)
        worst = _quality.QUALITY_LABELS[1 + int(np.argmax(counts[1:]))]
        notes.append(f"lead {names[i]} is {1 - clean:.0%} unreadable, mostly {worst}")
        if best is None or clean > best[0]:
            best = (clean, x, names[i])
    if best is not None and best[0] > 0:
        notes.append(f"lead {best[2]} used instead: the least unreadable")
        return best[1], fs, best[2], notes
    raise InputError(f"record '{path}' has no usable lead ({'; '.join(notes)}); check the "
                     f"recording")


def read_lead(path, leads=BeatSpec.leads):
    """One usable lead of a record: the first of ``leads`` present, else the most readable
    lead (see :func:`choose_lead`). Returns ``(signal, fs, lead_name)``; NaN where the
    record's samples are invalid."""
    x, fs, lead, _ = choose_lead(path, leads)
    return x, fs, lead


def classify_signal(model, spec: BeatSpec, x, fs: float, r_samples=None, batch_size: int = 2048):
    """Beat samples and AAMI labels of one lead; R peaks detected unless given. Labels
    follow the spec's operating point where the model file holds one (``spec.labels``).

    Every beat is classified, whatever the signal quality;
    :func:`ecgutils.annotate_signal` first leaves out the beats of unreadable stretches.
    """
    if r_samples is None:
        r_samples = detect_r_peaks(x, fs)
    if len(r_samples) < 3:
        raise InputError(f"only {len(r_samples)} beats found: too few to classify")
    windows, rr = record_inputs(x, fs, r_samples, spec)
    proba = model.predict([windows, rr], batch_size=batch_size, verbose=0)
    return np.asarray(r_samples), spec.labels(proba)


def _check_classifier(model, spec: BeatSpec, model_path) -> None:
    """A model ``annotate`` can apply: a Keras model whose inputs are the spec's beat
    windows and RR features, or a ``BeatForest``."""
    if hasattr(model, "forest") and hasattr(model, "spec"):
        return
    if not hasattr(model, "inputs"):
        raise InputError(f"model '{model_path}' holds a bare {type(model).__name__}, not a "
                         f"chapter-07 classifier; save a forest as "
                         f"eu.interpatient.BeatForest(forest, spec) with eu.experiment.save_model")
    want = [(spec.window_length, spec.n_channels), (len(spec.feature_names),)]
    got = [tuple(t.shape[1:]) for t in model.inputs]
    if got != want or tuple(model.outputs[0].shape[1:]) != (len(spec.classes),):
        raise InputError(f"model '{model_path}' takes inputs {got} and gives "
                         f"{tuple(model.outputs[0].shape[1:])} outputs, but its preprocessing "
                         f"makes {want} for {len(spec.classes)} classes: it was not built by "
                         f"chapter 07 for this preprocessing; re-run chapter 07")


def load_classifier(model_path):
    """``(model, spec)`` of a chapter-07 model file, or InputError saying what is wrong."""
    from .experiment import load_model

    try:
        model, pre = load_model(model_path, expect=MODEL_KIND)
        spec = BeatSpec.from_dict(pre["spec"])
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        said = str(err)
        raise InputError(said if str(model_path) in said else f"model '{model_path}': {said}"
                         ) from err
    _check_classifier(model, spec, model_path)
    return model, spec


#: Extensions that name a record's own files: never written by ``annotate``.
RESERVED_EXTENSIONS = ("hea", "dat", "atr")


def _backup_name(target: Path) -> Path:
    candidate, n = target.with_name(target.name + ".bak"), 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = target.with_name(f"{target.name}.bak{n}")
    return candidate


def _commit(staged: list[tuple[Path, Path]]) -> list[Path]:
    """Move each staged file to its target, an existing target first to a backup; if a
    move fails, undo the moves made so the run leaves everything as it was."""
    done, backups = [], []
    try:
        for tmp, target in staged:
            if target.exists() or target.is_symlink():
                backup = _backup_name(target)
                os.replace(target, backup)
                backups.append((backup, target))
            os.replace(tmp, target)
            done.append(target)
    except OSError:
        for target in done:
            target.unlink(missing_ok=True)
        for backup, target in backups:
            os.replace(backup, target)
        raise
    return [b for b, _ in backups]


def annotate_records(records, model_path, out_dir, extension: str = "cls",
                     progress=print, force: bool = False) -> list[Path]:
    """Classify every beat of each WFDB record and write ``out_dir/<record>.<extension>``.

    The command line's path (:func:`ecgutils.own_recording.annotate_files`) without the
    beat table and the report: every record and target is checked before anything is
    written (no record's own file, no two records to one file, no existing file unless
    ``force``), and a run writes all its files or none. Each file holds the classified
    beats (``N S V``) and, per WFDB convention, a ``~`` at the start of each unreadable
    stretch (subtype -1) and at its end (subtype 0).

    Returns
    -------
    list of Path
        The files written.
    """
    from .own_recording import annotate_files

    for record in records:
        check_record(record)
    done = annotate_files(records, model_path, out_dir, extension=extension, report=False,
                          table=False, progress=False, force=force, say=progress)
    return [d["paths"]["annotations"] for d in done]


def _aami_labels(ann, where: str) -> tuple[np.ndarray, np.ndarray]:
    symbols = np.asarray(ann.symbol, dtype=object)
    is_beat = np.isin(symbols, list(_data.BEAT_SYMBOLS))
    labels = _data.aami_class(symbols[is_beat], where=where)
    return np.asarray(ann.sample)[is_beat], labels


def _read_checked_annotations(base: Path, ext: str, fs: float, sig_len) -> "wfdb.Annotation":
    """An annotation file of a record, checked as the book's loader checks its data: a
    whole WFDB stream (end marker), the record's sampling rate, annotations inside the
    signal. InputError naming the file otherwise."""
    path = base.with_suffix(f".{ext}")
    if not path.is_file():
        raise InputError(f"record '{base}' has no annotation file {path}")
    try:
        _data.check_annotation_file(path, db="", record=base.name)  # "": not fetched
    except ValueError as err:  # its message names the file and says what to do
        raise InputError(str(err)) from err
    try:
        ann = wfdb.rdann(str(base), ext)
    except Exception as err:  # wfdb's own errors do not name the file
        raise InputError(f"annotation file {path} cannot be read ({err}); annotate the "
                         f"record again") from err
    if ann.fs is not None and abs(float(ann.fs) - fs) > 1e-6 * fs:
        raise InputError(f"annotation file {path} is at {float(ann.fs):g} Hz but record "
                         f"{base.name} is at {fs:g} Hz: it belongs to another version of the "
                         f"record; annotate the record again")
    samples = np.asarray(ann.sample)
    if len(samples) and (samples.min() < 0 or (sig_len and samples.max() >= sig_len)):
        raise InputError(f"annotation file {path} has annotations at sample "
                         f"{int(samples.max())}, outside the signal ({sig_len} samples in "
                         f"{base.name}.hea): it belongs to another record")
    return ann


def score_records(records, ref: str = "atr", test: str = "cls", tolerance_s: float = 0.15,
                  learning_s: float = ec57.LEARNING_S):
    """EC57 gross statistics of test against reference annotations, pooled over records.

    The first ``learning_s`` seconds of each record are not scored (EC57's learning
    period; 0 scores every beat); a record with no reference beat after it is refused.

    Both files of each record are checked first (:func:`ecgutils.data.check_annotation_file`:
    complete, with the end marker; at the record's sampling rate; beats inside the
    signal), and a reference without beats is refused: there would be nothing to score.

    Returns ``(statistics, per_record)`` as :func:`ecgutils.ec57.gross_statistics` and
    ``per_record_statistics`` give them (QRS detection Se/+P added to the statistics).
    """
    if learning_s < 0:
        raise InputError(f"--learning-s must be 0 or more seconds, got {learning_s}")
    reference, predicted, names = [], [], []
    for record in records:
        base = check_record(record, signal=False)
        fs = _header_fs(base.with_suffix(".hea"))
        sig_len = wfdb.rdheader(str(base)).sig_len
        anns = {ext: _read_checked_annotations(base, ext, fs, sig_len) for ext in (ref, test)}
        try:
            rs, rl = _aami_labels(anns[ref], f"{base}.{ref}")
            ts, tl = _aami_labels(anns[test], f"{base}.{test}")
        except ValueError as err:
            raise InputError(str(err)) from err
        if len(rs) == 0:
            raise InputError(f"reference {base}.{ref} has no beat annotations: nothing to "
                             f"score against; give another --ref")
        if not ec57.learning_mask(rs, fs, learning_s).any():
            raise InputError(f"record '{record}' has no reference beat after the first "
                             f"{learning_s:g} s, the learning period EC57 leaves out; pass "
                             f"--learning-s 0 to score the whole record")
        r, p = ec57.match_annotations(rs, rl, ts, tl, fs, tolerance_s, learning_s)
        reference += r
        predicted += p
        names += [base.name] * len(r)
    stats = ec57.gross_statistics(reference, predicted)
    if "qrs" not in stats:  # every beat matched
        n = int(np.sum(np.asarray(reference) != ec57.MISSING))
        stats["qrs"] = {"tp": n, "fn": 0, "fp": 0, "se": 1.0, "ppv": 1.0}
    return stats, ec57.per_record_statistics(reference, predicted, names)


def _pct(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.2%}"


def _num(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.3f}"


def format_statistics(stats: dict) -> str:
    """The gross statistics as a few aligned lines of text (n/a: no beat to count; a
    class absent from the reference has Se and F1 n/a).

    Examples
    --------
    >>> print(format_statistics(ec57.gross_statistics(list("NNSV"), list("NNNV"))))
    beats scored: 4
    N: Se 100.00%  +P 66.67%  F1 0.800  (TP 2, FN 0, FP 1)
    S: Se 0.00%  +P n/a  F1 0.000  (TP 0, FN 1, FP 0)
    V: Se 100.00%  +P 100.00%  F1 1.000  (TP 1, FN 0, FP 0)
    accuracy 75.00%  kappa 0.556  j n/a  jk n/a
    >>> print(format_statistics(ec57.gross_statistics(list("NNN"), list("NNV"))).splitlines()[2])
    S: Se n/a  +P n/a  F1 n/a  (TP 0, FN 0, FP 0)
    """
    head = f"beats scored: {stats['n_beats']}"
    if "qrs" in stats:
        head += f"   QRS Se {_pct(stats['qrs']['se'])}  +P {_pct(stats['qrs']['ppv'])}"
    lines = [head]
    for c in ("N", "S", "V"):
        s = stats[c]
        # a class absent from the reference has no F1 (not 0: nothing was missed)
        f1 = s["f1"] if s["tp"] + s["fn"] else None
        lines.append(f"{c}: Se {_pct(s['se'])}  +P {_pct(s['ppv'])}  F1 {_num(f1)}  "
                     f"(TP {s['tp']}, FN {s['fn']}, FP {s['fp']})")
    lines.append(f"accuracy {_pct(stats['accuracy'])}  kappa {_num(stats['kappa'])}  "
                 f"j {_num(stats['j_index'])}  jk {_num(stats['jk_index'])}")
    return "\n".join(lines)
