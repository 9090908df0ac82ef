import os

import numpy as np
import pytest

import ecgutils as eu
from conftest import requires_data, synthetic_ecg


def test_load_record_and_beat_table(make_record):
    _, peaks = synthetic_ecg()
    folder, name, _ = make_record(
        symbols=["N", "N", "V", "N", "A"],
        extra_annotations=[(5, "+", "(N"), (int(peaks[3]) - 10, "+", "(AFIB"), (50, "~", "")])
    rec = eu.data.load_record(name, "testdb", root=folder.parent)
    assert rec.p_signal.shape == (20 * 360, 2) and rec.fs == 360
    table = eu.data.beat_table("testdb", root=folder.parent)
    assert table.symbol.tolist() == ["N", "N", "V", "N", "A"]          # ~ and + are not beats
    assert table.aami.tolist() == ["N", "N", "V", "N", "S"]
    assert table.rhythm.tolist() == ["N", "N", "N", "AFIB", "AFIB"]
    assert (table["sample"].to_numpy() == peaks[:5]).all()


def test_pick_lead_by_name(make_record):
    folder, name, _ = make_record()
    rec = eu.data.load_record(name, "testdb", root=folder.parent)
    rec.sig_name = ["V5", "MLII"]
    assert eu.data.pick_lead(rec)[1] == "MLII"
    assert np.array_equal(eu.data.pick_lead(rec)[0], rec.p_signal[:, 1])


def test_missing_data_folder_says_how_to_get_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"ECG_DATA_DIR.*fetch mitdb"):
        eu.data.list_records("mitdb")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        eu.data.load_record("100")


def test_missing_record_names_it(make_record):
    folder, _, _ = make_record()
    with pytest.raises(FileNotFoundError, match="Record '777'"):
        eu.data.load_record("777", "testdb", root=folder.parent)


def test_truncated_dat(make_record):
    folder, name, _ = make_record()
    dat = folder / f"{name}.dat"
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"{name}\.dat is truncated"):
        eu.data.load_record(name, "testdb", root=folder.parent)


def test_header_pointing_to_missing_file(make_record):
    folder, name, _ = make_record()
    (folder / f"{name}.dat").rename(folder / "elsewhere.dat")
    with pytest.raises(FileNotFoundError, match=rf"points to signal file '{name}\.dat'"):
        eu.data.load_record(name, "testdb", root=folder.parent)


def test_record_without_beats(make_record):
    folder, name, _ = make_record(symbols=[], extra_annotations=[(5, "+", "(N"), (99, "~", "")])
    with pytest.raises(ValueError, match=rf"testdb/{name} has no beat annotations"):
        eu.data.beat_table("testdb", root=folder.parent)


def test_unknown_annotation_symbol(make_record, custom_labels):
    folder, name, _ = make_record(symbols=["N", "Z"], custom_labels=custom_labels)
    with pytest.raises(ValueError, match=r"unknown annotation symbols \['Z'\]"):
        eu.data.beat_table("testdb", root=folder.parent)


def test_beat_symbol_without_class(make_record):
    folder, name, _ = make_record(symbols=["N", "B", "N"])
    no_b = {k: v for k, v in eu.data.AAMI_MAP.items() if k != "B"}
    with pytest.raises(ValueError, match=r"record testdb/900: beat symbols without a class: \['B'\]"):
        eu.data.beat_table("testdb", root=folder.parent, mapping=no_b)


def test_every_wfdb_beat_symbol_has_an_aami_class(make_record):
    # issue 15 item 5: B (MIT-BIH Supraventricular Arrhythmia), r, n and ? used to be refused
    assert set(eu.data.AAMI_MAP) == set(eu.data.BEAT_SYMBOLS)
    # issue 28: the escape beat n is N like e and j
    assert eu.data.aami_class(["B", "r", "n", "?"]).tolist() == ["N", "V", "N", "Q"]
    folder, name, _ = make_record(symbols=["N", "B", "r", "n", "?", "N"])
    table = eu.data.beat_table("testdb", root=folder.parent)
    assert table.aami.tolist() == ["N", "N", "V", "N", "Q", "N"]


