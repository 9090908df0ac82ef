"""ecgutils: the small helper library behind ecg-book.

One import gives every chapter its tools::

    import ecgutils as eu
    rec = eu.data.load_record("100")
    peaks = eu.signal.detect_r_peaks(eu.data.pick_lead(rec)[0], rec.fs)

Modules:

- ``data``: data root, loading, AAMI labels, verified PhysioNet download
- ``splits``: which records share a subject, every patient-wise split and its leak check
- ``signal``: filters, wavelet denoising, R-peak detection and scoring, segmentation
- ``beats``: records -> beats, the one beat table every chapter starts from
  (``record_beats``: one lead, its rate, reference or detected R marks, AAMI labels) and
  the one beat container, ``Beats`` (record, sample, label, and the arrays each
  representation adds: ``windows``, ``rr``, ``X``, ``x``)
- representations of the beat table (each a function of ``beats.record_beats``):
- ``spectrograms``: beat spectrograms, the spectrogram dataset of chapter 04, and the
  spectrograms of Kaggle-format beats (chapter 05)
- ``images``: beats drawn as line images, image folders (chapter 02)
- ``kaggle_beats``: 187-sample beats in the Kaggle format (Kachuee et al. 2018), CSV I/O,
  scaling, SMOTE (chapters 05, 06)
- ``stt``: European ST-T records, binary labels, ST/T episodes, Kaggle-format ST-T beats
  (chapter 03)
- ``rr``: RR features relative to the patient's rhythm and to the neighbouring
  intervals, runs of early beats, the rhythm around each beat; ``augment``: beat-window
  changes that another database would bring (training only); ``interpatient``: beats of new patients, the two-branch model, the random forest's
  features, the external QT Database records (chapter 07)
- ``ec57``: AAMI EC57 scoring as WFDB's bxb and rxr do it (learning period, gross and
  record-average statistics, FPR, runs), beat matching, bootstrap intervals over
  records; ``annotate``: a saved model on any
  WFDB record (``python -m ecgutils annotate`` / ``score``); ``quality``: which
  stretches of a lead are missing, flat or noise
- ``pipelines``: every approach of chapters 02-07 as a named pipeline (records -> inputs,
  a model), run under any protocol in one call (chapter 08)
- ``experiment``: class weights, majority subsampling, training with selection on
  validation, model files that carry their preprocessing, ``glue`` for the prose
- ``models``: the Keras models (TensorFlow is imported only when one is built)
- ``explain``: Grad-CAM (its figure, like every figure, in ``plots``)
- ``runs``: isolated beats, couplets and runs of ectopic beats;
- ``recordings``: one lead of a WFDB, EDF/BDF or CSV file, units and lead chosen;
  ``beat_table``: ``annotate_signal`` (an array -> a table of labelled beats);
  ``holter``: the Holter-style report; ``own_recording``: all three over many files;
  ``pretrained``: the model that ships with the package (chapter 07's, trained on DS1),
  the default of ``annotate`` and ``annotate_signal``; ``adapt``: the record-adaptive
  step (a record's beats clustered by shape share their V probability)
- ``evaluate``: AAMI metrics; ``plots``: figures; ``results``: the results-file schema;
  ``config``: smoke mode, seeds, parameter checks; ``book``: a chapter's setup in one call

``python -m ecgutils fetch mitdb`` downloads data; ``python -m ecgutils annotate`` labels
the beats of a recording; ``python -m ecgutils.predict_image`` classifies one beat image.
"""
from . import (adapt, annotate, augment, beat_table, beats, book, config, data, ec57,
               evaluate, experiment, explain, holter, images, interpatient, kaggle_beats,
               models, own_recording, pipelines, plots, pretrained, quality, recordings,
               results, rr, runs, signal, spectrograms, splits, stt)
from .beat_table import annotate_signal

config.install_short_errors()  # inside Jupyter: the book's own errors as one line

__version__ = "0.1.0"
__all__ = ["adapt", "annotate", "annotate_signal", "augment", "beat_table", "beats", "book",
           "config", "data", "ec57", "evaluate", "experiment", "explain", "holter", "images",
           "interpatient",
           "kaggle_beats", "models", "own_recording", "pipelines", "plots", "pretrained",
           "quality", "recordings", "results", "rr", "runs", "signal", "spectrograms", "splits",
           "stt"]
