from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from apihelpers import Service


@pytest.fixture(scope="session")
def service() -> Iterator[Service]:
    svc = Service("api", {"MAX_UPLOAD_BYTES": "4000000", "MAX_INPUT_PIXELS": "40000000"}).start()
    yield svc
    assert svc.stop() == 0, svc.log()


@pytest.fixture(scope="session")
def client(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=60) as c:
        yield c
