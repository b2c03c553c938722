"""Every environment variable the service reads, declared once in `Settings`, validated once at start-up.

Each field of `Settings` is one row of the settings table: its name (the variable is the field's
name in capitals), type and default, and in its `Env` what it means and which values it accepts.
Derived from it: `VARIABLES` (what `load_settings` reads), the environment tables of the README and
docs/contract.md (`python -m service.docs`), the deployment tests' view of the defaults and the
request `Limits`. To add a setting, add a field.

A bad value stops the process with a message naming the variable, the accepted range and the
value received; nothing else in the code reads os.environ. No web imports: the bench and the
tests build `Settings()` for the service's defaults.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from . import ecs, envvalues
from .cpu import usable_cpus
from .imaging.tasks import Limits
from .imgurl.urloptions import parse_presets
from .sources.signature import Signer, parse_hex_list

__all__ = ["VARIABLES", "Env", "Settings", "SettingsError", "Variable", "load_settings"]


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Env:
    """A setting's row in the table, next to its field: the values it accepts (a parser whose
    docstring says which, raising ValueError otherwise) and what it means."""

    parse: Callable[[str], Any]
    description: str
    secret: bool = False  # never repeated in an error message
    shown: str | None = None  # the default as the variable spells it, when not the field's default written out


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The settings table: one field per environment variable (its name in capitals)."""

    host: Annotated[str, Env(envvalues.host, "Address to bind (0.0.0.0 in a container).")] = "127.0.0.1"
    port: Annotated[int, Env(envvalues.int_range(1, 65535), "TCP port to listen on.")] = 8000
    workers: Annotated[
        int,
        Env(
            envvalues.workers,
            "libvips worker processes; auto = vCPUs this process may use (affinity, cgroup quota and, on ECS, "
            "the task's CPU limit).",
            shown="auto",
        ),
    ] = msgspec.field(default_factory=usable_cpus)
    queue_per_worker: Annotated[
        int, Env(envvalues.int_range(0, 1000), "Requests allowed to wait per worker; beyond that 503 with Retry-After.")
    ] = 4
    request_deadline_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(0.1, 3600),
            "Per-request deadline (under API Gateway's 30 s): work not started by then is dropped, "
            "a reply not ready by then is a 504.",
        ),
    ] = 25.0
    max_upload_bytes: Annotated[
        int, Env(envvalues.int_range(1024, 2_000_000_000), "Largest request body; 413 beyond.")
    ] = 25_000_000
    max_input_pixels: Annotated[
        int,
        Env(
            envvalues.int_range(1, 1_000_000_000),
            "Largest input width x height, read from the header before decoding; 422 beyond. "
            "Also bounds the output size.",
        ),
    ] = 50_000_000
    # Decoding costs per row as well as per pixel: a 1 x 49,000,000 PNG is under MAX_INPUT_PIXELS.
    max_input_dimension: Annotated[
        int, Env(envvalues.int_range(16, 1_000_000), "Longest input side, read from the header; 422 beyond.")
    ] = 65535
    max_input_aspect_ratio: Annotated[
        int,
        Env(envvalues.int_range(1, 1_000_000), "Largest input long side / short side, from the header; 422 beyond."),
    ] = 500
    max_output_dimension: Annotated[
        int, Env(envvalues.int_range(16, 16383), "Largest width or height a client may ask for.")
    ] = 16383
    max_batch_outputs: Annotated[
        int, Env(envvalues.int_range(1, 1000), "Most outputs (widths x qualities x formats) in one batch.")
    ] = 60
    shutdown_timeout_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(0, 3600),
            "On SIGTERM, time in-flight requests get to finish (keep under PM2 kill_timeout and ECS stopTimeout).",
        ),
    ] = 90.0
    log_level: Annotated[
        str, Env(envvalues.choice("debug", "info", "warning", "error"), "debug, info, warning or error.")
    ] = "info"
    prestop_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(0, 60),
            "On SIGTERM, keep serving new requests this long (readiness already 503) while the load balancer "
            "deregisters the task; then drain. The stack sets 10.",
        ),
    ] = 0.0
    storage_dir: Annotated[
        str,
        Env(envvalues.path, "Directory holding batch jobs (created on start); shared by every replica (EFS in AWS)."),
    ] = "data/jobs"
    max_job_outputs: Annotated[
        int, Env(envvalues.int_range(1, 10000), "Most outputs (widths x qualities x formats) in one job.")
    ] = 600
    job_ttl_seconds: Annotated[
        float, Env(envvalues.float_range(1, 30 * 86400), "A job and its files are removed this long after submission.")
    ] = 86400.0
    max_storage_bytes: Annotated[
        int, Env(envvalues.int_range(1, 10**15), "Bytes STORAGE_DIR may hold; new jobs get 507 beyond.")
    ] = 10_000_000_000
    job_item_timeout_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(1, 3600), "Time limit of one job item (a decode or an encode); the item fails beyond."
        ),
    ] = 300.0
    job_worker_share: Annotated[
        float,
        Env(
            envvalues.float_range(0.01, 1),
            "Share of the workers background job items may use at once: at most ceil(share x WORKERS), "
            "and never the last worker when WORKERS >= 2.",
        ),
    ] = 0.5
    job_lease_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(1, 3600),
            "A job item whose lease is not renewed for this long (by the observer's own clock) is leased "
            "again by another replica.",
        ),
    ] = 60.0
    max_active_jobs: Annotated[
        int,
        Env(
            envvalues.int_range(1, 100000), "Unfinished jobs in storage beyond which new jobs get 503 with Retry-After."
        ),
    ] = 100
    client_header_timeout_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(0.5, 600),
            "Time a client gets to send a request's headers (from its first byte), and the longest silence "
            "allowed while it sends a body; 408 and close beyond.",
        ),
    ] = 10.0
    client_body_timeout_seconds: Annotated[
        float,
        Env(envvalues.float_range(1, 3600), "Time a client gets to send a whole request body; 408 and close beyond."),
    ] = 60.0
    max_header_bytes: Annotated[
        int, Env(envvalues.int_range(4096, 16_777_216), "Largest request line plus headers; 431 beyond.")
    ] = 65536
    max_connections: Annotated[
        int,
        Env(
            envvalues.int_range(16, 1_000_000),
            "Open client sockets kept at most (capped by the file-descriptor limit); past it the oldest idle "
            "connections are closed to make room. Requests are limited by the pool, not by this.",
        ),
    ] = 4096
    api_keys: Annotated[
        tuple[str, ...],
        Env(
            envvalues.api_keys,
            "API keys, comma separated; when set, /api/*, /schema and /metrics on the main port need "
            "X-API-Key: <key> (or Authorization: Bearer <key>). Empty: off.",
            secret=True,
        ),
    ] = ()
    cors_origins: Annotated[
        tuple[str, ...],
        Env(
            envvalues.origins,
            "Other sites whose pages may call the API from a browser (CORS); POSTs from any other "
            "site are refused with 403. Empty: same origin only.",
        ),
    ] = ()
    metrics_port: Annotated[
        int,
        Env(
            envvalues.int_range(0, 65535),
            "Serve /metrics on this port instead of the main one (bound to HOST; no API key there, so keep "
            "it off the public network); 0: on the main port.",
        ),
    ] = 0
    max_output_pixels: Annotated[
        int,
        Env(
            envvalues.int_range(1, 1_000_000_000),
            "Largest output width x height of one conversion (enlarging included); 422 beyond.",
        ),
    ] = 50_000_000
    max_batch_output_pixels: Annotated[
        int,
        Env(
            envvalues.int_range(1, 10_000_000_000),
            "Largest sum of output width x height over all outputs of one batch; 422 beyond.",
        ),
    ] = 150_000_000
    max_job_output_pixels: Annotated[
        int,
        Env(envvalues.int_range(1, 10**11), "Largest sum of output width x height over one job's outputs; 422 beyond."),
    ] = 1_000_000_000
    max_concurrent_batches: Annotated[
        int,
        Env(
            envvalues.int_range(1, 1000),
            "Synchronous batches admitted at once (each may hold up to MAX_BATCH_OUTPUT_PIXELS of rasters "
            "in memory); 503 with Retry-After beyond.",
        ),
    ] = 2
    ecs_agent_uri: Annotated[
        str,
        Env(
            envvalues.url_or_off,
            "Set by ECS in every task: the agent's endpoint. While the replica holds job items it turns on the "
            "task's scale-in protection there, and clears it when idle. Empty (off ECS): off.",
        ),
    ] = ""
    ecs_container_metadata_uri_v4: Annotated[
        str,
        Env(
            envvalues.url_or_off,
            "Set by ECS in every task: the task metadata endpoint. WORKERS=auto takes the task's CPU limit "
            "(Limits.CPU) from it. Empty (off ECS): the cgroup quota alone.",
        ),
    ] = ""
    url_signing_key: Annotated[
        tuple[str, ...],
        Env(
            parse_hex_list,
            "Hex-encoded keys that sign GET /img URLs (HMAC-SHA256, as imgproxy's IMGPROXY_KEY); comma separated "
            "for rotation, paired in order with URL_SIGNING_SALT. Empty: every /img URL is refused (403) unless "
            "URL_ALLOW_UNSIGNED.",
            secret=True,
        ),
    ] = ()
    url_signing_salt: Annotated[
        tuple[str, ...],
        Env(parse_hex_list, "Hex-encoded salts, one per URL_SIGNING_KEY (as imgproxy's IMGPROXY_SALT).", secret=True),
    ] = ()
    url_allow_unsigned: Annotated[
        bool,
        Env(
            envvalues.bool_value,
            "Development only: also accept /img URLs whose signature segment is insecure, unsafe or _ "
            "(anyone can then make the service convert any source it can read).",
        ),
    ] = False
    url_presets: Annotated[
        tuple[str, ...],
        Env(
            parse_presets,
            "Named sets of /img processing options in imgproxy's syntax, comma separated: "
            "name=option:arg/option:arg; a preset named default applies to every URL.",
        ),
    ] = ()
    url_only_presets: Annotated[
        bool,
        Env(
            envvalues.bool_value,
            "Presets-only mode: the options part of an /img URL is a list of preset names (a:b:c).",
        ),
    ] = False
    url_cache_max_age_seconds: Annotated[
        int,
        Env(
            envvalues.int_range(0, 10 * 365 * 86400),
            "Cache-Control max-age of /img answers (immutable is added for stored sources, whose content "
            "never changes under their name).",
        ),
    ] = 86400
    source_dir: Annotated[
        str,
        Env(
            envvalues.optional_absolute_path,
            "Directory whose files /img URLs may name as local:///path (nothing outside it is reachable). "
            "Empty: local sources are off.",
        ),
    ] = ""
    sources_dir: Annotated[
        str,
        Env(
            envvalues.optional_absolute_path,
            "Directory holding uploaded sources (POST /api/sources), named by their SHA-256; shared by every "
            "replica (EFS in AWS). Empty: STORAGE_DIR/sources, so MAX_STORAGE_BYTES bounds jobs and sources "
            "together.",
        ),
    ] = ""
    source_ttl_seconds: Annotated[
        float,
        Env(
            envvalues.float_range(60, 365 * 86400),
            "An uploaded source is removed this long after its last upload (uploading it again renews it).",
        ),
    ] = 7 * 86400.0

    @property
    def sources_root(self) -> str:
        """Where uploaded sources are kept: SOURCES_DIR, else a directory inside STORAGE_DIR."""
        return self.sources_dir or os.path.join(self.storage_dir, "sources")

    @property
    def signer(self) -> Signer:
        """The /img URL signatures as configured; SettingsError when keys and salts do not pair up
        (checked by create_app at start-up: each variable alone is valid)."""
        try:
            return Signer.from_hex(self.url_signing_key, self.url_signing_salt, self.url_allow_unsigned)
        except ValueError as exc:
            raise SettingsError(f"invalid configuration: URL_SIGNING_KEY and URL_SIGNING_SALT: {exc}") from None

    @property
    def max_waiting(self) -> int:
        return self.workers * self.queue_per_worker

    @property
    def limits(self) -> Limits:
        """The request limits the workers check, as configured: each field is the setting of its name."""
        return Limits(**{f.name: getattr(self, f.name) for f in msgspec.structs.fields(Limits)})


