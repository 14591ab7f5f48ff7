"""Generated plant photos: :func:`draw_plant_image` draws a stylized potted plant with Pillow,
and :func:`image_pool_store` draws the small pool the identification requests share and
stores it as JPEG through the default storage."""

from __future__ import annotations

import io
import math
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from apps.core.uploads import SHARED_MEDIA_PREFIX

IMAGE_POOL_SIZE = 8
IMAGE_DRAW_PX = 1600  # drawn large, then downsampled: cheap anti-aliasing
PHOTO_PX = 800  # stored photo, square (the upload rules allow up to 1600 px)
THUMBNAIL_PX = 300
# Under core's SHARED_MEDIA_PREFIX: many requests share these files, so deleting one request
# (or its gardener's account) must not remove them.
THUMBNAIL_DIR = f"{SHARED_MEDIA_PREFIX}demo/thumbs"
PHOTO_DIR = f"{SHARED_MEDIA_PREFIX}demo/photos"

PLANT_KINDS = ("broad", "blades", "rosette", "fern", "flowering", "cactus", "trailing", "broad-fenestrated")
GREENS = [
    (46, 125, 50),
    (56, 142, 60),
    (67, 160, 71),
    (85, 139, 47),
    (104, 159, 56),
    (27, 94, 32),
    (51, 105, 30),
    (124, 179, 66),
    (0, 105, 92),
    (38, 140, 120),
]
WALLS = [
    ((236, 239, 241), (207, 216, 220)),
    ((255, 248, 225), (255, 236, 179)),
    ((232, 245, 233), (200, 230, 201)),
    ((227, 242, 253), (187, 222, 251)),
    ((250, 250, 250), (224, 224, 224)),
    ((255, 243, 224), (255, 204, 188)),
]
TABLES = [(141, 110, 99), (188, 170, 164), (121, 85, 72), (176, 190, 197), (215, 204, 200)]
POT_COLOURS = [
    (191, 106, 73),
    (176, 90, 60),
    (236, 236, 236),
    (84, 110, 122),
    (233, 196, 106),
    (38, 70, 83),
    (244, 162, 97),
    (255, 255, 255),
]
FLOWER_COLOURS = [(233, 30, 99), (244, 67, 54), (255, 235, 59), (255, 255, 255), (156, 39, 176), (255, 152, 0)]


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, int(c * factor))) for c in colour)  # type: ignore[return-value]


def _leaf_polygon(
    x: float, y: float, *, length: float, width: float, angle: float, pointed: float = 0.9, steps: int = 18
) -> list[tuple[float, float]]:
    """Outline of a leaf whose base is at (x, y), pointing at ``angle`` (radians, screen axes)."""
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    side = []
    for i in range(steps + 1):
        t = i / steps
        side.append((t * length, width / 2 * math.sin(math.pi * t) ** pointed * (1 - 0.25 * t)))
    outline = side + [(px, -py) for px, py in reversed(side)]
    return [(x + px * cos_a - py * sin_a, y + px * sin_a + py * cos_a) for px, py in outline]


