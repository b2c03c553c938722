"""The worker process's entry points (service/imaging/worker.py), each run where it runs: in a
process of its own, as the pool starts it, on real libvips."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import pyvips

from service.errors import DEADLINE
from service.imaging import worker
from service.imaging.errors import ImageError
from service.imaging.parsing import parse_options
from service.imaging.tasks import ConvertTask
from service.settings import load_settings

ROOT = Path(__file__).parents[2]
LIMITS = load_settings({}).limits  # the service's defaults


def in_fresh_process(code: str) -> dict[str, object]:
    """Run `code` in a new interpreter (init_worker changes signals and libvips for good); it
    prints one JSON object as its last line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context, initializer=worker.init_worker) as pool:
        yield pool


def jpeg(width: int, height: int) -> bytes:
    return bytes(pyvips.Image.black(width, height).add(128).cast("uchar").jpegsave_buffer())


def test_init_worker_sets_up_libvips_for_one_image_at_a_time() -> None:
    state = in_fresh_process(
        """
import json, os, signal, tempfile
from service.imaging.worker import init_worker
init_worker()
import pyvips
svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'
try:
    pyvips.Image.new_from_buffer(svg, "").avg()
    svg_loaded = True
except pyvips.Error:
    svg_loaded = False
jpeg = pyvips.Image.new_from_buffer(pyvips.Image.black(8, 8).jpegsave_buffer(), "").width
raster = os.path.join(tempfile.mkdtemp(), "r.v")
pyvips.Image.black(4, 4).write_to_file(raster)
print(json.dumps({
    "env": os.environ["VIPS_CONCURRENCY"],
    "concurrency": pyvips.concurrency_get(),
    "cache": [pyvips.cache_get_max(), pyvips.cache_get_max_mem(), pyvips.cache_get_max_files()],
    "sigint_ignored": signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
    "sigterm_ignored": signal.getsignal(signal.SIGTERM) is signal.SIG_IGN,
    "svg_loaded": svg_loaded,
    "jpeg_width": jpeg,
    "raster_width": pyvips.Image.new_from_file(raster).width,
}))
"""
    )
    assert state == {
        "env": "1",
        "concurrency": 1,
        "cache": [0, 0, 0],
        "sigint_ignored": True,
        "sigterm_ignored": True,
        "svg_loaded": False,  # every loader outside ALLOWED_LOADERS is blocked
        "jpeg_width": 8,
        "raster_width": 4,  # the batch rasters' own .v files stay readable
    }


def test_a_worker_given_the_service_pid_exits_when_the_service_is_gone() -> None:
    service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    code = (
        f"from service.imaging.worker import init_worker; init_worker({service.pid}); "
        "print('armed', flush=True); import time; time.sleep(120)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "armed\n"  # the watcher runs
        assert child.poll() is None
        service.kill()
        service.wait()  # reaped: a zombie's pid would still answer
        assert child.wait(timeout=20) == 0
    finally:
        for proc in (service, child):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_libvips_info_reports_the_worker_and_its_encoders(workers: ProcessPoolExecutor) -> None:
    info = workers.submit(worker.libvips_info).result(timeout=60)
    assert info.missing_savers == () and info.mozjpeg is True and info.concurrency == 1
    assert info.pid != os.getpid() and info.version.count(".") == 2
    assert info.version == f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"


def test_libvips_info_names_a_missing_saver() -> None:
    info = in_fresh_process(
        """
import json
from service.imaging import worker
worker.REQUIRED_SAVERS["fake"] = "notaformatsave_buffer"
info = worker.libvips_info()
print(json.dumps({"missing": list(info.missing_savers), "mozjpeg": info.mozjpeg, "concurrency": info.concurrency}))
"""
    )
    assert info == {"missing": ["notaformatsave_buffer"], "mozjpeg": True, "concurrency": 1}


def test_run_convert_converts_in_the_worker(workers: ProcessPoolExecutor) -> None:
    task = ConvertTask(jpeg(64, 48), parse_options({"width": "32", "format": "png"}), LIMITS, time.time() + 60)
    out = workers.submit(worker.run_convert, task).result(timeout=60)
    assert (out.format, out.width, out.height, out.input_type, out.input_width) == ("png", 32, 24, "jpeg", 64)
    assert pyvips.Image.new_from_buffer(out.data, "").width == 32 and out.blob is None


def test_run_convert_refuses_a_task_whose_deadline_has_passed(workers: ProcessPoolExecutor) -> None:
    late = ConvertTask(jpeg(64, 48), parse_options({}), LIMITS, time.time() - 0.001)
    with pytest.raises(ImageError) as err:
        workers.submit(worker.run_convert, late).result(timeout=60)
    assert err.value.code is DEADLINE
    # The refusal comes before any work: not even libvips' setup runs for it.
    with pytest.raises(ImageError):
        worker.run_convert(ConvertTask(b"not an image", parse_options({}), LIMITS, time.time() - 1))
