"""Where the recordings live, how to load them, and how beats are labelled.

The data root is ``ECG_DATA_DIR`` when set, else a per-user cache
(``$XDG_CACHE_HOME/ecgutils`` or ``~/.cache/ecgutils``). Below it each database has
its own folder, exactly as ``wfdb.dl_database(slug, dl_dir=<root>/<slug>)`` lays it out::

    <root>/mitdb/100.hea, 100.dat, 100.atr, ..., RECORDS
    <root>/qtdb/sele0104.hea, ...

Missing databases or records are downloaded from PhysioNet by :func:`fetch_database`,
which checks every file against PhysioNet's ``SHA256SUMS.txt`` before it is used, and keeps
that list in the database folder. Downloads happen by themselves only into the per-user
cache; with ``ECG_DATA_DIR`` set, only ``python -m ecgutils fetch`` downloads. Files are
checked against the folder's ``SHA256SUMS`` / ``SHA256SUMS.txt`` when it has one (each
file hashed once per process), and annotation files also for their end marker.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import warnings

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # wfdb 4.3 uses a pandas API deprecated in pandas 3
    warnings.simplefilter("ignore")
    import wfdb


__all__ = ["aami_class", "AAMI_CLASSES", "AAMI_MAP", "BEAT_SYMBOLS", "beat_table",
           "check_annotation_file", "check_records_exist", "ChecksumError",
           "class_indices", "class_makeup", "detections_in_episodes", "record_hours",
           "symbols_at",
           "data_dir", "database_dir", "DATABASES", "downloads_allowed", "DS1", "DS2",
           "SMOKE_DS1", "SMOKE_DS2",
           "ensure_records", "fetch_database", "intersect_episodes", "list_records",
           "load_annotations", "load_record", "local_checksums", "merge_intervals",
           "PACED_RECORDS", "pick_lead", "rhythm_episodes", "samples_in_episodes",
           "verify_file",
           "vf_episodes"]

#: PhysioNet versions of the databases the book uses.
DATABASES = {"mitdb": "1.0.0", "qtdb": "1.0.0", "cudb": "1.0.0", "edb": "1.0.0"}
PHYSIONET_URL = "https://physionet.org/files"

#: AAMI EC57 classes and the WFDB beat symbols that belong to each: every symbol of
#: :data:`BEAT_SYMBOLS` has a class, so records of any PhysioNet database (MIT-BIH
#: Supraventricular Arrhythmia's ``B``, R-on-T ``r``, escape ``n``...) are classified.
#: ``B`` (bundle branch block beat, unspecified) is N like ``L`` and ``R``; ``r``
#: (R-on-T premature ventricular contraction) is V; ``?`` (beat not classified during
#: learning) is Q.
#:
#: **Escape beats, one rule:** the supraventricular escape beats ``e`` (atrial), ``j``
#: (nodal) and ``n`` (supraventricular) are all N. The AAMI class table, as de Chazal
#: et al. (2004, Table I) apply it, puts ``e`` and ``j`` in N; ``n``, which MIT-BIH does
#: not use, goes with them: an escape beat comes late, not early, and is conducted like
#: a normal beat. (WFDB's ``bxb`` puts all three in S when asked for S statistics, and in
#: N otherwise; ``rxr`` always in S.) The ventricular escape beat ``E`` is V.
AAMI_CLASSES = ("N", "S", "V", "F", "Q")
AAMI_MAP = {
    **dict.fromkeys("NLRBejn", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VEr", "V"),
    "F": "F",
    **dict.fromkeys("/fQ?", "Q"),
}
#: Annotation symbols that mark a QRS complex (WFDB's ``isqrs`` table). Everything
#: else (rhythm ``+``, noise ``~``, flutter waves ``!``, blocked P waves ``x``...) is not a beat.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
assert set(AAMI_MAP) == BEAT_SYMBOLS, "every WFDB beat symbol needs an AAMI class"
#: Symbols WFDB knows. Anything outside this set in an annotation file is refused.
KNOWN_SYMBOLS = frozenset(wfdb.io.annotation.ann_label_table["symbol"].dropna())

#: MIT-BIH records with a pacemaker (excluded from inter-patient benchmarks).
PACED_RECORDS = ("102", "104", "107", "217")
#: de Chazal, O'Dwyer & Reilly (2004) inter-patient split of MIT-BIH (paced records excluded).
DS1 = ("101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 "
       "223 230").split()
DS2 = ("100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 "
       "233 234").split()
DS1, DS2 = tuple(DS1), tuple(DS2)
#: The records of the smoke profile of chapters 07 and 08 (the same in both, so that
#: their numbers for one seed can be compared): every fifth DS1 record, and DS2's 100,
#: 202 and 222 with 232, the record that holds most of DS2's S beats.
SMOKE_DS1, SMOKE_DS2 = DS1[::5], DS2[::8] + ("232",)


class ChecksumError(ValueError):
    """A data file does not match its published SHA-256, or is cut short."""


# --------------------------------------------------------------------------- locations
def data_dir() -> Path:
    """Return the data root: ``ECG_DATA_DIR`` if set, else the per-user cache.

    A relative ``ECG_DATA_DIR`` is taken from the current folder, or else from the
    book's root folder (the one holding ``_config.yml``), so that notebooks executed in
    ``notebooks/`` find ``ECG_DATA_DIR=../shared/data`` set at the repository root.

    Examples
    --------
    >>> saved = os.environ.pop("ECG_DATA_DIR", None)
    >>> data_dir().name                            # the per-user cache
    'ecgutils'
    >>> os.environ["ECG_DATA_DIR"] = "/data/physionet"
    >>> str(data_dir())
    '/data/physionet'
    >>> _ = os.environ.pop("ECG_DATA_DIR") if saved is None else os.environ.update(ECG_DATA_DIR=saved)
    """
    env = os.environ.get("ECG_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_absolute() and not path.exists():
            # Notebooks run inside notebooks/; a path given relative to the repository
            # root (the folder with _config.yml) must still be found from there.
            for parent in (Path.cwd(), *Path.cwd().parents):
                if (parent / "_config.yml").is_file() and (parent / path).exists():
                    return (parent / path).resolve()
        return path
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "ecgutils"


def database_dir(db: str, root: str | Path | None = None) -> Path:
    """Folder of database ``db`` (e.g. ``"mitdb"``) under the data root."""
    return (Path(root) if root is not None else data_dir()) / db


def _missing_data_message(db: str, where: Path) -> str:
    hint = ""
    root = where.parent
    if root.name in DATABASES or (root / "RECORDS").is_file():
        hint = (f" {root} looks like a database folder itself: ECG_DATA_DIR must name the "
                f"folder that holds it (here {root.parent}).")
    elif os.environ.get("ECG_DATA_DIR") and not root.is_dir():
        hint = f" The data root {root} (ECG_DATA_DIR) does not exist: check its spelling."
    return (f"No '{db}' recordings in {where}.{hint} Point ECG_DATA_DIR at a folder that holds "
            f"'{db}/' (e.g. ECG_DATA_DIR=../shared/data), or download it with "
            f"`python -m ecgutils fetch {db}` (PhysioNet, checksums verified).")


def list_records(db: str = "mitdb", root: str | Path | None = None) -> list[str]:
    """Record names of a local database, from its ``RECORDS`` file or its headers.

    Raises
    ------
    FileNotFoundError
        If the database folder does not exist or holds no records; the message says
        how to get the data.
    """
    folder = database_dir(db, root)
    if not folder.is_dir():
        raise FileNotFoundError(_missing_data_message(db, folder))
    listing = folder / "RECORDS"
    if listing.is_file():
        records = listing.read_text().split()
    else:
        records = sorted(p.stem for p in folder.glob("*.hea"))
    if not records:
        raise FileNotFoundError(_missing_data_message(db, folder))
    return records


# --------------------------------------------------------------------------- loading
def _records_list(records) -> list[str]:
    """Record names as a list of str: ``100``, ``"100"`` and ``"['100', '208']"`` (papermill's
    text) are understood; anything else is refused naming ``records``."""
    from .config import parse_parameter

    return parse_parameter("records", records, "list", item="str")


def _record_base(record: str, db: str, root) -> Path:
    folder = database_dir(db, root)
    if not folder.is_dir():
        raise FileNotFoundError(_missing_data_message(db, folder))
    base = folder / str(record)
    if not base.with_suffix(".hea").is_file():
        raise FileNotFoundError(
            f"Record '{record}' is not in {folder} (no {record}.hea). Check the record name "
            f"(see {db}/RECORDS) or fetch it: eu.data.fetch_database('{db}', records=['{record}']).")
    return base


def load_record(record: str, db: str = "mitdb", root: str | Path | None = None,
                channels: list[int] | None = None, sampfrom: int = 0,
                sampto: int | None = None) -> wfdb.Record:
    """Read one record with wfdb and check it is complete and finite.

    Returns the ``wfdb.Record`` (``p_signal`` in physical units, ``fs``, ``sig_name``...).

    Raises
    ------
    FileNotFoundError
        The database, the header or a signal file it points to is missing.
    ValueError
        The signal file is shorter than its header says (truncated download), or the
        signal holds NaN (invalid samples).
    """
    base = _record_base(record, db, root)
    header = wfdb.rdheader(str(base))
    for fname in dict.fromkeys(header.file_name or []):
        if not (base.parent / fname).is_file():
            raise FileNotFoundError(
                f"Header {base.name}.hea points to signal file '{fname}', which is missing from "
                f"{base.parent}. Re-download the record: "
                f"eu.data.fetch_database('{db}', records=['{record}']).")
    _check_signal_size(base, header, db, record)
    for fname in (f"{base.name}.hea", *dict.fromkeys(header.file_name or [])):
        verify_file(base.parent / fname, db, record)  # hashed once per process
    try:
        rec = wfdb.rdrecord(str(base), channels=channels, sampfrom=sampfrom, sampto=sampto)
    except Exception as err:  # wfdb's own errors do not name the record
        raise ValueError(f"wfdb could not read record {db}/{record}: {err}") from err
    bad = np.isnan(rec.p_signal).sum(axis=0)
    if bad.any():
        ch = int(np.argmax(bad))
        raise ValueError(
            f"Record {db}/{record}, channel '{rec.sig_name[ch]}': {bad[ch]} of {len(rec.p_signal)} "
            f"samples are NaN (invalid values in the signal file). Use another channel or "
            f"record, or re-download it.")
    return rec


def pick_lead(rec: wfdb.Record, preferred=("MLII", "II", "ML2")) -> tuple[np.ndarray, str]:
    """One lead of a record, chosen by name: the first of ``preferred`` present, else lead 0.

    Choosing by name matters: MIT-BIH 114 stores V5 first and MLII second.

    Returns
    -------
    signal : ndarray, shape (n,)
    name : str
    """
    for name in preferred:
        if name in rec.sig_name:
            i = rec.sig_name.index(name)
            return rec.p_signal[:, i], name
    return rec.p_signal[:, 0], rec.sig_name[0]


_BITS_PER_SAMPLE = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
                    "212": 12, "310": 32 / 3, "311": 32 / 3}


def _check_signal_size(base: Path, header: wfdb.Record, db: str, record: str) -> None:
    """Compare each signal file's size with what the header promises (catches truncation)."""
    if not header.sig_len:
        return
    per_file: dict[str, float] = {}    # bits per frame
    offsets: dict[str, int] = {}       # bytes before the first sample (format "212+16")
    for fname, fmt, offset in zip(header.file_name, header.fmt,
                                  header.byte_offset or [0] * header.n_sig):
        bits = _BITS_PER_SAMPLE.get(str(fmt))
        if bits is None:  # compressed formats (508...) cannot be sized up front
            return
        per_file[fname] = per_file.get(fname, 0) + bits
        offsets[fname] = max(offsets.get(fname, 0), int(offset or 0))
    for fname, bits_per_frame in per_file.items():
        expected = offsets[fname] + int(np.floor(bits_per_frame * header.sig_len / 8))
        actual = (base.parent / fname).stat().st_size
        if actual < expected:
            raise ValueError(
                f"Signal file {base.parent / fname} is truncated: {actual} bytes, but header "
                f"{record}.hea needs {expected}. {_refetch_hint(db, record)}")


