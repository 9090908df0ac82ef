"""Apply a saved chapter-07 model to any WFDB record, and score annotation files.

Command line (see ``python -m ecgutils annotate --help``)::

    python -m ecgutils annotate path/to/800 [path/to/801 ...] --model results/07_new_patients.keras --out DIR
    python -m ecgutils annotate path/to/800 --model results/07_new_patients_forest.joblib --out DIR
    python -m ecgutils score path/to/800 --ref atr --test cls

``annotate`` finds the R peaks with the book's detector (no reference annotation is
needed), classifies every beat and writes ``DIR/<record>.<ext>``, a WFDB annotation file
of AAMI labels (``N S V``) that ``wfdb.rdann`` reads. ``score`` compares two annotation
files of a record beat by beat (150 ms) and prints EC57 gross statistics.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from . import data as _data
from . import ec57
from .interpatient import BeatSpec, record_inputs
from .signal import detect_r_peaks

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["MODEL_KIND", "MIN_SECONDS", "annotate_records", "classify_signal", "read_lead",
           "score_records"]

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


def check_record(path) -> Path:
    """The record's base path if its header exists and it is long enough, else InputError."""
    base = _record_path(path)
    if not base.with_suffix(".hea").is_file():
        raise InputError(f"record '{path}': no header {base.with_suffix('.hea')}. Give the "
                         f"record as wfdb names it (folder/name, no extension)")
    try:
        header = wfdb.rdheader(str(base))
    except Exception as err:  # wfdb's parse errors do not name the file
        raise InputError(f"record '{path}': header {base}.hea cannot be read ({err})") from err
    if not header.n_sig:
        raise InputError(f"record '{path}' has no signals in its header; nothing to classify")
    if header.sig_len is not None and header.sig_len < MIN_SECONDS * header.fs:
        raise InputError(f"record '{path}' is {header.sig_len / header.fs:.1f} s long; the "
                         f"classifier needs at least {MIN_SECONDS:.0f} s (a rhythm to compare "
                         f"each beat with)")
    return base


def read_lead(path, leads=BeatSpec.leads):
    """One usable lead of a record: the first of ``leads`` present, else any other lead
    without invalid samples and not flat. Returns ``(signal, fs, lead_name)``."""
    base = check_record(path)
    header = wfdb.rdheader(str(base))
    names = list(header.sig_name)
    order = [names.index(n) for n in leads if n in names]
    order += [i for i in range(len(names)) if i not in order]
    problems = []
    for i in order:
        try:
            rec = _data.load_record(base.name, db=base.parent.name, root=base.parent.parent,
                                    channels=[i])
        except (ValueError, FileNotFoundError) as err:
            problems.append(f"{names[i]}: {err}")
            continue
        x = rec.p_signal[:, 0]
        if np.ptp(x) <= 0:
            problems.append(f"{names[i]}: flat")
            continue
        return x, float(rec.fs), names[i]
    raise InputError(f"record '{path}' has no usable lead ({'; '.join(problems)}). Check the "
                     f"signal file, or re-download the record")


def classify_signal(model, spec: BeatSpec, x, fs: float, r_samples=None, batch_size: int = 2048):
    """Beat samples and AAMI labels of one lead; R peaks detected unless given."""
    if r_samples is None:
        r_samples = detect_r_peaks(x, fs)
    if len(r_samples) < 3:
        raise InputError(f"only {len(r_samples)} beats found: too few to classify")
    windows, rr = record_inputs(x, fs, r_samples, spec)
    proba = model.predict([windows, rr], batch_size=batch_size, verbose=0)
    return np.asarray(r_samples), np.asarray(spec.classes)[proba.argmax(axis=1)]


def load_classifier(model_path):
    """``(model, spec)`` of a chapter-07 model file, or InputError saying what is wrong."""
    from .experiment import load_model

    try:
        model, pre = load_model(model_path, expect=MODEL_KIND)
    except (FileNotFoundError, ValueError) as err:
        raise InputError(f"model '{model_path}': {err}") from err
    return model, BeatSpec.from_dict(pre["spec"])


