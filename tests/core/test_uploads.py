"""The upload pipeline (``apps.core.uploads``): what is stored keeps no metadata segment,
colours are converted to sRGB, orientation and transparency are applied on the reduced image,
oversized images are refused from their header, names are random, and stored files are
removed only once the deletion commits (SPEC "Bad input"; issue 11)."""

import io
import logging
import re
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageCms, PngImagePlugin

from apps.core import uploads
from apps.core.uploads import (
    ImageRejected,
    RandomName,
    encode_jpeg,
    image_process,
    jpeg_metadata_strip,
    open_checked,
    random_name,
    stored_files_delete_on_commit,
)
from tests.images import (
    SCRIPT,
    SRGB_BLUE,
    SRGB_GREEN,
    SRGB_RED,
    assert_metadata_free,
    icc_rgb_profile,
    jpeg_markers,
    loaded_jpeg,
)


def _stored(processed) -> bytes:
    return processed.content.read()


def test_a_jpeg_with_com_exif_gps_xmp_icc_and_app13_is_stored_with_none_of_them():
    """The issue's file: a COM segment holding ``<script>`` and an EXIF GPS block (plus XMP,
    ICC, Photoshop and Adobe segments). Both stored sizes keep only image segments and the
    plain JFIF header; no byte of what was planted survives."""
    data = loaded_jpeg(size=(2400, 1800))
    planted = {code for code, _ in jpeg_markers(data)}
    assert {0xFE, 0xE1, 0xE2, 0xED, 0xEE} <= planted  # the file really carries them
    photo, thumbnail = image_process(io.BytesIO(data), sizes=[1600, 300])
    for processed in (photo, thumbnail):
        stored = _stored(processed)
        assert_metadata_free(stored)
        image = Image.open(io.BytesIO(stored))
        assert not image.getexif() and not image.info.get("icc_profile") and "comment" not in image.info
    assert (photo.width, photo.height) == (1600, 1200) and (thumbnail.width, thumbnail.height) == (300, 225)


def test_a_png_text_chunk_called_comment_does_not_become_a_jpeg_comment():
    """Pillow's JPEG writer copies ``info["comment"]`` of the image it saves, and a PNG tEXt
    chunk named "comment" lands there: a naive re-encode carries the HTML over; ours does not."""
    text = PngImagePlugin.PngInfo()
    text.add_text("comment", SCRIPT.decode())
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 40)).save(buffer, "PNG", pnginfo=text)
    naive = io.BytesIO()
    Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").save(naive, "JPEG")
    assert SCRIPT in naive.getvalue()  # the trap is real
    (processed,) = image_process(buffer.getvalue(), sizes=[1600])
    assert_metadata_free(_stored(processed))


def test_webp_exif_and_xmp_are_dropped():
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 40)).save(buffer, "WEBP", exif=exif.tobytes(), xmp=SCRIPT)
    (processed,) = image_process(buffer.getvalue(), sizes=[1600])
    assert_metadata_free(_stored(processed))


def test_encode_jpeg_drops_metadata_whatever_the_image_carries():
    """A caller's own image with metadata in ``info`` is written without it, and left as it was."""
    image = Image.new("RGB", (64, 64), (200, 30, 30))
    image.info.update({"comment": SCRIPT, "exif": b"Exif\0\0junk", "icc_profile": b"x" * 200, "xmp": SCRIPT})
    stored = encode_jpeg(image, max_px=1600).read()
    assert_metadata_free(stored)
    assert image.info["comment"] == SCRIPT


def test_an_icc_profile_is_converted_to_srgb_and_then_dropped():
    """Pixels described by an embedded profile are converted to sRGB before the profile goes:
    in a space whose red primary is sRGB's green, a red image is stored green. A profile that
    is not one (or does not fit the pixels) is ignored rather than refusing the photo."""
    swapped = icc_rgb_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE)
    photo = open_checked(loaded_jpeg(size=(200, 100), colour=(255, 0, 0), icc=swapped))
    red, green, blue = photo.getpixel((100, 50))
    assert green > 200 and red < 60 and blue < 60, photo.getpixel((100, 50))
    garbage = open_checked(loaded_jpeg(size=(200, 100), colour=(255, 0, 0), icc=b"not a profile" * 10))
    red, green, blue = garbage.getpixel((100, 50))
    assert red > 200 and green < 60
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    assert open_checked(loaded_jpeg(size=(200, 100), icc=lab)).mode == "RGB"


@pytest.mark.parametrize(
    "orientation, size", [(1, (1600, 1000)), (3, (1600, 1000)), (6, (1000, 1600)), (8, (1000, 1600))]
)
def test_exif_orientation_is_applied_to_the_reduced_image(orientation, size):
    """A phone's sideways JPEG (decoded at reduced scale by ``draft``) is stored upright; the
    pixel that the EXIF orientation puts top-left is the one stored top-left."""
    image = Image.new("RGB", (3200, 2000), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 400, 400))  # a red corner, top-left as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    upright = open_checked(buffer.getvalue())
    assert upright.size == size and upright.info == {}
    corner = {1: (0, 0), 3: (size[0] - 1, size[1] - 1), 6: (size[0] - 1, 0), 8: (0, size[1] - 1)}[orientation]
    assert upright.getpixel(corner)[0] > 200


