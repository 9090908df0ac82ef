"""Render the README's generated parts: the book's URL (``html.baseurl`` in ``_config.yml``)
and the table of chapters, each with its headline numbers read from ``results/*.json``.

    python tools/readme.py             # rewrite README.md between its marker comments
    python tools/readme.py --check     # exit 1 if README.md is not what would be written
    python tools/readme.py --results DIR

Every chapter ``notebooks/NN_name.py`` gets a row, new ones too. Its headline numbers come
from ``<results>/<notebook>.json`` of a default (not smoke) run, as declared in
:data:`HEADLINES`; a chapter missing there shows its first run's accuracy. Without a
results file (or with a smoke one) the row keeps the numbers already in README.md.
The results folder is ``$ECG_RESULTS_DIR`` if set, else ``results/``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Each chapter's headline: (label, protocol, how to pick the run, metric path, format).
#: The run is the first with that protocol whose keys match the dict (e.g. the model).
#: Formats: "f3" -> .972, "pct0" -> 93 %, "pct1" -> 98.0 %, "pct2" -> 99.59 %.
HEADLINES = {
    "01_data_tour": [
        ("R-peak Se", "qrs_detection", {}, "metrics.se", "pct2"),
        ("+P", "qrs_detection", {}, "metrics.ppv", "pct2"),
    ],
    "02_image_cnn": [
        ("accuracy beat-random", "beat_random", {}, "metrics.accuracy", "pct0"),
        ("new patients", "patient_70_15_15", {}, "metrics.accuracy", "pct0"),
    ],
    "03_st_t_dense_rnn": [
        ("new patients: Se", "patient_70_15_15", {"chosen_on_validation": True},
         "metrics.sensitivity", "f3"),
        ("Sp", "patient_70_15_15", {"chosen_on_validation": True}, "metrics.specificity", "f3"),
        ("ST episodes Se", "st_episode_patient", {}, "metrics.episode_sensitivity", "f3"),
    ],
    "04_spectrogram_cnn": [
        ("accuracy patient-wise", "patient_70_15_15", {}, "metrics.accuracy", "f3"),
        ("DS1→DS2 V Se", "ds1ds2", {}, "metrics.per_class.V.recall", "pct1"),
        ("V +P", "ds1ds2", {}, "metrics.per_class.V.precision", "pct1"),
    ],
    "05_smote_spectrogram_cnn": [
        ("accuracy beat-random", "beat_random", {"model": "cnn2d_spectrogram_smote"},
         "metrics.accuracy", "f3"),
        ("DS1→DS2", "ds1ds2", {}, "metrics.accuracy", "f3"),
    ],
    "06_beat_1d_cnn": [
        ("accuracy beat-random", "beat_random", {"model": "cnn1d"}, "metrics.accuracy", "f3"),
        ("macro-F1", "beat_random", {"model": "cnn1d"}, "metrics.macro_f1", "f3"),
        ("DS1→DS2", "ds1ds2", {"model": "cnn1d"}, "metrics.accuracy", "f3"),
        ("macro-F1", "ds1ds2", {"model": "cnn1d"}, "metrics.macro_f1", "f3"),
    ],
    "07_new_patients": [
        ("CNN, DS1→DS2 S F1", "ds1ds2", {"model": "interpatient_cnn_seed_mean"},
         "metrics.gross_mean.S F1", "f3"),
        ("V F1", "ds1ds2", {"model": "interpatient_cnn_seed_mean"},
         "metrics.gross_mean.V F1", "f3"),
        ("random forest S F1", "ds1ds2", {"model": "random_forest_seed_mean"},
         "metrics.gross_mean.S F1", "f3"),
        ("V F1", "ds1ds2", {"model": "random_forest_seed_mean"},
         "metrics.gross_mean.V F1", "f3"),
        ("CNN ensemble (the shipped model) S F1", "ds1ds2",
         {"model": "interpatient_cnn_ensemble"}, "metrics.ec57.S.f1", "f3"),
        ("V F1", "ds1ds2", {"model": "interpatient_cnn_ensemble"}, "metrics.ec57.V.f1",
         "f3"),
        ("other databases: S F1", "external_qtdb", {"model": "interpatient_cnn_ensemble"},
         "metrics.ec57.S.f1", "f3"),
        ("V F1", "external_qtdb", {"model": "interpatient_cnn_ensemble"},
         "metrics.ec57.V.f1", "f3"),
        ("record-adaptive ensemble (`--adapt`), DS2: S F1", "ds1ds2",
         {"model": "interpatient_cnn_ensemble_record_adaptive"}, "metrics.ec57.S.f1", "f3"),
        ("V F1", "ds1ds2", {"model": "interpatient_cnn_ensemble_record_adaptive"},
         "metrics.ec57.V.f1", "f3"),
        ("other databases: S F1", "external_qtdb",
         {"model": "interpatient_cnn_ensemble_record_adaptive"}, "metrics.ec57.S.f1", "f3"),
        ("V F1", "external_qtdb", {"model": "interpatient_cnn_ensemble_record_adaptive"},
         "metrics.ec57.V.f1", "f3"),
    ],
    "08_comparison": [
        ("chapter 07's CNN (its first seed), S F1: DS1→DS2", "ds1ds2", {"model": "interpatient"},
         "metrics.ec57.S.f1", "f3"),
        ("beat-random", "beat_random", {"model": "interpatient"}, "metrics.ec57.S.f1", "f3"),
        ("chapter 06's CNN: DS1→DS2", "ds1ds2", {"model": "beat_cnn1d"}, "metrics.ec57.S.f1",
         "f3"),
        ("beat-random", "beat_random", {"model": "beat_cnn1d"}, "metrics.ec57.S.f1", "f3"),
        ("random forest: DS1→DS2", "ds1ds2", {"model": "classical"}, "metrics.ec57.S.f1", "f3"),
    ],
}

#: What each chapter shows, in a few words (chapters missing here show their title only).
ABOUT = {
    "01_data_tour": "the three databases, annotations and AAMI classes, filtering and "
                    "wavelet denoising, an R-peak detector scored on all 48 MIT-BIH records",
    "02_image_cnn": "beats drawn as 64×64 images, six classes, the reference 2D CNN, "
                    "beat-random against new patients; a command-line predictor for one PNG",
    "03_st_t_dense_rnn": "European ST-T beats: dense, SimpleRNN and LSTM normal-vs-abnormal "
                         "classifiers, beat-random against patient-wise; ST-episode detection",
    "04_spectrogram_cnn": "detected beats as STFT spectrograms, a 2D CNN over N/S/V, "
                          "patient-wise and de Chazal DS1→DS2, Grad-CAM",
    "05_smote_spectrogram_cnn": "Kaggle-format beats as 16×16 spectrograms, SMOTE on the "
                                "training split only, ablation SMOTE / class weights / neither",
    "06_beat_1d_cnn": "the Kaggle/Kachuee 187-sample beats rebuilt from MIT-BIH, a 1D CNN, "
                      "beat-random against DS1→DS2, transfer to European ST-T beats",
    "07_new_patients": "an inter-patient N/S/V classifier: RR relative to the patient's "
                       "rhythm, a window with the P wave, a two-branch CNN and a random "
                       "forest, DS1→DS2 in EC57 terms, five other databases; "
                       "`python -m ecgutils annotate` for any WFDB record",
    "08_comparison": "every approach of chapters 02–07 (and a random forest) as a named "
                     "pipeline on one N/S/V task: DS1→DS2, other databases and beat-random "
                     "side by side, with training time, speed, parameters and file size",
    "09_own_recording": "`ecgutils annotate` on your own WFDB, EDF/BDF or CSV recording: "
                        "the lead and units it chose, a beat table, WFDB annotations and a "
                        "Holter-style report; `eu.annotate_signal` from Python",
}

#: How a protocol is named in a default headline.
PROTOCOL_NAMES = {"beat_random": "beat-random", "patient_70_15_15": "patient-wise",
                  "ds1ds2": "DS1→DS2", "st_episode_patient": "ST episodes, patient-wise",
                  "qrs_detection": "R-peak detection"}

START, END = "<!-- chapters:start", "<!-- chapters:end -->"
URL_START, URL_END = "<!-- url:start -->", "<!-- url:end -->"
NOT_RUN = "not run yet: `make book`, then `make readme`"


def config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text())


def book_url(root: Path = ROOT) -> str:
    return config(root)["html"]["baseurl"]


def chapters(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.py"))


def title(name: str, root: Path = ROOT) -> str:
    m = re.search(r"^# # (.+)$", (root / "notebooks" / f"{name}.py").read_text(), re.M)
    return re.sub(r"^\d\d\s*·\s*", "", m[1]).strip() if m else name


def results_dir(root: Path = ROOT) -> Path:
    env = os.environ.get("ECG_RESULTS_DIR")
    return Path(env) if env else root / "results"


def fmt(value, style: str) -> str:
    if value is None:
        return "n/a"
    if style.startswith("pct"):
        return f"{100 * value:.{int(style[3:])}f} %"
    return f"{value:.3f}".removeprefix("0")


def _get(obj: dict, path: str):
    for key in path.split("."):
        obj = obj[key]
    return obj


def _pick(runs: list[dict], protocol: str, match: dict) -> dict:
    for run in runs:
        if run["protocol"] == protocol and all(run.get(k) == v for k, v in match.items()):
            return run
    raise KeyError(f"no run with protocol {protocol!r} and {match}")


def headline(name: str, obj: dict) -> str:
    """The headline cell for one chapter's results (``read_results`` output)."""
    spec = HEADLINES.get(name)
    if spec is None:  # a new chapter: its first run's accuracy (or macro-F1)
        run = obj["runs"][0]
        key = "accuracy" if run["metrics"].get("accuracy") is not None else "macro_f1"
        protocol = PROTOCOL_NAMES.get(run["protocol"], run["protocol"])
        spec = [(f"{key.replace('_', '-')} {protocol}",
                 run["protocol"], {"model": run["model"]}, f"metrics.{key}", "f3")]
    return "; ".join(f"{label} {fmt(_get(_pick(obj['runs'], p, m), path), style)}"
                     for label, p, m, path, style in spec)


