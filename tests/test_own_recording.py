"""Your own recording (issue 25): WFDB, EDF/EDF+/BDF and CSV/TXT readers, the units rule,
eu.annotate_signal, the beat table, the Holter-style report against hand counts, and bad
input in each format refused with one `error:` line."""
import base64
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import ecgutils as eu
from ecgutils.annotate import InputError
from ecgutils.holter import holter_summary
from ecgutils.own_recording import annotate_files
from ecgutils.recordings import infer_units, read_recording
from conftest import one_error_line, requires_data, synthetic_ecg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

pyedflib = pytest.importorskip("pyedflib")
from pyedflib import highlevel  # noqa: E402

FS = 250


def _ecg(seconds=60, fs=FS):
    """Two leads on the 1/200 mV grid that WFDB (gain 200), EDF and CSV all hold exactly."""
    x, peaks = synthetic_ecg(fs, seconds)
    sig = np.round(np.stack([0.5 * x, x], axis=1) * 200) / 200
    return sig, peaks


def write_wfdb(folder, name, sig, fs=FS, names=("V1", "MLII")):
    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(name, fs=fs, units=["mV"] * sig.shape[1], sig_name=list(names), p_signal=sig,
                fmt=["16"] * sig.shape[1], adc_gain=[200] * sig.shape[1],
                baseline=[0] * sig.shape[1], write_dir=str(folder))
    return folder / name


def write_edf(path, sig, fs=FS, names=("ECG V1", "ECG II"), dimension="mV", scale=1.0,
              file_type=None, annotations=()):
    """EDF(+)/BDF through pyedflib; exactly 200 steps per mV (a 16-bit range, which BDF's
    24-bit samples hold too)."""
    file_type = pyedflib.FILETYPE_EDFPLUS if file_type is None else file_type
    dmax = 2 ** 15 - 1
    step = scale / 200  # physical units per digital step

    def short(v):  # EDF header fields hold 8 characters
        return int(v) if float(v).is_integer() else v

    headers = [{"label": n, "dimension": dimension, "sample_frequency": fs,
                "physical_min": short(-(dmax + 1) * step), "physical_max": short(dmax * step),
                "digital_min": -(dmax + 1), "digital_max": dmax, "transducer": "",
                "prefilter": ""} for n in names]
    header = highlevel.make_header()
    header["annotations"] = [list(a) for a in annotations]
    # Digital values, rounded here: pyedflib's own physical-to-digital step truncates.
    digital = np.round(sig * 200).astype(np.int32)
    highlevel.write_edf(str(path), [np.ascontiguousarray(d) for d in digital.T], headers,
                        header, digital=True, file_type=file_type)
    return path


def write_csv(path, sig, fs=FS, names=("V1", "MLII"), sep=",", header=True, scale=1.0):
    t = np.arange(len(sig)) / fs
    cols = np.column_stack([t, scale * sig])
    head = sep.join(("time_s",) + tuple(names)) if header else ""
    np.savetxt(path, cols, delimiter=sep, header=head, comments="", fmt="%.4f")
    return path


