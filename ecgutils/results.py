"""The results file every experiment chapter writes: ``results_dir/<notebook>.json``.

Schema::

    {
      "notebook": "04_spectrogram_cnn",
      "parameters": {...},                 # the notebook's parameters cell, as run
      "runs": [
        {
          "protocol": "patient_70_15_15",  # see PROTOCOLS
          "model": "cnn2d",
          "classes": ["N", "S", "V"],
          "metrics": {
            "accuracy": 0.93, "macro_f1": 0.71,
            "per_class": {"N": {"precision": ..., "recall": ..., "f1": ..., "support": ...}},
            ...                            # anything else the chapter measures
          },
          "timing": {"train_s": 412.0, ...},
          ...                              # optional extras (splits, seed...)
        }
      ]
    }

The file is written to a temporary name and renamed, so a crash never leaves a
half-written results file behind.

Where: every chapter starts with ``results_dir = eu.results.resolve_results_dir(results_dir)``.
The default ``"results"`` means ``<repository root>/results`` (the folder holding
``_config.yml``), wherever the notebook runs, and ``ECG_RESULTS_DIR`` replaces that default
(the tests point it at a temporary folder, so they never touch your results).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_RESULTS_DIR", "PROTOCOLS", "find_repository_root", "make_run",
           "read_results", "resolve_results_dir", "validate_results", "write_results"]

#: The ``results_dir`` every chapter's parameters cell starts with.
DEFAULT_RESULTS_DIR = "results"

#: Evaluation protocols. ``beat_random``: stratified random split of beats (patients
#: leak across splits, shown on purpose); ``patient_70_15_15``: records split 70/15/15,
#: seeded; ``ds1ds2``: de Chazal 2004 inter-patient; ``st_episode_patient``: ST-episode
#: detection, records split patient-wise; ``qrs_detection``: R-peak detection scored
#: against reference beats over whole records (one class, ``beat``; accuracy is null);
#: ``ds1ds2_detected``: DS1 -> DS2 on R peaks found by the book's detector, scored beat by
#: beat against the reference (EC57 matching); ``external_qtdb``: trained on MIT-BIH DS1,
#: scored on the QT Database records from other databases (never used to train or select).
PROTOCOLS = ("beat_random", "patient_70_15_15", "ds1ds2", "st_episode_patient", "qrs_detection",
             "ds1ds2_detected", "external_qtdb")


def find_repository_root(start=None) -> Path | None:
    """The book's root folder (the one holding ``_config.yml``), walking up from ``start``
    (default: the current folder); ``None`` if there is none."""
    start = Path.cwd() if start is None else Path(start)
    for folder in (start, *start.parents):
        if (folder / "_config.yml").is_file():
            return folder
    return None


def resolve_results_dir(results_dir=DEFAULT_RESULTS_DIR) -> Path:
    """The absolute folder a chapter writes its results to, created and checked writable.

    - ``ECG_RESULTS_DIR``, when set, replaces the default ``"results"`` (or ``None``); a
      ``results_dir`` given explicitly (``-p results_dir PATH``) wins over it.
    - A relative path is taken from the repository root (the folder holding
      ``_config.yml``, found walking up from the current folder), else from the current
      folder: ``results`` is ``<repo>/results`` whether the notebook runs in the root or
      in ``notebooks/``.
    - The folder is created, and a file is written to it and removed, before any work, so
      an unwritable folder stops the chapter at once and not after training.

    Raises
    ------
    ValueError
        ``results_dir`` is not a path.
    PermissionError
        The folder cannot be created or written to; the message names it and what to do.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     resolve_results_dir(Path(tmp) / "out") == (Path(tmp) / "out").resolve()
    True
    """
    env = os.environ.get("ECG_RESULTS_DIR", "").strip()
    if results_dir is None or (isinstance(results_dir, str) and
                               results_dir.strip() in ("", DEFAULT_RESULTS_DIR)):
        results_dir = env or DEFAULT_RESULTS_DIR
    if not isinstance(results_dir, (str, os.PathLike)):
        raise ValueError(f"parameter 'results_dir' must be a folder path, got {results_dir!r}")
    folder = Path(results_dir).expanduser()
    if not folder.is_absolute():
        folder = (find_repository_root() or Path.cwd()) / folder
    folder = folder.resolve()
    what_to_do = ("Pass a folder you can write to (papermill: -p results_dir PATH) or set "
                  "ECG_RESULTS_DIR.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise PermissionError(f"results_dir {folder} exists but is not a folder. "
                              f"{what_to_do}") from None
    except OSError as err:
        raise PermissionError(f"results_dir {folder} cannot be created ({err.strerror or err}). "
                              f"{what_to_do}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise PermissionError(f"results_dir {folder} is not writable ({err.strerror or err}). "
                              f"{what_to_do}") from None
    return folder


def make_run(protocol: str, model: str, classes, metrics: dict, timing: dict | None = None,
             **extra) -> dict:
    """One entry of ``runs``, checked against the schema.

    Examples
    --------
    >>> run = make_run("beat_random", "cnn1d", ["N", "S"],
    ...                {"accuracy": 0.9, "macro_f1": 0.8, "per_class": {}}, {"train_s": 1.0})
    >>> sorted(run)
    ['classes', 'metrics', 'model', 'protocol', 'timing']
    """
    run = {"protocol": protocol, "model": model, "classes": [str(c) for c in classes],
           "metrics": metrics, "timing": dict(timing or {}), **extra}
    _validate_run(run, 0)
    return run


def _validate_run(run: dict, i: int) -> None:
    for key in ("protocol", "model", "classes", "metrics", "timing"):
        if key not in run:
            raise ValueError(f"runs[{i}] lacks '{key}'")
    if run["protocol"] not in PROTOCOLS:
        raise ValueError(f"runs[{i}]: unknown protocol {run['protocol']!r}; use one of {PROTOCOLS}")
    for key in ("accuracy", "macro_f1", "per_class"):
        if key not in run["metrics"]:
            raise ValueError(f"runs[{i}]['metrics'] lacks '{key}'")
    for cls, m in run["metrics"]["per_class"].items():
        missing = {"precision", "recall", "f1", "support"} - set(m)
        if missing:
            raise ValueError(f"runs[{i}] class {cls!r} lacks {sorted(missing)}")


def validate_results(obj: dict) -> dict:
    """Raise ``ValueError`` naming the first key that breaks the schema; return ``obj``."""
    for key in ("notebook", "parameters", "runs"):
        if key not in obj:
            raise ValueError(f"results lack '{key}'")
    if not isinstance(obj["runs"], list) or not obj["runs"]:
        raise ValueError("results need at least one run")
    for i, run in enumerate(obj["runs"]):
        _validate_run(run, i)
    return obj


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    return x


def write_results(results_dir, notebook: str, parameters: dict, runs: list[dict]) -> Path:
    """Validate and write ``results_dir/<notebook>.json`` atomically; return its path."""
    obj = validate_results(_jsonable({"notebook": notebook, "parameters": parameters,
                                      "runs": runs}))
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{notebook}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2, allow_nan=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def read_results(path) -> dict:
    """Read and validate a results file."""
    with open(path) as f:
        return validate_results(json.load(f))