# --------------------------------------------------------------------------- integrity
#: Checksum lists a database folder may hold: ours (``sha256sum`` output) and PhysioNet's.
SUMS_FILES = ("SHA256SUMS", "SHA256SUMS.txt")
_SUMS_CACHE: dict = {}     # folder -> (key of the sums files, (path, {name: digest}))
_DIGEST_CACHE: dict = {}   # (path, mtime_ns, size) -> sha256: each file is hashed once
_STREAM_CACHE: dict = {}   # (path, mtime_ns, size) -> None or the problem found


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def _parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def local_checksums(folder: str | Path) -> tuple[Path | None, dict[str, str]]:
    """The checksum list of a database folder: its ``SHA256SUMS`` or ``SHA256SUMS.txt``.

    Returns ``(path of the list, {file name: sha256})``, or ``(None, {})`` without one.
    Read once per process (again only if the list changes).
    """
    folder = Path(folder)
    present = [folder / n for n in SUMS_FILES if (folder / n).is_file()]
    key = tuple(_file_key(p) for p in present)
    cached = _SUMS_CACHE.get(str(folder))
    if cached is not None and cached[0] == key:
        return cached[1]
    sums: dict[str, str] = {}
    for p in reversed(present):  # SHA256SUMS wins over SHA256SUMS.txt
        sums.update(_parse_sums(p.read_text(errors="replace")))
    result = (present[0] if present else None, sums)
    _SUMS_CACHE[str(folder)] = (key, result)
    return result


