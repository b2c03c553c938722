"""A tiny bench end to end against the real service: every field of the results is there."""

from __future__ import annotations

import orjson

from bench.matrix import MatrixSpec
from bench.report import write_all
from bench.run import compare


def test_quick_bench_end_to_end(tmp_path):
    spec = MatrixSpec(("jpeg",), (75,), (320,), "Storm.jpg", seconds=0.5, repeats=3, concurrency=2,
                      min_images=2, max_seconds=1.0)
    results = compare(spec, "pytest smoke", with_peer=False, progress=False)
    report = write_all(results, tmp_path)
    data = orjson.loads((tmp_path / "results.json").read_bytes())
    for key in ("started", "seconds", "command", "spec", "machine", "service_url", "cells", "batch",
                "peak_rss_service_bytes"):
        assert key in data, key
    assert len(data["cells"]) == 3 and len(data["batch"]) == 3
    for run in data["cells"]:
        assert run["ceiling_images_per_second"] > 0
        service = run["service"]
        assert service["load"]["ok"] > 0 and service["load"]["errors"] == 0
        for field in ("images_per_second", "p50_ms", "p95_ms", "p99_ms", "generator_cpu_seconds"):
            assert service["load"][field] > 0, field
        assert service["cpu_seconds_per_image"] > 0 and service["bytes_out"] > 0 and service["bytes_in"] > 0
    for b in data["batch"]:
        assert b["outputs"] == 9 and b["batch_seconds"] > 0 and b["singles_service_seconds"] > 0
    assert data["peak_rss_service_bytes"] > 0
    text = report.read_text()
    assert "| jpeg | 75 | 320 |" in text and "service/ceiling" in text
    assert (tmp_path / "results.csv").read_text().count("\n") == 4
    assert (tmp_path / "throughput.png").stat().st_size > 1000
    assert (tmp_path / "bytes_vs_quality.png").stat().st_size > 1000
