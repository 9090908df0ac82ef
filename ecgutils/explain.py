"""Grad-CAM for Keras image models, vectorised over a batch, and an overlay plot.

Grad-CAM (Selvaraju et al. 2017) weights each feature map of a convolution layer by the
mean gradient of a class score with respect to it, sums the weighted maps, keeps the
positive part and scales it to the input size: a coarse map of the input regions that
pushed the score up.
"""
from __future__ import annotations

import numpy as np

__all__ = ["grad_cam", "heat_shares"]


def grad_cam(model, images, layer_name: str, class_index=None, batch_size: int = 256):
    """Grad-CAM heatmaps for a batch of images, one gradient pass per batch.

    Parameters
    ----------
    model : keras.Model
        A built model (Sequential or functional), e.g. one loaded from ``.keras``.
    images : array, shape (n, h, w) or (n, h, w, c)
    layer_name : str
        A convolution layer of ``model`` (e.g. ``"conv3"``).
    class_index : int or array of int, optional
        The class explained for each image; default: the predicted class.

    Returns
    -------
    heatmaps : ndarray, shape (n, h, w), float32 in [0, 1]
        Bilinearly upsampled to the image size; each map scaled by its own maximum
        (all zeros where no region raised the score).
    probs : ndarray, shape (n, n_classes)
        The model's output for the images.

    Examples
    --------
    >>> import ecgutils.models as M
    >>> m = M.build_spectrogram_cnn((32, 32, 1), 3)
    >>> cams, probs = grad_cam(m, np.zeros((4, 32, 32, 1), "float32"), "conv3")
    >>> cams.shape, probs.shape
    ((4, 32, 32), (4, 3))
    """
    from .models import import_tensorflow

    tf = import_tensorflow()
    import keras

    from .spectrograms import resize_images

    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    try:
        layer = model.get_layer(layer_name)
    except ValueError as err:
        names = [layer.name for layer in model.layers]
        raise ValueError(f"model has no layer {layer_name!r}; layers: {names}") from err
    if len(layer.output.shape) != 4:
        raise ValueError(f"layer {layer_name!r} outputs shape {layer.output.shape}; Grad-CAM "
                         f"needs a 2D feature map (n, h, w, channels)")
    # Keras 3: model.input of a Sequential model is not usable here; inputs[0] is.
    grad_model = keras.Model(model.inputs[0], [layer.output, model.outputs[0]])
    n = len(images)
    if class_index is not None:
        class_index = np.broadcast_to(np.asarray(class_index, dtype=np.int32), (n,))
    cams, probs = [], []
    for start in range(0, n, batch_size):
        batch = tf.convert_to_tensor(images[start:start + batch_size])
        with tf.GradientTape() as tape:
            fmaps, out = grad_model(batch, training=False)
            idx = (tf.argmax(out, axis=1, output_type=tf.int32) if class_index is None
                   else tf.constant(class_index[start:start + batch_size]))
            score = tf.gather(out, idx, axis=1, batch_dims=1)
        grads = tape.gradient(score, fmaps)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * fmaps, axis=-1)).numpy()
        cams.append(cam)
        probs.append(out.numpy())
    cam = resize_images(np.concatenate(cams), images.shape[1:3])
    peak = cam.max(axis=(1, 2), keepdims=True)
    cam = np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0).astype(np.float32)
    return cam, np.concatenate(probs)


def heat_shares(cams, freqs_hz, times_s, centre_s: float = 0.15, low_hz: float = 15.0) -> dict:
    """Mean share of each Grad-CAM map's heat in three regions of a spectrogram centred on R.

    ``times_s`` are the columns' times from the R peak. The regions: within
    ``±centre_s`` of R (the beat's own QRS), before ``-centre_s`` (the preceding beat and
    the interval to it), and below ``low_hz``. ``heat_shares(np.ones((1, h, w)), ...)``
    gives the shares of heat spread evenly, the baseline to read the others against.

    Examples
    --------
    >>> even = heat_shares(np.ones((1, 4, 4)), [5, 10, 20, 30], [-0.5, -0.1, 0.1, 0.5])
    >>> {k: round(v, 2) for k, v in even.items()}
    {'within ±0.15 s of R': 0.5, 'before R': 0.25, 'below 15 Hz': 0.5}
    """
    cams = np.asarray(cams, dtype=float)
    times_s, freqs_hz = np.asarray(times_s), np.asarray(freqs_hz)
    total = cams.sum(axis=(1, 2)) + 1e-12
    regions = {f"within ±{centre_s:g} s of R": cams[:, :, np.abs(times_s) <= centre_s],
               "before R": cams[:, :, times_s < -centre_s],
               f"below {low_hz:g} Hz": cams[:, freqs_hz < low_hz, :]}
    return {name: float((part.sum(axis=(1, 2)) / total).mean()) for name, part in regions.items()}


