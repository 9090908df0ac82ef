"""The pretrained default model: chapter 07's headline CNN, trained on MIT-BIH DS1 only.

Three files ship in this folder (package data), all written by :func:`build`
(``make pretrained``, i.e. ``python -m ecgutils.pretrained``):

- ``interpatient_cnn.keras``: the ensemble of chapter 07's headline network over three
  seeds (:func:`ecgutils.interpatient.ensemble_model`: the mean of their probabilities,
  labels by the largest), with its preprocessing (a
  :class:`~ecgutils.interpatient.BeatSpec`) inside; it loads with ``safe_mode=True``
  and runs no code;
- ``interpatient_cnn.json``: how it was made (seeds, records, date, versions) and its
  figures on MIT-BIH DS2 and on the QT Database records from other databases, computed
  after training (neither chose anything);
- ``MODEL_CARD.md``: the model card, generated from the JSON by :func:`model_card`.

``python -m ecgutils annotate FILE`` and ``eu.annotate_signal(signal, fs)`` use this model
when no other is given.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import data as _data
from .. import ec57
from .. import interpatient as ip
from ..annotate import MODEL_KIND, InputError
from ..beats import Beats

__all__ = ["BUILT_BY", "CARD_FILE", "MODEL_FILE", "build", "default_model_path",
           "evaluate_pretrained", "model_card", "resolve_model", "sidecar_path",
           "train_pretrained", "write_card"]

#: The shipped model file, its sidecar and its card (in this package's folder).
MODEL_FILE = "interpatient_cnn.keras"
CARD_FILE = "MODEL_CARD.md"
#: Stamp in every sidecar and card :func:`build` writes: only such files are replaced.
BUILT_BY = "ecgutils.pretrained.build"


def default_model_path() -> Path:
    """The model file that ships with ecgutils (it may be missing in a checkout that
    never ran ``make pretrained``).

    Examples
    --------
    >>> default_model_path().name
    'interpatient_cnn.keras'
    """
    return Path(__file__).resolve().parent / MODEL_FILE


def sidecar_path(model_path) -> Path:
    """The JSON beside a model file :func:`build` wrote (same name, ``.json``)."""
    return Path(model_path).with_suffix(".json")


def resolve_model(model=None):
    """``model`` as given, or the shipped model's path where it is None.

    Raises
    ------
    InputError
        ``model`` is None and the shipped file is missing.
    """
    if model is not None:
        return model
    path = default_model_path()
    if not path.is_file():
        raise InputError(f"the packaged model {path} is missing: re-create it with "
                         f"`make pretrained` (needs the MIT-BIH and QT Database data in "
                         f"ECG_DATA_DIR), or give --model with a saved model file")
    return path


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train_pretrained(root=None, seed: int = 0, epochs: int = 8, batch_size: int = 256,
                     class_weight_power: float = 0.5, augment: bool = True,
                     spec: ip.BeatSpec = ip.BeatSpec(), ds1: Beats | None = None) -> dict:
    """Train the headline model on MIT-BIH DS1 (:func:`ecgutils.interpatient.train_headline`).

    Parameters
    ----------
    root : str or Path, optional
        Data root (default ``ECG_DATA_DIR``, else the per-user cache).
    seed, epochs, batch_size, class_weight_power
        As chapter 07's parameters (its defaults).
    augment : bool
        Train on augmented windows (:data:`ecgutils.interpatient.AUGMENT`), as chapter 07.
    spec : BeatSpec
        Preprocessing, without an operating point (chosen on validation records).
    ds1 : Beats, optional
        DS1's beats, if built already with ``spec``.

    Returns
    -------
    dict
        :func:`~ecgutils.interpatient.train_headline`'s dict.
    """
    if ds1 is None:
        ds1 = ip.build_beats(_data.DS1, root=root, spec=spec)
    return ip.train_headline(ds1, seed, epochs=epochs, batch_size=batch_size,
                             class_weight_power=class_weight_power,
                             augment=ip.AUGMENT if augment else None, spec=spec)


def _figures(beats, proba, spec: ip.BeatSpec) -> dict:
    """Gross EC57 figures of N, S and V by the labels the model gives (``spec.labels``:
    the largest probability), and by the same after the record-adaptive step
    (:func:`ecgutils.adapt.adapt_to_record`, ``annotate --adapt``), with the beat counts."""
    from ..adapt import adapt_to_record

    reference = beats.label
    out = {"beats": {c: int((reference == c).sum()) for c in ("N", "S", "V", "F", "Q")}}
    for key, p in (("labels", proba),
                   ("record_adaptive", adapt_to_record(proba, beats.windows, beats.record,
                                                       spec))):
        g = ec57.gross_statistics(reference, spec.labels(p))
        out[key] = ec57.json_ready(
            {"accuracy": g["accuracy"],
             **{c: {k: g[c][k] for k in ("se", "ppv", "f1")} for c in ("N", "S", "V")}})
    return out


def evaluate_pretrained(model, spec: ip.BeatSpec, root=None) -> dict:
    """The model's figures on the test sets, each predicted once: MIT-BIH DS2 and the QT
    Database records from other databases (:func:`ecgutils.interpatient.external_records`),
    on the annotated beat positions, gross EC57 statistics pooled over records."""
    base = replace(spec, operating_point=())
    ds2 = ip.build_beats(_data.DS2, root=root, spec=base)
    external = ip.external_records(root)
    ext = ip.build_beats(external, db="qtdb", root=root, spec=base)
    sources = sorted({ip.QTDB_SOURCES[ip.qtdb_source(r)] for r in external})
    return {
        "ds2": {"records": list(_data.DS2),
                **_figures(ds2, ip.predict_beats(model, ds2, base)[1], spec)},
        "external": {"records": list(external), "databases": sources,
                     **_figures(ext, ip.predict_beats(model, ext, base)[1], spec)}}


def _check_replaceable(paths) -> None:
    """Refuse to replace a file :func:`build` did not write (before any long work)."""
    model, sidecar, card = paths
    for path in paths:
        if path.is_dir():
            raise InputError(f"{path} is a folder; give another --out")
    if model.exists():
        try:
            info = json.loads(sidecar.read_text())
            ours = info.get("built_by") == BUILT_BY and info.get("sha256") == _sha256(model)
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise InputError(f"{model} exists and was not written by {BUILT_BY} (no matching "
                             f"{sidecar.name} beside it); give another --out, or move it away")
    if card.exists() and BUILT_BY not in card.read_text(errors="replace")[:400]:
        raise InputError(f"{card} exists and was not written by {BUILT_BY}; give another "
                         f"--out, or move it away")
    if sidecar.exists() and not model.exists():
        raise InputError(f"{sidecar} exists without its model {model.name}; move it away")


def build(out_path=None, root=None, seed: int = 0, epochs: int = 8, seeds: int = 3,
          progress=print) -> dict:
    """Train the pretrained model, score it, and write the model, its JSON and its card.

    Trains :func:`train_pretrained` on DS1 once per seed (each seed's epoch and head
    chosen on its own held-out DS1 records), averages the seeds' probabilities
    (:func:`ecgutils.interpatient.ensemble_model`; labels by the largest), then predicts
    DS2 and the other databases' records once (:func:`evaluate_pretrained`). The three
    files are written under temporary names
    and renamed into place at the end, the model first; the JSON holds the model's
    SHA-256, so a mismatch is visible. Only files an earlier ``build`` wrote are
    replaced.

    Parameters
    ----------
    out_path : str or Path, optional
        The ``.keras`` file (default :func:`default_model_path`); the JSON goes beside
        it (:func:`sidecar_path`), the card as ``MODEL_CARD.md`` in its folder.
    root : str or Path, optional
        Data root (default ``ECG_DATA_DIR``). MIT-BIH and the QT Database must be there.
    seed, epochs, seeds
        As chapter 07's: seeds ``seed``, ``seed + 1``, ... (``seeds`` of them).
    progress : callable
        Where the progress lines go.

    Returns
    -------
    dict
        The sidecar's content.
    """
    from .. import __version__, experiment

    out = Path(default_model_path() if out_path is None else out_path)
    if out.suffix != ".keras":
        raise InputError(f"--out {out}: the model file must end in .keras")
    if seeds < 1:
        raise InputError(f"--seeds {seeds}: give 1 or more")
    paths = (out, sidecar_path(out), out.parent / CARD_FILE)
    _check_replaceable(paths)
    try:
        _data.ensure_records("mitdb", _data.DS1 + _data.DS2, root)
        _data.ensure_records("qtdb", None, root)
    except (FileNotFoundError, ValueError) as err:
        raise InputError(f"{err} (`make data` fetches MIT-BIH and the QT Database)") from err
    spec = ip.BeatSpec()
    start = time.perf_counter()
    progress(f"building the DS1 beats (MIT-BIH, {len(_data.DS1)} records)")
    ds1 = ip.build_beats(_data.DS1, root=root, spec=spec)
    fits = {s: train_pretrained(root, s, epochs, spec=spec, ds1=ds1)
            for s in range(seed, seed + seeds)}
    model = ip.ensemble_model([fit["model"] for fit in fits.values()])
    train_min = (time.perf_counter() - start) / 60
    progress("scoring on DS2 and the other databases' records (predicted once)")
    figures = evaluate_pretrained(model, spec, root)
    import keras

    def member(s, fit):
        train_beats = ds1.subset(ds1.records_mask(fit["train_records"]))
        return {"seed": s, "head": fit["head"], "best_epoch": fit["best_epoch"],
                "validation_score": round(fit["best_score"], 4),
                "train_records": fit["train_records"],
                "validation_records": fit["validation_records"],
                "train_beats": {c: int((train_beats.label == c).sum())
                                for c in spec.classes}}

    info = {
        "built_by": BUILT_BY, "model_file": out.name,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "seeds": list(fits), "ecgutils_version": __version__,
        "keras_version": keras.__version__, "model": "interpatient_cnn_ensemble",
        "epochs": epochs, "members": [member(s, fit) for s, fit in fits.items()],
        "data": {"database": "MIT-BIH Arrhythmia (mitdb)", "split": "DS1 (de Chazal et al. 2004)",
                 "records": list(_data.DS1)},
        "spec": spec.to_dict(),
        "train_min": round(train_min, 1),
        "figures": figures,
    }
    folder = out.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".pretrained-"))
    try:
        staged = experiment.save_model(
            model, tmp / out.name,
            {"kind": MODEL_KIND, "notebook": "07_new_patients",
             "model": "interpatient_cnn_ensemble", "spec": spec.to_dict(),
             "seeds": list(fits), "pretrained": True})
        info["sha256"] = _sha256(staged)
        info["size_bytes"] = staged.stat().st_size
        (tmp / paths[1].name).write_text(json.dumps(info, indent=1) + "\n")
        (tmp / paths[2].name).write_text(model_card(info))
        for path in paths:  # the model first: the JSON names its SHA-256
            os.replace(tmp / path.name, path)
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
    progress(f"wrote {out} ({info['size_bytes'] / 1e6:.2f} MB), {paths[1].name} and "
             f"{paths[2].name}")
    return info


def write_card(model_path=None) -> Path:
    """Re-write the model card from the JSON beside ``model_path`` (default: the shipped
    model), e.g. after :func:`model_card`'s text changed; the model is not touched."""
    from ..experiment import _atomic_write

    model = Path(default_model_path() if model_path is None else model_path)
    card = model.parent / CARD_FILE
    info = json.loads(sidecar_path(model).read_text())
    if info.get("built_by") != BUILT_BY or info.get("sha256") != _sha256(model):
        raise InputError(f"{sidecar_path(model)} does not describe {model}: re-create both "
                         f"with `make pretrained`")
    _check_replaceable((model, sidecar_path(model), card))
    return _atomic_write(card, lambda tmp: Path(tmp).write_text(model_card(info)))


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _row(figures: dict, key: str = "labels") -> str:
    f = figures[key]
    name = "record-adaptive (`--adapt`)" if key == "record_adaptive" else "the model alone"
    return (f"| {name} | " + " | ".join(_pct(f[c][k]) for c in ("S", "V")
                                        for k in ("se", "ppv", "f1"))
            + f" | {_pct(f['accuracy'])} |")


