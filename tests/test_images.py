"""ecgutils.images (beat images, VF windows, image folders, models with class names),
the episode and split helpers of ecgutils.data, and the predict_image command."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ecgutils as eu
import ecgutils.images as ei
from conftest import ROOT, requires_data

CLASSES = ["bright", "dark", "mid"]


# --------------------------------------------------------------------------- rendering
def _ink_rows(image):
    """For each column, (top, bottom) rows holding ink."""
    ink = image == 0
    assert ink.any(axis=0).all(), "a column has no ink"
    top = ink.argmax(axis=0)
    bottom = image.shape[0] - 1 - ink[::-1].argmax(axis=0)
    return top, bottom


def test_render_shapes_and_values():
    beats = np.random.default_rng(0).normal(size=(5, 100))
    img = ei.render_beat_images(beats)
    assert img.shape == (5, 64, 64) and img.dtype == np.uint8
    assert set(np.unique(img)) <= {0, 255}
    assert ei.render_beat_images(beats, size=(32, 48)).shape == (5, 32, 48)


def test_render_line_is_connected_and_oriented():
    t = np.linspace(0, 1, 300)
    ramp = t.copy()                                   # rises left to right
    spike = np.exp(-((t - 0.5) / 0.005) ** 2)         # a steep narrow QRS-like spike
    img = ei.render_beat_images(np.stack([ramp, spike]), size=32, margin_px=2)
    for image in img:
        top, bottom = _ink_rows(image)
        # neighbouring columns touch: the trace is one connected line
        assert np.all(np.maximum(top[1:], top[:-1]) <= np.minimum(bottom[1:], bottom[:-1]) + 1)
    top, bottom = _ink_rows(img[0])
    assert bottom[0] == 31 - 2 and top[-1] == 2      # low at the left, high at the right
    assert np.all(np.diff(top) <= 0)                 # never goes down
    top, bottom = _ink_rows(img[1])
    assert top.min() == 2 and bottom[0] == 29        # the spike reaches the top margin
    assert (bottom - top).max() >= 25                # its steep edge is inked all the way


def test_render_flat_beat_and_line_width():
    flat = ei.render_beat_images(np.zeros((1, 50)), size=16)[0]
    assert (flat == 0).sum(axis=1).argmax() in (7, 8)   # one line in the middle
    assert ((flat == 0).sum(axis=0) == 1).all()
    beats = np.sin(np.linspace(0, 6, (200)))[None]
    thin = (ei.render_beat_images(beats, line_width=1) == 0).sum()
    thick = (ei.render_beat_images(beats, line_width=3) == 0).sum()
    assert thick > 2 * thin


def test_render_chunks_do_not_change_the_result():
    beats = np.random.default_rng(1).normal(size=(10, 80))
    np.testing.assert_array_equal(ei.render_beat_images(beats, chunk=3),
                                  ei.render_beat_images(beats))


@pytest.mark.parametrize("kwargs,match", [
    ({"beats": np.zeros(10)}, "2-D array"),
    ({"beats": np.full((2, 10), np.nan)}, "NaN"),
    ({"size": 0}, "'size'"),
    ({"size": (64, "x")}, "'size'"),
    ({"line_width": 0}, "'line_width'"),
    ({"oversample": 1.5}, "'oversample'"),
    ({"margin_px": 40}, "no room"),
])
def test_render_bad_input(kwargs, match):
    args = {"beats": np.zeros((2, 10)), **kwargs}
    with pytest.raises(ValueError, match=match):
        ei.render_beat_images(**args)


# --------------------------------------------------------------------------- VF windows
def test_windows_lie_inside_episodes_and_split_without_overlap():
    episodes = np.array([[1000, 5000], [8000, 8300], [10000, 20000]])
    fs, before_s, after_s = 100, 0.3, 0.5
    anchors = ei.episode_window_anchors(episodes, fs, before_s, after_s, step_s=0.25)
    start, end = anchors - 30, anchors + 50
    inside = ((start[:, None] >= episodes[:, 0]) & (end[:, None] <= episodes[:, 1])).any(1)
    assert inside.all() and np.all(np.diff(anchors) > 0)
    parts = ei.split_windows_by_time(anchors, episodes, fs, before_s, after_s)
    assert set(parts) == {"train", "val", "test", ""}
    spans = {p: (start[parts == p].min(), end[parts == p].max()) for p in ("train", "val", "test")}
    assert spans["train"][1] <= spans["val"][0] and spans["val"][1] <= spans["test"][0]
    counts = {p: int((parts == p).sum()) for p in ("train", "val", "test")}
    total = sum(counts.values())
    assert abs(counts["train"] / total - 0.7) < 0.02 and abs(counts["test"] / total - 0.15) < 0.02
    assert (parts == "").sum() <= 2 * 4  # only windows straddling the two cuts are dropped


def test_window_helpers_bad_input():
    with pytest.raises(ValueError, match="step_s"):
        ei.episode_window_anchors([(0, 100)], 100, 0.3, 0.5, step_s=0)
    with pytest.raises(ValueError, match="end >= start"):
        ei.episode_window_anchors([(100, 0)], 100, 0.3, 0.5, step_s=0.1)
    assert ei.episode_window_anchors([(0, 10)], 100, 0.3, 0.5, 0.1).size == 0  # too short
    with pytest.raises(ValueError, match="inside any episode"):
        ei.split_windows_by_time([5000], [(0, 100)], 100, 0.3, 0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        ei.split_windows_by_time([50], [(0, 100)], 100, 0.3, 0.3, fractions=(0.5, 0.4))


def test_rhythm_and_intersected_episodes():
    import wfdb

    ann = wfdb.Annotation("x", "atr", sample=np.array([0, 100, 110, 300, 320, 400, 500]),
                          symbol=["+", "+", "[", "]", "+", "+", "N"],
                          aux_note=["(N", "(VFL", "", "", "(N", "(VF", ""])
    rhythm = eu.data.rhythm_episodes(ann)
    assert rhythm.tolist() == [[100, 320], [400, 500]]
    assert eu.data.rhythm_episodes(ann, ("VF",), end=900).tolist() == [[400, 900]]
    assert eu.data.intersect_episodes(eu.data.vf_episodes(ann), rhythm).tolist() == [[110, 300]]
    assert eu.data.intersect_episodes([(0, 5)], [(6, 9)]).shape == (0, 2)


def test_split_records_covering():
    counts = pd.DataFrame({"A": [100] * 20, "B": [0] * 17 + [50] * 3},
                          index=[str(100 + i) for i in range(20)])
    splits, used, missing = eu.splits.split_records_covering(counts, seed=0)
    assert missing == {}
    eu.splits.check_disjoint(splits)
    assert all(counts.loc[recs, "B"].sum() >= 1 for recs in splits.values())
    assert splits == eu.splits.split_records(counts.index, seed=used)
    only_two = counts.iloc[10:]  # 10 records, B (50 beats each) in 3: 60 in every split is impossible
    with pytest.raises(ValueError, match="min_count"):
        eu.splits.split_records_covering(only_two, min_count=60)
    _, _, missing = eu.splits.split_records_covering(only_two, min_count=60, strict=False)
    assert missing and all(v == ["B"] for v in missing.values())


def test_split_patientwise_follows_records_and_cuts_vf_by_time():
    meta = pd.DataFrame({"db": ["mitdb"] * 4 + ["cudb"] * 10,
                         "record": ["100", "101", "102", "207"] + ["cu01"] * 10,
                         "sample": [50, 60, 70, 80] + list(range(0, 100, 10)),
                         "label": ["N", "N", "PVC", "N"] + [ei.VF_CLASS] * 10})
    spans = {("cudb", "cu01"): np.array([[0, 100]])}
    split = ei.split_patientwise(meta, {"train": ["100", "207"], "val": ["101"], "test": ["102"]},
                                 spans, fs=1, before_s=0, after_s=10)
    assert split[:4].tolist() == ["train", "val", "test", "train"]
    # 100 s of VF: the first 70 s train, the next 15 val, the last 15 test; the window
    # 80-90 straddles the val/test cut at 85 and is dropped
    assert split[4:].tolist() == ["train"] * 7 + ["val", "", "test"]
    assert ei.split_patientwise(meta, {"train": ["100"]}, {}, 1, 0, 10)[1] == ""


def test_split_beat_random_is_stratified_and_reproducible():
    labels = np.repeat(["A", "B", "C"], [700, 200, 100])
    split = eu.splits.split_beat_random(labels, seed=3)
    for c, n in (("A", 700), ("B", 200), ("C", 100)):
        counts = [((labels == c) & (split == s)).sum() for s in ("train", "val", "test")]
        assert abs(counts[0] - 0.7 * n) <= 2 and abs(counts[2] - 0.15 * n) <= 1
    assert (split == eu.splits.split_beat_random(labels, seed=3)).all()
    assert (split != eu.splits.split_beat_random(labels, seed=4)).any()
    with pytest.raises(ValueError, match="sum"):
        eu.splits.split_beat_random(labels, fractions=(0.5, 0.2, 0.2))


def test_cap_per_class_caps_training_only():
    labels = np.repeat(["N", "V"], [50, 5])
    split = np.where(np.arange(55) % 5 == 0, "test", "train")
    kept = ei.cap_per_class(labels, split, {"train": 10, "test": None}, seed=0)
    assert (labels[kept["train"]] == "N").sum() == 10 and (labels[kept["train"]] == "V").sum() == 4
    assert kept["test"].tolist() == np.flatnonzero(split == "test").tolist()
    assert set(kept["train"]) <= set(np.flatnonzero(split == "train"))


# --------------------------------------------------------------------------- folders
def test_write_image_folders_layout_roundtrip_and_replace(tmp_path):
    img = ei.render_beat_images(np.random.default_rng(0).normal(size=(4, 60)), size=16)
    counts = ei.write_image_folders(tmp_path, img, ["a", "b", "a", "a"],
                                    ["train", "train", "test", "train"],
                                    ["r1_1", "r1_2", "r2_1", "r1_3"], class_names=["a", "b", "c"])
    assert counts.loc["a", "train"] == 2 and counts.loc["c", "test"] == 0
    assert (tmp_path / "test" / "b").is_dir() and (tmp_path / "train" / "c").is_dir()
    back = np.asarray(Image.open(tmp_path / "train" / "b" / "r1_2.png"))
    np.testing.assert_array_equal(back, img[1])
    # writing the train split again replaces it: no stale files, no temporary folders left
    ei.write_image_folders(tmp_path, img[:1], ["b"], ["train"], ["new"], class_names=["a", "b"])
    assert sorted(p.name for p in (tmp_path / "train").rglob("*.png")) == ["new.png"]
    assert (tmp_path / "test" / "a" / "r2_1.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("change,match", [
    ({"names": ["x", "x"]}, "unique"),
    ({"classes": ["a", "zzz"]}, "not in class_names"),
    ({"splits": ["train", "../up"]}, "folder name"),
    ({"class_names": ["a", ".hidden"], "classes": ["a", ".hidden"]}, "folder name"),
    ({"names": ["x"]}, "same length"),
    ({"images": np.zeros((2, 8, 8))}, "uint8"),
])
def test_write_image_folders_bad_input(tmp_path, change, match):
    args = {"images": np.zeros((2, 8, 8), np.uint8), "classes": ["a", "a"],
            "splits": ["train", "train"], "names": ["x", "y"], "class_names": ["a"]}
    args.update(change)
    with pytest.raises(ValueError, match=match):
        ei.write_image_folders(tmp_path, **args)


def test_image_folder_dataset_integer_labels_and_weights(tmp_path):
    img = ei.render_beat_images(np.random.default_rng(0).normal(size=(5, 60)), size=16)
    ei.write_image_folders(tmp_path, img, ["b", "a", "b", "c", "b"], ["test"] * 5,
                           [f"x{i}" for i in range(5)], class_names=["a", "b", "c"])
    ds, y = ei.image_folder_dataset(tmp_path / "test", ["a", "b", "c"], 16, batch_size=2)
    assert y.tolist() == [0, 1, 1, 1, 2]               # folders in class_names order
    batches = list(ds.as_numpy_iterator())
    assert np.concatenate([b[1] for b in batches]).tolist() == y.tolist()
    assert batches[0][0].shape == (2, 16, 16, 1) and batches[0][0].max() == 255
    ds, _ = ei.image_folder_dataset(tmp_path / "test", ["a", "b", "c"], 16,
                                    class_weight={0: 3.0, 1: 0.5})
    x, label, weight = next(ds.as_numpy_iterator())
    assert weight.tolist() == [{0: 3.0, 1: 0.5, 2: 1.0}[int(i)] for i in label]


# --------------------------------------------------------------------------- images in
def test_load_image_file_resizes_and_converts(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(np.full((32, 48, 3), 200, np.uint8)).save(path)
    array, notes = ei.load_image_file(path, 16)
    assert array.shape == (16, 16, 1) and array.dtype == np.float32
    assert np.allclose(array, 200, atol=1)
    assert any("resized from 48x32 to 16x16" in n for n in notes)
    assert any("grayscale" in n for n in notes)
    beat = np.full((16, 16), 255, np.uint8)
    beat[8, 2:14] = 0                                   # a dark trace on white
    Image.fromarray(beat).save(path)
    assert ei.load_image_file(path, 16)[1] == []


def _trace(size=16):
    beat = np.full((size, size), 255, np.uint8)
    beat[size // 2, 2:-2] = 0
    beat[3:size // 2, size // 2] = 0
    return beat


def test_load_image_file_transparent_background(tmp_path):
    # issue 15 item 4: a trace on a transparent background became an all-zero image
    rgba = np.zeros((16, 16, 4), np.uint8)             # transparent black everywhere...
    rgba[_trace() == 0] = (0, 0, 0, 255)                # ...but the opaque black trace
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    array, notes = ei.load_image_file(path, 16)
    assert np.array_equal(array[..., 0], _trace().astype(np.float32))
    assert any("transparent pixels" in n and "laid on white" in n for n in notes), notes
    assert "converted from RGBA to grayscale" in notes


def test_load_image_file_inverted_and_blank(tmp_path):
    path = tmp_path / "inverted.png"
    Image.fromarray(255 - _trace()).save(path)          # white trace on black
    array, notes = ei.load_image_file(path, 16)
    assert np.array_equal(array[..., 0], _trace().astype(np.float32))
    assert any("looked inverted" in n for n in notes), notes
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(path)
    assert any("blank (every pixel 0)" in n for n in ei.load_image_file(path, 16)[1])


def test_load_image_file_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        ei.load_image_file(tmp_path / "none.png", 16)
    with pytest.raises(FileNotFoundError, match="folder"):
        ei.load_image_file(tmp_path, 16)
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    with pytest.raises(ValueError, match="not an image"):
        ei.load_image_file(text, 16)
    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="damaged"):
        ei.load_image_file(broken, 16)


# --------------------------------------------------------------------------- models
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 3-class model that answers by mean brightness: white -> bright, black -> dark."""
    eu.models.import_tensorflow()
    import keras

    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Rescaling(1 / 255),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    model.layers[-1].set_weights([np.array([[10.0, -10.0, 0.0]]), np.array([-5.0, 5.0, 0.0])])
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    ei.save_image_model(model, path, CLASSES, 16)
    return model, path