def read_default_run(name: str, folder: Path) -> dict | None:
    """``folder/<name>.json`` if it holds a default run (not smoke), else None."""
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        return None
    obj = json.loads(path.read_text())
    return None if obj.get("parameters", {}).get("smoke") else obj


def current_headlines(readme: str) -> dict[str, str]:
    """Headline cells of the table now in the README, by chapter number."""
    out = {}
    if START in readme:
        table = readme.split(START, 1)[1].split(END, 1)[0]
        for line in table.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 4 and re.fullmatch(r"\d\d", cells[0]):
                out[cells[0]] = cells[3]
    return out


def table(readme: str, folder: Path, root: Path = ROOT) -> str:
    base, kept = book_url(root), current_headlines(readme)
    rows = ["| | chapter | what it shows | headline numbers (default run) |",
            "|---|---|---|---|"]
    for name in chapters(root):
        num = name[:2]
        obj = read_default_run(name, folder)
        cell = headline(name, obj) if obj else kept.get(num, NOT_RUN)
        rows.append(f"| {num} | [{title(name, root)}]({base}notebooks/{name}.html) | "
                    f"{ABOUT.get(name, '')} | {cell} |")
    return "\n".join(rows)


def render(readme: str, folder: Path, root: Path = ROOT) -> str:
    """``readme`` with its URL line and chapter table regenerated."""
    for marker in (START, END, URL_START, URL_END):
        if marker not in readme:
            raise ValueError(f"README.md lacks the marker {marker!r}")
    head, rest = readme.split(URL_START, 1)
    url = book_url(root)
    readme = f"{head}{URL_START}\n**Read it online: <{url}>**\n{URL_END}{rest.split(URL_END, 1)[1]}"
    head, rest = readme.split(START, 1)
    start_line, rest = rest.split("\n", 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{START}{start_line}\n{table(readme, folder, root)}\n{END}{tail}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare, write nothing")
    ap.add_argument("--results", type=Path, default=None, help="default: $ECG_RESULTS_DIR "
                    "or results/")
    args = ap.parse_args(argv)
    folder = args.results or results_dir()
    path = ROOT / "README.md"
    old = path.read_text()
    new = render(old, folder)
    if args.check:
        if new != old:
            print("README.md is out of date: run `make readme`", file=sys.stderr)
            return 1
        return 0
    if new != old:
        path.write_text(new)
    used = [n for n in chapters() if read_default_run(n, folder)]
    print(f"README.md: {'rewritten' if new != old else 'unchanged'}; numbers from "
          f"{len(used)} results files in {folder} ({', '.join(used) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
