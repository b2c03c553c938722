"""Markdown tables of a summarized run: throughput, CPU per image, bytes and score, equal quality,
scaling, batch. Formatting only."""

from __future__ import annotations

import functools

from .matrix import Cell
from .stats import Spread
from .summary import BatchLine, EqualQuality, Row, ScalingLine, SystemCell

PEERS = ("original", "thumbor")


def fmt_spread(s: Spread | None, digits: int = 1) -> str:
    if s is None:
        return "-"
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"


def num(x: float | int | None, digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"


def _cell(c: Cell) -> str:
    return f"{c.image} | {c.format} | {c.quality if c.quality is not None else '-'} | {c.width}"


def _header(columns: list[str]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def _present(rows: list[Row], name: str) -> bool:
    return any(name in r.systems and r.systems[name].images_per_second for r in rows)


def throughput_table(rows: list[Row]) -> str:
    systems = [n for n in ("ceiling", "service", *PEERS) if _present(rows, n)]
    peers = [p for p in PEERS if p in systems]
    cols = ["image", "format", "q", "width", "images/clients", *(f"{n} img/s" for n in systems)]
    cols += ["service/ceiling"] * ("ceiling" in systems) + [f"service/{p}" for p in peers]
    cols += [f"{n} p50/p99 ms" for n in systems if n != "ceiling"]
    lines = _header(cols)
    for r in rows:
        vals = [_cell(r.cell), f"{r.images}/{r.concurrency}"] + [
            fmt_spread(r.systems[n].images_per_second) for n in systems
        ]
        vals += [fmt_spread(r.to_ceiling, 2)] * ("ceiling" in systems)
        vals += [fmt_spread(r.to_peer.get(p), 2) for p in peers]
        vals += [f"{num(r.systems[n].p50_ms, 0)}/{num(r.systems[n].p99_ms, 0)}" for n in systems if n != "ceiling"]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> str:
    return num(a / b, 2) if a is not None and b else "-"


def _best(values: dict[str, float | None], lowest: bool = True) -> str | None:
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return None
    return (min if lowest else max)(present, key=lambda k: present[k])


def cpu_table(rows: list[Row]) -> str:
    """Interleaved CPU per image (the robust figure), bytes and score at equal settings."""
    systems = [n for n in ("service", *PEERS) if any(r.systems.get(n) and r.systems[n].cpu_ms for r in rows)]
    cols = ["image", "format", "q", "width", "rounds", *(f"{n} CPU ms" for n in systems)]
    cols += [f"service/{p} CPU" for p in systems if p != "service"]
    cols += ["bytes " + "/".join(systems), "score " + "/".join(systems), "other programs, cores"]
    lines = _header(cols)
    for r in rows:
        cpu = {n: r.systems[n].cpu_ms for n in systems}
        best = _best(cpu)
        vals = [_cell(r.cell), str(r.cpu_rounds)]
        vals += [(f"**{num(cpu[n])}**" if n == best else num(cpu[n])) for n in systems]
        vals += [_ratio(cpu.get("service"), cpu.get(p)) for p in systems if p != "service"]
        vals.append("/".join(num(r.systems[n].bytes) for n in systems))
        vals.append("/".join(num(r.systems[n].score, 4) for n in systems))
        vals.append(num(r.cpu_foreign_cores, 2))
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _field(systems: dict[str, SystemCell], name: str, field: str) -> str:
    return num(getattr(systems[name], field)) if name in systems else "-"


def load_cpu_table(rows: list[Row], cores: int) -> str:
    """CPU per image of each tree during the throughput runs (under load, not interleaved), the
    service's HTTP process alone, and hey's share of the machine."""
    cols = [
        "image",
        "format",
        "q",
        "width",
        "ceiling",
        "service",
        "of which server process",
        "original",
        "thumbor",
        "hey, cores",
        "errors service/original/thumbor",
        "other programs, max cores",
        "re-run",
    ]
    lines = _header(cols)
    for r in rows:
        s = r.systems
        get = functools.partial(_field, s)
        errors = "/".join(str(s[n].errors) if n in s else "-" for n in ("service", *PEERS))
        lines.append(
            f"| {_cell(r.cell)} | {get('ceiling', 'load_cpu_ms')} | {get('service', 'load_cpu_ms')} | "
            f"{get('service', 'server_cpu_ms')} | {get('original', 'load_cpu_ms')} | "
            f"{get('thumbor', 'load_cpu_ms')} | {num(r.generator_cores, 2)} | {errors} | "
            f"{r.foreign_cores_max:.2f} | {r.noisy_attempts} |"
        )
    return "\n".join(lines)


def equal_quality_table(lines: list[EqualQuality]) -> str:
    if not lines:
        return "(no sweep in this run)"
    peers = [p for p in PEERS if any(p in e.curves for e in lines)]
    cols = [
        "image",
        "format",
        "width",
        "service score at q",
        *(f"{p} score at q" for p in peers),
        "service bytes",
        *(f"{p} bytes at service's score" for p in peers),
        *(f"service/{p} bytes at equal score" for p in peers),
    ]
    out = _header(cols)
    for e in lines:
        svc = e.bytes_at_quality["service"]
        vals = [e.image, e.format, str(e.width), f"{e.service_score:.4f}"]
        vals += [num(e.score_at_quality.get(p), 4) if p in e.score_at_quality else "-" for p in peers]
        vals.append(num(svc))
        at = [e.bytes_at_service_score.get(p) for p in peers]
        vals += [num(b, 0) if b is not None else "outside its curve" for b in at]
        vals += [num(svc / b, 2) if b else "-" for b in at]
        out.append("| " + " | ".join(vals) + " |")
    return "\n".join(out)


def curves_table(lines: list[EqualQuality]) -> str:
    """Every sweep point: bytes and score per quality and system (the chart's numbers)."""
    out = _header(["image", "format", "width", "system", "quality: bytes @ score"])
    for e in lines:
        for system, curve in e.curves.items():
            pts = ", ".join(f"q{q}: {b:,} @ {s:.4f}" for q, b, s in curve)
            out.append(f"| {e.image} | {e.format} | {e.width} | {system} | {pts} |")
    return "\n".join(out)


def scaling_table(lines: list[ScalingLine]) -> str:
    if not lines:
        return "(no scaling case in this run)"
    out = _header(["cell", "system", "1 core img/s", "2 cores img/s", "2 cores / 1 core (paired)"])
    for s in lines:
        out.append(
            f"| {s.cell.key} | {s.system} | {fmt_spread(s.one_core)} | {fmt_spread(s.two_cores)} | "
            f"{fmt_spread(s.ratio, 2)} |"
        )
    return "\n".join(out)


def batch_table(lines: list[BatchLine]) -> str:
    if not lines:
        return "(no batch case in this run)"
    out = _header(
        [
            "clients",
            "how the grid is sent",
            "s per grid",
            "time per grid / batch's",
            "stack CPU ms per grid",
            "outputs",
            "errors",
            "other programs, max cores",
        ]
    )
    for b in lines:
        out.append(
            f"| {b.concurrency} | {b.mode} | {fmt_spread(b.seconds_per_grid, 3)} | "
            f"{fmt_spread(b.speedup_of_batch, 2) if b.speedup_of_batch else '1 (the batch)'} | "
            f"{num(b.target_cpu_ms_per_grid, 0)} | {b.outputs_per_grid} | {b.errors} | "
            f"{b.foreign_cores_max:.2f} |"
        )
    return "\n".join(out)
