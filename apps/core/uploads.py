"""Upload checks every app shares: decode images with Pillow, orient, strip metadata, resize.

SPEC "Bad input": JPEG, PNG and WebP up to 10 MiB, checked by decoding (not by name or declared
type), over 40 megapixels refused before decoding, EXIF (GPS included) stripped from what is
stored. Used by identification photos (``plants``) and forum post images (``forum``); it knows
no domain model, so it lives in ``core`` (SPEC "Layout").
"""

import io
import warnings

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: phone JPEGs with an extra image
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
PHOTO_MAX_PX = 1600
THUMBNAIL_PX = 300


class ImageRejected(ValueError):
    """The file is not an image we accept; ``str(error)`` is a message for the gardener."""


def open_checked(data: bytes) -> Image.Image:
    """Decode ``data`` (the uploaded bytes) and return an RGB, upright ``Image``.

    Raises ``ImageRejected`` when the file is over 10 MiB, is not a JPEG, PNG or WebP that
    Pillow can decode, or has more than 40 megapixels (checked from the header, before the
    pixels are decoded, so a decompression bomb costs nothing).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected("That file is larger than 10 MB. Please choose a smaller photo.")
    try:
        with warnings.catch_warnings():
            # Pillow warns about huge images when it reads the header; we refuse them below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        if image.format not in ALLOWED_FORMATS:
            raise ImageRejected("Please upload a JPEG, PNG or WebP photo.")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageRejected("That image has more than 40 megapixels. Please upload a smaller one.")
        image.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected("That image has more than 40 megapixels. Please upload a smaller one.") from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("That file is not an image we can read. Please upload a JPEG, PNG or WebP photo.") from None
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def encode_jpeg(image: Image.Image, *, max_px: int, name: str) -> ContentFile:
    """Return ``image`` scaled to fit ``max_px`` × ``max_px`` (pixels, aspect kept) as a JPEG
    ``ContentFile`` called ``name``, written without any EXIF or other metadata."""
    copy = image.copy()
    copy.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85, optimize=True)
    return ContentFile(buffer.getvalue(), name=name)
