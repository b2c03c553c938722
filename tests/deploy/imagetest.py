"""`make image-test`: build the real image, run it, and check what only a running container shows.

    python tests/deploy/imagetest.py [--engine docker|podman] [--skip-build]

Engine: docker when its daemon answers, else buildah (build) + podman (run). Without a registry
to pull the Dockerfile's base image from (a machine that reaches only package mirrors), the base
is made with debootstrap from Debian's mirror and stored under the exact name the Dockerfile's
FROM uses, so the build never pulls. That stand-in is Debian's own Python (3.11), so the size it
reports is larger than the real python:slim base gives (see docs/deploy.md).

Checks, in order: /health answers; one conversion per output format decodes to the format and
size asked for; every process in the container runs as a non-root user and has jemalloc mapped;
PM2 has written no log file; a SIGTERM during a slow conversion lets the conversion complete and
the container exits with status 0. Then it prints the image size. Exit status 0 only if all pass.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pyvips

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/imageconv:image-test"
UID = 10001
# podman on a kernel with hybrid cgroups: runc (crun refuses them) and no systemd.
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
FORMATS = {
    "jpeg": "jpegload_buffer",
    "png": "pngload_buffer",
    "webp": "webpload_buffer",
    "avif": "heifload_buffer",
    "tiff": "tiffload_buffer",
}


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(
    args: Sequence[str], *, check: bool = True, timeout: float = 3600, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, timeout=timeout, text=True, **kw)


def out(args: Sequence[str], timeout: float = 120) -> str:
    return run(args, capture_output=True, timeout=timeout).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- engines
def docker_works() -> bool:
    return (
        bool(shutil.which("docker"))
        and run(["docker", "info"], check=False, capture_output=True, timeout=30).returncode == 0
    )


def base_images() -> list[str]:
    names = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            image = next(w for w in words[1:] if not w.startswith("--"))
            if image not in names:
                names.append(image)
    return names


def without_digest(name: str) -> str:
    """python:3.12.8-slim-bookworm@sha256:... -> python:3.12.8-slim-bookworm"""
    return name.split("@", 1)[0]


def debootstrap_base(name: str) -> None:
    """A stand-in for python:*-slim-<suite>: Debian minbase + python3, imported under `name` (a
    tag: no local image can carry the real base's digest, so builds on a stand-in use a copy of
    the Dockerfile whose FROM lines name the tag only)."""
    name = without_digest(name)
    suite = re.search(r"-(bookworm|trixie|bullseye)$", name)
    if not suite or not shutil.which("debootstrap"):
        raise SystemExit(f"cannot pull {name} and cannot make a stand-in (needs debootstrap and a Debian tag)")
    with tempfile.TemporaryDirectory(prefix="imagetest-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        step(f"debootstrap {suite.group(1)} (a stand-in for {name}; takes a few minutes)")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                suite.group(1),
                str(rootfs),
                "http://deb.debian.org/debian",
            ],
            capture_output=True,
        )
        (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
        # This machine may reach the mirrors through a TLS-intercepting proxy: trust what it trusts,
        # or pip inside the build fails its certificate check.
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            shutil.copy(bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(
            [
                *PODMAN,
                "import",
                "--change",
                "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
                "--change",
                'CMD ["python3"]',
                "-",
                f"docker.io/library/{name}",
            ],
            stdin=tar.stdout,
            capture_output=True,
        )
        tar.wait()


def ensure_bases() -> bool:
    """Every base image present; True when a stand-in replaces one (then build without digests)."""
    stand_in = False
    for name in base_images():
        if run([*PODMAN, "image", "exists", f"docker.io/library/{name}"], check=False).returncode == 0:
            continue
        if run([*PODMAN, "image", "exists", f"docker.io/library/{without_digest(name)}"], check=False).returncode == 0:
            stand_in = True  # a stand-in made by an earlier run
            continue
        step(f"pull {name}")
        pulled = run([*PODMAN, "pull", f"docker.io/library/{name}"], check=False, capture_output=True, timeout=120)
        if pulled.returncode != 0:
            debootstrap_base(name)
            stand_in = True
    return stand_in


class Engine:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cli = ["docker"] if name == "docker" else PODMAN

    def build(self) -> None:
        if self.name == "docker":
            run(["docker", "build", "-t", IMAGE, str(ROOT)])
        else:
            stand_in = ensure_bases()
            dockerfile = ROOT / "Dockerfile"
            if stand_in:
                dockerfile = Path(tempfile.mkdtemp(prefix="imagetest-")) / "Dockerfile"
                dockerfile.write_text(re.sub(r"@sha256:[0-9a-f]{64}", "", (ROOT / "Dockerfile").read_text()))
            # Docker format: OCI images drop HEALTHCHECK.
            run(
                [
                    "buildah",
                    "bud",
                    "--format",
                    "docker",
                    "--isolation",
                    "chroot",
                    "--pull=never",
                    "--layers",
                    "-f",
                    str(dockerfile),
                    "-t",
                    IMAGE,
                    str(ROOT),
                ]
            )

    def run_container(self, name: str, port: int, env: dict[str, str]) -> None:
        args = [*self.cli, "run", "-d", "--name", name, "--ulimit", "nofile=20000:20000"]
        if self.name == "docker":
            args += ["-p", f"127.0.0.1:{port}:8000"]
        else:
            # Host networking: this machine's podman has no rootful bridge set up; the service
            # listens on a free port of 127.0.0.1 instead of 8000.
            args += ["--ulimit", "nproc=4096:4096", "--network", "host"]
            env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        run([*args, IMAGE], capture_output=True)

    def exec(self, name: str, *command: str) -> str:
        return out([*self.cli, "exec", name, *command])

    def size(self) -> int:
        return int(out([*self.cli, "image", "inspect", "--format", "{{.Size}}", IMAGE]))


# ---------------------------------------------------------------- checks
def sample_jpeg() -> bytes:
    image = pyvips.Image.xyz(640, 480)[0].cast("uchar")
    return bytes(image.bandjoin([image.rot180(), image]).copy(interpretation="srgb").write_to_buffer(".jpg[Q=90]"))


def slow_jpeg() -> bytes:
    # Seconds of AVIF work on one core: long enough to be in flight when SIGTERM comes, well inside
    # the 90 s drain even on a busy machine.
    noise = pyvips.Image.gaussnoise(1400, 1400, mean=128, sigma=60).cast("uchar")
    return bytes(
        noise.bandjoin([noise.rot90(), noise.rot180()]).copy(interpretation="srgb").write_to_buffer(".jpg[Q=90]")
    )


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


# Run inside the container: every process's uid and whether jemalloc is mapped, as JSON.
PROCESS_SCAN = r"""
import json, os
rows = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
        maps = open(f"/proc/{pid}/maps").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode().strip()
    except OSError:
        continue
    if int(pid) == os.getpid():
        continue
    uid = int(next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1])
    rows.append({"pid": int(pid), "uid": uid, "cmd": cmd, "jemalloc": "libjemalloc" in maps})
