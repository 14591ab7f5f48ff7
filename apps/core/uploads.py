"""The one upload pipeline every app uses: check, decode within bounded memory, orient, convert
to sRGB, resize, and store as a JPEG with no metadata under a random name; and remove stored
files once the rows that own them are gone.

SPEC "Bad input": JPEG, PNG and WebP up to 10 MiB, checked by decoding (not by name or declared
type), over 40 megapixels refused before decoding, no metadata segment at all in what is stored
(EXIF with GPS, XMP, ICC, COM), random names, and the files go when their post, request or
account goes. Used by identification photos (``plants``), forum post images (``forum``) and
avatars (``accounts``); it knows no domain model, so it lives in ``core`` (SPEC "Layout").

Memory (issue 11): a decoded image costs width x height x 4 bytes in Pillow (RGB is stored as
32 bits a pixel), 160 MB at 40 megapixels. So the pipeline decodes one file at a time and keeps
at most one full-size decoded image: JPEGs are decoded by libjpeg already scaled down
(``Image.draft``, DCT scaling by 1/2, 1/4 or 1/8) to no less than the size stored; other
formats are decoded whole, reduced by an integer box filter (in strips when the mode must be
converted first, so no full-size converted copy exists), and dropped before the next file.
Orientation, colour conversion and the final Lanczos resize work on the reduced image.
"""

import io
import logging
import re
import secrets
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.utils.deconstruct import deconstructible
from PIL import ExifTags, Image, ImageCms, WebPImagePlugin

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP")  # MPO: phone JPEGs with an extra image
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
PHOTO_MAX_PX = 1600
THUMBNAIL_PX = 300
SQUARE_DECODE_FACTOR = 4  # image_process(square=True) decodes at 4x the size kept (4:1 images)
JPEG_QUALITY = 85
# Names under this prefix belong to no single row (the demo's generated image pool, shared by
# many requests): deleting a row never removes them.
SHARED_MEDIA_PREFIX = "shared/"

# Pillow's own decompression-bomb guard uses the same limit: it warns above MAX_IMAGE_PIXELS
# and refuses above twice that when it reads the header, in this process whoever opens an image.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

TOO_BIG_MESSAGE = "That file is larger than 10 MB. Please choose a smaller photo."
TOO_MANY_PIXELS_MESSAGE = "That image has more than 40 megapixels. Please upload a smaller one."
UNREADABLE_MESSAGE = "That file is not an image we can read. Please upload a JPEG, PNG or WebP photo."

_STRIP_ROWS = 128  # rows of the reduced image converted at a time (a few MB per strip)
_DIRECT_MODES = {"L", "LA", "RGB", "RGBA", "CMYK"}  # modes Image.reduce takes as they are
_ALPHA_MODES = {"LA", "RGBA", "PA", "La", "RGBa"}
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# The only decoders Pillow may try on an upload. Image.open(formats=...) looks them up among
# the plugins already registered: WebP registers itself when imported (JPEG and PNG are always
# loaded; the JPEG decoder hands phone MPO files to its MPO subclass itself).
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP")
_REGISTERED_PLUGINS = (WebPImagePlugin,)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRejected(ValueError):
    """The file is not an image we accept; ``str(error)`` is a message for the gardener."""


@dataclass(frozen=True)
class ProcessedImage:
    """One stored size of an upload: ``content`` is a metadata-free JPEG (a ``ContentFile``
    named ``upload.jpg``; the field's ``upload_to`` gives the random name), ``width`` and
    ``height`` its size in pixels."""

    content: ContentFile
    width: int
    height: int


def upload_size_check(upload) -> None:
    """Refuse an upload over 10 MiB from its size alone, before anything reads it.

    ``upload`` is a Django ``UploadedFile`` (``.size`` in bytes), another seekable file or
    ``bytes``. Raises
    ``ImageRejected``. Forms call it while validating so a too-big file costs nothing."""
    if isinstance(upload, (bytes, bytearray)):
        size = len(upload)
    elif (size := getattr(upload, "size", None)) is None:
        size = upload.seek(0, io.SEEK_END)
    if size > MAX_UPLOAD_BYTES:
        raise ImageRejected(TOO_BIG_MESSAGE)