def test_model_keeps_its_classes(tiny_model, tmp_path):
    model, path = tiny_model
    meta = ei.read_model_metadata(path)
    assert meta["class_names"] == CLASSES and meta["image_size"] == [16, 16]
    assert meta["color_mode"] == "grayscale"
    reloaded, meta2 = ei.load_image_model(path)
    x = np.stack([np.full((16, 16, 1), 255.0), np.zeros((16, 16, 1))])
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    assert [CLASSES[i] for i in reloaded.predict(x, verbose=0).argmax(1)] == ["bright", "dark"]
    assert not list(path.parent.glob(".*tmp*"))


def test_model_carries_its_rendering_and_kind(tiny_model, tmp_path):
    model, _ = tiny_model
    rendering = {"fs": 360.0, "before_s": 0.3, "after_s": 0.5, "line_width": 1}
    path = ei.save_image_model(model, tmp_path / "r.keras", CLASSES, 16, preprocessing=rendering)
    assert ei.read_model_metadata(path)["rendering"] == rendering
    _, pre = eu.experiment.load_model(path, expect=ei.MODEL_KIND)  # the shared loader too
    assert pre["class_names"] == CLASSES and pre["kind"] == "image_cnn"
    with pytest.raises(ValueError, match="not a 'beat_cnn'"):
        eu.experiment.load_model(path, expect="beat_cnn")