def test_nan_signal(make_record):
    x = np.full((360 * 20, 2), np.nan)
    folder, name, _ = make_record(signal=x)
    with pytest.raises(ValueError, match=r"channel 'MLII': 7200 of 7200 samples are NaN"):
        eu.data.load_record(name, "testdb", root=folder.parent)


def test_aami_mapping_is_ec57():
    groups = {c: sorted(s for s, k in eu.data.AAMI_MAP.items() if k == c) for c in "NSVFQ"}
    assert groups == {"N": sorted("NLRBejn"), "S": sorted("AaJS"), "V": sorted("EVr"),
                      "F": ["F"], "Q": sorted("/fQ?")}
    assert not {"+", "~", "!", "x", "|", "[", "]", '"'} & set(eu.data.BEAT_SYMBOLS)


def test_ds_lists():
    assert len(eu.data.DS1) == len(eu.data.DS2) == 22
    assert not set(eu.data.DS1) & set(eu.data.DS2)
    assert not set(eu.data.PACED_RECORDS) & (set(eu.data.DS1) | set(eu.data.DS2))


def test_vf_episodes_open_at_end(make_record):
    folder, name, peaks = make_record(extra_annotations=[(100, "[", ""), (900, "]", ""),
                                                        (5000, "[", "")])
    ann = eu.data.load_annotations(name, "testdb", root=folder.parent)
    assert eu.data.vf_episodes(ann).tolist() == [[100, 900], [5000, int(ann.sample[-1])]]


def test_relative_data_dir_found_from_notebooks_folder(tmp_path, monkeypatch):
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data" / "mitdb").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("ECG_DATA_DIR", "data")
    assert eu.data.data_dir() == (tmp_path / "data").resolve()


# ----------------------------------------------------------------- real data
@requires_data
def test_real_mitdb_beats():
    table = eu.data.beat_table("mitdb")
    assert len(eu.data.list_records("mitdb")) == 48
    assert len(table) == 109_494
    assert table.aami.value_counts().to_dict() == {"N": 90631, "Q": 8043, "V": 7236, "S": 2781,
                                                   "F": 803}
    assert set(eu.data.DS1) | set(eu.data.DS2) | set(eu.data.PACED_RECORDS) == set(table.record)
    assert (table.groupby("record")["sample"].apply(lambda s: s.is_monotonic_increasing)).all()


@requires_data
def test_real_qtdb_every_labelled_record_through_beat_table():
    # issue 15 item 5: the whole QT Database (six source databases); 81 records have an .atr
    folder = eu.data.database_dir("qtdb")
    records = eu.data.list_records("qtdb")
    labelled = [r for r in records if (folder / f"{r}.atr").is_file()]
    assert len(records) == 105 and len(labelled) >= 80
    table = eu.data.beat_table("qtdb", labelled)
    assert set(table.record) == set(labelled)
    assert set(table.aami) <= set(eu.data.AAMI_CLASSES)
    assert table.groupby("record").size().min() > 0
    unlabelled = sorted(set(records) - set(labelled))[0]
    with pytest.raises(FileNotFoundError, match=rf"qtdb/{unlabelled} has no annotation file"):
        eu.data.beat_table("qtdb", [unlabelled])


@requires_data
def test_real_leads_and_episodes():
    rec = eu.data.load_record("114", "mitdb", sampto=3600)
    assert rec.sig_name == ["V5", "MLII"] and eu.data.pick_lead(rec)[1] == "MLII"
    ann207 = eu.data.load_annotations("207")
    assert "(VFL" in ann207.aux_note and "\x00" not in "".join(ann207.aux_note)
    assert len(eu.data.vf_episodes(ann207)) >= 1
    cu = eu.data.load_annotations("cu01", "cudb")
    (start, end), = eu.data.vf_episodes(cu)
    assert end - start > 60 * 250
    sele = [r for r in eu.data.list_records("qtdb") if r.startswith("sele0")]
    assert len(sele) == 33


