"""The OpenAPI schemas of the options, derived from the option table."""

from __future__ import annotations

from service.api.openapi_options import RAW_IMAGE_TYPES, option_parameter, option_schema, upload_body
from service.imaging.options import CONVERT_OPTIONS, OPTION_BY_NAME


def test_option_schemas_merge_per_format_domains():
    assert option_schema(OPTION_BY_NAME["quality"]).to_schema() == {"type": "integer", "minimum": 1, "maximum": 100}
    assert option_schema(OPTION_BY_NAME["chroma_subsampling"]).to_schema() == {
        "type": "string",
        "enum": ["auto", "4:2:0", "4:4:4"],
    }
    assert option_schema(OPTION_BY_NAME["keep_metadata"]).to_schema() == {"type": "boolean", "default": False}


def test_a_repeated_option_is_an_exploded_array_parameter():
    param = option_parameter(OPTION_BY_NAME["widths"], 4000).to_schema()
    assert (param["in"], param["style"], param["explode"]) == ("query", "form", True)
    assert param["schema"]["items"]["maximum"] == 4000


def test_the_upload_body_takes_raw_images_or_a_form():
    body = upload_body(CONVERT_OPTIONS, "convert", 16383).to_schema()
    assert set(body["content"]) == {"multipart/form-data", *RAW_IMAGE_TYPES}
    form = body["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["image"] and "quality" in form["properties"]
    seed = upload_body(tuple(s for s in CONVERT_OPTIONS if s.seed_name), "seed", 16383).to_schema()
    assert set(seed["content"]) == {"multipart/form-data"}  # the original routes took only multipart
    assert "auto" not in seed["content"]["multipart/form-data"]["schema"]["properties"]["format"]["enum"]
