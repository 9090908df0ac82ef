"""The one beat table (``beats.record_beats``) and the one beat container (``Beats``)."""
import numpy as np
import pytest

import ecgutils as eu
from ecgutils.beats import Beats, record_beats


def _tiny():
    """Six beats of two records, an N/S/V task (F and Q beats are -1)."""
    return Beats(["a", "a", "a", "b", "b", "b"], [10, 20, 30, 5, 15, 25],
                 ["N", "S", "F", "V", "Q", "N"], classes=("N", "S", "V"),
                 db=["mitdb"] * 6, windows=np.arange(12.0).reshape(6, 2, 1),
                 rr=np.arange(6.0)[:, None], x=[np.zeros((6, 3)), np.ones((6, 1))])


# ---------------------------------------------------------------- the container
def test_y_indexes_the_classes_and_follows_the_labels():
    beats = _tiny()
    assert beats.y.tolist() == [0, 1, -1, 2, -1, 0]
    assert Beats(["r"] * 3, [1, 2, 3], ["N", "F", "Q"]).y.tolist() == [0, 3, 4]  # AAMI N..Q
    beats.label = np.array(["V"] * 6)
    assert beats.y.tolist() == [2] * 6


def test_arrays_read_as_attributes_and_must_hold_every_beat():
    beats = _tiny()
    assert beats.windows.shape == (6, 2, 1) and beats.rr[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert sorted(beats.arrays) == ["rr", "windows", "x"]
    with pytest.raises(AttributeError, match="no array 'X'"):
        beats.X
    with pytest.raises(ValueError, match="'rr' has 2 rows, label has 3"):
        Beats(["a"] * 3, [1, 2, 3], list("NNN"), rr=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="'x' has 2 rows"):
        Beats(["a"] * 3, [1, 2, 3], list("NNN"), x=[np.zeros((3, 1)), np.zeros((2, 1))])
    with pytest.raises(ValueError, match="'record' has 2 rows"):
        Beats(["a"] * 2, [1, 2, 3], list("NNN"))


def test_subset_slices_every_array_with_indices_or_a_mask():
    beats = _tiny()
    part = beats.subset(beats.y >= 0)
    assert len(part) == 4 and part.label.tolist() == ["N", "S", "V", "N"]
    assert part.sample.tolist() == [10, 20, 5, 25] and part.db.tolist() == ["mitdb"] * 4
    assert part.rr[:, 0].tolist() == [0, 1, 3, 5] and part.windows.shape == (4, 2, 1)
    assert [a.shape for a in part.x] == [(4, 3), (4, 1)]
    assert part.classes == beats.classes and part.source is None
    picked = beats.subset(np.array([5, 0]))
    assert picked.record.tolist() == ["b", "a"] and picked.rr[:, 0].tolist() == [5, 0]


def test_concat_joins_in_order_and_refuses_unlike_beats():
    beats = _tiny()
    both = Beats.concat([beats.subset(beats.records_mask(["b"])),
                         beats.subset(beats.records_mask(["a"]))])
    assert both.record.tolist() == ["b"] * 3 + ["a"] * 3
    assert both.rr[:, 0].tolist() == [3, 4, 5, 0, 1, 2]
    assert [a.shape for a in both.x] == [(6, 3), (6, 1)]
    no_db = Beats(["c"], [1], ["N"], classes=("N", "S", "V"), windows=np.zeros((1, 2, 1)),
                  rr=np.zeros((1, 1)), x=[np.zeros((1, 3)), np.zeros((1, 1))])
    assert Beats.concat([beats, no_db]).db is None      # kept only where every part has it
    with pytest.raises(ValueError, match="does not match"):
        Beats.concat([beats, Beats(["c"], [1], ["N"], classes=("N", "S", "V"))])
    with pytest.raises(ValueError, match="no beats"):
        Beats.concat([])


def test_counts_records_mask_and_the_kaggle_frame():
    beats = _tiny()
    counts = beats.counts()
    assert counts.loc["a"].to_dict() == {"F": 1, "N": 1, "Q": 0, "S": 1, "V": 0}
    assert int(counts.values.sum()) == 6
    assert beats.records_mask(["b"]).tolist() == [False] * 3 + [True] * 3
    kaggle = Beats(["r", "r"], [3, 9], ["V", "N"], X=np.ones((2, 187)))
    frame = kaggle.to_frame()
    assert list(frame.columns[-3:]) == [187, "record", "sample"]
    assert frame[187].tolist() == [2, 0] and frame["sample"].tolist() == [3, 9]


# ---------------------------------------------------------------- the entry point
@pytest.fixture
def record(make_record):
    """A 30-s record at 250 Hz: N beats, an S and a V, annotated 20 ms before R (as
    the European ST-T marks are), with a rhythm mark that is not a beat."""
    import conftest

    n = len(conftest.synthetic_ecg(250, 30)[1])
    symbols = ["N"] * n
    symbols[5], symbols[9] = "A", "V"
    folder, name, peaks = make_record("950", seconds=30, fs=250, symbols=symbols,
                                      extra_annotations=[(100, "+", "(N")])
    # move every beat mark 5 samples (20 ms) before R
    import wfdb

    ann = wfdb.rdann(str(folder / name), "atr")
    beat = np.asarray(ann.symbol) != "+"
    sample = np.where(beat, ann.sample - 5, ann.sample)
    wfdb.wrann(name, "atr", sample=sample, symbol=ann.symbol, aux_note=ann.aux_note,
               write_dir=str(folder))
    return folder.parent, name, peaks


def test_reference_beats_are_moved_to_r_with_their_classes(record):
    root, name, peaks = record
    beats = record_beats([name], "testdb", root)
    assert len(beats) == len(peaks)                             # beats only, no "+"
    assert np.abs(beats.sample - peaks).max() <= 1
    assert beats.label[5] == "S" and beats.label[9] == "V"
    assert (beats.label == "N").sum() == len(peaks) - 2
    assert beats.symbol[5] == "A" and set(beats.record) == {name} and set(beats.db) == {"testdb"}
    info = beats.signals[name]
    assert info["fs"] == 250 and info["lead"] == "MLII" and info["signal"].shape == (30 * 250,)
    assert info["sig_name"] == ["MLII", "V1"]
    # as annotated
    raw = record_beats(name, "testdb", root, r_search_s=None)
    np.testing.assert_array_equal(raw.sample, peaks - 5)
    # the same table as eu.data.beat_table, the same classes through a mapping
    table = eu.data.beat_table("testdb", [name], root)
    np.testing.assert_array_equal(raw.sample, table["sample"])
    binary = {s: "normal" if s == "N" else "abnormal" for s in eu.data.BEAT_SYMBOLS}
    binary = record_beats(name, "testdb", root, mapping=binary)
    assert (binary.label == "abnormal").sum() == 2


def test_a_lead_by_index_or_every_lead(record):
    root, name, _ = record
    second = record_beats(name, "testdb", root, lead=1).signals[name]
    both = record_beats(name, "testdb", root, lead=None).signals[name]
    assert second["lead"] == "V1" and both["signal"].shape == (30 * 250, 2)
    np.testing.assert_allclose(both["signal"][:, 1], second["signal"])


def test_detected_beats_are_labelled_by_the_reference_they_match(record):
    root, name, peaks = record
    beats = record_beats([name], "testdb", root, marks="detected")
    counts = beats.signals[name]["detector"]
    assert counts["reference"] == len(peaks) and counts["matched"] >= len(peaks) - 1
    matched = beats.sample[beats.label != ""]
    assert np.abs(matched[:, None] - peaks).min(axis=1).max() <= 0.15 * 250
    assert {"S", "V"} <= set(beats.label)


def test_bad_arguments(record):
    root, name, _ = record
    with pytest.raises(ValueError, match="marks"):
        record_beats(name, "testdb", root, marks="annotated")
    with pytest.raises(ValueError, match="no records"):
        record_beats([], "testdb", root)
    with pytest.raises(ValueError, match="without a class"):
        record_beats(name, "testdb", root, mapping={"N": "N"})
