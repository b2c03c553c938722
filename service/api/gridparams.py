"""The grid parameters of an upload, parsed once for /api/batch and /api/jobs: the options every
output shares and widths x qualities x formats, with the batch's errors for both."""

from __future__ import annotations

import msgspec

from ..grid.layout import Grid, GridRequest, check_grid_size
from ..imaging.errors import Allowed, OptionError
from ..imaging.formats import OutputFormat
from ..imaging.parsing import parse_format_list, parse_int_list, parse_list, parse_options
from ..settings import Settings
from .inputs import Upload

__all__ = ["BATCH_LIST_PARAMS", "JOB_LIST_PARAMS", "BatchParams", "parse_batch_params", "parse_grid_request"]

# Fields that are not conversion options: the grid's lists (and a batch's response kind; a job
# has none, so there `response` is refused as an unknown option).
JOB_LIST_PARAMS = ("widths", "qualities", "formats")
BATCH_LIST_PARAMS = (*JOB_LIST_PARAMS, "response")


def parse_grid_request(upload: Upload, settings: Settings, limit: int, list_params: tuple[str, ...]) -> GridRequest:
    """The grid of a batch or a job, at most `limit` outputs."""
    fields = {k: v for k, v in upload.fields.items() if k not in list_params}
    if fields.get("format", "").lower() == "auto":
        explicit = tuple(f.value for f in OutputFormat)
        raise OptionError(
            "format",
            f"an explicit format in a batch ({', '.join(explicit)})",
            fields["format"],
            Allowed("choice", choices=explicit),
        )
    # Ranges and choices of the lists come from their declarations in the option spec.
    max_dim = settings.max_output_dimension
    formats = parse_format_list(upload.lists.get("formats", [])) or None
    options = parse_options(fields, formats=formats, extra=list_params, max_dimension=max_dim)
    widths = parse_int_list("widths", upload.lists.get("widths", []), max_dimension=max_dim)
    qualities = parse_int_list("qualities", upload.lists.get("qualities", []))
    grid = Grid(
        widths=widths or (options.width,),
        qualities=qualities or (options.quality,),
        formats=formats or (OutputFormat(options.format),),
    )
    check_grid_size(grid, limit)
    return GridRequest(options, grid)


class BatchParams(msgspec.Struct, frozen=True):
    """A batch's parameters: its grid and how the outputs come back (zip or json)."""

    grid: GridRequest
    response: str


def parse_batch_params(upload: Upload, settings: Settings) -> BatchParams:
    kind = parse_list("response", [upload.fields.get("response", "zip")])
    grid = parse_grid_request(upload, settings, settings.max_batch_outputs, BATCH_LIST_PARAMS)
    return BatchParams(grid, str(kind[0]) if kind else "zip")
