"""Keras models of the book, and a quiet TensorFlow import."""
from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["import_tensorflow"]


def import_tensorflow():
    """Import TensorFlow without its start-up noise; return the module.

    TensorFlow's absl and oneDNN start-up lines are written by C++ straight to file
    descriptor 2 and ignore ``TF_CPP_MIN_LOG_LEVEL`` in part, so stderr is pointed at
    /dev/null for the import only. Later errors still show.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _stderr_to_devnull():
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")
        tf.config.list_logical_devices("CPU")  # device start-up lines come here, silenced too
    return tf


@contextlib.contextmanager
def _stderr_to_devnull():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