def _cached_sha256(path: Path) -> str:
    key = _file_key(path)
    if key not in _DIGEST_CACHE:
        _DIGEST_CACHE[key] = _sha256(path)
    return _DIGEST_CACHE[key]


def _refetch_hint(db: str, record: str) -> str:
    """What to do about a damaged file: fetch it again from its database; a user's own
    recording (``db`` empty) cannot be fetched."""
    if not db:
        return "Copy or export the record again from where it came from."
    return (f"Delete it and download it again: `python -m ecgutils fetch {db} --records "
            f"{record}` (or point ECG_DATA_DIR at an intact copy).")


def verify_file(path: str | Path, db: str = "mitdb", record: str = "") -> bool:
    """Check one data file against its folder's checksum list, if the list names it.

    Each file is hashed at most once per process (keyed on path, mtime and size).

    Returns
    -------
    bool
        True if checked and intact; False if the folder has no checksum for it.

    Raises
    ------
    ChecksumError
        The file's SHA-256 differs from the list's (truncated, damaged or replaced).
    """
    path = Path(path)
    sums_path, sums = local_checksums(path.parent)
    digest = sums.get(path.name)
    if digest is None:
        return False
    if _cached_sha256(path) != digest:
        raise ChecksumError(
            f"{path} does not match its SHA-256 in {sums_path} ({path.stat().st_size} bytes: "
            f"truncated or damaged). {_refetch_hint(db, record or path.stem)}")
    return True


