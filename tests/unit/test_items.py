"""Job item identities and their one text form (file names on shared storage)."""

from __future__ import annotations

import pytest

from service.jobs.items import ItemId, ItemKind, decode_item, encode_item


def test_items_round_trip_through_their_file_names():
    for item in (decode_item(0), decode_item(3), encode_item(7), encode_item(120)):
        assert ItemId.parse(str(item)) == item
    # the names a previous version wrote: d<k> for decode groups, e<k> for encodes
    assert str(decode_item(3)) == "d3" and str(encode_item(7)) == "e7"


@pytest.mark.parametrize("name", ["", "d", "e", "x1", "d-1", "d01", "e1.0", ".tmp-e1", "D1", "e1x", " e1"])
def test_anything_else_is_not_an_item(name):
    assert ItemId.parse(name) is None


def test_items_are_values_and_their_kind_names_the_metric_label():
    assert decode_item(2) == ItemId(ItemKind.DECODE, 2) and decode_item(2) != encode_item(2)
    assert len({decode_item(1), decode_item(1), encode_item(1)}) == 2
    assert (ItemKind.DECODE.value, ItemKind.ENCODE.value) == ("decode", "encode")