def _rows(figures: dict) -> str:
    """The model's row, and the record-adaptive row where the JSON has one."""
    return "\n".join(_row(figures, key) for key in ("labels", "record_adaptive")
                     if key in figures)


def _rule_text(spec: dict) -> str:
    """The model card's words for ``BeatSpec.premature_rule`` (absent in older files)."""
    rule = spec.get("premature_rule") or ()
    if not rule:
        return ""
    return (f"; before that, on a beat that comes early in a regular rhythm "
            f"(`eu.rr.regular_premature`: pre-RR under {rule[0]:g} times the median of the "
            f"31 intervals around it, a longer interval after it, a median change between "
            f"successive intervals under {rule[1]:g} of their mean), the probability of N "
            f"goes to S")


def _template_text(spec: dict) -> str:
    """The model card's words for the second channel."""
    if not spec["template_channel"]:
        return "none more"
    usual = {"local": "the median of the on-time beats of the few minutes around it",
             "on_time": "the median of the record's on-time beats",
             "all": "the median of the record's beats"}[spec.get("template_beats", "all")]
    return f"the beat minus its usual beat, {usual}"


def model_card(info: dict) -> str:
    """The model card of a model :func:`build` made, from its sidecar's content.

    Every number of the card comes from ``info``, so card and JSON never disagree.
    """
    spec = info["spec"]
    d, ds2, ext = info["data"], info["figures"]["ds2"], info["figures"]["external"]
    header = ("| labels | S Se | S +P | S F1 | V Se | V +P | V F1 | accuracy |\n"
              "|---|---|---|---|---|---|---|---|")
    members = "\n".join(
        f"- Seed {m['seed']} trained on {len(m['train_records'])} records "
        f"({', '.join(m['train_records'])}: "
        f"{', '.join(f'{v} {k}' for k, v in m['train_beats'].items())} beats) and held "
        f"out {len(m['validation_records'])} ({', '.join(m['validation_records'])}), "
        f"which chose its waveform head (**{m['head']}**) and its epoch "
        f"({m['best_epoch']} of at most {info['epochs']}; validation mean F1 of S and V "
        f"{m['validation_score']:.3f})." for m in info["members"])

    def beats(figures):
        return ", ".join(f"{figures['beats'][c]} {c}" for c in ("N", "S", "V", "F", "Q"))
    return f"""# Model card: ecg-book's pretrained beat classifier (`{info['model_file']}`)

<!-- Generated by {BUILT_BY} from {Path(info['model_file']).with_suffix('.json').name}; do not
edit by hand: `make pretrained` re-creates the model, its figures and this card. -->

**Not a medical device.** This model was made to teach; it is not validated for any
clinical use, and its labels must not guide the care of anyone.

## What it does

It labels each heartbeat of one ECG lead as **N** (normal and bundle-branch-block
beats), **S** (supraventricular ectopic) or **V** (ventricular ectopic), the AAMI EC57
classes. `python -m ecgutils annotate FILE` and `eu.annotate_signal(signal, fs)` use it
when no other model is given; R peaks come from the book's detector.

It is chapter 07's headline model: a two-branch Keras network, a 1D CNN over the beat
window and a dense branch over RR features relative to the patient's own rhythm,
trained once per seed ({len(info['members'])} seeds); the file holds all of them and
outputs the mean of their probabilities (an ensemble, `eu.interpatient.ensemble_model`).

## Training data

- {d['database']}, **{d['split']} only**: {len(d['records'])} records
  ({', '.join(d['records'])}), lead MLII, the annotated beat positions.
{members}
- AAMI mapping of the MIT-BIH symbols: N = N L R B e j n; S = A a J S; V = V E r;
  F = F; Q = / f Q ?. F and Q beats were left out of training. The paced records
  (102, 104, 107, 217) are in neither DS1 nor DS2.
- Class weights: the balanced ones to the power 0.5; training windows augmented as
  another database would change them (`eu.augment`).

## Inputs and preprocessing

Stored in the model file (its `BeatSpec`); `annotate` applies it to a recording at any
sampling rate:

| setting | value |
|---|---|
| sampling rate | resampled to {spec['fs']:g} Hz |
| band-pass | {spec['band_hz'][0]:g}–{spec['band_hz'][1]:g} Hz |
| beat window | {spec['before_s']:g} s before R to {spec['after_s']:g} s after ({round(spec['before_s'] * spec['fs']) + round(spec['after_s'] * spec['fs'])} samples) |
| channels | the beat; {_template_text(spec)} |
| amplitude | scaled by the record's median QRS amplitude, turned so that the QRS points up |
| RR features | {len(spec['rr_features'])}, all relative to the patient's rhythm (normalised by the {spec['normalise']}'s mean RR): {', '.join(spec['rr_features'])} |
| lead preference | {', '.join(spec['leads'])}; else the most readable lead, with a warning |
| labels | {', '.join(spec['classes'])}: the largest of the mean probabilities{_rule_text(spec)} |

The RR features read the whole recording (the record's mean RR, the rhythm around each
beat): the model labels a recording after the fact, as a Holter analysis does, not live.

## Figures on patients it never saw

Gross EC57 statistics (all beats pooled; an F beat called V is no V false positive; Q
beats not counted), on the annotated beat positions, each test set predicted once after
training. Neither chose anything.

**MIT-BIH DS2** ({len(ds2['records'])} records; {beats(ds2)} beats):

{header}
{_rows(ds2)}

**Other databases**: the {len(ext['records'])} labelled QT Database records that are not
MIT-BIH Arrhythmia excerpts ({'; '.join(ext['databases'])}), 250 Hz, lead MLII or
II where the record has one, else its first ({beats(ext)} beats):

{header}
{_rows(ext)}

These are the ensemble's figures; chapter 07 reports each seed's and their spread. Few S
and V beats in the other databases: read the counts before the rates. The record-adaptive
rows are `annotate --adapt` (`eu.adapt`): the beats of each recording are clustered by
the shape of their QRS, and each beat's V probability moves towards its family's mean.
It uses the recording's own unlabelled beats, never a label.

## Limits

- **Three classes only.** No F (fusion) or Q (paced, unclassifiable) class: a fusion
  beat is called N or V, a paced beat anything. Not for recordings with a pacemaker.
- **S beats are the hard class**, most of all in **atrial fibrillation or flutter**,
  where N beats come early and irregular: expect N beats called S there, and S beats
  missed where the rhythm around them is irregular. DS1 holds few S beats, mostly in a
  handful of records.
- **Leads.** Trained on MLII (modified limb lead II); lead II is the nearest. Other
  leads (precordial V1–V6, other limb leads, a wearable's own placement) are not what
  it learned, and the figures above need not hold there; `annotate` warns where a
  recording has no MLII or II lead.
- **Beats, not rhythms.** It does not diagnose atrial fibrillation, blocks, ST changes
  or anything else; the beat detector may miss beats or find false ones in noise
  (stretches that are missing, flat or noise are left unlabelled).
- **Patients.** The adults of the 22 DS1 records (MIT-BIH Arrhythmia Database,
  recorded 1975–79 on Holter tapes, 360 Hz); no children.

## Re-create it

`make pretrained` (with `ECG_DATA_DIR` holding `mitdb` and `qtdb`), or
`python -m ecgutils.pretrained --seed {info['seeds'][0]} --seeds {len(info['seeds'])}`: it trains, scores and writes
the model, its JSON and this card ({info['train_min']:.1f} minutes of beats and training
when these were made).

## This file

- model: `{info['model_file']}`, {info['size_bytes'] / 1e6:.2f} MB, SHA-256 `{info['sha256']}`
- made on {info['date']} with ecgutils {info['ecgutils_version']}, Keras {info['keras_version']}
- a `.keras` file, loaded with `safe_mode=True`: opening it runs no code
"""


def main(argv=None) -> None:
    """``python -m ecgutils.pretrained``: re-create the shipped model, JSON and card."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m ecgutils.pretrained",
        description="Train chapter 07's headline model on MIT-BIH DS1, score it on DS2 and "
                    "the other databases' QT Database records, and write the model file, "
                    "its JSON and its model card (default: the ones ecgutils ships).")
    parser.add_argument("--out", default=None, help=f"the .keras file (default {MODEL_FILE} "
                                                    f"in the package)")
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--seeds", type=int, default=3,
                        help="trainings averaged in the ensemble (default 3)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--card-only", action="store_true",
                        help="only re-write the model card from the model's JSON (no training)")
    args = parser.parse_args(argv)
    for name in ("epochs", "seeds"):
        if getattr(args, name) < 1:
            print(f"error: --{name} {getattr(args, name)}: give 1 or more", file=sys.stderr)
            sys.exit(2)
    try:
        if args.card_only:
            print(f"wrote {write_card(args.out)}")
        else:
            build(args.out, seed=args.seed, epochs=args.epochs, seeds=args.seeds)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
