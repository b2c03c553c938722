"""`python -m bench jobload`: its arithmetic, and one tiny run against the real service (started by
the bench with WORKERS=2 and a temporary STORAGE_DIR, a real 60-output AVIF job submitted and
deleted): every field is there, the job was running during the loaded requests, nothing is left."""

from __future__ import annotations

import orjson
import pytest

from bench.corpus import SHARED_CORPUS
from bench.procs import Noise
from bench.studies import jobload

QUIET = Noise(0.0, 0.0)


def _phase(p50: float, p99: float, n: int = 10, during: int | None = None) -> jobload.Phase:
    return jobload.Phase(n, 0, p50, p99, p99, 1.0, QUIET, None, during_job=during)


def test_phase_percentiles_in_milliseconds():
    phase = jobload.phase_from([0.010] * 99 + [0.110], 1, 2.0, QUIET)
    assert (phase.requests, phase.errors, phase.p50_ms, phase.max_ms) == (100, 1, 10.0, 110.0)
    assert phase.p99_ms == pytest.approx(11.0)  # between the two slowest: 10 + 0.01 x 100
    assert phase.during_job is None
    empty = jobload.phase_from([], 3, 1.0, QUIET, during_job=0)
    assert (empty.requests, empty.errors, empty.p99_ms, empty.during_job) == (0, 3, 0.0, 0)


def test_ratios_are_paired_per_repeat_and_their_median_is_the_verdict():
    repeats = [
        jobload.make_repeat(1, _phase(10, 20), _phase(15, 30, during=10), 1.0),  # 1.5
        jobload.make_repeat(2, _phase(10, 40), _phase(12, 100, during=10), 1.0),  # 2.5
        jobload.make_repeat(3, _phase(10, 20), _phase(10, 36, during=10), 1.0),  # 1.8
    ]
    assert [r.p99_ratio for r in repeats] == [1.5, 2.5, 1.8]
    assert repeats[0].p50_ratio == 1.5
    s = jobload.summarize(repeats)
    assert (s.median_p99_ratio, s.min_p99_ratio, s.max_p99_ratio) == (1.8, 1.5, 2.5)
    assert s.median_p50_ratio == 1.2 and s.within_target is True and s.every_loaded_request_during_job
    assert (s.median_unloaded_p99_ms, s.median_loaded_p99_ms) == (20, 36)
    worse = jobload.summarize([*repeats[1:], jobload.make_repeat(4, _phase(10, 20), _phase(10, 50, during=4), 1.0)])
    assert worse.median_p99_ratio == 2.5 and worse.within_target is False
    assert not worse.every_loaded_request_during_job  # the job ended before the 10 loaded requests did


def test_a_repeat_that_measured_nothing_is_left_out():
    nothing = jobload.make_repeat(1, _phase(10, 20), jobload.phase_from([], 0, 0.0, QUIET, during_job=0), 1.0)
    assert nothing.p99_ratio is None
    s = jobload.summarize([nothing])
    assert s.median_p99_ratio is None and s.within_target is None


@pytest.mark.skipif(
    not (SHARED_CORPUS / jobload.JOB_SOURCE).is_file(), reason="the shared corpus is not beside the repository"
)
def test_tiny_jobload_run_end_to_end(tmp_path):
    config = jobload.Config(requests=4, warmup=1, repeats=1, budget_seconds=60)
    lines: list[str] = []
    results = jobload.run(config, "pytest smoke", log=lines.append)
    assert config.job_outputs == 60 and len(results.repeats) == 1
    (r,) = results.repeats
    assert r.unloaded.requests == 4 and r.unloaded.errors == 0 and r.unloaded.during_job is None
    assert r.loaded.requests == 4 and r.loaded.errors == 0
    # 60 AVIF outputs of a 4K photograph on one worker take far longer than four small conversions
    assert r.loaded.during_job == 4 and r.loaded.job_status == "running" and r.loaded.job_done is not None
    for phase in (r.unloaded, r.loaded):
        assert 0 < phase.p50_ms <= phase.p99_ms <= phase.max_ms and phase.service_cores is not None
    assert r.loaded.service_cores > 0
    assert r.p99_ratio is not None and r.p99_ratio > 0
    assert results.summary.median_p99_ratio == r.p99_ratio
    assert any("job deleted" in line for line in lines)
    path = jobload.write(results, tmp_path / "jobload.json")
    data = orjson.loads(path.read_bytes())
    assert data["config"]["workers"] == 2 and data["target_ratio"] == 2.0
    assert set(data["repeats"][0]["loaded"]["noise"]) == {"foreign_cores", "steal_cores"}
    assert "| 1 |" in jobload.table(results)
