"""The server's malloc settings (service/malloc.py) apply on glibc, the platform we ship."""

from __future__ import annotations

import platform

import pytest

from service.malloc import keep_large_buffers


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_mallopt_accepts_every_setting() -> None:
    assert keep_large_buffers() is True