def _cli(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "ecgutils", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


# --- readers -----------------------------------------------------------------------------

def test_wfdb_edf_reader_cannot_read_bdf_or_edf_plus(tmp_path):
    """Why EDF goes through pyedflib: wfdb's reader fails on both (re-check on upgrades)."""
    from wfdb.io.convert.edf import read_edf

    sig, _ = _ecg(20)
    plain = write_edf(tmp_path / "plain.edf", sig, file_type=pyedflib.FILETYPE_EDF)
    assert read_edf(str(plain)).p_signal.shape == sig.shape  # plain EDF: fine
    plus = write_edf(tmp_path / "plus.edf", sig, annotations=[(1.0, -1, "start")])
    bdf = write_edf(tmp_path / "b.bdf", sig, file_type=pyedflib.FILETYPE_BDFPLUS)
    for path in (plus, bdf):
        with pytest.raises(Exception):
            read_edf(str(path))


def test_each_format_reads_the_same_limb_lead_in_millivolts(tmp_path):
    sig, _ = _ecg(30)
    paths = [write_wfdb(tmp_path / "db", "rec", sig),
             write_edf(tmp_path / "rec.edf", sig, annotations=[(2.0, -1, "marker")]),
             write_edf(tmp_path / "rec_uv.bdf", sig, dimension="uV", scale=1000,
                       file_type=pyedflib.FILETYPE_BDFPLUS),
             write_csv(tmp_path / "rec.csv", sig),
             write_csv(tmp_path / "rec.tsv", sig, sep="\t"),
             write_csv(tmp_path / "rec.txt", sig, sep=" ", header=False)]
    european = tmp_path / "european.csv"  # a spreadsheet's export: ';' and decimal commas
    european.write_text(write_csv(tmp_path / "e.csv", sig, sep=";").read_text()
                        .replace(".", ","))
    paths.append(european)
    for path in paths:
        fs = FS if path.suffix in (".csv", ".tsv", ".txt") else None
        column = 2 if path.suffix == ".txt" else None  # no header: choose by number
        rec = read_recording(path, fs=fs, column=column)
        assert rec.fs == FS, path
        np.testing.assert_allclose(rec.signal, sig[:, 1], atol=1e-9, err_msg=str(path))
        assert rec.warnings == [], (path, rec.warnings)
    assert read_recording(paths[0]).lead == "MLII"
    assert read_recording(paths[1]).lead == "ECG II"        # "ECG II" counts as lead II
    assert read_recording(paths[2]).units == "uV"           # from the BDF header
    assert read_recording(paths[3], fs=FS).units_from.startswith("inferred")
    assert read_recording(paths[0], lead="V1").lead == "V1"
    assert read_recording(paths[3], fs=FS, column="V1").lead == "V1"


def test_no_limb_lead_is_a_warning(tmp_path):
    sig, _ = _ecg(20)
    rec = read_recording(write_edf(tmp_path / "chest.edf", sig, names=("V1", "V5")))
    assert rec.lead == "V1"
    assert "no limb lead" in rec.warnings[0] and "--lead" in rec.warnings[0]


def test_units_rule(tmp_path):
    sig, _ = _ecg(60)
    x = sig[:, 1]
    assert infer_units(x, FS)[0] == "mV"
    assert infer_units(1000 * x, FS)[0] == "uV"
    assert infer_units(0.2 * x, FS)[0] == "mV"           # a small 0.2 mV QRS is still mV
    assert infer_units(200 * x, FS)[0] == "uV"           # a 200 uV QRS is still uV
    with pytest.raises(InputError, match="--units V"):
        infer_units(x / 1000, FS, "'v.csv'")             # volts: too small, say so
    # given units win over the rule
    path = write_csv(tmp_path / "uv.csv", sig, scale=1000)
    assert read_recording(path, fs=FS).units == "uV"
    rec = read_recording(path, fs=FS, units="mV")
    assert rec.units_from == "given" and rec.signal.max() > 100


def test_units_change_no_label(tmp_path, model_file):
    """The model scales each record by its median QRS: uV and mV give the same beats."""
    sig, _ = _ecg(60)
    mv = eu.annotate_signal(sig[:, 1], FS, model_file)
    uv = eu.annotate_signal(1000 * sig[:, 1], FS, model_file)
    assert mv["sample"].tolist() == uv["sample"].tolist()
    assert mv["label"].tolist() == uv["label"].tolist()
    np.testing.assert_allclose(mv[["p_N", "p_S", "p_V"]], uv[["p_N", "p_S", "p_V"]], atol=1e-4)


# --- bad input, each format -------------------------------------------------------------

def _bad_inputs(tmp_path):
    sig, _ = _ecg(30)
    cases = []
    cases.append(((tmp_path / "missing" / "rec",), {}, ["missing/rec", "header"]))
    (tmp_path / "junk.edf").write_bytes(b"not an edf file at all" * 20)
    cases.append(((tmp_path / "junk.edf",), {}, ["junk.edf", "EDF"]))
    good = write_edf(tmp_path / "good.bdf", sig, file_type=pyedflib.FILETYPE_BDFPLUS)
    (tmp_path / "cut.bdf").write_bytes(good.read_bytes()[:3000])
    cases.append(((tmp_path / "cut.bdf",), {}, ["cut.bdf", "re-export"]))
    cases.append(((good,), {"lead": "V6"}, ["good.bdf", "no lead 'V6'"]))
    csv = write_csv(tmp_path / "rec.csv", sig)
    cases.append(((csv,), {}, ["rec.csv", "--fs"]))
    cases.append(((csv,), {"fs": FS, "column": "II"}, ["rec.csv", "no column 'II'"]))
    text = csv.read_text().splitlines()
    text[100] = "0.4,0.1,abc"
    (tmp_path / "letters.csv").write_text("\n".join(text))
    cases.append(((tmp_path / "letters.csv",), {"fs": FS}, ["letters.csv", "non-numeric"]))
    (tmp_path / "empty.csv").write_text("# only a comment\n")
    cases.append(((tmp_path / "empty.csv",), {"fs": FS}, ["empty.csv", "empty"]))
    write_csv(tmp_path / "short.txt", sig[: 5 * FS], sep=" ", header=False)
    cases.append(((tmp_path / "short.txt",), {"fs": FS}, ["short.txt", "10 s"]))
    (tmp_path / "rec.mat").write_bytes(b"")
    cases.append(((tmp_path / "rec.mat",), {}, ["rec.mat", "unknown format"]))
    cases.append(((good,), {"column": 1}, ["good.bdf", "--column is for CSV"]))
    return cases


def test_bad_input_in_each_format_names_the_file(tmp_path):
    for args, kwargs, words in _bad_inputs(tmp_path):
        with pytest.raises(InputError) as err:
            read_recording(*args, **kwargs)
        for word in words:
            assert word in str(err.value), (args, str(err.value))


def test_bad_input_on_the_command_line_isone_error_line(tmp_path, model_file):
    flags = {"fs": "--fs", "lead": "--lead", "column": "--column"}
    for args, kwargs, words in _bad_inputs(tmp_path)[::2]:  # every format, half the cases
        extra = [v for k, val in kwargs.items() for v in (flags[k], val)]
        proc = _cli("annotate", *args, *extra, "--model", model_file, "--out", tmp_path / "o")
        one_error_line(proc, *words)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# --- one record, three formats, one beat table -------------------------------------------

def test_edf_csv_and_wfdb_give_the_same_beat_table(tmp_path, model_file):
    sig, peaks = _ecg(120)
    paths = [write_wfdb(tmp_path / "db", "r_wfdb", sig),
             write_edf(tmp_path / "r_edf.edf", sig, names=("V1", "MLII")),
             write_csv(tmp_path / "r_csv.csv", sig)]
    tables = []
    for path in paths:
        fs = FS if path.suffix == ".csv" else None
        results = annotate_files([path], model_file, tmp_path / "out", fs=fs, progress=False)
        table = eu.beat_table.read_beat_table(results[0]["paths"]["beats"])
        assert set(results[0]["paths"]) == {"beats", "annotations", "html", "text"}
        assert all(p.is_file() for p in results[0]["paths"].values())
        tables.append(table)
    assert len(tables[0]) == len(peaks)
    assert np.abs(tables[0]["sample"].to_numpy() - peaks).max() <= 0.05 * FS
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other)
    ann = wfdb.rdann(str(tmp_path / "out" / "r_edf"), "cls")
    assert ann.sample.tolist() == tables[1]["sample"].tolist()
    assert ann.symbol == tables[1]["label"].tolist()


