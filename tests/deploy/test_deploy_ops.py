"""The observability kit (ops/): promtool accepts the config and rules and their unit tests pass,
every query names a metric the service exports, and Debian's real Prometheus, scraping a running
service under load, evaluates the saturation query and the alerts as the rules say."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deployfiles import ROOT, contract_metrics

OPS = ROOT / "ops"
RULES = OPS / "prometheus" / "rules" / "imageconv.rules.yml"
DASHBOARD = OPS / "grafana" / "imageconv-dashboard.json"
# Metrics other branches of this wave add (jobs, issue 9); the rules already use them.
ARRIVING: set[str] = set()  # metrics the rules use before the service exports them (none now)


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: apt-get install prometheus (Debian) provides it")
    return path


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_config_and_the_rules():
    r = promtool("check", "config", "--syntax-only", "ops/prometheus/prometheus.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    r = promtool("check", "rules", str(RULES.relative_to(ROOT)))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_the_rules_unit_tests_pass():
    tests = sorted((OPS / "prometheus" / "tests").glob("*.yml"))
    assert tests
    r = promtool("test", "rules", *(t.name for t in tests), cwd=tests[0].parent)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_the_kit_covers_saturation_rejections_restarts_and_latency():
    alerts = {r["alert"]: r for r in _rules() if "alert" in r}
    assert {
        "ImageconvSaturated",
        "ImageconvCapacityRejections",
        "ImageconvWorkerRestarts",
        "ImageconvSlowConversions",
        "ImageconvDown",
    } <= set(alerts)
    for alert in alerts.values():
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
    records = {r["record"]: r["expr"] for r in _rules() if "record" in r}
    assert "by (job, reason)" in records["imageconv:rejections:rate5m"]
    assert "by (job, route, le)" in records["imageconv:http_request_duration_seconds:p99_5m"]


def test_every_query_names_a_metric_the_service_exports_or_a_recording_rule():
    records = {r["record"] for r in _rules() if "record" in r}
    exported = contract_metrics() | ARRIVING
    queries = [r["expr"] for r in _rules()]
    dashboard = json.loads(DASHBOARD.read_text())
    queries += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(dashboard["panels"]) >= 6
    for query in queries:
        for name in re.findall(r"\b(imageconv[:_][a-z0-9_:]+)", query):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in records or base in exported, f"{name} in {query!r}"


# ---------------------------------------------------------------- the real Prometheus
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, predicate: Any, timeout: float, *logs: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def _image(size: int) -> bytes:
    import pyvips

    noise = pyvips.Image.gaussnoise(size, size, mean=128, sigma=60).cast("uchar")
    return bytes(
        noise.bandjoin([noise.rot90(), noise.rot180()]).copy(interpretation="srgb").write_to_buffer(".jpg[Q=90]")
    )


def test_real_prometheus_sees_saturation_and_the_alerts_turn_pending(tmp_path):
    """One worker with room for one waiting request: two slow conversions saturate it (2.0), the
    requests after them are refused as overload. Prometheus scrapes every second with the kit's
    own rules: the saturation recording rule reads 2, the saturation and capacity alerts go
    pending (their `for:` has not passed), and the worker-restart alert stays silent."""
    prometheus = tool("prometheus")
    svc_port, prom_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(svc_port),
        "WORKERS": "1",
        "QUEUE_PER_WORKER": "1",
        "REQUEST_DEADLINE_SECONDS": "240",
        "SHUTDOWN_TIMEOUT_SECONDS": "5",
        "STORAGE_DIR": str(tmp_path / "jobs"),
    }
    svc_log, prom_log = tmp_path / "service.log", tmp_path / "prometheus.log"
    config = yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [str(RULES)]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{svc_port}"]}]
    job.pop("file_sd_configs")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    procs: list[subprocess.Popen[bytes]] = []
    with svc_log.open("wb") as slog, prom_log.open("wb") as plog:
        procs.append(subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=slog, stderr=slog))
        procs.append(
            subprocess.Popen(
                [
                    prometheus,
                    f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--log.level=warn",
                ],
                stdout=plog,
                stderr=plog,
            )
        )
        svc, prom = f"http://127.0.0.1:{svc_port}", f"http://127.0.0.1:{prom_port}"

        def query(expr: str) -> list[dict[str, Any]]:
            r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5).json()
            assert r["status"] == "success", r
            return r["data"]["result"]

        def alerts() -> dict[str, str]:
            data = httpx.get(f"{prom}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            return {a["labels"]["alertname"]: a["state"] for a in data}

        # Tens of seconds of AVIF work each: the pool stays full while Prometheus looks.
        slow, small = _image(1800), _image(64)

        def convert() -> None:
            # Ended by the service stopping once the alerts are seen: no need to wait for the AVIF.
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(
                    f"{svc}/api/convert",
                    params={"format": "avif", "effort": 4},
                    content=slow,
                    headers={"Content-Type": "image/jpeg"},
                    timeout=300,
                )

        threads = [threading.Thread(target=convert, daemon=True) for _ in range(2)]
        try:
            _wait("the service", lambda: httpx.get(f"{svc}/ready", timeout=2).status_code == 200, 60, svc_log)
            _wait("Prometheus to scrape it", lambda: query('up{job="imageconv"} == 1'), 60, prom_log)
            threads[0].start()
            _wait("the first conversion to run", lambda: httpx.get(f"{svc}/ready", timeout=2).json()["busy"] == 1, 60)
            threads[1].start()
            _wait("the second to wait", lambda: httpx.get(f"{svc}/ready", timeout=2).json()["admitted"] == 2, 60)
            # Saturated, and still ready: the load balancer keeps it (issue 14).
            ready = httpx.get(f"{svc}/ready", timeout=5)
            assert ready.status_code == 200 and ready.json()["status"] == "saturated"

            saturation = _wait(
                "the saturation rule to read 2",
                lambda: [
                    s
                    for s in query('imageconv:pool_saturation_ratio:avg{job="imageconv"}')
                    if float(s["value"][1]) >= 1.99
                ],
                60,
                prom_log,
            )
            assert saturation[0]["metric"] == {"__name__": "imageconv:pool_saturation_ratio:avg", "job": "imageconv"}

            # Refusals in a few rounds, so the counters grow between scrapes.
            refused = []
            for _ in range(4):
                for _ in range(3):
                    r = httpx.post(
                        f"{svc}/api/convert",
                        params={"format": "png"},
                        content=small,
                        headers={"Content-Type": "image/jpeg"},
                        timeout=30,
                    )
                    refused.append((r.status_code, r.json()["error"]["code"]))
                time.sleep(1.5)
            assert set(refused) == {(503, "overloaded")}, refused
            _wait(
                "the capacity share to pass 5%",
                lambda: [
                    s
                    for s in query('imageconv:capacity_rejection_ratio:rate5m{job="imageconv"}')
                    if float(s["value"][1]) > 0.05
                ],
                60,
                prom_log,
            )
            states = _wait(
                "both alerts to go pending",
                lambda: (lambda a: a if {"ImageconvSaturated", "ImageconvCapacityRejections"} <= set(a) else None)(
                    alerts()
                ),
                60,
                prom_log,
            )
            assert states["ImageconvSaturated"] == states["ImageconvCapacityRejections"] == "pending", states
            assert "ImageconvWorkerRestarts" not in states and "ImageconvDown" not in states, states
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
            for t in threads:
                t.join(30)
