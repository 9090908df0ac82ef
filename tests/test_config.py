"""Notebook parameters: one parser for papermill's text values (issue 15 item 6)."""
import pytest

from ecgutils.config import check_choice, is_smoke, parse_parameter


@pytest.mark.parametrize("value, kind, kw, expected", [
    ("3", "int", {}, 3), (3, "int", {}, 3), (3.0, "int", {}, 3), (" 7 ", "int", {}, 7),
    ("0.25", "float", {}, 0.25), (1, "float", {}, 1.0),
    (True, "bool", {}, True), ("false", "bool", {}, False), ("1", "bool", {}, True),
    ("Yes", "bool", {}, True), (0, "bool", {}, False),
    ("annotated", "str", {"choices": ("threshold", "annotated")}, "annotated"),
    ("['100', '208']", "list", {"item": "str"}, ["100", "208"]),
    ("('100', '208')", "list", {"item": "str"}, ["100", "208"]),
    ("100", "list", {"item": "str"}, ["100"]),          # -p records "'100'"
    (100, "list", {"item": "str"}, ["100"]),            # -p records 100 (papermill: int)
    ("100, 208", "list", {"item": "str"}, ["100", "208"]),
    (["100", 208], "list", {"item": "str"}, ["100", "208"]),
    ("[1, 2]", "list", {"item": "int"}, [1, 2]), ("[]", "list", {"item": "int"}, []),
    ("1", "list", {"item": "int"}, [1]),                 # -p spread_seeds 1
    ("ds1ds2", "list", {"choices": ("ds1ds2", "patient_70_15_15")}, ["ds1ds2"]),
    ("{'nperseg': 32, 'noverlap': 22}", "dict", {}, {"nperseg": 32, "noverlap": 22}),
    ({"a": 1}, "dict", {"choices": ("a", "b")}, {"a": 1}),
    (None, "list", {"allow_none": True}, None), ("None", "str", {"allow_none": True}, None),
    (__import__("pathlib").Path("/data/csv"), "str", {}, "/data/csv"),
])
def test_parse_parameter_accepts(value, kind, kw, expected):
    assert parse_parameter("p", value, kind, **kw) == expected


@pytest.mark.parametrize("value, kind, kw, message", [
    ("1.5", "int", {}, "must be an integer, got '1.5'"),
    (1.5, "int", {}, "must be an integer, got 1.5"),
    ("abc", "int", {}, "must be an integer, got 'abc'"),
    (True, "int", {}, "must be an integer, got True"),
    (0, "int", {"minimum": 1}, "must be an integer >= 1, got 0"),
    ("2", "float", {"minimum": 0, "maximum": 1}, "must be a number >= 0 and <= 1, got '2'"),
    ("nan", "float", {}, "must be a number"),
    ("maybe", "bool", {}, "must be True or False, got 'maybe'"),
    ("qrs", "str", {"choices": ("threshold", "annotated")}, "must be one of"),
    (1.5, "str", {}, "must be a text"),
    ("[1, 2", "list", {}, "must be a list, e.g."),
    ("['x']", "list", {"item": "int"}, "must be a list of integers"),
    ("[-1]", "list", {"item": "int", "minimum": 0}, r"\(each >= 0\)"),
    ("['dsx']", "list", {"choices": ("ds1ds2",)}, r"with items from \('ds1ds2',\)"),
    ("{nperseg: 32}", "dict", {}, "must be a dict"),
    ("32", "dict", {}, "must be a dict"),
    ("{'nfft': 1}", "dict", {"choices": ("nperseg",)}, r"keys from \('nperseg',\)"),
    (None, "int", {}, "must be an integer, got None"),
])
def test_parse_parameter_refuses_naming_the_parameter(value, kind, kw, message):
    with pytest.raises(ValueError, match=rf"^parameter 'p' (.* )?{message}"):
        parse_parameter("p", value, kind, **kw)


def test_parse_parameter_unknown_kind():
    with pytest.raises(ValueError, match="unknown parameter kind 'tuple'"):
        parse_parameter("p", 1, "tuple")


def test_check_choice_is_a_thin_wrapper():
    with pytest.raises(ValueError, match=r"parameter 'r_peaks' must be one of \('a',\), got 'b'"):
        check_choice("r_peaks", "b", ("a",))
    assert is_smoke("True") and not is_smoke("false")


def test_smoke_and_seed_are_parsed(monkeypatch):
    monkeypatch.setenv("ECG_SMOKE", "1")
    assert is_smoke(None) and is_smoke("") and not is_smoke("False")
    monkeypatch.setenv("ECG_SMOKE", "")
    assert not is_smoke(None)
    with pytest.raises(ValueError, match="parameter 'smoke' must be True or False, got 'maybe'"):
        is_smoke("maybe")                       # used to mean False, silently
    from ecgutils.config import set_seed

    set_seed("3")
    for bad in ("1.5", "abc", -1):
        with pytest.raises(ValueError, match="parameter 'seed' must be an integer >= 0"):
            set_seed(bad)


def test_notebook_errors_are_one_line(capsys):
    # issue 15: no traceback reaches the user; the cell still fails
    from IPython.core.interactiveshell import InteractiveShell

    import ecgutils as eu

    shell = InteractiveShell.instance()
    try:
        assert eu.config.install_short_errors(shell)
        result = shell.run_cell("import ecgutils as eu\n"
                                "seed = eu.config.parse_parameter('seed', 1.5, 'int')")
        assert isinstance(result.error_in_exec, ValueError)
        out = capsys.readouterr().out
        assert out.strip() == "ValueError: parameter 'seed' must be an integer, got 1.5"
        result = shell.run_cell("raise FileNotFoundError('record 999 is not in mitdb')")
        assert capsys.readouterr().out.strip() == "FileNotFoundError: record 999 is not in mitdb"
        result = shell.run_cell("import json\njson.loads('{')")       # another library's error
        out = capsys.readouterr().out
        assert result.error_in_exec is not None
        assert len(out.strip().splitlines()) > 1
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()
