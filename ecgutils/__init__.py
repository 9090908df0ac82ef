"""ecgutils: the small helper library behind ecg-book.

One import gives every chapter its tools::

    import ecgutils as eu
    rec = eu.data.load_record("100")
    peaks = eu.signal.detect_r_peaks(eu.data.pick_lead(rec)[0], rec.fs)

Modules: ``data`` (locations, loading, labels, splits, download), ``signal`` (filters,
denoising, R peaks, segmentation), ``evaluate`` (AAMI metrics), ``plots``,
``images`` (beats drawn as images, image folders), ``results`` (the results-file schema), ``config`` (smoke mode, seeds), ``stt``
(European ST-T records, labels and ST/T episodes), ``models``
(Keras models; TensorFlow is imported only when asked for).
"""
from . import config, data, evaluate, images, kachuee, models, plots, results, signal, stt

__version__ = "0.1.0"
__all__ = ["config", "data", "evaluate", "images", "kachuee", "models", "plots", "results", "signal", "stt"]