def _annotation_stream_problem(path: Path) -> str | None:
    """Walk a WFDB (MIT format) annotation file; say what is wrong, or None.

    Each annotation is a 16-bit little-endian word: 6 bits of code, 10 bits of interval.
    Code 59 (SKIP) is followed by a 32-bit interval, code 63 (AUX) by its bytes (padded
    to even); codes 60-62 set fields. The word 0 ends the stream, and must be the last.
    """
    key = _file_key(path)
    if key in _STREAM_CACHE:
        return _STREAM_CACHE[key]
    data = path.read_bytes()
    words = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<u2")
    i, n, problem = 0, len(words), None
    while i < n:
        word = int(words[i])
        if word == 0:
            if 2 * (i + 1) != len(data):
                problem = (f"holds {len(data) - 2 * (i + 1)} bytes after its end marker "
                           f"(byte {2 * i})")
            break
        code, value = word >> 10, word & 0x3FF
        i += 3 if code == 59 else 1 + (value + 1) // 2 if code == 63 else 1
    else:
        problem = (f"stops at byte {len(data)} without the end marker: it is truncated "
                   f"(or not a WFDB annotation file)")
    _STREAM_CACHE[key] = problem
    return problem


def check_annotation_file(path: str | Path, db: str = "mitdb", record: str = "") -> None:
    """Check an annotation file before it is read: against the folder's ``SHA256SUMS``
    (or ``SHA256SUMS.txt``) when it lists the file, and always for the stream's end marker.
    With ``db=""`` (a user's own file, as ``python -m ecgutils score`` reads) the message
    says to copy the file again rather than to fetch it.

    Raises
    ------
    ChecksumError
        The file differs from its checksum, or its stream is cut short or damaged.
    """
    path = Path(path)
    verify_file(path, db, record)
    problem = _annotation_stream_problem(path)
    if problem:
        raise ChecksumError(f"Annotation file {path} {problem}. "
                            f"{_refetch_hint(db, record or path.stem)}")


def load_annotations(record: str, db: str = "mitdb", root: str | Path | None = None,
                     extension: str = "atr") -> wfdb.Annotation:
    """Read a record's annotation file (``.atr`` by default) with wfdb, checked first.

    Raises
    ------
    FileNotFoundError
        No such record or annotation file.
    ChecksumError
        The file does not match the folder's checksum list, or is cut short (no end
        marker): wfdb would silently return only the annotations before the cut.
    ValueError
        Annotations lie past the end of the signal (the file belongs to another record),
        or use symbols WFDB does not know.
    """
    base = _record_base(record, db, root)
    path = base.with_suffix(f".{extension}")
    if not path.is_file():
        raise FileNotFoundError(f"Record {db}/{record} has no annotation file {path.name} "
                                f"in {base.parent}.")
    check_annotation_file(path, db, record)
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as err:  # wfdb's own errors do not name the file
        raise ValueError(f"wfdb could not read annotation file {path}: {err}. "
                         f"{_refetch_hint(db, record)}") from err
    sig_len = wfdb.rdheader(str(base)).sig_len
    if sig_len and len(ann.sample) and int(np.max(ann.sample)) > sig_len:
        raise ValueError(
            f"Annotation file {path} has annotations up to sample {int(np.max(ann.sample))}, "
            f"past the end of the signal ({sig_len} samples in {base.name}.hea): it belongs "
            f"to another record or is damaged. {_refetch_hint(db, record)}")
    ann.aux_note = [a.rstrip("\x00") for a in ann.aux_note]
    unknown = sorted(set(ann.symbol) - KNOWN_SYMBOLS)
    if unknown:
        raise ValueError(f"Record {db}/{record}: unknown annotation symbols {unknown} in "
                         f"{path.name}; they are not WFDB beat or event codes.")
    return ann


# --------------------------------------------------------------------------- labels
def aami_class(symbols, mapping: dict[str, str] | None = None, where: str = "") -> np.ndarray:
    """Map beat symbols to AAMI classes (N, S, V, F, Q).

    Parameters
    ----------
    symbols : sequence of str
        Beat annotation symbols.
    mapping : dict, optional
        Symbol -> class; defaults to :data:`AAMI_MAP`.
    where : str
        Named in the error message (e.g. the record).

    Examples
    --------
    >>> aami_class(["N", "L", "A", "V", "F", "/"]).tolist()
    ['N', 'N', 'S', 'V', 'F', 'Q']
    >>> aami_class(["B", "r", "n", "?"]).tolist()
    ['N', 'V', 'N', 'Q']
    >>> aami_class(["N", "~"])
    Traceback (most recent call last):
    ...
    ValueError: beat symbols without a class: ['~'] (1 beats). Pass mapping= to classify them.
    """
    mapping = AAMI_MAP if mapping is None else mapping
    symbols = np.asarray(symbols, dtype=object)
    out = np.array([mapping.get(s) for s in symbols], dtype=object)
    missing = out == None  # noqa: E711  (elementwise)
    if missing.any():
        bad = sorted(set(symbols[missing]))
        raise ValueError(f"{where + ': ' if where else ''}beat symbols without a class: {bad} "
                         f"({int(missing.sum())} beats). Pass mapping= to classify them.")
    return out.astype(str)


