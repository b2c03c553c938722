"""A tiny bench end to end against the real service (started by the bench on a free port): every
field of the results is there and the report renders. The peer joins only when its node_modules
is already installed in bench/.cache (this test must not need the network)."""

from __future__ import annotations

import orjson

from bench.matrix import MatrixSpec
from bench.report import write_all
from bench.run import compare
from bench.targets import CACHE


def _peer_installed() -> bool:
    return (CACHE / "peer" / "node_modules" / "sharp").is_dir() and (CACHE / "peer" / "node_modules" / "pm2").is_dir()


def test_quick_bench_end_to_end(tmp_path):
    with_peer = _peer_installed()
    spec = MatrixSpec(("jpeg",), (75,), (320,), "Storm.jpg", seconds=0.3, repeats=3, concurrency=2,
                      min_images=4, batch_grids=2, batch_concurrency=(2,))
    results = compare(spec, "pytest smoke", with_peer=with_peer, progress=False)
    report = write_all(results, tmp_path)
    data = orjson.loads((tmp_path / "results.json").read_bytes())
    for key in ("started", "seconds", "command", "spec", "machine", "load_generator", "noise_limit_cores",
                "ceiling_processes", "service_url", "service_started_here", "peer_url", "peer_versions",
                "peak_rss_service_bytes", "peak_rss_peer_bytes", "calibration", "cells", "batch"):
        assert key in data, key
    assert data["service_started_here"] and data["peak_rss_service_bytes"] > 0
    assert set(data["machine"]) == {"cpu", "cores", "hypervisor", "memory_gib", "python", "libvips", "kernel"}
    assert len(data["calibration"]) == 1 and data["calibration"][0]["images"] >= 4
    assert len(data["cells"]) == 3
    for run in data["cells"]:
        assert run["images"] >= 4 and set(run["order"]) == {"ceiling", "service"} | ({"peer"} if with_peer else set())
        ceiling = run["ceiling"]
        assert ceiling["run"]["images"] == run["images"] and ceiling["run"]["images_per_second"] > 0
        assert ceiling["run"]["cpu_seconds_per_image"] > 0 and "foreign_cores" in ceiling["noise"]
        for name in ("service", "peer") if with_peer else ("service",):
            system = run[name]
            load = system["load"]
            assert load["requests"] == run["images"] and load["ok"] == run["images"] and load["errors"] == 0
            for field in ("seconds", "images_per_second", "p50_ms", "p95_ms", "p99_ms", "generator_cpu_seconds"):
                assert load[field] > 0, field
            assert system["cpu_seconds_per_image"] > 0 and system["server_cpu_seconds_per_image"] >= 0
            assert system["bytes_out"] > 0 and system["bytes_in"] > 0
            assert set(system["noise"]) == {"foreign_cores", "steal_cores"}
    modes = {(b["concurrency"], b["mode"]) for b in data["batch"]}
    assert modes >= {(2, "service: one /api/batch"), (2, "service: nine /api/convert, one after another")}
    for b in data["batch"]:
        assert b["outputs_per_grid"] == 9 and b["errors"] == 0 and b["seconds_per_grid"] > 0
        assert b["grids"] == 2 and b["target_cpu_seconds_per_grid"] > 0
    text = report.read_text()
    assert "| jpeg | 75 | 320 |" in text and "service/ceiling" in text and "### Targets" in text
    assert "time per grid / batch's" in text
    assert (tmp_path / "results.csv").read_text().count("\n") == 1 + 3 * (3 if with_peer else 2)
    assert (tmp_path / "batch.csv").read_text().count("\n") == 1 + len(data["batch"])
    for chart in ("throughput.png", "bytes_vs_quality.png", "ratios.png"):
        assert (tmp_path / chart).stat().st_size > 1000, chart
