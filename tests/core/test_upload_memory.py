"""Decoding uploads is bounded (issue 11, SPEC "Bad input"): each case runs the identification
form and the upload pipeline in a fresh Python process (``upload_memory_probe``) and bounds
the growth of its peak resident memory (``ru_maxrss``) over the warmed-up process's own
baseline. Figures are printed (``pytest -s``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from apps.core.uploads import MAX_PIXELS

ROOT = Path(__file__).resolve().parents[2]
JPEG_SIZE = (7745, 5164)  # 39,995,180 pixels: just under MAX_PIXELS
PNG_SIZE = (6324, 6324)  # 39,992,976 pixels: the files
MB = 1024 * 1024


def _draw(size) -> Image.Image:
    image = Image.new("RGB", size, (86, 140, 64))
    draw = ImageDraw.Draw(image)
    width, height = size
    for step in range(12):
        left, top = step * width // 14, step * height // 16
        draw.rectangle((left, top, left + width // 5, top + height // 6), fill=(30 + 15 * step, 90, 200 - 12 * step))
    return image


def _probe(paths) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.core.upload_memory_probe", *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["ok"], result.stderr
    figures["growth_mb"] = figures["peak_mb"] - figures["baseline_mb"]
    return figures


def test_a_40_megapixel_jpeg_raises_a_workers_peak_memory_by_less_than_100_mb(tmp_path):
    """libjpeg decodes the 40 MP JPEG straight at 1/4 scale (``Image.draft``): the request costs
    well under 100 MB over the worker's baseline instead of a 160 MB full-size decode."""
    assert JPEG_SIZE[0] * JPEG_SIZE[1] <= MAX_PIXELS
    path = tmp_path / "big.jpg"
    _draw(JPEG_SIZE).save(path, "JPEG", quality=90)
    figures = _probe([path])
    print(
        f"\n40 MP JPEG ({path.stat().st_size / MB:.1f} MB file): baseline {figures['baseline_mb']:.0f} MB, "
        f"peak +{figures['growth_mb']:.0f} MB, {figures['seconds']:.2f} s"
    )
    assert figures["growth_mb"] < 100


def test_three_40_megapixel_pngs_cost_at_most_one_decoded_image_plus_100_mb(tmp_path):
    """Three 40 MP PNGs of about 100 KB each (the issue's decompression-amplifying files) are
    decoded one at a time and each dropped before the next: the peak grows by less than one
    decoded image (width x height x 4 bytes in Pillow, 153 MB) plus 100 MB."""
    image = _draw(PNG_SIZE)
    paths = []
    for index in range(3):
        path = tmp_path / f"big{index}.png"
        image.save(path, "PNG")
        paths.append(path)
    del image
    one_decoded_mb = PNG_SIZE[0] * PNG_SIZE[1] * 4 / MB
    figures = _probe(paths)
    print(
        f"\n3 x 40 MP PNG ({paths[0].stat().st_size / 1024:.0f} KB each): baseline {figures['baseline_mb']:.0f} MB, "
        f"peak +{figures['growth_mb']:.0f} MB (bound {one_decoded_mb + 100:.0f} MB), {figures['seconds']:.2f} s"
    )
    assert figures["growth_mb"] < one_decoded_mb + 100