def class_indices(labels, classes) -> np.ndarray:
    """Index of each label in ``classes``; -1 for a label not among them (F, Q beats).

    One mask per class, no loop over beats.

    Examples
    --------
    >>> class_indices(["N", "V", "Q", "S"], ("N", "S", "V")).tolist()
    [0, 2, -1, 1]
    """
    labels = np.asarray(labels).astype(str)
    out = np.full(labels.size, -1, dtype=np.int64)
    for i, c in enumerate(classes):
        out[labels == str(c)] = i
    return out


def beat_table(db: str = "mitdb", records=None, root: str | Path | None = None,
               mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per annotated beat: record, sample, symbol, AAMI class, rhythm in force.

    The rhythm is the last ``+`` rhythm annotation's aux note before the beat, without
    its ``(`` (``N``, ``AFIB``, ``VT``...), or ``""`` before the first one.

    Raises
    ------
    ValueError
        A record has no beat annotations, or a beat symbol has no class in ``mapping``.
    """
    records = list_records(db, root) if records is None else _records_list(records)
    tables = []
    for record in records:
        ann = load_annotations(record, db, root)
        symbols = np.asarray(ann.symbol, dtype=object)
        samples = np.asarray(ann.sample)
        is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
        if not is_beat.any():
            raise ValueError(f"Record {db}/{record} has no beat annotations in its .atr file "
                             f"(only {sorted(set(ann.symbol)) or 'nothing'}); leave it out.")
        is_rhythm = (symbols == "+") & np.char.startswith(
            np.asarray(ann.aux_note, dtype=str), "(")
        rhythm_at = samples[is_rhythm]
        rhythm_name = np.array([""] + [a[1:] for a, r in zip(ann.aux_note, is_rhythm) if r],
                               dtype=object)
        idx = np.searchsorted(rhythm_at, samples[is_beat], side="right")
        tables.append(pd.DataFrame({
            "record": record,
            "sample": samples[is_beat],
            "symbol": symbols[is_beat].astype(str),
            "aami": aami_class(symbols[is_beat], mapping, where=f"record {db}/{record}"),
            "rhythm": rhythm_name[idx].astype(str),
        }))
    return pd.concat(tables, ignore_index=True)


def vf_episodes(ann: wfdb.Annotation, start: int = 0, end: int | None = None) -> np.ndarray:
    """Ventricular flutter/fibrillation episodes, ``[`` ... ``]``, as ``(start, end)`` samples.

    The marks are paired in time order. A record that starts inside an episode (its
    first mark is ``]``) gives an episode from ``start`` (the record's first sample) to
    that ``]``; an episode still open at the end ends at ``end`` (default: the last
    annotation). A repeated ``[`` inside an open episode, or a ``]`` with none open
    after the first episode, changes nothing.

    Examples
    --------
    >>> ann = wfdb.Annotation("x", "atr", sample=np.array([50, 100, 300, 400]),
    ...                       symbol=["]", "[", "]", "N"])
    >>> vf_episodes(ann).tolist()
    [[0, 50], [100, 300]]
    """
    samples = np.asarray(ann.sample, dtype=np.int64)
    symbols = np.asarray(ann.symbol)
    order = np.argsort(samples, kind="stable")
    episodes, open_at, seen_mark = [], None, False
    for s, sym in zip(samples[order], symbols[order]):
        if sym == "[":
            if open_at is None:
                open_at = int(s)
            seen_mark = True
        elif sym == "]":
            if open_at is not None:
                episodes.append((open_at, int(s)))
                open_at = None
            elif not seen_mark:  # the record starts inside an episode
                episodes.append((int(start), int(s)))
            seen_mark = True
    if open_at is not None:
        episodes.append((open_at, int(samples.max() if end is None else end)))
    return np.asarray(episodes, dtype=np.int64).reshape(-1, 2)


# --------------------------------------------------------------------------- download
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, dest: Path, sha256: str) -> None:
    """Fetch ``url`` to ``dest`` through a ``.part`` file; only a verified file gets the name."""
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
            expected_len = resp.headers.get("Content-Length")
        if expected_len is not None and part.stat().st_size != int(expected_len):
            raise ChecksumError(f"{dest.name}: download stopped early "
                                f"({part.stat().st_size} of {expected_len} bytes) from {url}")
        got = _sha256(part)
        if got != sha256:
            raise ChecksumError(f"{dest.name}: SHA-256 {got} does not match PhysioNet's "
                                f"{sha256} ({url}). The file was not kept; try again later.")
        os.replace(part, dest)
    except urllib.error.URLError as err:
        raise ConnectionError(f"could not download {url}: {err}") from err
    finally:
        part.unlink(missing_ok=True)


def _read_checksums(db: str, base_url: str) -> dict[str, str]:
    url = f"{base_url}/SHA256SUMS.txt"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            text = resp.read().decode()
    except urllib.error.URLError as err:
        raise ConnectionError(f"could not fetch the checksum list of '{db}' from {url}: {err}. "
                              f"Are you online? Otherwise set ECG_DATA_DIR to a local copy.") from err
    sums = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    if not sums:
        raise ChecksumError(f"{url} holds no checksums")
    return sums


def fetch_database(db: str, records=None, root: str | Path | None = None,
                   base_url: str | None = None, progress: bool = True) -> Path:
    """Download a PhysioNet database (or some of its records), verified by SHA-256.

    Each file goes to ``<name>.part`` and gets its real name only once its SHA-256
    matches PhysioNet's ``SHA256SUMS.txt``; files already present and matching are kept.
    The list itself is kept as ``<db>/SHA256SUMS.txt``, so that the files are checked
    again offline (:func:`verify_file`). This always downloads; :func:`ensure_records`
    calls it only where downloading is allowed.

    Parameters
    ----------
    db : str
        PhysioNet slug, one of :data:`DATABASES` (or any slug if ``base_url`` is given).
    records : list of str, optional
        Only these records (all files ``<record>.*``); default: every record in ``RECORDS``.
    root : path, optional
        Data root; default :func:`data_dir`.
    base_url : str, optional
        Where the database's files are; default ``https://physionet.org/files/<db>/<version>``.
        ``ECG_PHYSIONET_URL`` overrides the PhysioNet host (used by the tests).

    Returns
    -------
    Path
        The database folder.
    """
    if base_url is None:
        if db not in DATABASES:
            raise ValueError(f"unknown database '{db}'; known: {sorted(DATABASES)}")
        host = os.environ.get("ECG_PHYSIONET_URL", PHYSIONET_URL).rstrip("/")
        base_url = f"{host}/{db}/{DATABASES[db]}"
    folder = database_dir(db, root)
    sums = _read_checksums(db, base_url)  # offline: fails here, before any folder is made
    folder.mkdir(parents=True, exist_ok=True)
    top_level = {name: digest for name, digest in sums.items() if "/" not in name}
    if records is None:
        if "RECORDS" not in top_level:
            raise ChecksumError(f"{base_url}/SHA256SUMS.txt does not list RECORDS")
        _fetch_one(folder, "RECORDS", base_url, top_level["RECORDS"])
        records = (folder / "RECORDS").read_text().split()
    wanted = {str(r) for r in records}
    names = sorted(n for n in top_level if n.rsplit(".", 1)[0] in wanted)
    absent = wanted - {n.rsplit(".", 1)[0] for n in names}
    if absent:
        raise FileNotFoundError(f"'{db}' at {base_url} has no records {sorted(absent)}")
    try:
        from tqdm.auto import tqdm
        iterator = tqdm(names, desc=f"fetch {db}", disable=not progress)
    except ImportError:  # pragma: no cover
        iterator = names
    for name in iterator:
        _fetch_one(folder, name, base_url, top_level[name])
    # Keep PhysioNet's list next to the files, so later runs check them offline.
    listing = folder / "SHA256SUMS.txt"
    text = "".join(f"{d}  {n}\n" for n, d in sorted(top_level.items()))
    if not listing.is_file() or listing.read_text() != text:
        tmp = listing.with_name(listing.name + ".part")
        tmp.write_text(text)
        os.replace(tmp, listing)
    return folder


def _fetch_one(folder: Path, name: str, base_url: str, digest: str) -> None:
    dest = folder / name
    if dest.is_file() and _sha256(dest) == digest:
        return
    _download(f"{base_url}/{name}", dest, digest)


def _record_problems(folder: Path, record: str, sums: dict[str, str]) -> list[str]:
    """Files of ``record`` that are missing: its header, the signal files the header names,
    and every file of the record the folder's checksum list names (e.g. its ``.atr``)."""
    hea = folder / f"{record}.hea"
    if not hea.is_file():
        return [hea.name]
    try:
        names = list(wfdb.rdheader(str(folder / record)).file_name or [])
    except Exception:  # an unreadable header: fetch the record again
        return [hea.name]
    names += [n for n in sums if n.rsplit(".", 1)[0] == record]
    return [n for n in dict.fromkeys(names) if not (folder / n).is_file()]


def downloads_allowed(root: str | Path | None = None) -> bool:
    """Data are downloaded implicitly only into the default cache: not when
    ``ECG_DATA_DIR`` is set (a typo there must not grow a new tree) nor for a given
    ``root``. ``python -m ecgutils fetch`` downloads anywhere, since it is asked to."""
    return root is None and not os.environ.get("ECG_DATA_DIR")


def ensure_records(db: str, records=None, root: str | Path | None = None,
                   download: bool | None = None) -> Path:
    """Return the database folder once the records are complete, downloading if allowed.

    A record is complete when its header, the signal files the header names, and every
    file of it the folder's ``SHA256SUMS``/``SHA256SUMS.txt`` lists (its ``.atr``) are
    present, and those the list names match their checksums (each hashed once per
    process). Without ``records``, every record of the folder's ``RECORDS`` file is
    checked, or a folder that only holds some headers (e.g. one cudb record) is used as
    it is.

    Parameters
    ----------
    download : bool, optional
        Fetch missing or damaged files from PhysioNet. Default (None): only when the data
        root is the per-user cache (``ECG_DATA_DIR`` unset and no ``root``). With
        ``ECG_DATA_DIR`` set, nothing is created or downloaded: a missing ``<db>/``
        folder or file is an error that says how to fix it.

    Raises
    ------
    FileNotFoundError
        The folder or some files are missing and downloading is not allowed.
    ChecksumError
        A file differs from the folder's checksum list and downloading is not allowed.
    """
    folder = database_dir(db, root)
    download = downloads_allowed(root) if download is None else bool(download)
    records = None if records is None else _records_list(records)
    if not folder.is_dir():
        if not download:
            raise FileNotFoundError(_missing_data_message(db, folder))
        return fetch_database(db, records=records, root=root)
    if records is None:
        if (folder / "RECORDS").is_file():
            records = (folder / "RECORDS").read_text().split()
        elif any(folder.glob("*.hea")):  # a partial local copy (e.g. one cudb record)
            records = sorted(p.stem for p in folder.glob("*.hea"))
        elif download:
            return fetch_database(db, root=root)
        else:
            raise FileNotFoundError(_missing_data_message(db, folder))
    records = _records_list(records)
    _, sums = local_checksums(folder)
    missing = {r: m for r in records if (m := _record_problems(folder, r, sums))}
    damaged = {}
    for r in records:
        if r in missing:
            continue
        for name in sums:
            if name.rsplit(".", 1)[0] == r:
                try:
                    verify_file(folder / name, db, r)
                except ChecksumError as err:
                    damaged[r] = str(err)
                    break
    bad = sorted(set(missing) | set(damaged))
    if not bad:
        return folder
    if download:
        return fetch_database(db, records=bad, root=root)
    if damaged:
        raise ChecksumError(next(iter(damaged.values())))
    shown = "; ".join(f"{r}: {', '.join(m)}" for r, m in list(missing.items())[:5])
    more = f" (and {len(missing) - 5} more records)" if len(missing) > 5 else ""
    raise FileNotFoundError(
        f"'{db}' in {folder} lacks files of {len(missing)} record(s): {shown}{more}. "
        f"Fetch them with `python -m ecgutils fetch {db} --records {' '.join(sorted(missing))}`"
        f", or point ECG_DATA_DIR at a complete copy.")


# --------------------------------------------------------------------------- episodes
def rhythm_episodes(ann: wfdb.Annotation, rhythms=("VFL", "VF"), end: int | None = None
                    ) -> np.ndarray:
    """Intervals during which one of ``rhythms`` is in force, as ``(start, end)`` samples.

    A rhythm starts at a ``+`` annotation whose aux note is ``(`` + its name (``(VFL``)
    and lasts until the next rhythm annotation, or until ``end`` (default: the last
    annotation) if none follows.

    Examples
    --------
    >>> ann = wfdb.Annotation("x", "atr", sample=np.array([0, 100, 250, 300]),
    ...                       symbol=["+", "+", "+", "N"], aux_note=["(N", "(VFL", "(N", ""])
    >>> rhythm_episodes(ann).tolist()
    [[100, 250]]
    """
    samples = np.asarray(ann.sample, dtype=np.int64)
    symbols = np.asarray(ann.symbol)
    aux = np.asarray([a.rstrip("\x00") for a in (ann.aux_note or [""] * len(samples))], dtype=str)
    is_rhythm = (symbols == "+") & np.char.startswith(aux, "(")
    starts = samples[is_rhythm]
    names = np.char.lstrip(aux[is_rhythm], "(")
    stops = np.append(starts[1:], samples[-1] if end is None else end)
    keep = np.isin(names, list(rhythms))
    return np.stack([starts[keep], stops[keep]], axis=1).reshape(-1, 2)


def intersect_episodes(a, b) -> np.ndarray:
    """Intersection of two sets of ``(start, end)`` intervals (each set non-overlapping).

    Examples
    --------
    >>> intersect_episodes([(0, 10), (20, 30)], [(5, 25)]).tolist()
    [[5, 10], [20, 25]]
    """
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.int64).reshape(-1, 2)
    start = np.maximum(a[:, None, 0], b[None, :, 0])
    stop = np.minimum(a[:, None, 1], b[None, :, 1])
    keep = stop > start
    out = np.stack([start[keep], stop[keep]], axis=1)
    return out[np.argsort(out[:, 0])] if len(out) else out.reshape(0, 2)


