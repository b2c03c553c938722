"""Issue 11's targets against a summarized run: each one met or not, with the cells that miss it."""

from __future__ import annotations

from .summary import BatchLine, EqualQuality, Row, ScalingLine

PEERS = ("original", "thumbor")
TARGET_SERVICE_TO_CEILING = 0.90  # at 320 wide
TARGET_BYTES = 1.05  # bytes no more than 5% larger...
SCORE_TOLERANCE = 0.0005  # ...at a score no lower (SSIM's last digits are noise between decoders)
TARGET_SERVER_CPU_MS = 1.0
MIN_IMAGES_FOR_SERVER_CPU = 20
TARGET_BATCH_SPEEDUP = 2.5
TARGET_MINUTES = 40


def _misses(label: str, total: int, misses: list[str]) -> str:
    shown = ", ".join(misses[:12]) + (f", ... ({len(misses) - 12} more)" if len(misses) > 12 else "")
    return f"- {label}: {total - len(misses)} of {total} cells meet it" + (f"; misses {shown}" if misses else ".")


def cpu_verdicts(rows: list[Row]) -> list[str]:
    out = []
    for peer in PEERS:
        pairs = [
            (r.cell.key, s, p)
            for r in rows
            if "service" in r.systems and peer in r.systems
            for s, p in [(r.systems["service"].cpu_ms, r.systems[peer].cpu_ms)]
            if s is not None and p is not None
        ]
        if pairs:
            misses = [f"{k} {s / p:.2f}x" for k, s, p in pairs if s > p]
            out.append(_misses(f"CPU per image <= {peer}'s (interleaved mean)", len(pairs), misses))
    return out


def throughput_verdicts(rows: list[Row]) -> list[str]:
    out = []
    for peer in PEERS:
        have = [r for r in rows if peer in r.to_peer]
        if have:
            misses = [f"{r.cell.key} {r.to_peer[peer].median:.2f}" for r in have if r.to_peer[peer].median < 1.0]
            out.append(_misses(f"throughput >= 1.0x {peer}'s (paired median)", len(have), misses))
    at_320 = [(r.cell.key, r.to_ceiling.median) for r in rows if r.cell.width == 320 and r.to_ceiling is not None]
    if at_320:
        misses = [f"{k} {v:.2f}" for k, v in at_320 if v < TARGET_SERVICE_TO_CEILING]
        out.append(_misses(f"service/ceiling >= {TARGET_SERVICE_TO_CEILING} at 320 wide", len(at_320), misses))
    return out


def settings_outcome(bytes_ours: int, score_ours: float, bytes_peer: int, score_peer: float) -> str:
    """One cell at equal settings: "meets" (bytes <= 1.05x at a score no lower), "misses" (lower
    score, or more bytes at a score no higher), or "higher" (more bytes for a higher score: another
    point on the curve, judged at equal score by the sweeps)."""
    if score_ours < score_peer - SCORE_TOLERANCE:
        return "misses"
    if bytes_ours <= TARGET_BYTES * bytes_peer:
        return "meets"
    return "higher" if score_ours > score_peer + SCORE_TOLERANCE else "misses"


def equal_score_outcome(e: EqualQuality, peer: str) -> tuple[bool, str]:
    """(met, why) for one sweep series: our bytes against what the peer needs for our score; a
    peer whose curve never reaches our score is beaten outright."""
    ours = e.bytes_at_quality["service"]
    needed = e.bytes_at_service_score.get(peer)
    if needed:
        return ours <= TARGET_BYTES * needed, f"{ours / needed:.2f}x"
    best = max(s for _, _, s in e.curves[peer])
    if best < e.service_score:
        return True, f"its best score {best:.4f} stays below ours"
    return False, "our score is below its lowest sweep point"


def bytes_verdicts(rows: list[Row], equal: list[EqualQuality]) -> list[str]:
    out = []
    for peer in PEERS:
        cells = [
            (r.cell.key, r.systems["service"], r.systems[peer])
            for r in rows
            if peer in r.systems and "service" in r.systems
        ]
        outcomes = [
            (key, settings_outcome(s.bytes, s.score, p.bytes, p.score), s, p)
            for key, s, p in cells
            if s.bytes and p.bytes and s.score is not None and p.score is not None
        ]
        if outcomes:
            misses = [
                f"{k} {s.bytes / p.bytes:.2f}x bytes at score {s.score:.4f} vs {p.score:.4f}"  # type: ignore[operator]
                for k, o, s, p in outcomes
                if o == "misses"
            ]
            higher = sum(o == "higher" for _, o, _, _ in outcomes)
            out.append(
                _misses(
                    f"equal settings vs {peer}: bytes <= {TARGET_BYTES}x at a score no lower "
                    f"({higher} more cells: more bytes for a higher score, see equal score)",
                    len(outcomes) - higher,
                    misses,
                )
            )
        series = [(e, *equal_score_outcome(e, peer)) for e in equal if peer in e.curves and "service" in e.curves]
        if series:
            misses = [f"{e.image}/{e.format}/w{e.width} {why}" for e, met, why in series if not met]
            out.append(
                _misses(
                    f"equal score vs {peer}: bytes <= {TARGET_BYTES}x what it needs for our score", len(series), misses
                ).replace(" cells ", " series ")
            )
    return out


def other_verdicts(
    rows: list[Row], batch: list[BatchLine], scaling: list[ScalingLine], minutes: float, quick: bool
) -> list[str]:
    out = []
    server = [
        (r.cell.key, v)
        for r in rows
        if "service" in r.systems
        for v in [r.systems["service"].server_cpu_ms]
        if v is not None and r.systems["service"].images_measured >= MIN_IMAGES_FOR_SERVER_CPU
    ]
    if server:
        misses = [f"{k} {v:.1f} ms" for k, v in server if v > TARGET_SERVER_CPU_MS]
        out.append(
            _misses(
                f"server-process CPU per request <= {TARGET_SERVER_CPU_MS:g} ms (raw upload, under load; cells with "
                f">= {MIN_IMAGES_FOR_SERVER_CPU} images: a 10 ms tick over fewer cannot resolve 1 ms)",
                len(server),
                misses,
            )
        )
    for b in batch:
        if b.speedup_of_batch and "service" in b.mode and "one after another" in b.mode:
            verdict = "meets" if b.speedup_of_batch.median >= TARGET_BATCH_SPEEDUP else "misses"
            out.append(
                f"- 3x3 batch >= {TARGET_BATCH_SPEEDUP:g}x nine singles ({b.mode}, {b.concurrency} client(s)): "
                f"{b.speedup_of_batch.median:.2f}x, {verdict} it"
            )
    for s in scaling:
        if s.ratio:
            out.append(f"- scaling {s.system} on {s.cell.key}: 2 cores / 1 core = {s.ratio.median:.2f}")
    limit = 5 if quick else TARGET_MINUTES
    out.append(f"- run length: {minutes:.1f} min, {'within' if minutes <= limit else 'over'} the {limit} min limit")
    return out


def verdicts(
    rows: list[Row],
    equal: list[EqualQuality],
    batch: list[BatchLine],
    scaling: list[ScalingLine],
    minutes: float,
    quick: bool,
) -> str:
    lines = (
        cpu_verdicts(rows)
        + throughput_verdicts(rows)
        + bytes_verdicts(rows, equal)
        + other_verdicts(rows, batch, scaling, minutes, quick)
    )
    return "\n".join(lines) if lines else "(no ratios in this run)"
