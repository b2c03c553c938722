"""The metrics (service/metrics.py): each record_* call moves exactly the series it names, the pool
gauges read the pool at scrape time, and the exposition (and its own port) serve them as
Prometheus text."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from service import metrics


def value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_a_conversion_moves_its_counters_and_histograms() -> None:
    names = [
        ("imageconv_conversions_total", {"format": "webp"}),
        ("imageconv_output_bytes_total", {"format": "webp"}),
        ("imageconv_input_bytes_total", {}),
        ("imageconv_decode_duration_seconds_count", {"format": "png"}),
        ("imageconv_decode_duration_seconds_sum", {"format": "png"}),
        ("imageconv_encode_duration_seconds_count", {"format": "webp"}),
    ]
    before = [value(n, labels) for n, labels in names]
    metrics.record_conversion("png", "webp", 1000, 300, 0.25, 0.5)
    after = [value(n, labels) for n, labels in names]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 300, 1000, 1, 0.25, 1]


def test_a_batch_output_counts_no_upload_bytes_and_no_decode() -> None:
    before_in = value("imageconv_input_bytes_total")
    before_decodes = value("imageconv_decode_duration_seconds_count", {"format": "tiff"})
    metrics.record_conversion("tiff", "jpeg", 0, 10, None, 0.1)
    assert value("imageconv_input_bytes_total") == before_in
    assert value("imageconv_decode_duration_seconds_count", {"format": "tiff"}) == before_decodes


def test_a_search_counts_once_and_every_encode_it_made() -> None:
    searches = ("imageconv_target_searches_total", {"target": "min_score"})
    encodes = ("imageconv_target_search_encodes_total", {"target": "min_score", "format": "avif"})
    budget = ("imageconv_target_searches_total", {"target": "max_bytes"})
    before = (value(*searches), value(*encodes), value(*budget))
    metrics.record_search(None, 0.9, "avif", 6)
    metrics.record_search(5000, 0.9, "avif", 2)  # both: counted as the score search it starts with
    metrics.record_search(None, None, "avif", 1)  # no target: not a search
    assert (value(*searches), value(*encodes), value(*budget)) == (before[0] + 2, before[1] + 8, before[2])


class FakePool:
    busy, waiting, saturation, admitted = 3, 2, 0.75, 5


def test_the_pool_gauges_read_the_pool_when_scraped() -> None:
    pool = FakePool()
    metrics.bind_pool(pool)
    assert value("imageconv_pool_jobs_in_flight") == 3 and value("imageconv_requests_admitted") == 5
    pool.busy, pool.waiting = 1, 0
    assert value("imageconv_pool_jobs_in_flight") == 1 and value("imageconv_pool_jobs_waiting") == 0
    assert value("imageconv_pool_saturation_ratio") == 0.75


def test_the_exposition_is_prometheus_text_with_every_series_declared() -> None:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    families = {f.name for f in text_string_to_metric_families(body.decode())}
    declared = {
        m._name  # prometheus_client's name without the _total suffix, as the parser gives it
        for m in vars(metrics).values()
        if hasattr(m, "_name") and hasattr(m, "_documentation")
    }
    assert declared and declared <= families
    assert all(name.startswith("imageconv_") for name in declared)


def test_metrics_can_be_served_on_a_port_of_their_own() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics.serve_on_port(port, "127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert "imageconv_conversions_total" in text and "imageconv_http_connections_closed_total" in text