def merge_intervals(intervals) -> np.ndarray:
    """Union of ``(start, end)`` intervals (inclusive), as sorted disjoint intervals.

    Intervals that overlap or touch are joined.

    Examples
    --------
    >>> merge_intervals([(5, 9), (0, 2), (8, 12), (20, 25)]).tolist()
    [[0, 2], [5, 12], [20, 25]]
    >>> merge_intervals([]).shape
    (0, 2)
    """
    iv = np.asarray(intervals, dtype=np.int64).reshape(-1, 2)
    if iv.size == 0:
        return iv
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    reach = np.maximum.accumulate(iv[:, 1])
    new = np.ones(len(iv), bool)
    new[1:] = iv[1:, 0] > reach[:-1]   # a new run starts past everything before it
    return np.stack([iv[new, 0], np.maximum.reduceat(iv[:, 1], np.flatnonzero(new))], axis=1)


def class_makeup(beats: pd.DataFrame, cls: str = "N", symbols="NLRej") -> dict:
    """What one AAMI class of a :func:`beat_table` is made of.

    Returns ``{"all": every beat, "class": beats of class cls, symbol: beats of class
    cls with that symbol, ...}`` for each of ``symbols`` (0 for a symbol with none).

    Examples
    --------
    >>> beats = pd.DataFrame({"symbol": list("NNLeV"), "aami": list("NNNNV")})
    >>> class_makeup(beats, "N", "NLR")
    {'all': 5, 'class': 4, 'N': 2, 'L': 1, 'R': 0}
    """
    members = beats.loc[beats["aami"] == cls, "symbol"]
    counts = members.value_counts().reindex(list(symbols), fill_value=0)
    return {"all": len(beats), "class": len(members), **{s: int(n) for s, n in counts.items()}}


