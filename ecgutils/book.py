"""A chapter's setup in one call: parameters, smoke mode, results folder, data, seed.

Every chapter starts the same way: papermill hands its ``-p`` values over as text, so each
is parsed and a bad one stops the chapter, named, before any work; smoke mode (CI) cuts
records and epochs; the results folder is created and checked writable; the records are
checked (a typo is named, not fetched) and downloaded only where that is allowed; the
seed is set. :func:`setup` does all of it, so a chapter's setup cell is a few lines and
the reader reaches the ECG at once.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import config as _config
from . import data as _data
from . import results as _results

__all__ = ["Chapter", "chapter_rules", "setup"]


@dataclass(frozen=True)
class Chapter:
    """What :func:`setup` settled: read ``smoke``, ``seed``, ``results_dir`` from here or
    from the notebook's own (updated) variables."""

    smoke: bool
    seed: int
    results_dir: Path
    started: float           # time.perf_counter() when the setup began
    parameters: dict         # smoke and every checked parameter, as the run uses them

    def elapsed_min(self) -> float:
        """Minutes since the setup began."""
        return (time.perf_counter() - self.started) / 60


def setup(namespace: dict, checks: dict | str | None = None, smoke: dict | None = None,
          data: dict | None = None, records_db: str = "mitdb", validate=None) -> Chapter:
    """Parse, check and settle a chapter's parameters in ``namespace`` (its ``globals()``).

    A chapter calls it with its own name, ``eu.book.setup(globals(), "07_new_patients")``:
    its rules (``checks``, ``smoke``, ``data``, ``records_db``, ``validate``) are
    :func:`chapter_rules`, kept here so that the setup cell is one line.

    In this order: ``smoke`` (True/False, or ``ECG_SMOKE`` when None); ``seed`` and every
    parameter of ``checks`` (:func:`ecgutils.config.parse_parameters`); ``validate``;
    ``results_dir``
    (:func:`ecgutils.results.resolve_results_dir`); in smoke mode, the ``smoke`` values;
    a ``records`` parameter against ``records_db`` (:func:`ecgutils.data.check_records_exist`);
    the seed (:func:`ecgutils.config.set_seed`); last, the data of ``data``
    (:func:`ecgutils.data.ensure_records`, the first step that may take long). The parsed
    values are written back into ``namespace``.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``: holds ``smoke``, ``seed``, ``results_dir`` and the
        parameters named in ``checks``.
    checks : dict or str, optional
        Parameter name -> kind, or ``(kind, {options})``, as in
        :func:`ecgutils.config.parse_parameters`. ``seed`` is always checked (an integer
        >= 0). A chapter's name instead: that chapter's rules (:func:`chapter_rules`).
    smoke : dict, optional
        Parameter name -> value in smoke mode, or a function of the parsed value (e.g.
        ``lambda n: min(n, 150)``), or a dict of such values per database (of
        ``records_db``). A smoke value of ``records`` is used only where the reader named
        no records.
    data : dict, optional
        Database (or the name of the parameter holding one) -> records to make sure of: a
        list, None (the whole database), the name of a parameter holding them (e.g.
        ``{"mitdb": "records"}``) or a function of the settled parameters.
    records_db : str
        The database a ``records`` parameter names records of, or the name of the
        parameter that holds it (e.g. ``"database"``).
    validate : callable, optional
        Called with the parsed parameters (a dict) before anything is created: a rule
        that ties parameters together raises there, e.g. with
        :func:`ecgutils.config.require`. A dict it returns updates the parameters (a
        value settled from others, e.g. a default taken from the approach).

    Returns
    -------
    Chapter

    See Also
    --------
    ecgutils.config.parse_parameter : the rules for each kind of parameter.

    Examples
    --------
    >>> import tempfile
    >>> ns = {"smoke": False, "seed": "3", "results_dir": tempfile.mkdtemp(), "epochs": "8"}
    >>> ch = setup(ns, {"epochs": ("int", {"minimum": 1})}, smoke={"epochs": 1})
    >>> ns["seed"], ns["epochs"], ch.smoke, ch.parameters
    (3, 8, False, {'smoke': False, 'seed': 3, 'epochs': 8})
    >>> ns = {"smoke": True, "seed": 0, "results_dir": tempfile.mkdtemp(), "epochs": 8}
    >>> _ = setup(ns, {"epochs": ("int", {"minimum": 1})}, smoke={"epochs": 1})
    >>> ns["epochs"]
    1
    """
    started = time.perf_counter()
    if isinstance(checks, str):
        return setup(namespace, **chapter_rules(checks))
    checks, smoke, data = dict(checks or {}), dict(smoke or {}), dict(data or {})
    is_smoke = _config.is_smoke(namespace.get("smoke"))
    kinds = {"seed": ("int", {"minimum": 0}), **checks}
    parsed = _config.parse_parameters(namespace, kinds)
    if validate is not None:
        parsed.update(validate({**namespace, **parsed, "smoke": is_smoke}) or {})
    parsed["results_dir"] = _results.resolve_results_dir(namespace.get("results_dir"))
    records_db = parsed.get(records_db, records_db)   # a parameter's value, or a name
    if is_smoke:
        for name, value in smoke.items():
            if name == "records" and parsed.get("records", namespace.get("records")) is not None:
                continue  # the reader's own records win over the smoke set
            old = parsed.get(name, namespace.get(name))
            value = value.get(records_db) if isinstance(value, dict) else value
            parsed[name] = value(old) if callable(value) else value
    if parsed.get("records", namespace.get("records")) is not None and "records" in kinds:
        parsed["records"] = _data.check_records_exist(parsed["records"], records_db)
    namespace.update(parsed, smoke=is_smoke)
    _config.set_seed(parsed["seed"])
    # wfdb 4.3 calls a pandas API that pandas 3 deprecates; nothing a reader can act on.
    warnings.filterwarnings("ignore", module="wfdb")
    for db, records in data.items():
        db = parsed.get(db, db)
        if isinstance(records, str):
            records = namespace[records]
        elif callable(records):
            records = records(namespace)
        _data.ensure_records(db, records)  # downloads (checksummed) only what is missing
    as_run = {"smoke": is_smoke, **{k: v for k, v in parsed.items() if k != "results_dir"}}
    return Chapter(is_smoke, parsed["seed"], parsed["results_dir"], started, as_run)