def fit_size(size: tuple[int, int], max_px: int) -> tuple[int, int]:
    """``size`` (width, height in pixels) scaled down, aspect kept, to fit ``max_px`` x
    ``max_px``; a size already inside is returned as it is. Sides are at least 1 px."""
    width, height = size
    longest = max(width, height)
    if longest <= max_px:
        return width, height
    return max(1, round(width * max_px / longest)), max(1, round(height * max_px / longest))


def open_checked(source: bytes | IO[bytes], *, max_px: int = PHOTO_MAX_PX) -> Image.Image:
    """Decode an uploaded image and return it upright, in sRGB ``RGB`` mode, fitted in
    ``max_px`` x ``max_px`` pixels, with no metadata (``info`` empty).

    ``source`` is the uploaded bytes or a readable, seekable file (a Django ``UploadedFile``,
    read in place, never copied into memory whole). Peak memory is one decoded image at most
    (less for JPEG, decoded by libjpeg already scaled to ``max_px``; see the module
    docstring). EXIF orientation is applied; an embedded ICC profile is used to convert the
    pixels to sRGB and is then dropped (a profile that does not fit the pixels is ignored);
    transparency is flattened onto white.

    Raises ``ImageRejected`` when the file is over 10 MiB, is not a JPEG, PNG or WebP that
    Pillow can decode, or has more than 40 megapixels (``MAX_PIXELS``, read from the header
    before any pixel is decoded). SPEC "Bad input"; OWASP ASVS 5.0 V5.2.1 (file size) and
    V5.2.2 (content checked, "image pixel flood" refused).
    """
    upload_size_check(source)
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns between 40 and 80 megapixels; the header check below refuses those.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=_OPEN_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(TOO_MANY_PIXELS_MESSAGE)
            if image.format in ("JPEG", "MPO"):
                # libjpeg's DCT scaling: decode straight to the smallest 1/1, 1/2, 1/4 or 1/8
                # scale that still covers the stored size.
                image.draft(None, fit_size(image.size, max_px))
            image.load()
            orientation = _orientation(image)
            icc_profile = image.info.get("icc_profile")
            has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
            reduced = _reduced(image, max_px=max_px, has_alpha=has_alpha)
        del image  # the full-size decoded pixels go now, before the next file
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected(TOO_MANY_PIXELS_MESSAGE) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected(UNREADABLE_MESSAGE) from None
    if orientation in _ORIENTATION:
        reduced = reduced.transpose(_ORIENTATION[orientation])
    reduced = _to_srgb(reduced, icc_profile)
    if reduced.mode in _ALPHA_MODES:
        rgba = reduced.convert("RGBA")
        reduced = Image.new("RGB", rgba.size, (255, 255, 255))
        reduced.paste(rgba, mask=rgba.getchannel("A"))
    elif reduced.mode != "RGB":
        reduced = reduced.convert("RGB")
    if max(reduced.size) > max_px:
        reduced = reduced.resize(fit_size(reduced.size, max_px), Image.Resampling.LANCZOS)
    reduced.info = {}
    return reduced


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        return 1  # unreadable EXIF: shown as stored


