"""Read one ECG lead from the files people have: WFDB, EDF/EDF+/BDF, CSV or TXT.

Every reader returns a :class:`Recording`: one lead in millivolts, its sampling rate, its
name and what was decided on the way (which lead, which units, and why). Bad input gives
:class:`ecgutils.annotate.InputError` naming the file and what to do.

- **WFDB** (``folder/name``, or its ``.hea``/``.dat``): read with wfdb, as
  ``python -m ecgutils annotate`` always did; units from the header.
- **EDF, EDF+, BDF, BDF+** (``.edf``, ``.bdf``): read with pyedflib. wfdb's own reader
  (``wfdb.io.convert.edf.read_edf``) reads plain 16-bit EDF only: it refuses BDF (24-bit)
  and fails on EDF+ files, whose mandatory "EDF Annotations" signal it treats as a lead
  (tests/test_recordings.py keeps both facts checked). Units from the header's physical
  dimension.
- **CSV/TXT** (``.csv``, ``.txt``, ``.tsv``): comma, semicolon, tab or space separated,
  with or without a header row, decimal commas in semicolon-separated files; ``#``
  starts a comment. The file does not say its
  sampling rate, so ``fs`` is required; ``column`` picks a column by name or number.

Which lead: the one asked for (``lead``, or ``column`` in a CSV file), else the first of
the model's leads (MLII, II, ML2; "ECG II" or "Lead II" count too), else the first ECG
signal, with a warning: the book's models were trained on MLII, a limb lead.

Units (see :func:`infer_units`): given (``units``), else the file's own (WFDB, EDF), else
inferred from the QRS amplitude. The model scales every record by its own median QRS
amplitude, so units change no label; they set the millivolt axis of the report's strip.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .annotate import MIN_SECONDS, InputError
from .interpatient import BeatSpec
from .signal import bandpass_filter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["FORMATS", "UNITS", "Recording", "lead_by_name", "infer_units", "lead_key",
           "read_recording", "recording_format"]

#: File suffixes of each format (a WFDB record is named without a suffix, or by its .hea).
FORMATS = {"edf": (".edf", ".bdf"), "csv": (".csv", ".txt", ".tsv"),
           "wfdb": (".hea", ".dat")}
#: Units understood, as millivolts per unit.
UNITS = {"mV": 1.0, "uV": 1e-3, "V": 1e3}
_UNIT_ALIASES = {"mv": "mV", "millivolt": "mV", "millivolts": "mV", "uv": "uV", "µv": "uV",
                 "μv": "uV", "microvolt": "uV", "microvolts": "uV", "v": "V", "volt": "V",
                 "volts": "V"}
#: Columns of a CSV file that are not leads (time stamps, sample numbers).
_NOT_A_LEAD = re.compile(r"^(t|time.*|.*_time|sec|secs|seconds|ms|timestamp|date.*|sample.*|"
                         r"index|idx|n|#)$", re.IGNORECASE)
#: Units rule (:func:`infer_units`): QRS ranges at or above this many units are microvolts.
MICROVOLT_THRESHOLD = 30.0
#: Below this range (in the file's units) a signal is too small to be millivolts.
MIN_MILLIVOLT_RANGE = 0.05


@dataclass
class Recording:
    """One lead of a recording, in millivolts, and how it was read."""

    signal: np.ndarray   # (n,) float64, millivolts
    fs: float
    lead: str            # the lead's name in the file ("column 2" in a CSV without header)
    name: str            # the record's name: output files are named after it
    path: Path
    format: str          # "wfdb", "edf" or "csv"
    units: str           # units of the file ("mV", "uV", "V")
    units_from: str      # "given", "header" or "inferred"
    warnings: list = field(default_factory=list)  # what the user should know

    @property
    def seconds(self) -> float:
        return self.signal.size / self.fs

    def describe(self) -> str:
        """One line: the lead used, its rate, length and units."""
        return (f"{self.path}: lead {self.lead} at {self.fs:g} Hz, {self.seconds / 60:.1f} min, "
                f"units {self.units} ({self.units_from})")


def recording_format(path) -> str:
    """``"wfdb"``, ``"edf"`` or ``"csv"`` from a path's suffix, or InputError.

    >>> recording_format("holter/day1.EDF"), recording_format("mitdb/100")
    ('edf', 'wfdb')
    """
    p = Path(str(path))
    suffix = p.suffix.lower()
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    if suffix == "" or p.with_suffix(p.suffix + ".hea").is_file():
        return "wfdb"
    raise InputError(f"'{path}': unknown format '{p.suffix}'. Give a WFDB record (folder/name), "
                     f"an EDF or BDF file (.edf, .bdf) or a CSV/TXT file (.csv, .txt, .tsv)")


def lead_key(name: str) -> str:
    """A lead name without "ECG"/"EKG"/"Lead" and punctuation, upper case, to compare.

    >>> [lead_key(n) for n in ["ECG II", "Lead-II", "MLII", "ekg ml2"]]
    ['II', 'II', 'MLII', 'ML2']
    """
    key = re.sub(r"\b(ECG|EKG|LEAD)\b", " ", str(name).upper())
    return re.sub(r"[^0-9A-Z]", "", key)


def lead_by_name(names, lead=None, prefer=BeatSpec.leads, where="") -> tuple[int, list]:
    """Index of the lead to use among ``names``, and the warnings to show.

    ``lead`` (a name, compared by :func:`lead_key`) must be present. Without it, the
    first of ``prefer`` present is used, else the first name, with a warning that the
    model was trained on a limb lead.

    >>> lead_by_name(["V1", "ECG II"])
    (1, [])
    >>> i, notes = lead_by_name(["V1", "V5"])
    >>> i, notes[0][:30]
    (0, 'no limb lead (MLII, II, ML2) i')
    """
    keys = [lead_key(n) for n in names]
    if lead is not None:
        if lead_key(lead) not in keys:
            raise InputError(f"{where}: no lead '{lead}'; it has {', '.join(map(str, names))}. "
                             f"Give one of those")
        return keys.index(lead_key(lead)), []
    for wanted in prefer:
        if lead_key(wanted) in keys:
            return keys.index(lead_key(wanted)), []
    if not names:
        raise InputError(f"{where}: no ECG signal found")
    return 0, [f"no limb lead ({', '.join(prefer)}) in {where}; using '{names[0]}'. The model "
               f"was trained on MLII: its labels on other leads are less reliable (give "
               f"--lead to choose)"]


def _units_name(text) -> str | None:
    return _UNIT_ALIASES.get(str(text).strip().lower())


def infer_units(signal, fs: float, where: str = "signal") -> tuple[str, float]:
    """Units of an ECG lead from its typical QRS amplitude; returns ``(units, range)``.

    The rule: band-pass 0.5-40 Hz (removes offsets and baseline wander), cut the lead
    into 2-s blocks (each holds a QRS at any heart rate above 30 bpm) and take the
    median of their peak-to-peak ranges: the typical QRS amplitude. Surface ECG QRS
    amplitudes lie between about 0.1 and 5 mV, so a range of at least
    ``MICROVOLT_THRESHOLD`` (30) means microvolts (30 µV would be an implausibly small
    QRS; 30 mV an impossibly large one), a range from ``MIN_MILLIVOLT_RANGE`` (0.05) up
    to 30 means millivolts, and anything smaller is refused (volts, or a flat lead): give
    the units. Raw ADC counts are read as microvolts; give the units for those too.

    Examples
    --------
    >>> fs = 250
    >>> t = np.arange(60 * fs) / fs
    >>> x = np.exp(-((t[:, None] - np.arange(0.5, 60, 0.8)) / 0.01) ** 2).sum(1)  # 1 mV QRS
    >>> infer_units(x, fs)[0], infer_units(1000 * x, fs)[0]
    ('mV', 'uV')
    """
    from .quality import fill_missing

    x = fill_missing(signal)   # NaN samples: interpolated for the measurement only
    y = bandpass_filter(x, fs, 0.5, min(40.0, 0.45 * fs))
    block = max(1, int(round(2 * fs)))
    n = y.size // block
    blocks = y[: n * block].reshape(n, block) if n else y[None, :]
    amplitude = float(np.median(np.ptp(blocks, axis=1)))
    if amplitude >= MICROVOLT_THRESHOLD:
        return "uV", amplitude
    if amplitude >= MIN_MILLIVOLT_RANGE:
        return "mV", amplitude
    raise InputError(f"{where}: its typical QRS range is {amplitude:.3g}, too small for "
                     f"millivolts or microvolts. If it is in volts give --units V; if the "
                     f"lead is flat, choose another")


def _to_millivolts(x, fs, units, file_units, where) -> tuple[np.ndarray, str, str, list]:
    """The lead in mV, its units and where they came from, and any warning."""
    notes = []
    if units is not None:
        name = _units_name(units)
        return x * UNITS[name], name, "given", notes
    name = _units_name(file_units) if file_units else None
    if name is not None:
        return x * UNITS[name], name, "header", notes
    name, amplitude = infer_units(x, fs, where)
    why = f"typical QRS range {amplitude:.3g}"
    if file_units:
        notes.append(f"{where}: units '{file_units}' unknown; read as {name} ({why}); give "
                     f"--units if that is wrong")
    return x * UNITS[name], name, f"inferred: {why}", notes


def _check_length(n, fs, where):
    if n < MIN_SECONDS * fs:
        raise InputError(f"{where} is {n / fs:.1f} s long; the classifier needs at least "
                         f"{MIN_SECONDS:.0f} s (a rhythm to compare each beat with)")


def _check_fs(fs, where):
    if fs is None:
        raise InputError(f"{where} does not say its sampling rate: give --fs (samples per "
                         f"second, e.g. --fs 250)")
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        fs = float("nan")
    if not np.isfinite(fs) or fs <= 0:
        raise InputError(f"{where}: --fs must be a positive number of samples per second, "
                         f"e.g. --fs 250")
    if fs < 50:
        raise InputError(f"{where}: --fs {fs:g} Hz is too low to see a QRS; the model needs "
                         f"at least 50 Hz (check the value)")
    return fs


def _read_wfdb(path, lead, prefer, samples=True):
    from .annotate import check_record, lead_names
    from .annotate import choose_lead  # by readability, with the reasons

    base = check_record(path)
    header = wfdb.rdheader(str(base))
    names = lead_names(base, header)
    units_of = dict(zip(names, header.units or [])) if getattr(header, "units", None) else {}
    i, notes = lead_by_name(names, lead, prefer, where=f"record '{path}'")
    if not samples:
        return None, float(header.fs), names[i], units_of.get(names[i]), base.name, notes
    # the named lead, or the preferred one unless it is mostly unreadable (with the reasons)
    x, fs, name, why = choose_lead(base, (names[i],) if lead else prefer)
    notes += [f"record '{path}': {w}" for w in why]
    units = units_of.get(name)
    return x, fs, name, units, base.name, notes


def _read_edf(path, lead, prefer, samples=True):
    import pyedflib

    p = Path(str(path))
    if not p.is_file():
        raise InputError(f"'{path}': no such file")
    try:
        reader = pyedflib.EdfReader(str(p))
    except OSError as err:
        raise InputError(f"'{path}' cannot be read as EDF/BDF ({err}). Check that it is a "
                         f"complete EDF, EDF+ or BDF file (re-export it)") from err
    with reader:
        names = list(reader.getSignalLabels())
        dims = [reader.getPhysicalDimension(i) for i in range(len(names))]
        # Leads are voltages; a header without a dimension may still hold an ECG.
        ecg = [i for i, d in enumerate(dims) if not d.strip() or _units_name(d)]
        i, notes = lead_by_name([names[j] for j in ecg], lead, prefer, where=f"'{path}'")
        i = ecg[i]
        fs = float(reader.getSampleFrequency(i))
        if not samples:
            _check_length(int(reader.getNSamples()[i]), fs, f"'{path}'")
            return None, fs, names[i], dims[i], p.stem, notes
        digital = reader.readSignal(i, digital=True)
        low, high = reader.getDigitalMinimum(i), reader.getDigitalMaximum(i)
        x = reader.readSignal(i)
    # EDF stores whole data records: writers pad the last one with values outside the
    # header's digital range (wfdb_to_edf pads with -32768). Those are not samples.
    outside = (digital < low) | (digital > high)
    inside = np.flatnonzero(~outside)
    end = inside[-1] + 1 if inside.size else 0
    if end < x.size:
        notes.append(f"'{path}': dropped {x.size - end} padding samples at the end (outside "
                     f"the header's digital range)")
        x, outside = x[:end], outside[:end]
    if outside.any():
        notes.append(f"'{path}': {int(outside.sum())} samples of lead {names[i]} lie outside "
                     f"the header's digital range (saturated or invalid samples)")
    return x, fs, names[i], dims[i], p.stem, notes


def _sniff_csv(path) -> tuple[str | None, str, bool, list[str]]:
    """Separator (None: whitespace), decimal mark, whether the first row is a header, and
    the column names. A semicolon-separated file with commas in its numbers (a European
    spreadsheet's export) has decimal commas."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            lines = [line for line in (f.readline() for _ in range(50)) if line]
    except OSError as err:
        raise InputError(f"'{path}' cannot be read ({err.strerror})") from err
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"'{path}' is empty: no rows of samples")
    try:
        sep = csv.Sniffer().sniff("".join(lines[:20]), delimiters=",;\t").delimiter
    except csv.Error:
        sep = None
    first = next(csv.reader(io.StringIO(lines[0]), delimiter=sep)) if sep else lines[0].split()

    def number(s):
        try:
            float(s)
            return True
        except ValueError:
            return False

    data = lines[1] if len(lines) > 1 else lines[0]
    decimal = "," if sep == ";" and "," in data else "."
    header = not all(number(s.replace(decimal, ".")) for s in first if s.strip())
    names = [s.strip() for s in first] if header else [f"column {j}" for j in range(len(first))]
    return sep, decimal, header, names


