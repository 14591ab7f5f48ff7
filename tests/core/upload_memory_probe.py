"""Run one identification upload through the form and the upload pipeline in this fresh
process and print, as JSON, how far it raised the peak resident memory over the process's
baseline (``resource.getrusage(...).ru_maxrss``: Pillow's pixel buffers are C allocations that
``tracemalloc`` does not see) and how long it took.

Usage: ``python -m tests.core.upload_memory_probe FILE [FILE ...]`` (from the project root,
``DJANGO_SETTINGS_MODULE`` set). Used by ``tests/core/test_upload_memory.py``; it also runs
against an older checkout of the project (no ``photos_process``) to measure the "before".
"""

import gc
import io
import json
import os
import resource
import shutil
import sys
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _uploads(paths):
    """The files as Django's multipart parser hands them over: uploads above 2.5 MB
    (``FILE_UPLOAD_MAX_MEMORY_SIZE``) in temporary files, smaller ones in memory."""
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    out = []
    for path in paths:
        size = os.path.getsize(path)
        name = os.path.basename(path)
        if size > 2_621_440:
            upload = TemporaryUploadedFile(name, "application/octet-stream", size, None)
            with open(path, "rb") as source:
                shutil.copyfileobj(source, upload, 1 << 20)
            upload.seek(0)
        else:
            with open(path, "rb") as source:
                upload = SimpleUploadedFile(name, source.read(), "application/octet-stream")
        out.append(upload)
    return out


def _submit(files) -> bool:
    from django.utils.datastructures import MultiValueDict

    from apps.plants.forms import IdentificationRequestForm

    form = IdentificationRequestForm({"notes": "probe"}, MultiValueDict({"image": files}))
    ok = form.is_valid() and getattr(form, "photos_process", lambda: True)()
    if not ok:
        print(json.dumps({"errors": form.errors.get_json_data()}), file=sys.stderr)
    return ok


def main(paths: list[str]) -> None:
    import django

    django.setup()
    from PIL import Image

    # Warm up every library and code path on small images, so the baseline is a worker's.
    warm = []
    for fmt in ("JPEG", "PNG", "WEBP"):
        buffer = io.BytesIO()
        Image.new("RGB", (640, 480), (90, 140, 60)).save(buffer, fmt)
        warm.append(buffer.getvalue())
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert _submit([SimpleUploadedFile(f"warm{i}", data) for i, data in enumerate(warm)])
    files = _uploads(paths)
    gc.collect()
    baseline = _peak_mb()
    started = time.perf_counter()
    ok = _submit(files)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"ok": ok, "baseline_mb": baseline, "peak_mb": _peak_mb(), "vm_hwm_mb": _vm_hwm_mb(), "seconds": seconds}
        )
    )


def _vm_hwm_mb() -> float:
    """The same high-water mark for this address space alone (``/proc/self/status``), as a
    cross-check."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    # Linux carries the resident high-water mark across execve: an exec'd process's ru_maxrss
    # starts at its parent's resident size at fork time (the whole pytest process here), which
    # would hide any growth below it. A child forked from this small process starts clean.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            main(sys.argv[1:])
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