def record_hours(records, db: str = "mitdb", root: str | Path | None = None) -> float:
    """Hours of recording in ``records`` (read from their headers).

    Examples
    --------
    >>> record_hours([], "mitdb")
    0.0
    """
    heads = [wfdb.rdheader(str(database_dir(db, root) / str(r))) for r in records]
    return float(sum(h.sig_len / h.fs for h in heads) / 3600)


def symbols_at(records, samples, db: str = "mitdb", root: str | Path | None = None) -> np.ndarray:
    """The reference annotation symbol at each ``(record, sample)`` (``""`` where none).

    Examples
    --------
    >>> symbols_at([], [], "mitdb").tolist()
    []
    """
    records, samples = np.asarray(records, dtype=str), np.asarray(samples, dtype=np.int64)
    out = np.full(len(records), "", dtype=object)
    for record in np.unique(records):  # one annotation file per record
        ann = load_annotations(record, db, root)
        order = np.argsort(ann.sample, kind="stable")
        marks, symbols = np.asarray(ann.sample)[order], np.asarray(ann.symbol, dtype=object)[order]
        rows = np.flatnonzero(records == record)
        i = np.clip(np.searchsorted(marks, samples[rows]), 0, max(len(marks) - 1, 0))
        hit = (marks[i] == samples[rows]) if len(marks) else np.zeros(len(rows), bool)
        out[rows] = np.where(hit, symbols[i] if len(marks) else "", "")
    return out.astype(str)


