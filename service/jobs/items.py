"""A job item's identity: a decode group or one encode, by its index in the manifest.

Its text form (`d3`, `e7`) names the item's files on shared storage (errors/<item>,
decoded/<item>, claims/<item>.<generation>), so it is written and read here only, and never
changes: replicas of another version may share the directory.
"""

from __future__ import annotations

import enum
import re

import msgspec

__all__ = ["ItemId", "ItemKind", "decode_item", "encode_item"]


class ItemKind(enum.Enum):
    DECODE = "decode"  # also the JOB_ITEMS metric's `kind` label
    ENCODE = "encode"


_PREFIX = {ItemKind.DECODE: "d", ItemKind.ENCODE: "e"}
_KIND = {prefix: kind for kind, prefix in _PREFIX.items()}
_NAME = re.compile(r"^([de])(0|[1-9][0-9]*)$")


class ItemId(msgspec.Struct, frozen=True):
    kind: ItemKind
    index: int  # into the manifest's decodes or outputs

    def __str__(self) -> str:
        return f"{_PREFIX[self.kind]}{self.index}"

    @classmethod
    def parse(cls, name: str) -> ItemId | None:
        """The item a file name stands for; None for anything else (temporary files, strays)."""
        match = _NAME.match(name)
        return cls(_KIND[match[1]], int(match[2])) if match else None


def decode_item(index: int) -> ItemId:
    return ItemId(ItemKind.DECODE, index)


def encode_item(index: int) -> ItemId:
    return ItemId(ItemKind.ENCODE, index)
