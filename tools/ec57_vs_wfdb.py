"""``eu.ec57`` against WFDB's own comparators, ``bxb`` (beat by beat) and ``rxr`` (run by run).

For each MIT-BIH record asked (default: DS2), writes a test annotation file made from
the reference one with known errors (a share of beats relabelled among N, S, V and F,
some beats dropped, some extra beats added, every beat moved by up to 40 ms; seeded),
runs ``bxb -L`` and ``bxb -l`` (gross QRS, V and S Se/+P, V FPR) and ``rxr -L`` (V and S
couplets, short and long runs), and prints them beside ``eu.ec57``'s figures on the same
files, with EC57's defaults (learning period 5 min, 150 ms window).

Both sides use bxb's classes here (``e``, ``j``, ``n`` as S, ``eu.ec57.BXB_MAP``), so
that only the counting is compared; the book itself puts the escape beats in N. The
reference's atrial fibrillation and flutter episodes are passed to ``run_counts``
(``ref_af``), since rxr counts their N beats as S.

Result (2026-12-06, WFDB 10.7.0 built from source, seed 0): beat by beat (QRS, S and V
Se and +P, V FPR), all 22 DS2 records give the same figures as bxb; run by run, 19 give
rxr's counts. On 210, 219 and 221, atrial fibrillation broken up by frequent V beats,
rxr starts each episode as a long S run at its rhythm mark, even when a V beat follows
at once, where ``run_counts`` counts the episode's beats: rxr finds 8, 2 and 6 more long
S runs and correspondingly fewer short runs and couplets (all missed by these test
labels). Without ``ref_af``, the five records in atrial fibrillation or flutter differ.

WFDB's C tools are not a dependency of the book. Build them from the WFDB sources
(github.com/bemoody/wfdb: ``./configure && make`` in ``lib``, then
``gcc -Ilib -o bxb app/bxb.c -Llib -lwfdb``, same for ``rxr``; headers under
``wfdb/``), then:

    .venv/bin/python tools/ec57_vs_wfdb.py --bxb PATH/bxb --rxr PATH/rxr [RECORD ...]

(with ``LD_LIBRARY_PATH`` pointing at ``libwfdb.so`` if it is not installed).
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

import ecgutils as eu
from ecgutils import ec57

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

SYMBOL_OF = {"N": "N", "S": "A", "V": "V", "F": "F", "Q": "Q"}


def test_annotations(record: str, rng):
    """Reference beats of ``record`` with known errors: (samples, AAMI labels, symbols)."""
    ann = eu.data.load_annotations(record)
    symbols = np.asarray(ann.symbol)
    beat = np.isin(symbols, list(eu.data.BEAT_SYMBOLS))
    samples = np.asarray(ann.sample)[beat]
    labels = eu.data.aami_class(symbols[beat], mapping=ec57.BXB_MAP)
    relabel = rng.random(labels.size) < 0.08
    labels = np.where(relabel, rng.choice(list("NSVF"), labels.size), labels)
    keep = rng.random(labels.size) > 0.01
    samples, labels = samples[keep], labels[keep]
    moved = samples + rng.integers(-14, 15, samples.size)  # up to 40 ms at 360 Hz
    extra = rng.integers(0, samples.max(), max(1, samples.size // 200))
    samples = np.concatenate([moved, extra])
    labels = np.concatenate([labels, rng.choice(list("NSV"), extra.size)])
    order = np.argsort(samples, kind="stable")
    samples, labels = np.maximum(samples[order], 0), labels[order]
    unique = np.concatenate([[True], np.diff(samples) > 0])
    return samples[unique], labels[unique]


def run(cmd, env) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bxb", required=True)
    parser.add_argument("--rxr", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("records", nargs="*", default=list(eu.data.DS2))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    source = eu.data.database_dir("mitdb")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "WFDB": folder}
        for record in args.records:
            for ext in (".hea", ".atr"):
                shutil.copy(source / f"{record}{ext}", folder)
            t_samples, t_labels = test_annotations(record, rng)
            wfdb.wrann(record, "tst", sample=t_samples,
                       symbol=[SYMBOL_OF[x] for x in t_labels], write_dir=folder)
            out = {}
            for flag, names in (("-L", ("bxbL", "sdL")), ("-l", ("bxbl", "sdl"))):
                run([args.bxb, "-r", record, "-a", "atr", "tst", flag,
                     *(str(Path(folder) / n) for n in names)], env)
            run([args.rxr, "-r", record, "-a", "atr", "tst", "-L",
                 str(Path(folder) / "rxrV"), str(Path(folder) / "rxrS")], env)
            bxb_l = (Path(folder) / "bxbL").read_text().splitlines()[-1].split()
            bxb_v = (Path(folder) / "bxbl").read_text().splitlines()[-1].split()
            out["wfdb"] = {"QRS Se": bxb_l[20], "QRS +P": bxb_l[21], "V Se": bxb_l[22],
                           "V +P": bxb_l[23], "S Se": bxb_l[24], "S +P": bxb_l[25],
                           "V FPR": bxb_v[16]}
            for kind, name in (("V", "rxrV"), ("S", "rxrS")):
                cols = (Path(folder) / name).read_text().splitlines()[-1].split()[1:13]
                for i, what in enumerate(("couplet", "short", "long")):
                    out["wfdb"][f"{kind} {what}"] = "/".join(cols[4 * i:4 * i + 4])
            ann = eu.data.load_annotations(record)
            symbols = np.asarray(ann.symbol)
            beat = np.isin(symbols, list(eu.data.BEAT_SYMBOLS))
            r_samples = np.asarray(ann.sample)[beat]
            r_labels = eu.data.aami_class(symbols[beat], mapping=ec57.BXB_MAP)
            ref, pred = ec57.match_annotations(r_samples, r_labels, t_samples, t_labels, 360)
            g = ec57.gross_statistics(ref, pred)
            counts = ec57.confusion_counts(ref, pred)[0].sum(axis=0)
            tp, fn, fp, tn = (int(x) for x in ec57._class_counts(counts, "V"))

            def pct(a, b, digits=2):  # from the counts, as bxb prints them
                return "-" if b <= 0 else f"{100 * a / b:.{digits}f}"

            q, s = g["qrs"], g["S"]
            out["ec57"] = {"QRS Se": pct(q["tp"], q["tp"] + q["fn"]),
                           "QRS +P": pct(q["tp"], q["tp"] + q["fp"]),
                           "V Se": pct(tp, tp + fn), "V +P": pct(tp, tp + fp),
                           "S Se": pct(s["tp"], s["tp"] + s["fn"]),
                           "S +P": pct(s["tp"], s["tp"] + s["fp"]),
                           "V FPR": pct(fp, fp + tn, 3)}
            af = eu.data.samples_in_episodes(
                r_samples, eu.data.rhythm_episodes(ann, rhythms=("AFIB", "AFL")))
            c = ec57.run_counts(r_samples, r_labels, t_samples, t_labels, 360, ref_af=af)
            for kind in ("V", "S"):
                for what in ("couplet", "short", "long"):
                    out["ec57"][f"{kind} {what}"] = "/".join(
                        str(c[f"{kind} {what} {k}"]) for k in ("TPs", "FN", "TPp", "FP"))
            differ = [k for k in out["wfdb"] if out["wfdb"][k] != out["ec57"][k]]
            rows.append((record, differ))
            print(f"{record}: " + ("same" if not differ else "; ".join(
                f"{k} wfdb {out['wfdb'][k]} ec57 {out['ec57'][k]}" for k in differ)))
    same = sum(not d for _, d in rows)
    print(f"{same} of {len(rows)} records give the same figures (run counts: TPs/FN/TPp/FP)")


if __name__ == "__main__":
    main()
