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

__all__ = ["Chapter", "setup"]


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


def setup(namespace: dict, checks: dict | None = None, smoke: dict | None = None,
          data: dict | None = None, records_db: str = "mitdb", validate=None) -> Chapter:
    """Parse, check and settle a chapter's parameters in ``namespace`` (its ``globals()``).

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
    checks : dict, optional
        Parameter name -> kind, or ``(kind, {options})``, as in
        :func:`ecgutils.config.parse_parameters`. ``seed`` is always checked (an integer
        >= 0).
    smoke : dict, optional
        Parameter name -> value in smoke mode, or a function of the parsed value (e.g.
        ``lambda n: min(n, 150)``). A smoke value of ``records`` is used only where the
        reader named no records.
    data : dict, optional
        Database -> records to make sure of: a list, None (the whole database) or the name
        of a parameter holding them (e.g. ``{"mitdb": "records"}``).
    records_db : str
        The database a ``records`` parameter names records of.
    validate : callable, optional
        Called with the parsed parameters (a dict) before anything is created: a rule
        that ties parameters together raises there, e.g. with
        :func:`ecgutils.config.require`.

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
    checks, smoke, data = dict(checks or {}), dict(smoke or {}), dict(data or {})
    is_smoke = _config.is_smoke(namespace.get("smoke"))
    kinds = {"seed": ("int", {"minimum": 0}), **checks}
    parsed = _config.parse_parameters(namespace, kinds)
    if validate is not None:
        validate({**namespace, **parsed})
    parsed["results_dir"] = _results.resolve_results_dir(namespace.get("results_dir"))
    if is_smoke:
        for name, value in smoke.items():
            if name == "records" and parsed.get("records", namespace.get("records")) is not None:
                continue  # the reader's own records win over the smoke set
            old = parsed.get(name, namespace.get(name))
            parsed[name] = value(old) if callable(value) else value
    if parsed.get("records", namespace.get("records")) is not None and "records" in kinds:
        parsed["records"] = _data.check_records_exist(parsed["records"], records_db)
    namespace.update(parsed, smoke=is_smoke)
    _config.set_seed(parsed["seed"])
    # wfdb 4.3 calls a pandas API that pandas 3 deprecates; nothing a reader can act on.
    warnings.filterwarnings("ignore", module="wfdb")
    for db, records in data.items():
        if isinstance(records, str):
            records = namespace[records]
        _data.ensure_records(db, records)  # downloads (checksummed) only what is missing
    as_run = {"smoke": is_smoke, **{k: v for k, v in parsed.items() if k != "results_dir"}}
    return Chapter(is_smoke, parsed["seed"], parsed["results_dir"], started, as_run)
