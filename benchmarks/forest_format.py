"""Which file format for chapter 07's random forest: skops or ONNX (neither runs code on load).

Trains chapter 07's forest (200 trees, ``min_samples_leaf=10``, balanced subsamples) on
``forest_features`` of DS1 records of MIT-BIH (all 22 unless a number is given), then
saves it with ``skops.io`` (zip stored and deflated) and with ``skl2onnx`` and reports
for each: file size, load time (median of 3) and predict speed on all the training beats
(median of 3), plus the pickle (joblib, compress 3) it replaces as a reference. Needs ``ECG_DATA_DIR`` and the
``bench`` extra (skl2onnx, onnxruntime).

Measured 2026-12-06 on the 2-core machine (shared), 50,598 beats, 91,294 nodes:
pickle 3.4 MB, load 0.06 s, 132k beats/s; skops stored 11.4 MB, deflated 3.5 MB, load
0.14-0.28 s, 147-165k beats/s (scikit-learn's own predictions); ONNX 4.7 MB, load 0.06 s,
46-66k beats/s (float32, |dp| up to 7e-7). Chapter 07 saves skops, deflated.

    .venv/bin/python benchmarks/forest_format.py [n_records]
"""
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

import ecgutils as eu
from ecgutils import interpatient as ip


def _median_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main(n_records: int = 22) -> None:
    import joblib
    import onnxruntime as ort
    import skops.io as sio
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier

    spec = ip.BeatSpec()
    beats = ip.build_beats(eu.data.DS1[:n_records], spec=spec)
    features = ip.forest_features(beats, spec)
    keep = np.isin(beats.label, spec.classes)
    x, y = features[keep].astype(np.float32), beats.label[keep]
    forest = RandomForestClassifier(200, min_samples_leaf=10, n_jobs=-1, random_state=0,
                                    class_weight="balanced_subsample").fit(x, y)
    nodes = sum(t.tree_.node_count for t in forest.estimators_)
    print(f"forest: {len(x)} beats from {n_records} DS1 records, {x.shape[1]} features, "
          f"200 trees, {nodes} nodes")
    reference = forest.predict_proba(x)
    with tempfile.TemporaryDirectory() as tmp:
        rows = {}
        path = Path(tmp) / "f.joblib"
        joblib.dump(forest, path, compress=3)
        load_s, loaded = _median_time(lambda: joblib.load(path))
        pred_s, _ = _median_time(lambda: loaded.predict_proba(x))
        rows["pickle (joblib, unsafe)"] = path.stat().st_size, load_s, pred_s

        for label, compression in (("skops (stored)", zipfile.ZIP_STORED),
                                   ("skops (deflated)", zipfile.ZIP_DEFLATED)):
            path = Path(tmp) / f"f{compression}.skops"
            sio.dump(forest, path, compression=compression)
            trusted = sio.get_untrusted_types(file=path)
            load_s, loaded = _median_time(lambda: sio.load(path, trusted=trusted))
            pred_s, proba = _median_time(lambda: loaded.predict_proba(x))
            print(f"{label} max |p - sklearn p| = {np.abs(proba - reference).max():.2e}")
            rows[label] = path.stat().st_size, load_s, pred_s

        path = Path(tmp) / "f.onnx"
        onx = to_onnx(forest, x[:1], options={id(forest): {"zipmap": False}})
        path.write_bytes(onx.SerializeToString())
        load_s, session = _median_time(lambda: ort.InferenceSession(
            str(path), providers=["CPUExecutionProvider"]))
        name = session.get_inputs()[0].name
        pred_s, out = _median_time(lambda: session.run(None, {name: x}))
        print(f"onnx max |p - sklearn p| = {np.abs(out[1] - reference).max():.2e}")
        rows["onnx"] = path.stat().st_size, load_s, pred_s
    for fmt, (size, load_s, pred_s) in rows.items():
        print(f"{fmt:24s} {size / 1e6:7.1f} MB  load {load_s:6.2f} s  "
              f"predict {len(x) / pred_s:9,.0f} beats/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 22)
