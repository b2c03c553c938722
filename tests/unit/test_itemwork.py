"""One leased job item carried to its end, on a real store and a real pool: a decode marks its
rasters written, an encode publishes its output, a lost lease drops the result, a failure is
recorded for the item."""

from __future__ import annotations

import time
from pathlib import Path

from realpool import photo_jpeg, sample, with_engine

from service import metrics
from service.engine import Engine
from service.grid.executor import GridExecutor
from service.grid.layout import Grid, GridRequest, layout_grid
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed
from service.jobs.items import decode_item, encode_item
from service.jobs.itemwork import ItemWork
from service.jobs.leases import current_leases, try_claim
from service.jobs.manifest import build_manifest
from service.jobs.model import JobManifest
from service.jobs.store import JobStore, new_job_id
from service.pool import Lane

SOURCE = photo_jpeg(600, 400)
REQUEST = GridRequest(ConvertOptions(), Grid((300, 150), (60,), (OutputFormat.JPEG,)))


def new_job(store: JobStore, data: bytes = SOURCE) -> JobManifest:
    layout = layout_grid(Probed("jpeg", 600, 400, False), REQUEST, max_groups=1)
    manifest = build_manifest(new_job_id(), time.time(), 3600, REQUEST, layout, "p", len(data))
    store.create(manifest, data)
    return manifest


def work(engine: Engine, store: JobStore) -> ItemWork:
    return ItemWork(store, GridExecutor(engine.pool, engine.limits, Lane.BACKGROUND), engine.settings)


def test_a_decode_then_its_encodes_settle_and_publish(tmp_path: Path):
    store = JobStore(tmp_path)
    m = new_job(store)

    async def body(engine: Engine) -> None:
        items = work(engine, store)
        lease = try_claim(store.leases_dir(m.id), "d0", 0)
        assert lease is not None
        await items.carry(m.id, decode_item(0), lease)
        snap = store.snapshot(m.id, time.time())
        assert snap is not None and snap.decoded == {decode_item(0)}
        assert not current_leases(store.leases_dir(m.id))["d0"].released  # settled: kept, not released
        for index in range(len(m.outputs)):
            lease = try_claim(store.leases_dir(m.id), str(encode_item(index)), 0)
            assert lease is not None
            await items.carry(m.id, encode_item(index), lease)
        progress = store.progress(m.id, time.time())
        assert progress is not None and progress.state == "done"
        assert sorted(p.name for p in Path(store.outputs_dir(m.id)).iterdir()) == sorted(o.name for o in m.outputs)

    with_engine(body)


def test_a_lost_lease_drops_the_result(tmp_path: Path):
    store = JobStore(tmp_path)
    m = new_job(store)

    async def body(engine: Engine) -> None:
        items = work(engine, store)
        decode = try_claim(store.leases_dir(m.id), "d0", 0)
        assert decode is not None
        await items.carry(m.id, decode_item(0), decode)
        mine = try_claim(store.leases_dir(m.id), "e0", 0)
        assert mine is not None
        assert try_claim(store.leases_dir(m.id), "e0", 1, taken_over=True) is not None  # another replica's now
        interrupted = sample(metrics.JOB_ITEMS, "encode", "interrupted", suffix="_total")
        await items.carry(m.id, encode_item(0), mine)
        assert list(Path(store.outputs_dir(m.id)).iterdir()) == []  # no output, no temporary file
        assert sample(metrics.JOB_ITEMS, "encode", "interrupted", suffix="_total") == interrupted + 1
        assert current_leases(store.leases_dir(m.id))["e0"].generation == 1  # the new holder's lease untouched

    with_engine(body)


def test_a_failing_item_records_why(tmp_path: Path):
    store = JobStore(tmp_path)
    m = new_job(store, SOURCE[: len(SOURCE) // 3])  # truncated: the header reads, the decode fails

    async def body(engine: Engine) -> None:
        failed = sample(metrics.JOB_ITEMS, "decode", "failed", suffix="_total")
        lease = try_claim(store.leases_dir(m.id), "d0", 0)
        assert lease is not None
        await work(engine, store).carry(m.id, decode_item(0), lease)
        snap = store.snapshot(m.id, time.time())
        assert snap is not None and snap.errors[decode_item(0)].code == "unprocessable"
        assert sample(metrics.JOB_ITEMS, "decode", "failed", suffix="_total") == failed + 1
        progress = store.progress(m.id, time.time())
        assert progress is not None and progress.state == "failed"

    with_engine(body)
