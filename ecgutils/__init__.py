"""ecgutils: the small helper library behind ecg-book.

One import gives every chapter its tools::

    import ecgutils as eu
    rec = eu.data.load_record("100")
    peaks = eu.signal.detect_r_peaks(eu.data.pick_lead(rec)[0], rec.fs)

Modules:

- ``data``: data root, loading, AAMI labels, splits, verified PhysioNet download
- ``signal``: filters, wavelet denoising, R-peak detection and scoring, segmentation
- ``spectrograms``: beat spectrograms, the spectrogram dataset of chapter 04, and the
  spectrograms of Kaggle-format beats (chapter 05)
- ``images``: beats drawn as line images, image folders (chapter 02)
- ``kaggle_beats``: 187-sample beats in the Kaggle format (Kachuee et al. 2018), CSV I/O,
  scaling, SMOTE (chapters 05, 06)
- ``stt``: European ST-T records, binary labels, ST/T episodes, Kaggle-format ST-T beats
  (chapter 03)
- ``rr``: RR features relative to the patient's rhythm, the rhythm around each beat;
  ``interpatient``: beats of new patients, the two-branch model, the random forest's
  features, the external QT Database records (chapter 07)
- ``ec57``: AAMI EC57 gross statistics, beat matching; ``annotate``: a saved model on any
  WFDB record (``python -m ecgutils annotate`` / ``score``)
- ``pipelines``: every approach of chapters 02-07 as a named pipeline (records -> inputs,
  a model), run under any protocol in one call (chapter 08)
- ``experiment``: class weights, majority subsampling, training with selection on
  validation, model files that carry their preprocessing, ``glue`` for the prose
- ``models``: the Keras models (TensorFlow is imported only when one is built)
- ``explain``: Grad-CAM
- ``runs``: isolated beats, couplets and runs of ectopic beats;
- ``recordings``: one lead of a WFDB, EDF/BDF or CSV file, units and lead chosen;
  ``beat_table``: ``annotate_signal`` (an array -> a table of labelled beats);
  ``holter``: the Holter-style report; ``own_recording``: all three over many files
- ``evaluate``: AAMI metrics; ``plots``: figures; ``results``: the results-file schema;
  ``config``: smoke mode, seeds, parameter checks

``python -m ecgutils fetch mitdb`` downloads data; ``python -m ecgutils annotate`` labels
the beats of a recording; ``python -m ecgutils.predict_image`` classifies one beat image.
"""
from . import (annotate, beat_table, config, data, ec57, evaluate, experiment, explain,
               holter, images, interpatient, kaggle_beats, models, own_recording, pipelines,
               plots, recordings, results, rr, runs, signal, spectrograms, stt)
from .beat_table import annotate_signal

config.install_short_errors()  # inside Jupyter: the book's own errors as one line

__version__ = "0.1.0"
__all__ = ["annotate", "annotate_signal", "beat_table", "config", "data", "ec57", "evaluate",
           "experiment", "explain", "holter", "images", "interpatient", "kaggle_beats", "models",
           "own_recording", "pipelines", "plots", "recordings", "results", "rr", "runs", "signal",
           "spectrograms", "stt"]