def test_save_image_model_bad_input(tiny_model, tmp_path):
    model, _ = tiny_model
    with pytest.raises(ValueError, match="3 outputs but 2 class names"):
        ei.save_image_model(model, tmp_path / "m.keras", ["a", "b"], 16)
    with pytest.raises(ValueError, match="must end in .keras"):
        ei.save_image_model(model, tmp_path / "m.h5", CLASSES, 16)
    with pytest.raises(ValueError, match="inputs of shape"):
        ei.save_image_model(model, tmp_path / "m.keras", CLASSES, 32)
    assert not (tmp_path / "m.keras").exists()


def test_read_model_metadata_bad_files(tmp_path, tiny_model):
    with pytest.raises(FileNotFoundError, match="not found"):
        ei.read_model_metadata(tmp_path / "none.keras")
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(ValueError, match="not a zip"):
        ei.read_model_metadata(tmp_path / "text.keras")
    plain = tmp_path / "plain.keras"
    with zipfile.ZipFile(tiny_model[1]) as src, zipfile.ZipFile(plain, "w") as dst:
        for name in src.namelist():
            if name != ei.MODEL_METADATA:
                dst.writestr(name, src.read(name))
    with pytest.raises(ValueError, match="no class names"):
        ei.read_model_metadata(plain)


