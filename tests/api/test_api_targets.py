"""score, max_bytes and min_score over real HTTP, checked against an exhaustive search of every quality."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import pyvips
from apihelpers import decode, jpeg

CORPUS = Path(__file__).parents[2] / "tests" / "fixtures"  # two corpus photos and their COPYRIGHT

# Every way a quality setting reaches a lossy encoder, as API parameters.
LOSSY = {
    "jpeg": {"format": "jpeg"},
    "webp": {"format": "webp"},
    "avif": {"format": "avif", "effort": "2"},
    "png": {"format": "png", "palette": "true"},
    "tiff": {"format": "tiff", "compression": "jpeg"},
}


@pytest.fixture(scope="module")
def small() -> bytes:
    """A photograph small enough that trying every quality over HTTP stays quick (and the same on
    every run: the synthetic test images carry random noise)."""
    return bytes(pyvips.Image.thumbnail(str(CORPUS / "Storm.jpg"), 160).jpegsave_buffer(Q=95))


def convert(client: httpx.Client, data: bytes, **params: object) -> httpx.Response:
    return client.post("/api/convert", params=params, content=data, headers={"Content-Type": "image/jpeg"})


def table(client: httpx.Client, data: bytes, fmt: str, qualities: range) -> dict[int, tuple[int, float]]:
    """Exhaustive: bytes and score of the output at every quality."""
    rows = {}
    for q in qualities:
        r = convert(client, data, quality=q, score="true", **LOSSY[fmt])
        assert r.status_code == 200, r.text
        assert r.headers["x-quality"] == str(q)
        rows[q] = (len(r.content), float(r.headers["x-quality-score"]))
    return rows


@pytest.mark.parametrize("fmt", list(LOSSY))
def test_score_rises_with_quality(client, small, fmt):
    scores = [
        float(convert(client, small, quality=q, score="true", **LOSSY[fmt]).headers["x-quality-score"])
        for q in (10, 50, 95)
    ]
    if fmt == "png":  # 256 colours at most: past some quality the palette, and so the score, stop changing
        assert scores[0] < scores[1] <= scores[2] <= 1.0, scores
    else:
        assert scores[0] < scores[1] < scores[2] <= 1.0, scores


@pytest.mark.parametrize("fmt", list(LOSSY))
def test_max_bytes_gives_the_highest_quality_that_fits(client, small, fmt):
    ceiling = 80
    rows = table(client, small, fmt, range(1, ceiling + 1))
    sizes = {q: size for q, (size, _) in rows.items()}
    for budget in sorted({sizes[q] for q in (5, 30, 55, 79)} | {(sizes[20] + sizes[60]) // 2}):
        r = convert(client, small, quality=ceiling, max_bytes=budget, **LOSSY[fmt])
        assert r.status_code == 200, r.text
        q = int(r.headers["x-quality"])
        assert len(r.content) <= budget and len(r.content) == sizes[q]
        assert decode(r.content).width == 160
        best = max(q for q, size in sizes.items() if size <= budget)
        if all(sizes[a] <= sizes[a + 1] for a in range(q, best)):
            assert q == best, (budget, q, best)  # the exhaustive answer wherever bytes rise with quality
        else:  # a dip in bytes above the boundary: the search stops at the boundary itself
            assert sizes[q + 1] > budget, (budget, q, best)
        assert 1 <= int(r.headers["x-encode-attempts"]) <= 10


@pytest.mark.parametrize("fmt", list(LOSSY))
def test_min_score_gives_the_smallest_output_reaching_it(client, small, fmt):
    rows = table(client, small, fmt, range(1, 101))
    scores = sorted({score for _, score in rows.values()})
    for target in (scores[len(scores) // 5], scores[len(scores) // 2], scores[-3]):
        r = convert(client, small, min_score=target, **LOSSY[fmt])
        assert r.status_code == 200, r.text
        q, score = int(r.headers["x-quality"]), float(r.headers["x-quality-score"])
        assert score >= target - 5e-5 and len(r.content) == rows[q][0]  # the header rounds to 4 digits
        reaching = [p for p, (_, s) in rows.items() if s >= target]
        smallest = min(rows[p][0] for p in reaching)
        lowest = min(reaching)
        if all(rows[a][1] < target for a in range(lowest, q)) or lowest == q:
            assert len(r.content) <= min(rows[p][0] for p in reaching if p >= q), (target, q)
            if all(rows[a][0] <= rows[a + 1][0] for a in range(1, 100)):
                assert len(r.content) == smallest, (target, q)
        else:  # a dip in the score: the search stops where the score crosses the target
            assert q == 1 or rows[q - 1][1] < target + 5e-5, (target, q, lowest)


def test_exhaustive_agreement_on_jpeg(client, small):
    """JPEG bytes rise with quality on this image: where the answer is unambiguous, both searches must
    give exactly what trying every quality gives."""
    rows = table(client, small, "jpeg", range(1, 101))
    sizes = [rows[q][0] for q in range(1, 101)]
    assert sizes == sorted(sizes), "precondition: monotone bytes"
    for budget in (sizes[10] + 1, (sizes[40] + sizes[41]) // 2, sizes[79]):
        r = convert(client, small, max_bytes=budget, quality=100, format="jpeg")
        assert int(r.headers["x-quality"]) == max(q for q in rows if rows[q][0] <= budget)
    # Scores that the curve crosses once (every quality below scores less, every one above at least
    # as much): there the answer is unambiguous, and must be the exhaustive one.
    crossings = [
        rows[q][1]
        for q in range(2, 100)
        if all(rows[p][1] < rows[q][1] for p in range(1, q)) and all(rows[p][1] >= rows[q][1] for p in range(q, 101))
    ]
    assert len(crossings) >= 3
    for target in (crossings[0], crossings[len(crossings) // 2], crossings[-1]):
        reaching = [q for q in rows if rows[q][1] >= target]
        r = convert(client, small, min_score=target, format="jpeg")
        assert len(r.content) == min(rows[q][0] for q in reaching), target


def test_unreachable_targets_are_a_422_naming_the_field(client, small):
    r = convert(client, small, max_bytes=60, format="jpeg")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("max_bytes_unreachable", "max_bytes")
    assert re.search(r"quality 1 gives \d+ bytes", error["message"])
    r = convert(client, small, min_score=1.0, format="webp")
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("min_score_unreachable", "min_score")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_bytes": "lots"}, "max_bytes"),
        ({"max_bytes": "0"}, "max_bytes"),
        ({"min_score": "1.5"}, "min_score"),
        ({"min_score": "nan"}, "min_score"),
        ({"score": "maybe"}, "score"),
        ({"max_bytes": "5000", "format": "webp", "lossless": "true"}, "max_bytes"),
        ({"min_score": "0.9", "format": "tiff"}, "min_score"),
        ({"max_bytes": "5000", "format": "png", "palette": "false"}, "max_bytes"),
    ],
)
def test_bad_target_options_are_a_400_naming_the_field(client, small, params, field):
    r = convert(client, small, **params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_default_quality_is_answered_and_max_bytes_keeps_it_when_it_fits(client, small):
    r = convert(client, small, format="webp")
    assert r.headers["x-quality"] == "80" and "x-quality-score" not in r.headers
    fits = convert(client, small, format="webp", max_bytes=10_000_000)
    assert fits.headers["x-quality"] == "80" and fits.headers["x-encode-attempts"] == "1"
    assert fits.content == r.content
    assert "x-quality" not in convert(client, small, format="png").headers  # lossless PNG has no quality


def test_searches_count_every_encode_in_the_metrics(client, small):
    def counted() -> float:
        text = client.get("/metrics").text
        found = re.search(
            r'^imageconv_target_search_encodes_total\{format="webp",target="max_bytes"\} (\S+)$', text, re.M
        )
        return float(found.group(1)) if found else 0.0

    at_default = len(convert(client, small, format="webp").content)
    before = counted()
    r = convert(client, small, format="webp", max_bytes=at_default * 2 // 3)
    assert r.status_code == 200, r.text
    assert counted() - before == int(r.headers["x-encode-attempts"]) > 1


def test_batch_scores_and_budgets_every_output(client):
    data = jpeg(640, 480)
    r = client.post(
        "/api/batch",
        params={"widths": "160,320", "formats": "jpeg,webp", "response": "json", "score": "true", "max_bytes": "9000"},
        content=data,
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    assert len(outputs) == 4
    for out in outputs:
        assert out["bytes"] <= 9000 and 0.5 < out["score"] <= 1.0 and 1 <= out["quality"] <= 80
        assert f"_q{out['quality']}." in out["name"]