def detections_in_episodes(record: str, db: str = "mitdb", root: str | Path | None = None) -> int:
    """How many R peaks of :func:`ecgutils.signal.detect_r_peaks` (on the lead of
    :func:`pick_lead`) fall inside the record's ventricular flutter/fibrillation episodes
    (:func:`vf_episodes`): detections that WFDB's ``bxb`` leaves out, since those
    stretches hold no beats to match.
    """
    from . import signal as _signal

    rec = load_record(record, db, root)
    peaks = _signal.detect_r_peaks(pick_lead(rec)[0], rec.fs)
    episodes = vf_episodes(load_annotations(record, db, root))
    return int(samples_in_episodes(peaks, episodes).sum())


def samples_in_episodes(samples, episodes) -> np.ndarray:
    """True for each sample inside any ``(start, end)`` interval (inclusive).

    The one "which samples fall in the episodes" test of the package: ``episodes`` may
    overlap and come in any order (an ``(n, 2)`` array, a list of pairs, or a DataFrame
    with ``start`` and ``end`` columns such as :func:`ecgutils.stt.st_episodes` returns).
    One binary search per sample, so it scales to every beat of a long record.

    Examples
    --------
    >>> samples_in_episodes([0, 5, 10, 15, 30], [(25, 40), (4, 10)]).tolist()
    [False, True, True, False, True]
    >>> samples_in_episodes([1, 2], []).tolist()
    [False, False]
    """
    if isinstance(episodes, pd.DataFrame):
        episodes = episodes[["start", "end"]].to_numpy()
    merged = merge_intervals(episodes)
    samples = np.asarray(samples, dtype=np.int64)
    if merged.size == 0:
        return np.zeros(samples.shape, bool)
    i = np.searchsorted(merged[:, 0], samples, side="right") - 1
    return (i >= 0) & (samples <= merged[np.clip(i, 0, None), 1])


def check_records_exist(records, db: str = "mitdb", root=None) -> list[str]:
    """Return ``records`` as strings, or raise if one is not a record of ``db``.

    The names are checked against the database's ``RECORDS`` list when the database is
    present locally (a name missing there is a typo, not a download to make); with no
    local copy, :func:`ecgutils.data.ensure_records` checks them against PhysioNet.

    Raises
    ------
    FileNotFoundError
        Naming the missing record(s) and the folder looked in.
    """
    records = _records_list(records)  # "100, 999" as parse_parameter reads it
    if not records:
        raise ValueError("parameter 'records' is empty")
    if len(set(records)) != len(records):
        raise ValueError(f"parameter 'records' repeats records: {records}")
    folder = database_dir(db, root)
    if folder.is_dir():
        known = set(list_records(db, root))
        missing = [r for r in records if r not in known]
        if missing:
            raise FileNotFoundError(
                f"record(s) {missing} are not in database '{db}' at {folder} "
                f"(see its RECORDS file; e.g. {sorted(known)[:3]}...)")
    return records