def _reduced(image: Image.Image, *, max_px: int, has_alpha: bool) -> Image.Image:
    """``image`` shrunk by the largest integer box factor that keeps it at least twice
    ``max_px`` (Pillow's ``reducing_gap=2.0``: the Lanczos pass that follows then looks as good
    as a Lanczos pass from full size), in a mode ``reduce`` and the colour steps take."""
    factor = max(1, max(image.size) // (2 * max_px))
    if image.mode in _DIRECT_MODES:
        return image.reduce(factor) if factor > 1 else image
    # Palette, 1-bit and 16-bit images must be converted before they can be averaged: convert
    # a strip at a time so no full-size converted copy is ever held.
    mode = "RGBA" if has_alpha else "RGB"
    width, height = image.size
    out = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = _STRIP_ROWS * factor
    for top in range(0, height, rows):
        strip = _converted(image.crop((0, top, width, min(height, top + rows))), mode)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


def _converted(strip: Image.Image, mode: str) -> Image.Image:
    if strip.mode.startswith("I") or strip.mode == "F":
        # 16- and 32-bit grey: scale to 8 bits rather than clip everything above 255 to white.
        peak = 65535 if strip.mode.startswith("I;16") else 255
        strip = strip.convert("I").point(lambda value: value * (255 / peak)).convert("L")
    return strip.convert(mode)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if not icc_profile:
        return image
    if image.mode == "LA":
        image = image.convert("RGBA")
    try:
        return ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
            _SRGB,
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A profile that does not describe these pixels (or is not a profile): read as sRGB.
        return image


def encode_jpeg(image: Image.Image, *, max_px: int, name: str = "upload.jpg") -> ContentFile:
    """Return ``image`` fitted in ``max_px`` x ``max_px`` pixels (aspect kept, Lanczos) as a
    JPEG ``ContentFile`` called ``name``, quality 85, with no metadata segment: no EXIF (APP1),
    XMP (APP1), ICC profile (APP2), Adobe or other APPn, and no comment (COM), whatever
    ``image.info`` carries; the only APPn left is the 16-byte JFIF header (APP0) the encoder
    writes itself (``jpeg_metadata_strip``). ``image`` is left unchanged. SPEC "Bad input"."""
    if max(image.size) > max_px:
        image = image.resize(fit_size(image.size, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    # Explicit empty values: Pillow's JPEG writer copies ``info["comment"]`` of the image
    # being saved (a PNG text chunk called "comment" too) unless told otherwise.
    image.save(
        buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, comment=b"", exif=b"", icc_profile=b"", xmp=b"", extra=b""
    )
    return ContentFile(jpeg_metadata_strip(buffer.getvalue()), name=name)


def image_process(upload, *, sizes: Sequence[int], square: bool = False) -> list[ProcessedImage]:
    """Decode one uploaded image once (``open_checked`` at the largest of ``sizes``) and
    return it as one metadata-free JPEG per size in ``sizes`` (longest side in pixels, in the
    order given). The decoded image is dropped before returning, so a form handling several
    files holds one at a time. Raises ``ImageRejected`` as ``open_checked`` does.

    ``square`` (avatars): the centre square is cut out first, so each size is a square of that
    many pixels (smaller when the image's short side is). The image is then decoded at
    ``SQUARE_DECODE_FACTOR`` times the largest size (at most ``PHOTO_MAX_PX``), so the short
    side of anything up to 4:1 still covers it; still one reduced decode, never full size."""
    largest = max(sizes)
    image = open_checked(upload, max_px=min(largest * SQUARE_DECODE_FACTOR, PHOTO_MAX_PX) if square else largest)
    if square:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    out = []
    for max_px in sizes:
        content = encode_jpeg(image, max_px=max_px)
        out.append(ProcessedImage(content, *fit_size(image.size, max_px)))
    return out


# --- JPEG segments ---------------------------------------------------------------------------

_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
_JFIF_APP0_LENGTH = 16  # JFIF 1.02 header with no thumbnail: length field included


def jpeg_metadata_strip(data: bytes) -> bytes:
    """``data`` (a JPEG) with every metadata segment before the first scan removed: COM and
    APP1-APP15 (EXIF, XMP, ICC profiles, Photoshop/IPTC, Adobe, MPF...), and APP0 unless it is
    the plain 16-byte JFIF header (a JFIF thumbnail or JFXX extension goes). Tables, frame
    header and image data are copied as they are. Raises ``ValueError`` when ``data`` is not
    a JPEG (ITU-T T.81 Annex B: marker segments are 0xFF, a code, and a 2-byte big-endian
    length that counts itself)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG: no SOI marker")
    out = bytearray(b"\xff\xd8")
    position = 2
    while True:
        if position + 4 > len(data) or data[position] != 0xFF:
            raise ValueError(f"JPEG marker expected at byte {position}")
        while data[position + 1] == 0xFF:  # fill bytes before a marker
            position += 1
        code = data[position + 1]
        if code in _STANDALONE:
            out += data[position : position + 2]
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if code == 0xDA:  # SOS: the scan and everything after it stays as written
            out += data[position:]
            return bytes(out)
        if not _is_metadata(code, data[position + 4 : end], length):
            out += data[position:end]
        position = end


def _is_metadata(code: int, payload: bytes, length: int) -> bool:
    if code == 0xFE or 0xE1 <= code <= 0xEF:
        return True
    return code == 0xE0 and not (length == _JFIF_APP0_LENGTH and payload.startswith(b"JFIF\x00"))


# --- Names and removal -----------------------------------------------------------------------


def random_name(folder: str, filename: str = "") -> str:
    """``<folder>/<32 random URL-safe characters><suffix>``: 192 bits from ``secrets``, so a
    stored file's URL cannot be guessed or enumerated (OWASP ASVS 5.0 V5.3.2: file names
    are generated, never taken from the user). ``suffix`` is ``filename``'s, lowercased,
    when it is 1-5 letters or digits, else ``.jpg``."""
    suffix = PurePosixPath(filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ".jpg"
    return f"{folder.strip('/')}/{secrets.token_urlsafe(24)}{suffix}"


@deconstructible
class RandomName:
    """``upload_to`` for a ``FileField``/``ImageField``: every stored file gets
    ``random_name(folder, filename)``; the name passed to ``field.save`` only lends its suffix."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        return random_name(self.folder, filename)

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


def stored_files_delete_on_commit(names: Iterable[str | None], *, storage: Storage | None = None) -> None:
    """Delete the stored files ``names`` (storage names, e.g. ``photo.image.name``; empty
    names and names under ``SHARED_MEDIA_PREFIX`` are skipped) once the current transaction
    commits, or at once outside a transaction. A rolled-back transaction deletes nothing, so
    a file is never gone while a row still points at it.

    Call it from the service that deletes (or soft-deletes) the rows owning the files, with
    the names read before the rows go; account deletion calls it for every file the account
    owns that its rows' deletion does not already cover (see ``files_follow_rows``). A file
    that cannot be deleted (already missing, storage error) is logged, never raised: the rows
    are gone by then. ``storage`` defaults to ``default_storage``. SPEC "Bad input": files go
    when their post, request or account goes."""
    names = sorted({name for name in names if name and not name.startswith(SHARED_MEDIA_PREFIX)})
    if not names:
        return

    def delete() -> None:
        target = storage or default_storage
        for name in names:
            try:
                target.delete(name)
            except Exception:  # any storage backend's error: the rows are already gone
                logger.exception("could not delete stored file %s", name)

    transaction.on_commit(delete, robust=True)


def files_follow_rows(model, *field_names: str) -> None:
    """Remove the files in ``model``'s file fields ``field_names`` after commit whenever a row
    is deleted, however: a service, a cascade from the user or the request, a queryset
    ``delete()``, the admin (a ``post_delete`` receiver; Django then loads each deleted row
    instead of deleting in bulk). Soft deletes are not deletes: their services call
    ``stored_files_delete_on_commit`` themselves. Called from the owning app's
    ``AppConfig.ready``."""

    def remove_files(sender, instance, **kwargs) -> None:
        stored_files_delete_on_commit(getattr(instance, name).name for name in field_names)

    post_delete.connect(remove_files, sender=model, weak=False, dispatch_uid=f"uploads:{model._meta.label}")
