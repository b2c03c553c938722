"""The OpenAPI schemas of the options, derived from the option table."""

from __future__ import annotations

from service.api.openapi_options import option_schema
from service.imaging.options import OPTION_BY_NAME


def test_option_schemas_merge_per_format_domains():
    assert option_schema(OPTION_BY_NAME["quality"]).to_schema() == {"type": "integer", "minimum": 1, "maximum": 100}
    assert option_schema(OPTION_BY_NAME["chroma_subsampling"]).to_schema() == {
        "type": "string",
        "enum": ["auto", "4:2:0", "4:4:4"],
    }
    assert option_schema(OPTION_BY_NAME["keep_metadata"]).to_schema() == {"type": "boolean", "default": False}
