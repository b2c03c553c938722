"""service/api/catalog.py: the GET /api/options document, built from the option table and the settings."""

from __future__ import annotations

import msgspec

from service.api.catalog import GridInfo, OptionsDocument, options_document, ui_grid
from service.imaging.options import OPTION_BY_NAME
from service.settings import Settings


def _within(name: str, values: list[int], max_dimension: int) -> bool:
    domain = OPTION_BY_NAME[name].domains[0]
    upper = domain.upper(max_dimension)
    return all(domain.minimum is not None and upper is not None and domain.minimum <= v <= upper for v in values)


def test_the_batch_grid_is_the_pages_preselection_within_the_option_table():
    grid = ui_grid(Settings())
    assert grid == GridInfo(widths=[320, 800, 1200], qualities=[50, 75, 90], max_widths=6, max_qualities=10)
    assert _within("widths", grid.widths, Settings().max_output_dimension)
    assert _within("qualities", grid.qualities, Settings().max_output_dimension)


def test_the_batch_grid_follows_a_lower_output_dimension_and_job_size():
    grid = ui_grid(Settings(max_output_dimension=1000, max_job_outputs=4))
    assert grid.widths == [320, 800, 1000]  # 1200 would be refused: the limit instead
    assert (grid.max_widths, grid.max_qualities) == (4, 4)
    assert len(grid.widths) * len(grid.qualities) <= 4
    tiny = ui_grid(Settings(max_output_dimension=16, max_job_outputs=1))
    assert tiny == GridInfo(widths=[16], qualities=[50], max_widths=1, max_qualities=1)


def test_the_document_states_the_deployments_limits_and_round_trips():
    settings = Settings(max_output_dimension=2000, max_upload_bytes=5_000_000, max_job_outputs=30)
    document = options_document(settings)
    assert document.limits.max_output_dimension == 2000
    assert document.limits.max_upload_bytes == 5_000_000
    assert document.limits.max_job_outputs == 30
    width = next(o for o in document.options if o.name == "width")
    assert width.domains[0].maximum == 2000
    assert msgspec.json.decode(msgspec.json.encode(document), type=OptionsDocument) == document
