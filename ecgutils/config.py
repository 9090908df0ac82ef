"""Run profiles shared by every chapter: smoke mode, seeds, parameter checks.

Every chapter reads its ``parameters`` cell through :func:`parse_parameter`, so that a
value typed on papermill's command line (``-p records "['100', '208']"``, ``-p seed 1``,
``-p smoke true``) means the same in every chapter, and a bad one stops the notebook
before any work with one message that names the parameter and says what to pass.
"""
from __future__ import annotations

import ast
import math
import os
import random

import numpy as np

__all__ = ["check_choice", "install_short_errors",
           "is_smoke", "PARAMETER_KINDS", "parse_parameter",
           "parse_parameters", "set_seed"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: The kinds :func:`parse_parameter` knows.
PARAMETER_KINDS = ("int", "float", "bool", "str", "list", "dict")
_WHAT = {"int": "an integer", "float": "a number", "bool": "True or False", "str": "a text",
         "list": "a list", "dict": "a dict"}
_ITEMS = {"int": "integers", "float": "numbers", "bool": "True/False values", "str": "texts"}


class _Refused(Exception):
    pass


def _describe(kind, choices, minimum, maximum, allow_none, item) -> str:
    """What the parameter must be, in words (the error message's middle)."""
    if choices is not None and kind not in ("list", "dict"):
        what = f"one of {tuple(choices)}"
    else:
        what = _WHAT[kind]
        if kind == "list" and item:
            what += f" of {_ITEMS[item]}"
        bounds = [f"{op} {b}" for op, b in ((">=", minimum), ("<=", maximum)) if b is not None]
        if bounds:
            what += (" (each " if kind == "list" else " ") + " and ".join(bounds) + \
                (")" if kind == "list" else "")
        if choices is not None:
            what += f" with {'items' if kind == 'list' else 'keys'} from {tuple(choices)}"
        if kind == "list":
            example = "[1, 2]" if item in ("int", "float") else "['100', '208']"
            what += f", e.g. \"{example}\" (quoted), or one value alone"
        elif kind == "dict":
            what += ", e.g. \"{'key': 1}\" (quoted)"
    return what + (", or None" if allow_none else "")


def _scalar(value, kind):
    """Parse one scalar of ``kind`` or raise _Refused."""
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Refused
    if isinstance(value, (bool, np.bool_)):
        raise _Refused  # True is not the integer 1, nor the text "True"
    if kind == "int":
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and \
                float(value).is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise _Refused from None
        raise _Refused
    if kind == "float":
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise _Refused from None
        if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value):
            return float(value)
        raise _Refused
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, np.integer)):  # papermill turns -p records 100 into 100
            return str(value)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise _Refused
    raise ValueError(f"unknown parameter kind {kind!r}; use one of {PARAMETER_KINDS}")


def _in_bounds(x, minimum, maximum) -> bool:
    if minimum is not None and x < minimum:
        return False
    return maximum is None or x <= maximum