# --------------------------------------------------------------------------- the chapters' rules
_POSITIVE = ("int", {"minimum": 1})
_RECORDS = ("list", {"item": "str", "allow_none": True})


def _image_window(p):
    _config.require(p["before_s"] + p["after_s"] >= 0.1, (
        f"the window before_s + after_s = {p['before_s'] + p['after_s']} s is too short "
        f"to hold a beat; use at least 0.1 s"))


def _protocols_given(p):
    _config.require(len(p["protocols"]) > 0, "parameter 'protocols' is empty; give at "
                                             "least one protocol")


def _smote_spectrogram(p):
    """Chapter 05: a partial ``spectrogram`` dict keeps the other defaults; the same
    checks as the real run, on one dummy beat, before any work."""
    import numpy as np

    from . import kaggle_beats, spectrograms

    spectrogram = {"nperseg": 32, "noverlap": 22, "n_freqs": 16, "dynamic_range_db": 60.0,
                   "method": "stft", **p["spectrogram"]}
    try:
        spectrograms.beat_spectrograms(np.zeros((1, kaggle_beats.BEAT_LENGTH)),
                                       fs=kaggle_beats.FS_KAGGLE, nfft=None, max_hz=None,
                                       scale="unit", **spectrogram)
    except (TypeError, ValueError) as err:
        raise ValueError(f"parameter 'spectrogram' {spectrogram}: {err}") from None
    return {"spectrogram": spectrogram}


