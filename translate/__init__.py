"""translate: image-to-image translation with GANs (DCGAN, cDCGAN, CycleGAN).

Importing it sets OpenCV's own decoding limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, read when
OpenCV decodes its first image) to the toolkit's, 64 megapixels, unless a smaller one is
set: the decoder then refuses by itself what a header check might miss.
"""

import os

__version__ = "0.1.0"

_OPENCV_LIMIT = "OPENCV_IO_MAX_IMAGE_PIXELS"
# Larger images are refused before decoding: 64 megapixels decode to 192 MB (384 MB at 16
# bits) and hold any full-frame camera's photos (translate.io.images checks it from headers).
DECODE_MAX_PIXELS = 8192 * 8192
if not os.environ.get(_OPENCV_LIMIT, "").isdigit() or int(os.environ[_OPENCV_LIMIT]) > DECODE_MAX_PIXELS:
    os.environ[_OPENCV_LIMIT] = str(DECODE_MAX_PIXELS)
