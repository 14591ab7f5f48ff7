"""Images for upload tests: a JPEG carrying every kind of metadata an attacker or a phone puts
in one, a hand-made ICC profile, and a JPEG segment reader written apart from the one in
``apps.core.uploads`` so a test does not check the code with itself."""

import io
import struct

from PIL import ExifTags, Image, ImageCms

SCRIPT = b"<script>alert(document.cookie)</script>"
GPS = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}
# ICC v2 D50 colorants of sRGB's primaries (IEC 61966-2-1, Bradford-adapted).
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def icc_rgb_profile(red, green, blue) -> bytes:
    """A minimal ICC v2 RGB display profile (ICC.1:2001-04): the given D50 colorants, linear
    tone curves, a D50 white point. ``icc_rgb_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE)``
    describes a space whose red is sRGB's green, so converting to sRGB visibly swaps them."""
    curve = b"curv\0\0\0\0" + struct.pack(">I", 0)  # no entries: identity
    tags = [
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*red)),
        (b"gXYZ", _xyz(*green)),
        (b"bXYZ", _xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    entries, body = b"", b""
    for signature, data in tags:
        entries += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + entries + body


def _segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(payload) + 2) + payload


def loaded_jpeg(size=(900, 600), colour=(70, 140, 60), *, orientation: int = 1, icc: bytes | None = None) -> bytes:
    """A JPEG with a COM segment holding ``<script>``, EXIF (APP1) with a GPS block and the
    camera make, XMP (APP1) holding ``<script>`` too, an ICC profile (APP2, sRGB unless
    ``icc``), a Photoshop/IPTC segment (APP13) and an Adobe segment (APP14)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(
        buffer,
        "JPEG",
        comment=SCRIPT,
        exif=exif.tobytes(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SCRIPT + b"</x:xmpmeta>",
        icc_profile=icc or ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        extra=_segment(0xED, b"Photoshop 3.0\0" + SCRIPT) + _segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01"),
    )
    return buffer.getvalue()


def jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """Every marker segment of JPEG ``data``, in order, scans included: ``[(code, payload)]``
    (payload empty for markers without one). Entropy-coded data is skipped by the T.81 rules:
    0xFF00 is a stuffed byte, 0xFFD0-D7 restart markers, anything else a marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    out = [(0xD8, b"")]
    position = 2
    while position < len(data):
        assert data[position] == 0xFF, f"marker expected at {position}"
        while data[position + 1] == 0xFF:
            position += 1
        code = data[position + 1]
        if code == 0xD9:
            out.append((code, b""))
            assert position + 2 == len(data), "bytes after EOI"
            return out
        if code == 0x01 or 0xD0 <= code <= 0xD7:
            out.append((code, b""))
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        out.append((code, data[position + 4 : position + 2 + length]))
        position += 2 + length
        if code == 0xDA:
            while True:
                position = data.index(b"\xff", position)
                follower = data[position + 1]
                if follower == 0 or 0xD0 <= follower <= 0xD7:
                    position += 2
                    continue
                break
    raise AssertionError("no EOI")


def assert_metadata_free(data: bytes) -> None:
    """``data`` is a JPEG whose only segments are image data: no COM, no APP1-APP15, and APP0
    only as the plain 16-byte JFIF header; and no byte of the planted metadata is left."""
    codes = [code for code, _ in jpeg_markers(data)]
    assert 0xFE not in codes, "COM segment kept"
    assert not [hex(code) for code in codes if 0xE1 <= code <= 0xEF], "APPn segment kept"
    for code, payload in jpeg_markers(data):
        if code == 0xE0:
            assert payload[:5] == b"JFIF\0" and len(payload) == 14, "APP0 other than a plain JFIF header"
    assert set(codes) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA, 0xD9, *range(0xD0, 0xD8)}, [hex(c) for c in codes]
    for planted in (b"<script", b"PhoneCam", b"Exif\0", b"ICC_PROFILE", b"Photoshop", b"xmpmeta", b"Adobe"):
        assert planted not in data, planted