@dataclass(frozen=True)
class Variable:
    """One environment variable, as read from the settings table."""

    name: str
    field: str
    default: str  # as the variable spells it; the field's default is its parse
    description: str
    parse: Callable[[str], Any]
    secret: bool = False


def _shown(value: object) -> str:
    if value is None:
        return ""  # an optional setting: unset
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return envvalues.number(value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _variables() -> tuple[Variable, ...]:
    variables = []
    for field in msgspec.structs.fields(Settings):
        env = next((m for m in getattr(field.type, "__metadata__", ()) if isinstance(m, Env)), None)
        if env is None:
            raise TypeError(f"Settings.{field.name} has no Env(...): every setting says what it accepts and means")
        shown = env.shown if env.shown is not None else _shown(field.default)
        variables.append(Variable(field.name.upper(), field.name, shown, env.description, env.parse, env.secret))
    return tuple(variables)


VARIABLES: tuple[Variable, ...] = _variables()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in VARIABLES:
        if var.name not in env:
            continue  # the field's default
        raw = env[var.name]
        try:
            values[var.field] = var.parse(raw)
        except ValueError as exc:
            expected = var.parse.__doc__ or str(exc)
            received = "a value that is not shown (secret)" if var.secret else repr(raw)
            problems.append(f"{var.name} must be {expected}, got {received}")
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    metadata_uri = values.get("ecs_container_metadata_uri_v4", "")
    if metadata_uri and env.get("WORKERS", "auto").strip().lower() == "auto":
        # On ECS the CPU limit is the task's, which the container's cgroup may not show.
        limit = ecs.task_cpu_limit(metadata_uri)
        values["workers"] = ecs.workers_for(limit, values.get("workers") or usable_cpus())
    return msgspec.convert(values, Settings)