def draw_plant_image(*, rng: random.Random, kind: str, size: int = IMAGE_DRAW_PX) -> Image.Image:
    """Draw a stylized potted plant: an RGB ``size`` x ``size`` image (pixels). ``kind`` is one
    of :data:`PLANT_KINDS`; colours, counts and angles come from ``rng``, so the same RNG state
    draws the same picture."""
    top, bottom = rng.choice(WALLS)
    gradient = Image.new("RGB", (1, 2))
    gradient.putpixel((0, 0), top)
    gradient.putpixel((0, 1), bottom)
    image = gradient.resize((size, size), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    s = size
    table_y = int(s * rng.uniform(0.76, 0.82))
    table = rng.choice(TABLES)
    draw.rectangle([0, table_y, s, s], fill=table)
    draw.rectangle([0, table_y, s, table_y + s // 90], fill=_shade(table, 1.15))

    cx = s / 2 + rng.uniform(-0.06, 0.06) * s
    pot_top = s * rng.uniform(0.55, 0.6)
    pot_bottom = table_y + s * 0.05
    top_w = s * rng.uniform(0.15, 0.19)
    bottom_w = top_w * rng.uniform(0.7, 0.85)
    pot = rng.choice(POT_COLOURS)
    draw.ellipse(
        [cx - bottom_w * 1.3, pot_bottom - s * 0.02, cx + bottom_w * 1.3, pot_bottom + s * 0.025],
        fill=_shade(table, 0.8),
    )
    greens = rng.sample(GREENS, 4)
    origin = (cx, pot_top)

    def leaf(x, y, length, width, angle, colour, *, rib=True, pointed=0.9):
        draw.polygon(_leaf_polygon(x, y, length=length, width=width, angle=angle, pointed=pointed), fill=colour)
        if rib:
            end = (x + math.cos(angle) * length * 0.92, y + math.sin(angle) * length * 0.92)
            draw.line([(x, y), end], fill=_shade(colour, 0.7), width=max(2, s // 400))

    def stem_to(angle, length, colour, width=None):
        end = (origin[0] + math.cos(angle) * length, origin[1] + math.sin(angle) * length)
        draw.line([origin, end], fill=colour, width=width or max(3, s // 160))
        return end

    if kind in ("broad", "broad-fenestrated", "flowering"):
        count = rng.randint(7, 11) if kind != "flowering" else rng.randint(6, 9)
        for _ in range(count):
            angle = rng.uniform(-math.pi + 0.35, -0.35)
            end = stem_to(angle, s * rng.uniform(0.12, 0.33), _shade(greens[0], 0.8))
            length = s * rng.uniform(0.13, 0.22) * (0.7 if kind == "flowering" else 1)
            colour = _shade(rng.choice(greens), rng.uniform(0.85, 1.15))
            leaf_angle = angle + rng.uniform(-0.4, 0.4)
            leaf(end[0], end[1], length, length * rng.uniform(0.55, 0.85), leaf_angle, colour)
            if kind == "broad-fenestrated":
                for k in range(rng.randint(2, 4)):
                    t = 0.3 + 0.15 * k
                    hx = end[0] + math.cos(leaf_angle) * length * t + math.sin(leaf_angle) * length * 0.18
                    hy = end[1] + math.sin(leaf_angle) * length * t - math.cos(leaf_angle) * length * 0.18
                    r = length * 0.045
                    draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill=top)
        if kind == "flowering":
            petal = rng.choice(FLOWER_COLOURS)
            for _ in range(rng.randint(3, 6)):
                angle = rng.uniform(-math.pi + 0.6, -0.6)
                fx, fy = stem_to(angle, s * rng.uniform(0.3, 0.42), _shade(greens[1], 0.8), width=max(2, s // 240))
                radius = s * rng.uniform(0.025, 0.04)
                for p in range(6):
                    a = p * math.pi / 3 + rng.uniform(-0.1, 0.1)
                    px, py = fx + math.cos(a) * radius, fy + math.sin(a) * radius
                    draw.ellipse(
                        [px - radius * 0.8, py - radius * 0.8, px + radius * 0.8, py + radius * 0.8], fill=petal
                    )
                draw.ellipse(
                    [fx - radius * 0.55, fy - radius * 0.55, fx + radius * 0.55, fy + radius * 0.55],
                    fill=(255, 213, 79),
                )
    elif kind == "blades":
        for _ in range(rng.randint(5, 9)):
            bx = cx + rng.uniform(-0.5, 0.5) * top_w * 1.2
            angle = -math.pi / 2 + rng.uniform(-0.3, 0.3)
            length, width = s * rng.uniform(0.3, 0.46), s * rng.uniform(0.05, 0.08)
            leaf(bx, pot_top + s * 0.01, length, width, angle, (205, 190, 80), rib=False, pointed=0.35)
            dark = _shade(rng.choice(greens), 0.75)
            leaf(bx, pot_top + s * 0.01, length * 0.96, width * 0.78, angle, dark, rib=False, pointed=0.35)
            for b in range(5):
                t = 0.15 + 0.15 * b
                mx, my = bx + math.cos(angle) * length * t, pot_top + math.sin(angle) * length * t
                draw.line(
                    [(mx - width * 0.25, my), (mx + width * 0.25, my - s * 0.006)],
                    fill=_shade(dark, 1.3),
                    width=max(2, s // 500),
                )
    elif kind == "rosette":
        base = (120, 165, 145) if rng.random() < 0.6 else (150, 170, 110)
        for layer in range(3):
            count = 9 - layer * 2
            for k in range(count):
                angle = -math.pi + 0.15 + (math.pi - 0.3) * (k + 0.5) / count + rng.uniform(-0.05, 0.05)
                length = s * (0.22 - layer * 0.05)
                leaf(
                    cx,
                    pot_top + s * 0.01,
                    length,
                    length * 0.45,
                    angle,
                    _shade(base, 0.85 + layer * 0.12),
                    rib=False,
                    pointed=0.6,
                )
    elif kind in ("fern", "trailing"):
        for _ in range(rng.randint(6, 9)):
            direction = rng.choice([-1, 1])
            angle = -math.pi / 2 + direction * rng.uniform(0.2, 1.3)
            length = s * (rng.uniform(0.4, 0.55) if kind == "trailing" else rng.uniform(0.25, 0.4))
            droop = rng.uniform(2.2, 3.2) if kind == "trailing" else rng.uniform(0.3, 0.8)
            points = []
            for i in range(16):
                t = i / 15
                a = angle + direction * droop * t * t
                if not points:
                    points.append(origin)
                else:
                    px, py = points[-1]
                    points.append((px + math.cos(a) * length / 15, py + math.sin(a) * length / 15))
            colour = _shade(rng.choice(greens), rng.uniform(0.85, 1.1))
            draw.line(points, fill=_shade(colour, 0.7), width=max(2, s // 300))
            for i in range(2, 16, 1 if kind == "fern" else 2):
                px, py = points[i]
                a = angle + direction * droop * (i / 15) ** 2
                leaflet = s * (0.05 if kind == "fern" else 0.045) * (1 - i / 20)
                for side in (-1, 1):
                    leaf(
                        px, py, leaflet, leaflet * (0.45 if kind == "fern" else 0.8), a + side * 1.1, colour, rib=False
                    )
    elif kind == "cactus":
        colour = rng.choice(greens)
        width, height = top_w * 0.75, s * rng.uniform(0.28, 0.38)
        draw.rounded_rectangle(
            [cx - width / 2, pot_top - height, cx + width / 2, pot_top + s * 0.01], radius=int(width / 2), fill=colour
        )
        for arm in range(rng.randint(0, 2)):
            side = -1 if arm == 0 else 1
            ay = pot_top - height * rng.uniform(0.35, 0.6)
            ax = cx + side * width / 2
            draw.rounded_rectangle(
                [
                    min(ax, ax + side * width * 0.7),
                    ay - width * 0.25,
                    max(ax, ax + side * width * 0.7),
                    ay + width * 0.25,
                ],
                radius=int(width * 0.2),
                fill=colour,
            )
            tip_x = ax + side * width * 0.55
            draw.rounded_rectangle(
                [tip_x - width * 0.22, ay - height * 0.35, tip_x + width * 0.22, ay + width * 0.2],
                radius=int(width * 0.2),
                fill=colour,
            )
        for rib in (-0.25, 0, 0.25):
            draw.line(
                [(cx + rib * width, pot_top - height * 0.92), (cx + rib * width, pot_top)],
                fill=_shade(colour, 0.75),
                width=max(2, s // 400),
            )
        for _ in range(60):
            sx = cx + rng.uniform(-0.45, 0.45) * width
            sy = pot_top - rng.uniform(0.05, 0.95) * height
            draw.line([(sx, sy), (sx + rng.uniform(-1, 1) * s * 0.01, sy - s * 0.008)], fill=(250, 250, 235), width=2)
        if rng.random() < 0.7:
            fx, fy, r = cx, pot_top - height, s * 0.03
            draw.ellipse([fx - r, fy - r * 1.4, fx + r, fy + r * 0.3], fill=rng.choice(FLOWER_COLOURS))

    # The pot goes on last so that stems disappear into it.
    draw.polygon(
        [(cx - top_w, pot_top), (cx + top_w, pot_top), (cx + bottom_w, pot_bottom), (cx - bottom_w, pot_bottom)],
        fill=pot,
    )
    rim_h = s * 0.035
    draw.rectangle(
        [cx - top_w * 1.06, pot_top - rim_h * 0.3, cx + top_w * 1.06, pot_top + rim_h * 0.7], fill=_shade(pot, 0.88)
    )
    draw.polygon(
        [
            (cx - top_w * 0.9, pot_top + rim_h),
            (cx - top_w * 0.6, pot_top + rim_h),
            (cx - bottom_w * 0.55, pot_bottom - s * 0.01),
            (cx - bottom_w * 0.8, pot_bottom - s * 0.01),
        ],
        fill=_shade(pot, 1.08),
    )
    return image


def image_pool_store(*, rng: random.Random) -> list[tuple[str, str, int, int]]:
    """Draw :data:`IMAGE_POOL_SIZE` plants, one kind each in an order shuffled by ``rng``, and
    store each as an 800 px photo and a 300 px thumbnail (JPEG, no EXIF) under
    :data:`PHOTO_DIR` / :data:`THUMBNAIL_DIR`. Returns ``[(thumbnail name, photo name, photo
    width, photo height), ...]`` with sizes in pixels."""
    images = []
    kinds = list(PLANT_KINDS)
    rng.shuffle(kinds)
    for index in range(IMAGE_POOL_SIZE):
        image = draw_plant_image(rng=random.Random(rng.getrandbits(64)), kind=kinds[index % len(kinds)])
        photo = image.reduce(IMAGE_DRAW_PX // PHOTO_PX)  # box filter: fast, and enough for flat shapes
        thumb = photo.resize((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
        thumb_name = _store_jpeg(f"{THUMBNAIL_DIR}/plant-{index + 1}.jpg", thumb)
        photo_name = _store_jpeg(f"{PHOTO_DIR}/plant-{index + 1}.jpg", photo)
        images.append((thumb_name, photo_name, photo.width, photo.height))
    return images


def _store_jpeg(name: str, image: Image.Image) -> str:
    """Save ``image`` as JPEG under ``name`` through the default storage, replacing an earlier
    file of that name (a re-seed draws the same picture), and return the stored name."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buffer.getvalue()))