print(json.dumps(rows))
"""

PM2_FILES = r"""
import json, os
home = os.environ["PM2_HOME"]
print(json.dumps({os.path.relpath(os.path.join(d, f), home): os.path.getsize(os.path.join(d, f))
                  for d, _, files in os.walk(home) for f in files}))
"""


def check_container(engine: Engine, name: str, base: str, logs: Callable[[], str]) -> None:
    step("GET /health")
    wait_for(lambda: httpx.get(f"{base}/health", timeout=3).status_code == 200, "/health", timeout=180)
    wait_for(lambda: httpx.get(f"{base}/ready", timeout=3).status_code == 200, "/ready", timeout=60)
    print("    /health 200, /ready 200")

    step("one conversion per format")
    source = sample_jpeg()
    for fmt, expected_loader in FORMATS.items():
        r = httpx.post(
            f"{base}/api/convert",
            params={"format": fmt, "width": 320},
            content=source,
            headers={"Content-Type": "image/jpeg"},
            timeout=120,
        )
        assert r.status_code == 200, (fmt, r.status_code, r.text[:300])
        image = pyvips.Image.new_from_buffer(r.content, "")
        loader = image.get("vips-loader")
        assert loader == expected_loader and image.width == 320, (fmt, loader, image.width)
        print(f"    {fmt}: {len(r.content)} bytes, {image.width}x{image.height}, {loader}")

    step("every process non-root, with jemalloc")
    user = out([*engine.cli, "inspect", "--format", "{{.Config.User}}", name])
    assert user.split(":")[0] == str(UID), user
    # The image keeps its HEALTHCHECK (for `docker run`; ECS has its own in the task definition).
    healthcheck = out([*engine.cli, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", IMAGE])
    assert "127.0.0.1:8000/health" in healthcheck, healthcheck
    processes = json.loads(engine.exec(name, "python", "-c", PROCESS_SCAN))
    for p in processes:
        print(f"    pid {p['pid']:>4} uid {p['uid']} jemalloc={p['jemalloc']}  {p['cmd'][:90]}")
    assert len(processes) >= 4, "tini, PM2, the service and at least one pool worker"
    assert all(p["uid"] == UID for p in processes), "a process runs as another user"
    assert all(p["jemalloc"] for p in processes), "a process runs without jemalloc"
    assert any("service" in p["cmd"] for p in processes) and any("pm2" in p["cmd"] for p in processes)

    step("PM2 writes no log file; the service's lines reach the container log")
    files = json.loads(engine.exec(name, "python", "-c", PM2_FILES))
    print(f"    files under PM2_HOME: {files}")
    written = {path: size for path, size in files.items() if path.endswith(".log") or path.startswith("logs/")}
    assert not written, f"PM2 wrote log files inside the container: {written}"
    assert '"route":"/api/convert"' in logs(), "the service's request log lines are missing from stdout"


def check_sigterm(engine: Engine, name: str, base: str) -> None:
    step("SIGTERM during a slow conversion")
    body = slow_jpeg()
    result: dict[str, object] = {}

    def convert() -> None:
        try:
            r = httpx.post(
                f"{base}/api/convert",
                params={"format": "avif", "effort": 3, "quality": 60},
                content=body,
                headers={"Content-Type": "image/jpeg"},
                timeout=300,
            )
            result["status"] = r.status_code
            result["bytes"] = len(r.content)
            if r.status_code == 200:
                result["loader"] = pyvips.Image.new_from_buffer(r.content, "").get("vips-loader")
        except httpx.HTTPError as exc:
            result["error"] = repr(exc)

    client = threading.Thread(target=convert)
    started = time.monotonic()
    client.start()
    wait_for(lambda: httpx.get(f"{base}/ready", timeout=3).json()["busy"] >= 1, "the conversion to start", 60)
    run([*engine.cli, "kill", "--signal", "TERM", name], capture_output=True)
    print(f"    SIGTERM sent {time.monotonic() - started:.1f} s after the request")
    client.join(300)
    print(f"    request: {result}")
    assert result.get("status") == 200 and result.get("loader") == "heifload_buffer", result
    code = int(out([*engine.cli, "wait", name], timeout=300))
    print(f"    container exit status {code} ({time.monotonic() - started:.1f} s after the request)")
    assert code == 0, f"container exited {code} after a clean drain"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("docker", "podman"))
    parser.add_argument("--skip-build", action="store_true", help="use the image built last time")
    args = parser.parse_args(argv)
    engine_name = args.engine or ("docker" if docker_works() else "podman")
    if engine_name == "podman" and not (shutil.which("podman") and shutil.which("buildah")):
        raise SystemExit("no docker daemon and no buildah/podman: apt-get install buildah podman runc debootstrap")
    engine = Engine(engine_name)
    step(f"build {IMAGE} with {engine_name}")
    started = time.monotonic()
    if not args.skip_build:
        engine.build()
    print(f"    built in {time.monotonic() - started:.0f} s")

    name = f"imagetest-{os.getpid()}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A long deadline for the slow request on a busy machine; the pre-stop delay as the stack sets it.
    env = {
        "WORKERS": "2",
        "REQUEST_DEADLINE_SECONDS": "240",
        "SHUTDOWN_TIMEOUT_SECONDS": "40",  # as the stack sets it: under PM2's kill_timeout (55 s)
        "PRESTOP_SECONDS": "2",
        "STORAGE_DIR": "/data/jobs",
    }
    engine.run_container(name, port, env)

    def logs() -> str:
        r = run([*engine.cli, "logs", name], check=False, capture_output=True)
        return r.stdout + r.stderr

    try:
        check_container(engine, name, base, logs)
        check_sigterm(engine, name, base)
        size = engine.size()
        step(f"image size: {size / 1e6:.0f} MB ({size} bytes)")
        print("image-test: all checks passed")
        return 0
    except BaseException:
        print("---- container log (last 60 lines)", file=sys.stderr)
        print("\n".join(logs().splitlines()[-60:]), file=sys.stderr)
        raise
    finally:
        run([*engine.cli, "rm", "-f", name], check=False, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
