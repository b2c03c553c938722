"""Job storage from the plan: each raster and output bounded before any decode (pixels x bands x
the format's worst case, plus the header's metadata), and the ledger's reservations."""

from __future__ import annotations

import pyvips

from service.grid.layout import Grid, GridRequest, layout_grid
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed
from service.jobs.quota import Ledger, plan_job

TIFF = GridRequest(ConvertOptions(enlarge=True, compression="none"), Grid((6010, 7000), (None,), (OutputFormat.TIFF,)))


def test_an_uncompressed_tiff_plan_bounds_every_sample():
    layout = layout_grid(Probed("jpeg", 600, 400, False), TIFF, max_groups=1)
    plan = plan_job(layout, TIFF.options, 525_000)
    raw = [o.width * o.height * 3 for o in layout.outputs]
    assert [o.width for o in layout.outputs] == [7000, 6010]
    assert all(bound >= samples for bound, samples in zip(plan.outputs, raw, strict=True))
    assert sum(plan.rasters.values()) >= sum(raw)
    assert plan.total > 525_000 + sum(plan.rasters.values()) + sum(plan.outputs)  # the job's own files too
    assert plan.total > 2 * sum(raw) > 20_000_000  # the 20 MB limit cannot hold it


def test_alpha_padding_and_metadata_raise_the_bounds():
    request = GridRequest(ConvertOptions(), Grid((400,), (None,), (OutputFormat.PNG, OutputFormat.JPEG)))
    opaque = plan_job(layout_grid(Probed("jpeg", 800, 600, False), request, 1), request.options, 1000)
    alpha = plan_job(layout_grid(Probed("png", 800, 600, True), request, 1), request.options, 1000)
    tagged = plan_job(layout_grid(Probed("jpeg", 800, 600, False, 300_000), request, 1), request.options, 1000)
    png, jpeg = 0, 1
    assert alpha.outputs[png] > opaque.outputs[png]  # four samples a pixel
    assert alpha.outputs[jpeg] == opaque.outputs[jpeg]  # JPEG has no alpha: three
    assert all(t - o == 300_000 for t, o in zip(tagged.outputs, opaque.outputs, strict=True))
    contain = GridRequest(ConvertOptions(height=400, fit="contain"), request.grid)
    padded = plan_job(layout_grid(Probed("jpeg", 800, 600, False), contain, 1), contain.options, 1000)
    assert padded.outputs[png] > opaque.outputs[png]  # contain pads with transparency


def test_the_bound_holds_for_noise_at_the_highest_quality():
    noise = pyvips.Image.gaussnoise(256, 256, sigma=120, mean=128)
    image = noise.bandjoin([noise.rot90().rot90(), noise.flip("horizontal")]).cast("uchar").copy(interpretation="srgb")
    request = GridRequest(ConvertOptions(), Grid((256,), (None,), tuple(OutputFormat)))
    layout = layout_grid(Probed("png", 256, 256, False), request, 1)
    plan = plan_job(layout, request.options, 0)
    encoded = {
        OutputFormat.JPEG: image.jpegsave_buffer(Q=100, subsample_mode="off"),
        OutputFormat.PNG: image.pngsave_buffer(compression=0),
        OutputFormat.WEBP: image.webpsave_buffer(lossless=True),
        OutputFormat.AVIF: image.heifsave_buffer(lossless=True, compression="av1", effort=0),
        OutputFormat.TIFF: image.tiffsave_buffer(compression="lzw", predictor="horizontal"),
    }
    for out, bound in zip(layout.outputs, plan.outputs, strict=True):
        assert len(encoded[out.format]) <= bound, out.format


def test_the_ledger_reserves_and_gives_back():
    ledger = Ledger(max_bytes=1000)
    assert ledger.fits("a", 1000) and not ledger.fits("a", 1001)
    ledger.reserve("a", 600)
    assert (ledger.active, ledger.committed) == (1, 600)
    assert not ledger.fits("b", 401) and ledger.fits("b", 400)
    assert ledger.fits("a", 1000)  # a job's own reservation is replaced, not added to
    ledger.reserve("b", 300)
    ledger.release("b")
    assert (ledger.active, ledger.committed) == (1, 600)
    # a scan that saw "a" (running) and an older settled job takes over their figures
    ledger.observe({"a": (True, 600), "old": (False, 250)})
    assert (ledger.active, ledger.committed) == (1, 850)
    ledger.reserve("c", 100)  # submitted after the scan began: kept until a scan finds it
    ledger.observe({"a": (False, 120), "old": (False, 250)})
    assert (ledger.active, ledger.committed) == (1, 470)
    ledger.observe({"a": (False, 120), "old": (False, 250), "c": (True, 100)})
    assert (ledger.active, ledger.committed) == (1, 470)
    ledger.beside = 500  # stored sources in the same directory count against the same limit
    assert ledger.committed == 970 and not ledger.fits("d", 31) and ledger.fits("d", 30)