@requires_data
def test_ensure_records_never_downloads_when_present(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("tried to download")
    monkeypatch.setattr(eu.data, "fetch_database", no_network)
    assert eu.data.ensure_records("mitdb", ["100", "101"]).name == "mitdb"
    assert eu.data.ensure_records("cudb").name == "cudb"


# ----------------------------------------------------------------- integrity (issue 15 item 1)
def _write_sums(folder, name="SHA256SUMS"):
    import hashlib

    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
             for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith("SHA")]
    (folder / name).write_text("\n".join(lines) + "\n")


def test_truncated_atr_without_checksums_is_refused(make_record):
    folder, name, peaks = make_record()
    atr = folder / f"{name}.atr"
    atr.write_bytes(atr.read_bytes()[: atr.stat().st_size // 2])
    with pytest.raises(eu.data.ChecksumError,
                       match=rf"Annotation file .*{name}\.atr stops at byte \d+ without the end "
                             rf"marker.*fetch testdb --records {name}"):
        eu.data.beat_table("testdb", root=folder.parent)


@pytest.mark.parametrize("sums_name", ["SHA256SUMS", "SHA256SUMS.txt"])
def test_atr_checked_against_the_folders_checksums(make_record, sums_name):
    folder, name, _ = make_record()
    _write_sums(folder, sums_name)
    assert len(eu.data.beat_table("testdb", root=folder.parent)) > 0
    atr = folder / f"{name}.atr"
    data = bytearray(atr.read_bytes())
    data[0] ^= 1                                  # still a valid stream, one interval off
    atr.write_bytes(bytes(data))
    with pytest.raises(eu.data.ChecksumError,
                       match=rf"{name}\.atr does not match its SHA-256 in .*{sums_name}"):
        eu.data.load_annotations(name, "testdb", root=folder.parent)


def test_checksums_are_computed_once_per_file(make_record, monkeypatch):
    folder, name, _ = make_record()
    _write_sums(folder)
    calls = []
    real = eu.data._sha256
    monkeypatch.setattr(eu.data, "_sha256", lambda p: calls.append(p.name) or real(p))
    for _ in range(3):
        eu.data.beat_table("testdb", root=folder.parent)
        eu.data.load_record(name, "testdb", root=folder.parent)
    assert sorted(calls) == sorted({f"{name}.atr", f"{name}.dat", f"{name}.hea"})


def test_annotations_past_the_signal_end(make_record):
    folder, name, _ = make_record(seconds=20, extra_annotations=[(20 * 360 + 500, "N", "")])
    with pytest.raises(ValueError, match=rf"up to sample 7700, past the end of the signal "
                                         rf"\(7200 samples in {name}\.hea\)"):
        eu.data.beat_table("testdb", root=folder.parent)


def test_signal_file_checked_against_checksums(make_record):
    folder, name, _ = make_record()
    _write_sums(folder)
    dat = folder / f"{name}.dat"
    data = bytearray(dat.read_bytes())
    data[100] ^= 0xFF                              # same size: the size check cannot see it
    dat.write_bytes(bytes(data))
    with pytest.raises(eu.data.ChecksumError, match=rf"{name}\.dat does not match its SHA-256"):
        eu.data.load_record(name, "testdb", root=folder.parent)


@requires_data
def test_real_truncated_100_atr(tmp_path):
    # the case: 100.atr cut from 4,558 to 3,000 bytes gave 1,495 beats, silently
    src = eu.data.database_dir("mitdb")
    for with_sums in (True, False):
        folder = tmp_path / str(with_sums) / "mitdb"
        folder.mkdir(parents=True)
        for ext in ("hea", "dat", "atr"):
            (folder / f"100.{ext}").write_bytes((src / f"100.{ext}").read_bytes())
        if with_sums:
            sums = [ln for ln in (src / "SHA256SUMS").read_text().splitlines()
                    if ln.split()[-1].startswith("100.")]
            (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
        assert len(eu.data.beat_table("mitdb", ["100"], root=folder.parent)) == 2273
        atr = folder / "100.atr"
        atr.write_bytes(atr.read_bytes()[:3000])
        with pytest.raises(eu.data.ChecksumError, match=r"100\.atr (does not match|stops at)"):
            eu.data.beat_table("mitdb", ["100"], root=folder.parent)


def test_vf_episodes_record_starting_inside_vf(make_record):
    # issue 15 item 2: "]" before "[" gave [[100, 50]] and lost the real episode
    folder, name, _ = make_record(extra_annotations=[(50, "]", ""), (100, "[", ""),
                                                     (900, "]", ""), (950, "]", ""),
                                                     (2000, "[", ""), (2100, "[", ""),
                                                     (3000, "]", "")])
    ann = eu.data.load_annotations(name, "testdb", root=folder.parent)
    episodes = eu.data.vf_episodes(ann)
    assert episodes.tolist() == [[0, 50], [100, 900], [2000, 3000]]
    assert (episodes[:, 1] > episodes[:, 0]).all()
    assert eu.data.vf_episodes(ann, start=10).tolist()[0] == [10, 50]


def test_header_with_byte_offset(make_record):
    # issue 15 item 3: format "212+16" was refused as truncated (offset x signal length)
    folder, name, _ = make_record()
    plain = eu.data.load_record(name, "testdb", root=folder.parent).p_signal
    dat, hea = folder / f"{name}.dat", folder / f"{name}.hea"
    dat.write_bytes(b"\x00" * 16 + dat.read_bytes())
    hea.write_text(hea.read_text().replace(" 212 ", " 212+16 "))
    assert hea.read_text().count("212+16") == 2
    rec = eu.data.load_record(name, "testdb", root=folder.parent)
    assert np.array_equal(rec.p_signal, plain)
    dat.write_bytes(dat.read_bytes()[:-10])             # still caught when really truncated
    with pytest.raises(ValueError, match=rf"{name}\.dat is truncated"):
        eu.data.load_record(name, "testdb", root=folder.parent)


def test_records_given_as_text_or_number(make_record):
    # issue 15 item 6: -p records 100 raised a TypeError inside data.py; a text list was
    # iterated character by character
    folder, name, _ = make_record(name="900")
    make_record(name="901")
    for records in (900, "900", "['900', '901']", ["900", 901]):
        table = eu.data.beat_table("testdb", records, root=folder.parent)
        assert set(table.record) <= {"900", "901"} and "900" in set(table.record)
        assert eu.data.ensure_records("testdb", records, root=folder.parent) == folder
    with pytest.raises(ValueError, match="parameter 'records' must be a list of texts"):
        eu.data.beat_table("testdb", 9.5, root=folder.parent)


def test_symbols_hours_and_detections_in_episodes(make_record):
    """symbols_at reads the reference symbol at given samples ("" where there is none);
    record_hours sums the headers; detections inside [ ... ] episodes are counted."""
    folder, name, peaks = make_record(symbols=["N", "V"] + ["N"] * 200)
    root = folder.parent
    got = eu.data.symbols_at([name] * 4, [peaks[0], peaks[1], peaks[1] + 1, peaks[2]], "testdb", root)
    assert got.tolist() == ["N", "V", "", "N"]
    assert eu.data.record_hours([name, name], "testdb", root) == pytest.approx(2 * 20 / 3600)
    assert eu.data.detections_in_episodes(name, "testdb", root) == 0      # no episode marked
    folder, name, peaks = make_record(name="901", extra_annotations=[(peaks[3] - 5, "[", ""),
                                                                     (peaks[6] + 5, "]", "")])
    # the detector finds the synthetic beats: the 4 inside the episode are counted
    assert eu.data.detections_in_episodes(name, "testdb", root) == 4


def test_class_makeup_counts_the_symbols_of_one_class(make_record):
    folder, name, _ = make_record(symbols=["N", "L", "e", "V", "N"])
    beats = eu.data.beat_table("testdb", [name], folder.parent)
    assert eu.data.class_makeup(beats, "N", "NLRej") == {
        "all": 5, "class": 4, "N": 2, "L": 1, "R": 0, "e": 1, "j": 0}
