"""Run profiles shared by every chapter: smoke mode, seeds, parameter checks."""
from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["check_positive_int", "is_smoke", "set_seed"]

_TRUE = {"1", "true", "yes", "on"}


def is_smoke(smoke=None) -> bool:
    """Smoke mode: ``smoke`` if given, else the ``ECG_SMOKE`` environment variable.

    Smoke mode cuts records and epochs so that a chapter finishes in a minute or two
    (for CI); the default profile is the real experiment.

    Examples
    --------
    >>> is_smoke(True), is_smoke(False)
    (True, False)
    """
    if smoke is None or smoke == "":
        return os.environ.get("ECG_SMOKE", "").strip().lower() in _TRUE
    if isinstance(smoke, str):
        return smoke.strip().lower() in _TRUE
    return bool(smoke)


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as int, or raise a ``ValueError`` naming the parameter.

    Examples
    --------
    >>> check_positive_int("epochs", 3)
    3
    >>> check_positive_int("epochs", 0)
    Traceback (most recent call last):
    ...
    ValueError: parameter 'epochs' must be an integer >= 1, got 0
    """
    try:
        ok = not isinstance(value, bool) and float(value).is_integer() and int(value) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"parameter '{name}' must be an integer >= 1, got {value!r}")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, or raise a ``ValueError`` naming the parameter.

    Examples
    --------
    >>> check_choice("r_peaks", "annotated", ("threshold", "annotated"))
    'annotated'
    >>> check_choice("r_peaks", "qrs", ("threshold", "annotated"))
    Traceback (most recent call last):
    ...
    ValueError: parameter 'r_peaks' must be one of ('threshold', 'annotated'), got 'qrs'
    """
    if value not in choices:
        raise ValueError(f"parameter '{name}' must be one of {tuple(choices)}, got {value!r}")
    return value


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and, if it is imported, Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
