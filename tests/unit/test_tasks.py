"""The messages between the server and its workers (service/imaging/tasks.py): every one survives
pickling (how ProcessPoolExecutor sends it) and msgspec encoding unchanged, and importing them
loads no libvips, so the server process builds tasks without pyvips."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from service.imaging import tasks
from service.imaging.parsing import parse_options
from service.transfer import Blob

ROOT = Path(__file__).parents[2]
OPTIONS = parse_options({"format": "avif", "width": "320", "effort": "3", "max_bytes": "20000"}, accepted=["webp"])
LIMITS = tasks.Limits(
    max_input_pixels=1000,
    max_output_pixels=2000,
    max_batch_output_pixels=3000,
    max_input_dimension=500,
    max_input_aspect_ratio=50,
)

MESSAGES: list[msgspec.Struct] = [
    LIMITS,
    tasks.ConvertTask(b"\xff\xd8", OPTIONS, LIMITS, 1.5, Blob("/dev/shm/in", 2), Blob("/dev/shm/out", 0)),
    tasks.Converted(b"out", 320, 200, "avif", "jpeg", 640, 400, 0.01, 0.02, 41, 0.97, 6, Blob("/dev/shm/o", 3)),
    tasks.LibvipsInfo("8.15.1", ("heifsave_buffer",), True, 1, 4242),
    tasks.Encoded(b"", 320, 200, "webp", 80, 0.02, "/tmp/out.webp", 1234, 0.95, 3),
    tasks.ProbeTask(b"\x89PNG", LIMITS, 2.5, validate=True),
    tasks.Probed("png", 640, 480, True),
    tasks.DecodeGroupTask(
        "/tmp/in.jpg",
        OPTIONS,
        (tasks.RasterTarget(320, "/tmp/r320.v"), tasks.RasterTarget(None, "/tmp/full.v")),
        LIMITS,
        3.5,
    ),
    tasks.RasterTarget(800, "/tmp/r800.v"),
    tasks.DecodedGroup("jpeg", 0.25),
    tasks.EncodeFileTask("/tmp/r320.v", "avif", OPTIONS, 4.5, "/tmp/out"),
]


def test_every_message_struct_of_the_module_is_covered() -> None:
    declared = {
        name
        for name, value in vars(tasks).items()
        if isinstance(value, type) and issubclass(value, msgspec.Struct) and value.__module__ == tasks.__name__
    }
    assert declared == {type(m).__name__ for m in MESSAGES}


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_a_message_round_trips_through_pickle_and_msgspec(message: msgspec.Struct) -> None:
    assert pickle.loads(pickle.dumps(message)) == message
    kind = type(message)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(message), type=kind) == message
    assert msgspec.json.decode(msgspec.json.encode(message), type=kind) == message


def test_messages_are_frozen() -> None:
    with pytest.raises(AttributeError):
        LIMITS.max_input_pixels = 1  # type: ignore[misc]


def test_importing_the_messages_loads_no_libvips() -> None:
    code = (
        "import sys, service.imaging.tasks as t\n"
        "t.ConvertTask(b'', t.ConvertOptions(), t.Limits(1, 2, 3, 4, 5), 0.0)\n"
        "print(sorted(m for m in sys.modules if m == 'pyvips' or m.startswith('pyvips.')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