def parse_parameter(name: str, value, kind: str, *, choices=None, minimum=None, maximum=None,
                    allow_none: bool = False, item: str | None = None):
    """Parse one notebook parameter the same way in every chapter; refuse a bad one.

    papermill hands ``-p`` values over as text, or as ``int``/``float``/``bool``/``None``
    when the text looks like one. This function turns either into the value the chapter
    needs, or raises a ``ValueError`` that names the parameter and says what to pass.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value
        The value as it arrived.
    kind : {"int", "float", "bool", "str", "list", "dict"}
        - ``int``: ``3``, ``"3"``, ``3.0``; not ``1.5``, ``"abc"`` or ``True``;
        - ``float``: any finite number or its text;
        - ``bool``: ``True``/``False``, ``1``/``0``, ``"true"``/``"false"``, ``"yes"``/``"no"``,
          ``"on"``/``"off"`` (any case);
        - ``str``: a text (an integer such as papermill's ``100`` becomes ``"100"``);
        - ``list``: a list or tuple, or its text (``"['100', '208']"``, read with
          :func:`ast.literal_eval`); a single value is a list of one (``"100"`` and ``100``
          give ``["100"]`` with ``item="str"``); ``"a, b"`` gives ``["a", "b"]``;
        - ``dict``: a dict, or its text (``"{'nperseg': 32}"``).
    choices : sequence, optional
        Allowed values; for a list, allowed items; for a dict, allowed keys.
    minimum, maximum : number, optional
        Bounds (inclusive) for an int or float, or for each item of a list of numbers.
    allow_none : bool
        Accept ``None`` (or the text ``"None"``) and return ``None``.
    item : str, optional
        For ``kind="list"``: parse each item as this scalar kind (``"str"``, ``"int"``...).

    Returns
    -------
    The parsed value.

    Raises
    ------
    ValueError
        ``parameter 'NAME' must be WHAT, got VALUE``.

    Examples
    --------
    >>> parse_parameter("seed", "3", "int"), parse_parameter("smoke", "true", "bool")
    (3, True)
    >>> parse_parameter("records", "['100', '208']", "list", item="str")
    ['100', '208']
    >>> parse_parameter("records", 100, "list", item="str")
    ['100']
    >>> parse_parameter("seed", "1.5", "int")
    Traceback (most recent call last):
    ...
    ValueError: parameter 'seed' must be an integer, got '1.5'
    """
    if kind not in PARAMETER_KINDS:
        raise ValueError(f"unknown parameter kind {kind!r}; use one of {PARAMETER_KINDS}")
    if item is not None and (kind != "list" or item not in ("int", "float", "bool", "str")):
        raise ValueError(f"item={item!r} needs kind='list' and a scalar item kind")
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
        if allow_none:
            return None
        raise ValueError(f"parameter '{name}' must be "
                         f"{_describe(kind, choices, minimum, maximum, allow_none, item)}, "
                         f"got {value!r}")
    original = value
    try:
        if kind in ("int", "float", "bool", "str"):
            out = _scalar(value, kind)
            if kind in ("int", "float") and not _in_bounds(out, minimum, maximum):
                raise _Refused
            if choices is not None and out not in choices:
                raise _Refused
            return out
        if isinstance(value, str):
            text = value.strip()
            opener = {"list": ("[", "("), "dict": ("{",)}[kind]
            if text.startswith(opener):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    raise _Refused from None
            elif kind == "list":
                value = [v.strip() for v in text.split(",")] if text else []
            else:
                raise _Refused
        if kind == "dict":
            if not isinstance(value, dict):
                raise _Refused
            if choices is not None and not set(value) <= set(choices):
                raise _Refused
            return dict(value)
        if isinstance(value, (list, tuple)):
            out = list(value)
        elif isinstance(value, (str, int, float, np.integer, np.floating)) and \
                not isinstance(value, bool):
            out = [value]
        else:
            raise _Refused
        if item is not None:
            out = [_scalar(v, item) for v in out]
        for v in out:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and \
                    not _in_bounds(v, minimum, maximum):
                raise _Refused
            if choices is not None and v not in choices:
                raise _Refused
        return out
    except _Refused:
        what = _describe(kind, choices, minimum, maximum, allow_none, item)
        raise ValueError(f"parameter '{name}' must be {what}, got {original!r}") from None


