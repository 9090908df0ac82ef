"""ecgutils: the small helper library behind ecg-book.

One import gives every chapter its tools::

    import ecgutils as eu
    rec = eu.data.load_record("100")
    peaks = eu.signal.detect_r_peaks(eu.data.pick_lead(rec)[0], rec.fs)

Modules:

- ``data``: data root, loading, AAMI labels, splits, verified PhysioNet download
- ``signal``: filters, wavelet denoising, R-peak detection and scoring, segmentation
- ``features``: beat spectrograms, detections labelled against the reference (chapter 04)
- ``images``: beats drawn as line images, image folders (chapter 02)
- ``kachuee``: 187-sample beats in the Kaggle/Kachuee format, CSV I/O, SMOTE (05, 06)
- ``stt``: European ST-T records, binary labels, ST/T episodes (chapter 03)
- ``models``: the Keras models (TensorFlow is imported only when one is built)
- ``explain``: Grad-CAM
- ``evaluate``: AAMI metrics; ``plots``: figures; ``results``: the results-file schema;
  ``config``: smoke mode, seeds, parameter checks

``python -m ecgutils fetch mitdb`` downloads data; ``python -m ecgutils.predict_image``
classifies one beat image.
"""
from . import (config, data, evaluate, explain, features, images, kachuee, models, plots,
               results, signal, stt)

config.install_short_errors()  # inside Jupyter: the book's own errors as one line

__version__ = "0.1.0"
__all__ = ["config", "data", "evaluate", "explain", "features", "images", "kachuee", "models",
           "plots", "results", "signal", "stt"]