def _beat_cnn1d(p):
    """Chapter 06: ``batch_size`` and ``class_weight_power`` default to the approach's."""
    from .pipelines import PIPELINES

    _config.require(p["normal_fraction"] > 0, "parameter 'normal_fraction' must be a "
                                              "number > 0 and <= 1")
    approach = PIPELINES["beat_cnn1d"]
    return {"batch_size": p["batch_size"] or approach.batch_size,
            "class_weight_power": (approach.class_weight_power
                                   if p["class_weight_power"] is None
                                   else p["class_weight_power"])}


def _other_database_record(p):
    """Chapter 09: a QT Database record that is not an MIT-BIH excerpt."""
    from .interpatient import qtdb_source

    record = _data.check_records_exist([p["record"]], "qtdb")[0]  # a typo is named
    _config.require(qtdb_source(record) != "mitdb", (
        f"parameter 'record' must be a QT Database record from another database than "
        f"MIT-BIH (e.g. sel803): {record} is an MIT-BIH record, which the model may have "
        f"been trained on"))
    return {"record": record}


def chapter_rules(name: str) -> dict:
    """A chapter's parameter rules, smoke values and data, as :func:`setup` takes them.

    Parameters
    ----------
    name : str
        The notebook's name, e.g. ``"07_new_patients"``.

    Returns
    -------
    dict
        :func:`setup`'s keyword arguments ``checks``, ``smoke``, ``data`` and, where the
        chapter has them, ``records_db`` and ``validate``.

    Examples
    --------
    >>> sorted(chapter_rules("08_comparison"))
    ['checks', 'data', 'smoke']
    >>> chapter_rules("10_nothing")
    Traceback (most recent call last):
    ...
    ValueError: no chapter '10_nothing'; chapters: 01_data_tour, 02_image_cnn, 03_st_t_dense_rnn, 04_spectrogram_cnn, 05_smote_spectrogram_cnn, 06_beat_1d_cnn, 07_new_patients, 08_comparison, 09_own_recording
    """
    from . import kaggle_beats, pipelines

    share = ("float", {"minimum": 0, "maximum": 1})
    rules = {
        "01_data_tour": dict(
            checks={"records": _RECORDS},
            smoke={"records": ["100", "106", "119", "207", "208"]},
            data={"mitdb": "records", "qtdb": None, "cudb": ["cu01"]}),
        # the VFL+VF windows come from MIT-BIH 207 and the Creighton record cu01
        "02_image_cnn": dict(
            checks={**dict.fromkeys(("epochs", "batch_size", "image_size", "line_width",
                                     "cap_per_class", "patience"), _POSITIVE),
                    "before_s": ("float", {"minimum": 0}),
                    "after_s": ("float", {"minimum": 0}),
                    "vf_step_s": ("float", {"minimum": 0.01}), "records": _RECORDS},
            smoke={"epochs": 1, "cap_per_class": lambda n: min(n, 150),
                   "records": ["109", "118", "119", "207", "208", "212", "214", "231"]},
            validate=_image_window, data={"mitdb": "records", "cudb": ["cu01"]}),
        "03_st_t_dense_rnn": dict(
            checks={"database": ("str", {"choices": ("qtdb", "edb")}), "records": _RECORDS,
                    "epochs": _POSITIVE, "batch_size": _POSITIVE,
                    "window_s": ("float", {"minimum": 0.04, "maximum": 2}),
                    "st_folds": ("int", {"minimum": 2})},   # cross-validation: 2 folds
            smoke={"epochs": 1, "records": {
                "qtdb": ["sele0104", "sele0114", "sele0121", "sele0203", "sele0411",
                         "sele0509", "sele0606", "sele0609"],
                "edb": ["e0103", "e0104", "e0105", "e0106", "e0107", "e0108"]}},
            records_db="database", data={"database": "records"}),
        "04_spectrogram_cnn": dict(
            checks={"epochs": _POSITIVE,
                    "protocols": ("list", {"item": "str", "choices": (
                        "patient_70_15_15", "ds1ds2")}),
                    "records": _RECORDS, "image_size": _POSITIVE,
                    "max_train_n": _POSITIVE,
                    "spread_seeds": ("list", {"item": "int", "minimum": 0})},
            smoke={"epochs": 1, "max_train_n": lambda n: min(n, 300), "spread_seeds": [],
                   "records": ["106", "118", "201", "209", "223", "100", "200", "232"]},
            validate=_protocols_given, data={"mitdb": "records"}),
        "05_smote_spectrogram_cnn": dict(
            checks={**dict.fromkeys(("epochs", "max_per_class", "smote_target",
                                     "k_neighbors"), _POSITIVE),
                    "batch_size": ("int", {"minimum": 1, "allow_none": True}),
                    "spectrogram": ("dict", {"choices": (
                        "nperseg", "noverlap", "n_freqs", "dynamic_range_db", "method")}),
                    "r_peaks": ("str", {"choices": kaggle_beats.R_PEAK_SOURCES}),
                    "csv_dir": ("str", {"allow_none": True})},
            smoke={"epochs": 1, "max_per_class": 1500, "smote_target": 600},
            validate=_smote_spectrogram),
        "06_beat_1d_cnn": dict(
            checks={**dict.fromkeys(("epochs", "epochs_ds1ds2", "epochs_transfer"),
                                    _POSITIVE),
                    "batch_size": ("int", {"minimum": 1, "allow_none": True}),
                    "class_weight_power": ("float", {"minimum": 0, "maximum": 1,
                                                     "allow_none": True}),
                    "normal_fraction": share,
                    "r_peaks": ("str", {"choices": kaggle_beats.R_PEAK_SOURCES}),
                    "csv_dir": ("str", {"allow_none": True}),
                    "ptb_dir": ("str", {"allow_none": True})},
            smoke={"epochs": 1, "epochs_ds1ds2": 1, "epochs_transfer": 1},
            validate=_beat_cnn1d),
        "07_new_patients": dict(
            checks={**dict.fromkeys(("seeds", "epochs", "batch_size", "forest_trees"),
                                    _POSITIVE),
                    "class_weight_power": share,
                    "val_fraction": ("float", {"minimum": 0.1, "maximum": 0.5}),
                    "target_v_se": ("float", {"minimum": 0.5, "maximum": 1}),
                    "normalise": ("str", {"choices": ("record", "causal")}),
                    "augment": "bool", "refit": "bool",
                    "adversary": ("float", {"minimum": 0})},
            smoke={"seeds": 1, "epochs": 1},
            data={"mitdb": list(_data.DS1 + _data.DS2), "qtdb": None}),
        "08_comparison": dict(
            checks={"seeds": _POSITIVE,
                    "epochs": ("int", {"minimum": 1, "allow_none": True}),
                    "approaches": ("list", {"item": "str",
                                            "choices": tuple(pipelines.PIPELINES)}),
                    "val_fraction": ("float", {"minimum": 0.1, "maximum": 0.5}),
                    "beat_random_test": ("float", {"minimum": 0.05, "maximum": 0.5})},
            smoke={"seeds": 1, "epochs": 1},
            data={"mitdb": lambda p: list(_data.SMOKE_DS1 + _data.SMOKE_DS2) if p["smoke"]
                  else list(_data.DS1 + _data.DS2), "qtdb": None}),
        "09_own_recording": dict(
            checks={"record": ("str", {}),
                    "minutes": ("float", {"minimum": 1, "maximum": 15}),
                    "model": ("str", {"allow_none": True})},
            smoke={"minutes": 3}, validate=_other_database_record,
            data={"qtdb": lambda p: [p["record"]]}),
    }
    if name not in rules:
        raise ValueError(f"no chapter '{name}'; chapters: {', '.join(rules)}")
    return rules[name]
