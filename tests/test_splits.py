"""Splits by subject: records of one person (MIT-BIH 201/202, European ST-T records with
the same header) never straddle a split, in every split function of the book."""
import numpy as np
import pandas as pd
import pytest
import wfdb

import ecgutils as eu
from conftest import REAL_DATA, requires_data

MITDB = [r for r in eu.data.DS1 + eu.data.DS2]


def _together(splits, a="201", b="202"):
    where = {r: k for k, recs in splits.items() for r in recs}
    return a not in where or b not in where or where[a] == where[b]


def test_split_records_is_seeded_and_disjoint():
    records = [str(r) for r in range(48)]
    a, b = eu.splits.split_records(records, seed=3), eu.splits.split_records(records, seed=3)
    assert a == b and a != eu.splits.split_records(records, seed=4)
    assert sorted(sum(a.values(), [])) == sorted(records)
    assert [len(a[k]) for k in ("train", "val", "test")] == [34, 7, 7]
    with pytest.raises(ValueError, match="record 1 is in both 'train' and 'test'"):
        eu.splits.check_disjoint({"train": ["1", "2"], "test": ["1"]})
    with pytest.raises(ValueError, match="must sum to 1"):
        eu.splits.split_records(records, fractions=(0.5, 0.2, 0.2))


def test_201_and_202_are_one_subject():
    ids = eu.splits.subject_ids(["200", "201", "202", "203"])
    assert ids[1] == ids[2] and len(set(ids)) == 3
    with pytest.raises(ValueError, match="come from one subject"):
        eu.splits.check_disjoint({"train": ["201", "100"], "val": ["202"]})


@pytest.mark.parametrize("seed", range(40))
def test_201_and_202_never_straddle_a_split(seed):
    records = [r for r in MITDB] + ["102", "104"]
    assert _together(eu.splits.split_records(records, seed=seed))
    assert _together(eu.splits.split_records(records, (0.5, 0.5), seed=seed, names=("a", "b")))
    counts = pd.DataFrame({"V": np.arange(len(records)) % 3, "S": 1}, index=records)
    splits, _, _ = eu.splits.split_records_covering(counts, seed=seed, strict=False)
    assert _together(splits)
    splits = eu.spectrograms.protocol_splits("patient_70_15_15", records, np.array(records),
                                             np.array(["N"] * len(records)), seed=seed)
    assert _together(splits)
    # one beat per record; 201's subject is positive through 201 only
    beats = eu.beats.Beats(np.array(records), np.arange(len(records)),
                           np.where(np.array(records) == "201", "abnormal", "normal"),
                           classes=eu.kaggle_beats.PTB_CLASSES,
                           X=np.zeros((len(records), 187)))
    split, _ = eu.kaggle_beats.split_by_record(beats, seed=seed)
    assert _together(split)


def test_every_split_draws_subjects_not_records():
    """With 201 and 202 one subject, 45 records are 44 subjects: the cut counts subjects."""
    records = MITDB + ["102"]
    splits = eu.splits.split_records(records, (0.5, 0.5), seed=0, names=("a", "b"))
    people = {k: len(set(eu.splits.subject_ids(v))) for k, v in splits.items()}
    assert people == {"a": 22, "b": 22}


def _write_header(folder, name, comments):
    wfdb.wrsamp(name, fs=250, units=["mV"], sig_name=["MLIII"],
                p_signal=np.zeros((100, 1)), fmt=["16"], comments=comments,
                write_dir=str(folder))


def test_european_st_t_records_with_one_header_are_one_subject(tmp_path):
    qtdb = tmp_path / "qtdb"
    qtdb.mkdir()
    same = ["Age: 51  Sex: M", "Coronary artery disease", "unspecified medication"]
    _write_header(qtdb, "sele0121", same + ["Recorder type: ICR 7200",
                                            "Produced by xform from record e0121, at 0"])
    _write_header(qtdb, "sele0122", same + ["Recorder type: OXFORD",
                                            "Produced by xform from record e0122, at 0"])
    _write_header(qtdb, "sele0166", ["Age: -  Sex: -", "Coronary artery disease",
                                     "Produced by xform from record e0166, at 0"])
    _write_header(qtdb, "sele0167", ["Age: -  Sex: -", "Coronary artery disease",
                                     "Produced by xform from record e0167, at 0"])
    _write_header(qtdb, "sel201", ["Produced by xform from record 201, at 0"])
    _write_header(qtdb, "sel16265", ["Produced by xform from record mqt2, at 0"])
    _write_header(qtdb, "sel16272", ["Produced by xform from record mqt2, at 0"])
    names = ["sele0121", "sele0122", "sele0166", "sele0167", "sel201", "sel16265", "sel16272"]
    ids = eu.splits.subject_ids(names, "qtdb", tmp_path)
    assert ids[0] == ids[1]                 # same age, sex and clinical lines
    assert ids[2] != ids[3]                 # unknown age and sex: never merged
    assert ids[4] == eu.splits.subject_ids(["202"])[0]   # an MIT-BIH excerpt: 201's subject
    assert ids[5] != ids[6]                 # a working-file name is not a subject
    for seed in range(10):
        splits = eu.splits.split_records(names, (0.5, 0.5), seed=seed, names=("a", "b"),
                                         db="qtdb", root=tmp_path)
        assert _together(splits, "sele0121", "sele0122")


@requires_data
def test_qt_database_european_st_t_subjects():
    records = eu.stt.european_st_records("qtdb", REAL_DATA)
    ids = eu.splits.subject_ids(records, "qtdb", REAL_DATA)
    groups = pd.Series(records).groupby(ids).agg(tuple)
    shared = sorted(g for g in groups if len(g) > 1)
    assert ("sele0121", "sele0122") in shared and ("sele0124", "sele0126") in shared
    assert len(records) == 33 and len(groups) == 27