def _read_csv(path, lead, column, prefer, fs, samples=True):
    import pandas as pd

    p = Path(str(path))
    if not p.is_file():
        raise InputError(f"'{path}': no such file")
    fs = _check_fs(fs, f"'{path}'")
    sep, decimal, header, names = _sniff_csv(p)
    notes = []
    if column is not None:
        if str(column) in names:
            i = names.index(str(column))
        elif str(column).lstrip("-").isdigit() and 0 <= int(column) < len(names):
            i = int(column)
        else:
            raise InputError(f"'{path}': no column '{column}'; its columns are "
                             f"{', '.join(names)} (give a name or a number from 0)")
    else:
        leads = [j for j, n in enumerate(names) if not _NOT_A_LEAD.match(n)] or [0]
        i, notes = lead_by_name([names[j] for j in leads], lead, prefer, where=f"'{path}'")
        i = leads[i]
    if not samples:
        return None, fs, names[i], None, p.stem, notes
    try:
        table = pd.read_csv(p, sep=sep if sep else r"\s+", header=0 if header else None,
                            usecols=[i], comment="#", skip_blank_lines=True,
                            decimal=decimal, encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError(f"'{path}' cannot be parsed as a table ({str(err).splitlines()[0]}). "
                         f"Check its separator and that every row has the same columns") from err
    values = pd.to_numeric(table.iloc[:, 0], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"'{path}': column '{names[i]}' has {bad.size} empty or non-numeric "
                         f"values (first in data row {bad[0] + 1}). Fill or crop them")
    return values, fs, names[i], None, p.stem, notes


def read_recording(path, fs=None, lead=None, column=None, units=None,
                   prefer=BeatSpec.leads, header_only: bool = False) -> Recording:
    """One lead of a WFDB, EDF/EDF+/BDF or CSV/TXT recording, in millivolts.

    Parameters
    ----------
    path : str or Path
        A WFDB record (``folder/name`` or its ``.hea``), an ``.edf``/``.bdf`` file or a
        ``.csv``/``.txt``/``.tsv`` file; the suffix says which.
    fs : float, optional
        Sampling rate in Hz; required for CSV/TXT (the other formats carry it).
    lead : str, optional
        The lead to use, by name ("II" finds "ECG II"); default: the first of ``prefer``
        present, else the first lead, with a warning.
    column : str or int, optional
        CSV/TXT only: the column to use, by header name or number from 0.
    units : {"mV", "uV", "V"}, optional
        The units of the samples; default the file's own, else :func:`infer_units`.
    prefer : sequence of str
        Lead preference (the model's ``BeatSpec.leads``).
    header_only : bool
        Check the file, its lead and its rate without reading the samples (the
        recording's ``signal`` is then empty and its units are not inferred).

    Returns
    -------
    Recording

    Raises
    ------
    ecgutils.annotate.InputError
        Unknown format, missing file, unreadable file, no such lead or column, no
        sampling rate for a CSV file, non-numeric samples, a record shorter than 10 s.

    See Also
    --------
    infer_units : the units rule.
    ecgutils.beat_table.annotate_signal : label the beats of the lead.

    Examples
    --------
    >>> import tempfile, os
    >>> fs = 250
    >>> t = np.arange(20 * fs) / fs
    >>> x = np.exp(-((t[:, None] - np.arange(0.5, 20, 0.8)) / 0.01) ** 2).sum(1)
    >>> path = os.path.join(tempfile.mkdtemp(), "wearable.csv")
    >>> np.savetxt(path, np.c_[t, 1000 * x], delimiter=",", header="time,ECG",
    ...            comments="", fmt="%.4f")
    >>> rec = read_recording(path, fs=250)
    >>> rec.lead, rec.units, rec.units_from[:8], round(float(rec.signal.max()), 2)
    ('ECG', 'uV', 'inferred', 1.0)
    """
    fmt = recording_format(path)
    if column is not None and fmt != "csv":
        raise InputError(f"'{path}': --column is for CSV/TXT files; give --lead NAME instead")
    if units is not None and _units_name(units) is None:
        raise InputError(f"--units '{units}' is not one of {', '.join(UNITS)}")
    if fmt == "wfdb":
        x, rate, name, file_units, record, notes = _read_wfdb(path, lead, prefer, not header_only)
    elif fmt == "edf":
        x, rate, name, file_units, record, notes = _read_edf(path, lead, prefer, not header_only)
    else:
        x, rate, name, file_units, record, notes = _read_csv(path, lead, column, prefer, fs,
                                                             not header_only)
    if fs is not None and fmt != "csv" and abs(float(fs) - rate) > 1e-6 * rate:
        raise InputError(f"'{path}' says it is sampled at {rate:g} Hz; --fs {fs} disagrees. "
                         f"Leave --fs out for {fmt.upper()} files")
    if header_only:
        return Recording(np.empty(0), float(rate), str(name), record, Path(str(path)), fmt,
                         _units_name(units or file_units) or "?", "header only", notes)
    _check_length(len(x), rate, f"'{path}'")
    x = np.where(np.isfinite(x), x, np.nan)   # invalid samples: unreadable, not refused
    if np.mean(np.isnan(x)) > 0.5:
        raise InputError(f"'{path}': lead {name} is mostly invalid (NaN) samples; choose "
                         f"another lead with --lead")
    if not np.nanmax(x) > np.nanmin(x):
        raise InputError(f"'{path}': lead {name} is flat; choose another lead with --lead")
    mv, unit, how, more = _to_millivolts(np.asarray(x, float), rate, units, file_units,
                                         f"'{path}'")
    return Recording(mv, float(rate), str(name), record, Path(str(path)), fmt, unit, how,
                     notes + more)