def test_annotate_files_never_overwrites_and_refuses_colliding_names(tmp_path, model_file):
    sig, _ = _ecg(30)
    edf = write_edf(tmp_path / "a.edf", sig)
    annotate_files([edf], model_file, tmp_path / "out", progress=False)
    before = {p: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    with pytest.raises(InputError, match="exists already"):
        annotate_files([edf], model_file, tmp_path / "out", progress=False)
    assert {p: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    (tmp_path / "x").mkdir()
    other = write_edf(tmp_path / "x" / "a.edf", sig)
    with pytest.raises(InputError, match="would both be written"):
        annotate_files([edf, other], model_file, tmp_path / "out2", progress=False)


def test_quality_mask_flags_the_beats_it_covers(model_file):
    sig, _ = _ecg(60)
    quality = np.ones(len(sig), bool)
    quality[20 * FS: 30 * FS] = False
    table = eu.annotate_signal(sig[:, 1], FS, model_file, quality=quality, lead="MLII")
    inside = (table["time_s"] >= 20) & (table["time_s"] < 30)
    assert (~table["readable"] == inside).all() and inside.sum() > 5
    assert (table["lead"] == "MLII").all()
    readable = table[table["readable"]]   # the others are not classified: Q, no probabilities
    np.testing.assert_allclose(readable[["p_N", "p_S", "p_V"]].sum(axis=1), 1, atol=1e-5)
    assert (table.loc[inside, "label"] == "Q").all()
    assert table.loc[inside, ["p_N", "p_S", "p_V"]].isna().all().all()


# --- the report against hand counts ------------------------------------------------------

def _hand_table():
    """Two hours at 60 bpm, every beat N except these, placed by hand:

    hour 0: V couplet at beats 100-101, V run of 4 at 200-203, isolated V at 300,
            S run of 3 at 400-402, isolated S at 500 and 510;
    hour 1: V couplet at 4000-4001, S couplet at 5000-5001, then an S stretch of 3 at
            6000-6002 whose middle beat is unreadable (two isolated S, not a run).
    """
    n = 7200
    labels = np.array(["N"] * n, dtype=object)
    for first, length, c in [(100, 2, "V"), (200, 4, "V"), (300, 1, "V"), (400, 3, "S"),
                             (500, 1, "S"), (510, 1, "S"), (4000, 2, "V"), (5000, 2, "S"),
                             (6000, 3, "S")]:
        labels[first: first + length] = c
    readable = np.ones(n, bool)
    readable[6001] = False
    time_s = np.arange(n) + 0.5
    return pd.DataFrame({"sample": (time_s * FS).astype(int), "time_s": time_s,
                         "label": labels.astype(str), "readable": readable})


def test_report_numbers_match_hand_counts():
    table = _hand_table()
    s = holter_summary(table, FS, 7200.0)
    # readable beats: 7199; V: 2+4+1+2 = 9; S: 3+1+1+2+2 (6000, 6002) = 9
    assert s["beats"] == 7200 and s["readable_beats"] == 7199
    assert s["counts"] == {"N": 7181, "S": 9, "V": 9}
    assert s["runs"]["V"] == {"isolated": 1, "couplets": 2, "runs": 1, "longest": 4,
                              "longest_at": 200.5, "fastest_bpm": 60.0}
    assert s["runs"]["S"]["isolated"] == 4          # 500, 510, 6000, 6002
    assert s["runs"]["S"]["couplets"] == 1 and s["runs"]["S"]["runs"] == 1
    assert s["burden_pct"]["V"] == pytest.approx(100 * 9 / 7199)
    burden = s["burden"]
    assert burden["V"].tolist() == [7, 2] and burden["S"].tolist() == [5, 4]
    assert burden["beats"].tolist() == [3600, 3599]
    assert burden["V_pct"].tolist() == [round(100 * 7 / 3600, 1), round(100 * 2 / 3599, 1)]
    assert s["hr_mean"] == pytest.approx(60) and s["hr_min"] == pytest.approx(60)
    assert s["worst_minute_s"] == 180.0           # beats 200-203: 4 V, the most in a minute
    assert s["readable_share"] == pytest.approx(7199 / 7200)


def _long_ecg(r_samples, n, fs=FS):
    """A long ECG with one beat template at each R sample (a convolution, no beat loop)."""
    t = np.arange(-0.3, 0.5, 1 / fs)
    template = (0.15 * np.exp(-((t + 0.16) / 0.025) ** 2) + np.exp(-(t / 0.012) ** 2)
                - 0.2 * np.exp(-((t - 0.03) / 0.01) ** 2) + 0.3 * np.exp(-((t - 0.3) / 0.05) ** 2))
    spikes = np.zeros(n)
    spikes[r_samples] = 1
    return np.convolve(spikes, template, mode="same")


def test_report_html_has_every_figure_and_number(tmp_path):
    from bs4 import BeautifulSoup

    table = _hand_table()
    x = _long_ecg(table["sample"].to_numpy(), 7200 * FS)
    summary = eu.holter.write_report(table, x, FS, tmp_path / "r.html", tmp_path / "r.txt",
                                     name="hand", lead="II")
    soup = BeautifulSoup((tmp_path / "r.html").read_text(), "html.parser")
    images = soup.find_all("img")
    assert len(images) == 3
    for img in images:
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.find_parent("figure").figcaption.text
    text = soup.get_text()
    for needle in ["N 7181, S 9, V 9", "isolated 1, couplets 2, runs (3+) 1", "longest 4 beats "
                   "at 0:03:20", "worst minute: 0:03:00", "readable 100.0 %", "0:06:40"]:
        assert needle in text, needle
    assert (tmp_path / "r.txt").read_text() in soup.find(id="summary").text + "\n"
    burden, events = soup.find_all("table")
    header = [th.text for th in burden.find_all("th")]
    v = header.index("V")
    assert [tr.find_all("td")[v].text for tr in burden.tbody.find_all("tr")] == ["7", "2"]
    # couplets and runs: V 2, 4, 2 and S 3, 2 (the broken S stretch is not one)
    assert len(events.tbody.find_all("tr")) == 5 == len(summary["runs_table"].query("length >= 2"))


@requires_data
def test_a_qtdb_record_as_edf_and_csv_gives_the_wfdb_beat_table(tmp_path, model_file):
    """A real record (QT Database sel803, 15 min, 250 Hz) converted in both formats."""
    from wfdb.io.convert.edf import wfdb_to_edf

    base = eu.data.database_dir("qtdb") / "sel803"
    rec = wfdb.rdrecord(str(base), channels=[0])
    wfdb_to_edf(str(base), channels=[0], output_filename=str(tmp_path / "sel803.edf"))
    write_csv(tmp_path / "sel803.csv", rec.p_signal, names=("ecg",))
    tables = []
    for path, fs in [(base, None), (tmp_path / "sel803.edf", None),
                     (tmp_path / "sel803.csv", FS)]:
        tables.append(annotate_files([path], model_file, tmp_path / path.suffix.strip("."),
                                     fs=fs, progress=False)[0]["table"])
    for other in tables[1:]:
        assert other["sample"].tolist() == tables[0]["sample"].tolist()
        assert other["label"].tolist() == tables[0]["label"].tolist()


def test_console_script_points_at_the_command_line():
    """`ecgutils annotate ...` (pyproject's [project.scripts]) is `python -m ecgutils`."""
    import importlib

    from conftest import ROOT

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["ecgutils"]
    module, func = target.split(":")
    main = getattr(importlib.import_module(module), func)
    with pytest.raises(SystemExit) as exit_:
        main(["annotate", "--help"])
    assert exit_.value.code == 0


def test_every_input_is_checked_before_any_is_annotated(tmp_path, model_file):
    """A bad file last in the list stops the command before the first file's outputs."""
    sig, _ = _ecg(30)
    good = write_edf(tmp_path / "good.edf", sig)
    csv = write_csv(tmp_path / "late.csv", sig)
    with pytest.raises(InputError, match="late.csv.*--fs"):
        annotate_files([good, csv], model_file, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    rec = read_recording(good, header_only=True)
    assert rec.signal.size == 0 and rec.lead == "ECG II" and rec.fs == FS
