"""translate: image-to-image translation with GANs (DCGAN, cDCGAN, CycleGAN, CUT, pix2pix).

The package in layers, lowest first; a module imports only from its own layer and those
below it (``tests/test_families.py`` checks):

- ``errors``, ``config``, ``latent``, ``io/`` (image decoding with header checks, atomic
  files, the pixel contract, dataset download), ``onnx_contract``, ``runtime``, ``arguments``,
  ``command_line``, ``onnx_models``, ``progress``: no torch;
- ``modeling/``: building blocks, shared networks, losses, the pixel contract for tensors,
  device and precision, whole-image inference; ``datasets/``: MNIST, domain folders, paired
  data and the pairs made from photos; ``onnx_export``: writing and checking ONNX files;
- ``training/``: the trainer loop, checkpoints, data sources, run folders, distribution,
  graceful stop, optimiser helpers;
- ``evaluation/``: Inception features, FID/KID, the MNIST judge, the scoring protocols;
- ``families/``: one package per model family (networks, recipe, flags, configs, loading,
  export plan, scoring), found by name (see ``translate.families`` for adding one);
- the command lines ``train``, ``sample``, ``apply``, ``export``, ``evaluate``, ``pack``, ``card``,
  ``data``, ``pairs``, ``classifier``.

Importing it sets OpenCV's own decoding limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, which OpenCV
reads when ``cv2`` is imported) to the toolkit's, 64 megapixels, unless a smaller one is set:
the decoder then refuses by itself what a header check might miss. An application that
imports ``cv2`` before ``translate`` keeps OpenCV's own limit; the header checks hold either way.
"""

import os

__version__ = "0.1.0"

OPENCV_LIMIT = "OPENCV_IO_MAX_IMAGE_PIXELS"
# Larger images are refused before decoding: 64 megapixels decode to 192 MB (384 MB at 16
# bits) and hold any full-frame camera's photos (translate.io.images checks it from headers).
DECODE_MAX_PIXELS = 8192 * 8192
if not os.environ.get(OPENCV_LIMIT, "").isdigit() or int(os.environ[OPENCV_LIMIT]) > DECODE_MAX_PIXELS:
    os.environ[OPENCV_LIMIT] = str(DECODE_MAX_PIXELS)
