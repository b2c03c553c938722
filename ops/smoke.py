#!/usr/bin/env python3
"""Post-deploy smoke test: convert a real photograph through the public URL and check the answer.

    python3 ops/smoke.py https://abc123.execute-api.eu-west-1.amazonaws.com   (API key in SMOKE_API_KEY)

deploy.yml runs it through API Gateway after every rollout; a failure rolls the service back to
the task definition it ran before and fails the workflow. Only the standard library (the runner's
python3), so it needs no install step. Exit status 0 when every check passed, 1 otherwise.

Checks: /health answers 200 "ok"; POST /api/convert of tests/fixtures/Storm.jpg to a 320 px WebP
answers 200, Content-Type image/webp, X-Image-Width 320, and a body that is a WebP (RIFF....WEBP)
of plausible size. A 503 with Retry-After (admission saturated while the fleet turns over), a 429
from the gateway or a broken connection is retried a few times; any other answer fails at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "Storm.jpg"
WIDTH = 320
ATTEMPTS = 5
TIMEOUT = 35  # API Gateway cuts at 30 s


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body); status 0 when no answer came (the body then says why)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
    except OSError as e:  # refused, reset, timed out: no answer at all
        return 0, {}, f"no answer: {e}".encode()


def check(base: str, key: str) -> list[str]:
    """What is wrong with the deployment at `base`; empty when the conversion answered correctly."""
    base = base.rstrip("/")
    status, _, body = _request(f"{base}/health")
    if status != 200:
        return [f"GET /health answered {status}: {body[:200]!r}"]
    try:
        if json.loads(body).get("status") != "ok":
            return [f"GET /health answered {body[:200]!r}"]
    except ValueError:
        return [f"GET /health did not answer JSON: {body[:200]!r}"]

    image = IMAGE.read_bytes()
    headers = {"Content-Type": "image/jpeg", "Accept": "image/webp"}
    if key:
        headers["X-API-Key"] = key
    url = f"{base}/api/convert?width={WIDTH}&format=webp&quality=75"
    for attempt in range(1, ATTEMPTS + 1):
        status, got, body = _request(url, image, headers)
        if status in (0, 429, 503) and attempt < ATTEMPTS:
            wait = min(10.0, float(got.get("retry-after", "2") or 2))
            print(f"attempt {attempt}: {status}, retrying in {wait:g} s", file=sys.stderr)
            time.sleep(wait)
            continue
        break
    problems = []
    if status != 200:
        return [f"POST /api/convert answered {status}: {body[:300]!r}"]
    if got.get("content-type", "").split(";")[0] != "image/webp":
        problems.append(f"Content-Type is {got.get('content-type')!r}, not image/webp")
    if got.get("x-image-width") != str(WIDTH):
        problems.append(f"X-Image-Width is {got.get('x-image-width')!r}, not {WIDTH}")
    if not (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        problems.append(f"the body is not a WebP file: {body[:16]!r}")
    if not 1_000 < len(body) < len(image):
        problems.append(f"implausible size for a {WIDTH} px WebP: {len(body)} bytes")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    problems = check(argv[1], os.environ.get("SMOKE_API_KEY", ""))
    for problem in problems:
        print(f"::error::smoke test: {problem}")
    if not problems:
        print(f"smoke test passed in {time.monotonic() - started:.1f} s: {IMAGE.name} -> {WIDTH} px WebP")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
