"""A tiny bench end to end against the real service (started by the bench on a free port): every
phase runs, every field of the results is there and the report renders. The original stack and
thumbor join only when they are already installed (bench/.cache, .bench-venv): this test must not
need the network."""

from __future__ import annotations

import orjson
import pytest

from bench import corpus
from bench.matrix import MatrixSpec
from bench.report import write_all
from bench.run import compare
from bench.systems import Systems
from bench.targets import CACHE
from bench.thumbor_peer import installed as thumbor_installed


def _original_installed() -> bool:
    return (CACHE / "peer" / "node_modules" / "sharp").is_dir() and (CACHE / "peer" / "node_modules" / "pm2").is_dir()


SPEC = MatrixSpec(
    ("1080p",), ("jpeg",), (320,), 75, seconds=0.3, repeats=2, concurrency=2, min_images=4, cpu_rounds=3,
    cpu_budget_seconds=0.5, sweep_qualities=(50, 75), sweep_formats=("jpeg",), scaling_cells=("1080p/jpeg/q75/w320",),
    batch_grids=2, batch_concurrency=(2,),
)  # fmt: skip


@pytest.mark.skipif(not corpus.SHARED_CORPUS.is_dir(), reason="the shared corpus is not beside the repository")
def test_quick_bench_end_to_end(tmp_path):
    corpus.prepare([*SPEC.images, SPEC.batch_image])
    with_original, with_thumbor = _original_installed(), thumbor_installed()
    systems = Systems(original=with_original, thumbor=with_thumbor)
    try:
        results = compare(SPEC, "pytest smoke", systems, progress=False)
    finally:
        systems.close()
    http = ["service"] + ["original"] * with_original + ["thumbor"] * with_thumbor
    report = write_all(results, tmp_path).read_text()
    data = orjson.loads((tmp_path / "results.json").read_bytes())
    assert data["systems"] == ["ceiling", *http] and set(data["peak_rss_bytes"]) == set(http)
    assert all(v > 0 for v in data["peak_rss_bytes"].values())
    assert set(data["phase_seconds"]) == {"calibrate", "cpu per image (interleaved)", "throughput",
                                          "bytes vs score sweep", "scaling 1 vs 2 cores", "batch 3x3"}  # fmt: skip
    assert len(data["cells"]) == 2
    for run in data["cells"]:
        assert run["images"] >= 4 and set(run["systems"]) == {"ceiling", *http}
        for name, m in run["systems"].items():
            assert m["ok"] == run["images"] and m["errors"] == 0 and m["images_per_second"] > 0, name
            assert m["cpu_seconds_per_image"] > 0 and set(m["noise"]) == {"foreign_cores", "steal_cores"}
            if name != "ceiling":
                assert m["p50_ms"] > 0 and m["p99_ms"] >= m["p50_ms"] and m["generator_cpu_seconds"] > 0
    outputs = {o["system"]: o for o in data["outputs"]}
    assert set(outputs) == set(http)
    for o in outputs.values():  # 1920x1080 to 320 wide, decoded again and scored
        assert (o["width"], o["height"]) == (320, 180) and o["bytes"] > 1000 and 0.5 < o["score"] <= 1.0
    (cpu,) = data["cpu"]
    assert cpu["rounds"] >= 3 and set(cpu["cpu_ms"]) == set(http)
    assert all(len(v) == cpu["rounds"] and sum(v) > 0 for v in cpu["cpu_ms"].values())
    sweep = {(p["system"], p["cell"]["quality"]): p for p in data["sweep"]}
    assert set(sweep) == {(s, q) for s in http for q in (50, 75)}
    for s in http:  # a higher quality costs bytes and scores higher
        assert sweep[(s, 75)]["bytes"] > sweep[(s, 50)]["bytes"] and sweep[(s, 75)]["score"] > sweep[(s, 50)]["score"]
    assert {(r["system"], r["cores"]) for r in data["scaling"]} == {(s, c) for s in http for c in (1, 2)}
    assert all(r["images_per_second"] > 0 and r["errors"] == 0 for r in data["scaling"])
    modes = {(b["concurrency"], b["mode"]) for b in data["batch"]}
    assert modes >= {(2, "service: one /api/batch"), (2, "service: nine /api/convert, one after another")}
    for b in data["batch"]:
        assert b["outputs_per_grid"] == 9 and b["errors"] == 0 and b["grids"] == 2
    assert "| 1080p | jpeg | 75 | 320 |" in report and "### Targets (issue 11)" in report
    assert "bytes at equal score" in report and "2 cores / 1 core" in report
    assert (tmp_path / "results.csv").read_text().count("\n") == 1 + 2 * (1 + len(http))
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 1 + 2 * len(http)
    for chart in ("throughput.png", "cpu_per_image.png", "bytes_vs_score.png"):
        assert (tmp_path / chart).stat().st_size > 1000, chart