def annotate_records(records, model_path, out_dir, extension: str = "cls",
                     progress=print) -> list[Path]:
    """Classify every beat of each record and write ``out_dir/<record>.<extension>``.

    Every record and the model are checked before any of them is processed. Each file
    is written in a temporary folder and moved into place whole.
    """
    if not extension.isalnum():
        raise InputError(f"--ext '{extension}' must be letters and digits (a WFDB annotator)")
    bases = [check_record(r) for r in records]
    model, spec = load_classifier(model_path)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe-")
        probe.close()
    except OSError as err:
        raise InputError(f"--out '{out}' is not a writable folder ({err.strerror}); pick "
                         f"another") from err
    written = []
    for base in bases:
        start = time.perf_counter()
        x, fs, lead = read_lead(base, spec.leads)
        try:
            samples, labels = classify_signal(model, spec, x, fs)
        except InputError as err:
            raise InputError(f"record '{base}': {err}") from err
        tmp = Path(tempfile.mkdtemp(dir=out, prefix=".annotate-"))
        try:
            wfdb.wrann(base.name, extension, sample=samples, symbol=list(labels), fs=fs,
                       write_dir=str(tmp))
            target = out / f"{base.name}.{extension}"
            os.replace(tmp / f"{base.name}.{extension}", target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        written.append(target)
        counts = {c: int(np.sum(labels == c)) for c in spec.classes}
        progress(f"{target}: {len(labels)} beats {counts} from lead {lead} at {fs:g} Hz "
                 f"in {time.perf_counter() - start:.1f} s")
    return written


def _aami_labels(ann, where: str) -> tuple[np.ndarray, np.ndarray]:
    symbols = np.asarray(ann.symbol, dtype=object)
    is_beat = np.isin(symbols, list(_data.BEAT_SYMBOLS))
    labels = _data.aami_class(symbols[is_beat], where=where)
    return np.asarray(ann.sample)[is_beat], labels


def score_records(records, ref: str = "atr", test: str = "cls", tolerance_s: float = 0.15,
                  learning_s: float = ec57.LEARNING_S):
    """EC57 gross statistics of test against reference annotations, pooled over records.

    The first ``learning_s`` seconds of each record are not scored (EC57's learning
    period; 0 scores every beat); a record with no reference beat after it is refused.

    Returns ``(statistics, per_record)`` as :func:`ecgutils.ec57.gross_statistics` and
    ``per_record_statistics`` give them (QRS detection Se/+P added to the statistics).
    """
    if learning_s < 0:
        raise InputError(f"--learning-s must be 0 or more seconds, got {learning_s}")
    reference, predicted, names = [], [], []
    for record in records:
        base = check_record(record)
        anns = {}
        for ext in (ref, test):
            if not base.with_suffix(f".{ext}").is_file():
                raise InputError(f"record '{record}' has no annotation file "
                                 f"{base.with_suffix('.' + ext)}")
            try:
                anns[ext] = wfdb.rdann(str(base), ext)
            except Exception as err:
                raise InputError(f"annotation file {base}.{ext} cannot be read ({err})") from err
        fs = anns[ref].fs or wfdb.rdheader(str(base)).fs
        try:
            rs, rl = _aami_labels(anns[ref], f"{base}.{ref}")
            ts, tl = _aami_labels(anns[test], f"{base}.{test}")
        except ValueError as err:
            raise InputError(str(err)) from err
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
    """The gross statistics as a few aligned lines of text (n/a: no beat to count).

    Examples
    --------
    >>> print(format_statistics(ec57.gross_statistics(list("NNSV"), list("NNNV"))))
    beats scored: 4
    N: Se 100.00%  +P 66.67%  F1 0.800  (TP 2, FN 0, FP 1)
    S: Se 0.00%  +P n/a  F1 0.000  (TP 0, FN 1, FP 0)
    V: Se 100.00%  +P 100.00%  F1 1.000  (TP 1, FN 0, FP 0)
    accuracy 75.00%  kappa 0.556  j n/a  jk n/a
    """
    head = f"beats scored: {stats['n_beats']}"
    if "qrs" in stats:
        head += f"   QRS Se {_pct(stats['qrs']['se'])}  +P {_pct(stats['qrs']['ppv'])}"
    lines = [head]
    for c in ("N", "S", "V"):
        s = stats[c]
        lines.append(f"{c}: Se {_pct(s['se'])}  +P {_pct(s['ppv'])}  F1 {_num(s['f1'])}  "
                     f"(TP {s['tp']}, FN {s['fn']}, FP {s['fp']})")
    lines.append(f"accuracy {_pct(stats['accuracy'])}  kappa {_num(stats['kappa'])}  "
                 f"j {_num(stats['j_index'])}  jk {_num(stats['jk_index'])}")
    return "\n".join(lines)
