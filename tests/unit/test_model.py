"""What a job is on disk (the manifest and an item's error) and what a submission brings."""

from __future__ import annotations

import msgspec

from service.grid.layout import Grid, GridRequest
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.jobs.model import (
    MANIFEST_VERSION,
    DecodeItem,
    ItemError,
    JobManifest,
    JobOriginal,
    JobSubmission,
    OutputItem,
)

OUTPUTS = (
    OutputItem("a_200x100.jpg", 200, 200, 100, None, "jpeg", "g0-200.v", 0),
    OutputItem("a_100x50.jpg", 100, 100, 50, None, "jpeg", "g0-100.v", 0),
)
MANIFEST = JobManifest(
    "j" * 32,
    1.0,
    2.0,
    ConvertOptions(),
    JobOriginal(400, 200, "jpeg", 3, "a"),
    (DecodeItem(200, ((200, "g0-200.v"), (100, "g0-100.v"))),),
    OUTPUTS,
)


def test_outputs_are_found_by_name_only_when_the_manifest_has_them():
    assert MANIFEST.output("a_100x50.jpg") is OUTPUTS[1]
    assert MANIFEST.output("../job.json") is None and MANIFEST.output("") is None


def test_a_decode_item_lists_its_rasters():
    assert MANIFEST.decodes[0].raster_names() == ("g0-200.v", "g0-100.v")


def test_a_manifest_without_its_version_field_reads_as_version_one():
    raw = msgspec.json.encode(MANIFEST)
    older = msgspec.json.decode(raw)
    del older["version"]
    assert msgspec.json.decode(msgspec.json.encode(older), type=JobManifest).version == MANIFEST_VERSION == 1
    error = ItemError("unprocessable", "corrupt")
    assert msgspec.json.decode(msgspec.json.encode(error), type=ItemError) == error


def test_a_submission_carries_the_upload_and_its_parsed_grid():
    request = GridRequest(ConvertOptions(), Grid((100,), (None,), (OutputFormat.PNG,)))
    submission = JobSubmission(b"data", "a", request)
    assert (submission.data, submission.stem, submission.request.grid.count) == (b"data", "a", 1)