def test_transparent_and_16_bit_pngs_are_converted_on_the_reduced_image():
    """A palette PNG with a transparent colour is flattened onto white; a 16-bit grey PNG keeps
    its grey (scaled to 8 bits, not clipped to white); both go through the strip conversion."""
    palette = Image.new("P", (3400, 3400), 0)
    palette.putpalette([0, 0, 0, 20, 160, 60] + [0] * 762)
    palette.paste(1, (0, 0, 3400, 1700))
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=0)
    flattened = open_checked(buffer.getvalue())
    assert flattened.size == (1600, 1600)
    assert flattened.getpixel((800, 200)) == pytest.approx((20, 160, 60), abs=3)
    assert flattened.getpixel((800, 1400)) == (255, 255, 255)
    grey = Image.new("I;16", (500, 400), 32768)
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    assert open_checked(buffer.getvalue()).getpixel((10, 10)) == pytest.approx((128, 128, 128), abs=2)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that is only a header (and an empty data chunk): what a decompression bomb's first
    bytes look like."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(7000, 6000), (20000, 20000), (100000, 100000)])
def test_images_over_40_megapixels_are_refused_from_the_header(size):
    """Over 40 megapixels is refused before decoding, with the same clear message whether our
    check or Pillow's decompression-bomb guard (set to the same limit) sees it first."""
    assert Image.MAX_IMAGE_PIXELS == uploads.MAX_PIXELS
    with pytest.raises(ImageRejected, match="more than 40 megapixels"):
        open_checked(_png_header(*size))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"GIF89a" + b"\0" * 100, "not an image we can read"),
        (b"%PDF-1.7 not an image", "not an image we can read"),
        (b"\xff\xd8\xff\xe0 truncated", "not an image we can read"),
        (b"\0" * (uploads.MAX_UPLOAD_BYTES + 1), "larger than 10 MB"),
    ],
)
def test_other_files_are_refused_with_a_message(data, message):
    with pytest.raises(ImageRejected, match=message):
        open_checked(data)


def test_jpeg_metadata_strip_refuses_what_is_not_a_jpeg():
    with pytest.raises(ValueError, match="not a JPEG"):
        jpeg_metadata_strip(b"\x89PNG")


def test_names_are_random_and_keep_only_a_plain_suffix():
    """192 random bits a name; the uploaded name lends nothing but a short suffix."""
    names = {random_name("forum", "../../etc/passwd.jpg") for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"forum/[A-Za-z0-9_-]{32}\.jpg", name) for name in names)
    assert re.fullmatch(r"avatars/[A-Za-z0-9_-]{32}\.jpg", random_name("avatars", "x.<svg onload=1>"))
    assert RandomName("forum")(None, "post.png").endswith(".png")
    assert RandomName("forum").deconstruct() == ("apps.core.uploads.RandomName", ("forum",), {})


@pytest.fixture
def stored_name(settings):
    return default_storage.save("forum/to-delete.jpg", ContentFile(b"x"))


@pytest.mark.django_db
def test_files_are_deleted_after_commit_and_kept_on_rollback(stored_name, django_capture_on_commit_callbacks):
    """A rolled-back deletion leaves the file (its row is still there); a committed one removes
    it, only once the transaction has committed."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            stored_files_delete_on_commit([stored_name])
            raise RuntimeError("rolled back")
    assert not callbacks and default_storage.exists(stored_name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stored_files_delete_on_commit([stored_name, "", None])
    assert default_storage.exists(stored_name) and len(callbacks) == 1
    callbacks[0]()
    assert not default_storage.exists(stored_name)


@pytest.mark.django_db
def test_shared_files_are_never_deleted_and_a_missing_file_raises_nothing(
    stored_name, django_capture_on_commit_callbacks, caplog
):
    """The demo's pool under ``SHARED_MEDIA_PREFIX`` stays; a file already gone is no error
    (the rows are deleted by then)."""
    shared = default_storage.save(f"{uploads.SHARED_MEDIA_PREFIX}demo/photos/plant-1.jpg", ContentFile(b"x"))
    default_storage.delete(stored_name)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        stored_files_delete_on_commit([shared, stored_name])
    assert default_storage.exists(shared)


@pytest.mark.parametrize("size", [(1200, 300), (300, 1200), (900, 600), (200, 120)])
def test_square_processing_keeps_the_centre_square(size):
    """``image_process(square=True)`` (avatars): the centre square of a wide or tall image, at
    the size asked (smaller when the image's short side is), metadata-free."""
    image = Image.new("RGB", size, (0, 0, 255))
    centre = (size[0] // 2 - 10, size[1] // 2 - 10, size[0] // 2 + 10, size[1] // 2 + 10)
    image.paste((255, 0, 0), centre)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    (processed,) = image_process(buffer.getvalue(), sizes=[256], square=True)
    side = min(256, *size)
    assert (processed.width, processed.height) == (side, side)
    stored = Image.open(io.BytesIO(processed.content.read()))
    assert stored.size == (side, side)
    assert stored.getpixel((side // 2, side // 2))[0] > 200  # the red centre is kept
