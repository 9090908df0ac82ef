"""Classify one beat image from the command line.

Usage::

    python -m ecgutils.predict_image PATH.png --model results/02_image_cnn.keras

prints the predicted class and its confidence (the softmax probability), e.g.
``LBBB (confidence 0.973)``, then one ``note:`` line for anything done to the image.

- The class names, image size and colour mode travel inside the ``.keras`` file (saved
  by :func:`ecgutils.images.save_image_model`), so nothing is guessed.
- An image of another size is **resized** (bilinear) to the model's input size, and a
  colour image is converted to grayscale; transparent pixels are laid on white (the
  training images' background); a mostly dark image (light trace on black) is inverted;
  a blank image is flagged. A ``note:`` line says each of these.
- A missing or unreadable path, a file that is not an image, a damaged image, or a
  missing or unusable model gives one ``error:`` line on stderr and exit status 1 (2 for
  wrong arguments), never a traceback. The image and model file are checked before
  TensorFlow is imported, so those errors come back at once.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecgutils.predict_image",
        description="Classify one ECG beat image with a model saved by chapter 02.")
    parser.add_argument("image", help="the image file (PNG, or any format Pillow reads)")
    parser.add_argument("--model", required=True,
                        help="a .keras model saved with ecgutils.images.save_image_model")
    parser.add_argument("--top", type=int, default=1,
                        help="also list the next most likely classes (default: 1, the best)")
    return parser


def main(argv=None) -> int:
    """Run the command; return the exit status (0 ok, 1 error)."""
    args = _parser().parse_args(argv)
    try:
        import numpy as np

        from . import images

        if args.top < 1:
            raise ValueError(f"--top must be >= 1, got {args.top}")
        meta = images.read_model_metadata(args.model)
        array, notes = images.load_image_file(args.image, meta["image_size"], meta["color_mode"])
        model, meta = images.load_image_model(args.model)
        probs = np.asarray(model.predict(array[None], verbose=0))[0]
        classes = meta["class_names"]
        if probs.shape != (len(classes),):
            raise ValueError(f"model {args.model} gives {probs.shape[-1]} outputs for "
                             f"{len(classes)} class names")
        order = np.argsort(probs)[::-1]
        print(f"{classes[order[0]]} (confidence {probs[order[0]]:.3f})")
        for i in order[1:args.top]:
            print(f"  then {classes[i]} ({probs[i]:.3f})")
        for note in notes:
            print(f"note: {note}")
        return 0
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one clear line, no traceback
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
