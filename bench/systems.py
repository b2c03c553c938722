"""The systems of one run, started (or reached by URL) together and stopped together: the ceiling,
this service, the original Node/sharp stack and thumbor."""

from __future__ import annotations

from .ceiling import Ceiling
from .targets import PeerTarget, ServiceTarget, Target
from .thumbor_peer import ThumborTarget


class Systems:
    def __init__(
        self,
        *,
        ceiling: bool = True,
        service: bool = True,
        original: bool = True,
        thumbor: bool = True,
        service_url: str | None = None,
        original_url: str | None = None,
        thumbor_url: str | None = None,
    ) -> None:
        self.http: dict[str, Target] = {}
        self.ceiling: Ceiling | None = None
        try:
            if service:
                self.http["service"] = ServiceTarget(service_url)
            if original and (original_url or PeerTarget.available()):
                self.http["original"] = PeerTarget(original_url)
            if thumbor:
                self.http["thumbor"] = ThumborTarget(thumbor_url)
            if ceiling:
                self.ceiling = Ceiling()
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        from service.cpu import usable_cpus

        return self.ceiling.processes if self.ceiling else usable_cpus()

    def names(self) -> list[str]:
        return (["ceiling"] if self.ceiling else []) + list(self.http)

    def measured_http(self) -> dict[str, Target]:
        """The HTTP systems started here: only their process trees can be read from /proc."""
        return {n: t for n, t in self.http.items() if t.started}

    def extra_pids(self) -> list[int]:
        """Processes of ours that are not descendants of the bench (PM2 daemonizes its workers)."""
        original = self.http.get("original")
        return original.pids() if original else []

    def versions(self) -> dict[str, str]:
        out = {}
        for name, target in self.http.items():
            versions = getattr(target, "versions", None)
            if versions and target.started:
                out[name] = versions()
        return out

    def peak_rss(self) -> dict[str, int]:
        return {n: t.peak_rss() for n, t in self.measured_http().items()}

    def close(self) -> None:
        if self.ceiling:
            self.ceiling.close()
        for target in self.http.values():
            target.stop()
