"""The grid parameters of an upload, shared by /api/batch and /api/jobs."""

from __future__ import annotations

import pytest

from service.api.gridparams import BATCH_LIST_PARAMS, JOB_LIST_PARAMS, parse_batch_params, parse_grid_request
from service.api.inputs import Upload
from service.imaging.errors import OptionError
from service.imaging.formats import OutputFormat
from service.settings import Settings

SETTINGS = Settings(max_output_dimension=4000)


def upload(**params: str) -> Upload:
    return Upload(b"", "x", dict(params), {k: [v] for k, v in params.items()})


def test_lists_make_the_grid_and_the_rest_are_shared_options():
    request = parse_grid_request(
        upload(widths="100,200", qualities="40,80", formats="jpeg,webp", keep_metadata="true"),
        SETTINGS,
        60,
        JOB_LIST_PARAMS,
    )
    assert request.grid.widths == (100, 200) and request.grid.qualities == (40, 80)
    assert request.grid.formats == (OutputFormat.JPEG, OutputFormat.WEBP)
    assert request.grid.count == 8 and request.options.keep_metadata is True


def test_without_lists_the_single_options_make_a_one_output_grid():
    request = parse_grid_request(upload(width="320", quality="70", format="png"), SETTINGS, 1, BATCH_LIST_PARAMS)
    assert (request.grid.widths, request.grid.qualities, request.grid.formats) == ((320,), (70,), (OutputFormat.PNG,))


@pytest.mark.parametrize(
    ("params", "limit", "lists", "field"),
    [
        ({"widths": "100,200,300"}, 2, JOB_LIST_PARAMS, "widths"),  # over the limit
        ({"widths": "5000"}, 60, JOB_LIST_PARAMS, "widths"),  # over MAX_OUTPUT_DIMENSION
        ({"format": "auto"}, 60, BATCH_LIST_PARAMS, "format"),  # a grid needs explicit formats
        ({"response": "zip"}, 60, JOB_LIST_PARAMS, "response"),  # a job has no response kind
        ({"formats": "gif"}, 60, BATCH_LIST_PARAMS, "formats"),
    ],
)
def test_refusals_name_the_field(params, limit, lists, field):
    with pytest.raises(OptionError) as refused:
        parse_grid_request(upload(**params), SETTINGS, limit, lists)
    assert refused.value.field == field


def test_a_batch_accepts_its_response_kind():
    assert parse_grid_request(upload(response="json"), SETTINGS, 60, BATCH_LIST_PARAMS).grid.count == 1


def test_a_batch_takes_its_answer_kind_with_its_grid() -> None:
    settings = Settings()
    upload = Upload(b"", "x", {"response": "JSON", "widths": "10,20"}, {"response": ["JSON"], "widths": ["10,20"]})
    params = parse_batch_params(upload, settings)
    assert params.response == "json" and params.grid.grid.widths == (10, 20)
    assert parse_batch_params(Upload(b"", "x", {}, {}), settings).response == "zip"
    with pytest.raises(OptionError) as refused:
        parse_batch_params(Upload(b"", "x", {"response": "xml"}, {"response": ["xml"]}), settings)
    assert refused.value.field == "response"