def require(condition, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition``: a parameter rule in one line.

    >>> require(0.5 > 0, "parameter 'share' must be > 0")
    >>> require(0 > 0, "parameter 'share' must be > 0, got 0")
    Traceback (most recent call last):
    ...
    ValueError: parameter 'share' must be > 0, got 0
    """
    if not condition:
        raise ValueError(message)


def parse_parameters(values: dict, kinds: dict) -> dict:
    """:func:`parse_parameter` for many parameters at once: ``{name: parsed value}``.

    ``kinds`` maps each name to its kind, or to ``(kind, {options})``; ``values`` is where
    the raw values are (a notebook passes ``globals()``). The first bad value raises.

    Examples
    --------
    >>> parse_parameters({"seed": "2", "fraction": 0.3, "mode": "record"},
    ...                  {"seed": ("int", {"minimum": 0}), "fraction": "float",
    ...                   "mode": ("str", {"choices": ("record", "causal")})})
    {'seed': 2, 'fraction': 0.3, 'mode': 'record'}
    """
    parsed = {}
    for name, kind in kinds.items():
        kind, options = (kind, {}) if isinstance(kind, str) else kind
        parsed[name] = parse_parameter(name, values[name], kind, **options)
    return parsed


def is_smoke(smoke=None) -> bool:
    """Smoke mode: ``smoke`` if given, else the ``ECG_SMOKE`` environment variable.

    Smoke mode cuts records and epochs so that a chapter finishes in a minute or two
    (for CI); the default profile is the real experiment.

    Examples
    --------
    >>> is_smoke(True), is_smoke(False), is_smoke("true")
    (True, False, True)
    >>> is_smoke("maybe")
    Traceback (most recent call last):
    ...
    ValueError: parameter 'smoke' must be True or False, got 'maybe'
    """
    if smoke is None or (isinstance(smoke, str) and smoke.strip().lower() in ("", "none")):
        env = os.environ.get("ECG_SMOKE", "").strip()
        return bool(env) and parse_parameter("smoke (from ECG_SMOKE)", env, "bool")
    return parse_parameter("smoke", smoke, "bool")


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, or raise a ``ValueError`` naming the parameter.

    The same as ``parse_parameter(name, value, "str", choices=choices)``.

    Examples
    --------
    >>> check_choice("r_peaks", "annotated", ("threshold", "annotated"))
    'annotated'
    >>> check_choice("r_peaks", "qrs", ("threshold", "annotated"))
    Traceback (most recent call last):
    ...
    ValueError: parameter 'r_peaks' must be one of ('threshold', 'annotated'), got 'qrs'
    """
    return parse_parameter(name, value, "str", choices=choices)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and, if it is imported, Keras/TensorFlow.

    ``seed`` is parsed like a parameter (an integer from 0 to 2**32 - 1, NumPy's range,
    also as text)."""
    seed = parse_parameter("seed", seed, "int", minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


#: Errors that ``ecgutils`` and the chapters' checks raise with a message meant for the
#: reader (naming the parameter, file or record and what to do).
SHORT_ERRORS = (ValueError, FileNotFoundError, PermissionError, ConnectionError)


def install_short_errors(shell=None) -> bool:
    """In Jupyter/IPython, show the book's own errors as one line, without a traceback.

    An error of :data:`SHORT_ERRORS` raised by ``ecgutils`` itself or by a notebook's own
    code (its parameter checks) is shown as ``ValueError: parameter 'seed' must be ...``;
    the cell still fails (papermill and the book build stop on it), and ``%tb`` still
    prints the whole traceback. Errors raised inside other libraries keep their full
    traceback. Called by ``import ecgutils`` inside a kernel; ``ECG_FULL_TRACEBACKS=1``
    turns it off.

    Returns
    -------
    bool
        Whether a handler was installed (False outside IPython).
    """
    if os.environ.get("ECG_FULL_TRACEBACKS", "").strip().lower() in _TRUE:
        return False
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    import sys
    from pathlib import Path

    package = str(Path(__file__).resolve().parent)

    def ours(tb) -> bool:
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None:
            return False
        name = tb.tb_frame.f_code.co_filename
        cells = getattr(getattr(shell, "compile", None), "_filename_map", {}) or {}
        return (name.startswith(package) or name in cells or name.startswith("<ipython-input")
                or "ipykernel_" in name)

    def handler(self, etype, value, tb, tb_offset=None):
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb
        if ours(tb):
            stb = [f"{etype.__name__}: {value}"]
        else:
            stb = self.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        self._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc(SHORT_ERRORS, handler)
    return True