# --------------------------------------------------------------------------- command line
def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "ecgutils.predict_image", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def _one_clear_line(proc, match):
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr and match in lines[0], lines[0]
    assert proc.stdout == ""


def test_cli_prints_class_and_confidence(tiny_model, tmp_path):
    png = tmp_path / "white.png"
    Image.fromarray(np.full((16, 16), 255, np.uint8)).save(png)
    proc = _cli(png, "--model", tiny_model[1])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == [
        "bright (confidence 0.993)",
        "note: the image is blank (every pixel 255): it holds no trace, so the class it gets "
        "means nothing"]


def test_cli_resizes_other_sizes_and_says_so(tiny_model, tmp_path, capsys):
    from ecgutils.predict_image import main

    png = tmp_path / "black_rgb.png"
    Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(png)
    assert main([str(png), "--model", str(tiny_model[1]), "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "dark (confidence 0.993)" and out[1].startswith("  then ")
    assert "note: converted from RGB to grayscale" in out
    assert "note: resized from 30x40 to 16x16 pixels (the model's input size)" in out


@pytest.mark.parametrize("case", ["missing", "folder", "text", "truncated", "no_model",
                                  "model_not_keras", "model_without_classes"])
def test_cli_bad_input_gives_one_line(case, tmp_path, tiny_model):
    png = tmp_path / "ok.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16), np.uint8)).save(png)
    model = tiny_model[1]
    if case == "missing":
        image, match = tmp_path / "nothere.png", "image not found"
    elif case == "folder":
        image, match = tmp_path, "is a folder"
    elif case == "text":
        image, match = tmp_path / "text.png", "not an image"
        image.write_text("just text\n")
    elif case == "truncated":
        image, match = tmp_path / "cut.png", "damaged"
        image.write_bytes(png.read_bytes()[:100])
    elif case == "no_model":
        image, model, match = png, tmp_path / "none.keras", "model file not found"
    elif case == "model_not_keras":
        image, model, match = png, tmp_path / "bad.keras", "not a Keras 3 .keras file"
        model.write_bytes(b"\x00" * 100)
    else:
        image, model, match = png, tmp_path / "plain.keras", "no class names"
        with zipfile.ZipFile(model, "w") as z:
            z.writestr("config.json", json.dumps({}))
    _one_clear_line(_cli(image, "--model", model), match)


def test_cli_unreadable_file(tmp_path, tiny_model, monkeypatch, capsys):
    """An unreadable image (permission denied) is one clear line (root can read anything,
    so the permission check is simulated)."""
    from ecgutils.predict_image import main

    png = tmp_path / "locked.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(png)
    monkeypatch.setattr(ei.os, "access", lambda *a, **k: False)
    assert main([str(png), "--model", str(tiny_model[1])]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: image {png} cannot be read (permission denied)"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can read a chmod 000 file")
def test_cli_unreadable_file_for_real(tmp_path, tiny_model):
    png = tmp_path / "locked.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(png)
    png.chmod(0)
    try:
        _one_clear_line(_cli(png, "--model", tiny_model[1]), "permission denied")
    finally:
        png.chmod(0o644)


def test_cli_usage_error():
    proc = _cli("x.png")  # no --model
    assert proc.returncode == 2 and "--model" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- real data
@requires_data
def test_vf_windows_from_real_records():
    symbol_classes = {"N": "Normal", "V": "PVC"}
    windows, meta, episodes = ei.collect_windows(["207"], symbol_classes, vf_records=["cu01"])
    assert windows.shape[1] == round(0.3 * 360) + round(0.5 * 360)
    vf = meta[meta["label"] == "VFL+VF"]
    assert set(vf["record"]) == {"207", "cu01"}
    assert set(episodes) == {("mitdb", "207"), ("cudb", "cu01")}
    # cu01's VF episode (214-509 s at 250 Hz) is now in 360 Hz samples
    start, end = episodes[("cudb", "cu01")][0] / 360
    assert abs(start - 214.2) < 0.1 and abs(end - 508.9) < 0.1
    for (db, rec), spans in episodes.items():
        s = vf.loc[vf["record"] == rec, "sample"].to_numpy()
        inside = ((s[:, None] - 108 >= spans[:, 0]) & (s[:, None] + 180 <= spans[:, 1])).any(1)
        assert inside.all()
    # about one window every 0.25 s of VF
    total_s = sum(((e[:, 1] - e[:, 0]) / 360).sum() for e in episodes.values())
    assert 0.8 * total_s / 0.25 < len(vf) <= total_s / 0.25
    assert (meta.loc[meta["label"] == "PVC", "record"] == "207").all()
    images = ei.render_beat_images(windows[:50])
    assert images.shape == (50, 64, 64)
