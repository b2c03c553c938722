# syntax=docker/dockerfile:1
# Image conversion service: Python + libvips (bundled by the pyvips-binary wheel) run by pm2-runtime.
#
# x86_64 only: the Spot fleet, FARGATE_SPOT and the task definition's RuntimePlatform are X86_64,
# and jemalloc's path below is the x86_64 one, so both stages name the platform (on an arm64
# laptop, BuildKit emulates). Base image and apt versions are pinned; Dependabot
# (.github/dependabot.yml) proposes base image bumps, and nodejs follows Debian security updates
# within its upstream version.

# ---- build: install the project and its dependencies into a virtual environment
# DL3029 warns on any fixed --platform; x86_64 is the point here (see above).
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12.8-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# pyproject names README.md as the long description, so the build needs it.
COPY pyproject.toml README.md ./
COPY service ./service
# Byte-compiled here, because the non-root runtime user cannot write __pycache__ into /opt/venv.
RUN pip install . \
 && python -c "import pyvips; print('libvips', pyvips.version(0), pyvips.version(1), pyvips.version(2))"

# ---- runtime: slim Debian, jemalloc, tini, Node only for pm2-runtime, non-root
# DL3029 warns on any fixed --platform; x86_64 is the point here (see above).
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12.8-slim-bookworm
# jemalloc: glibc malloc fragments badly under libvips' many short-lived large buffers.
# tini as PID 1 reaps orphaned pool workers after a crash; Node cannot, and PID 1 must.
# npm is only needed to install pm2, then purged with its dependencies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjemalloc2=5.3.0-1 \
      tini=0.19.0-1+b3 \
      "nodejs=18.20.4+dfsg-1~deb12u*" \
      npm=9.2.0~ds1-1 \
 && npm install --global --omit=dev pm2@7.0.4 \
 && npm cache clean --force \
 && apt-get purge -y --auto-remove npm \
 && rm -rf /var/lib/apt/lists/* /root/.npm \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /data/batches /home/app/.pm2 \
 && chown -R 10001:10001 /data /home/app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY pm2/ecosystem.config.js ./pm2/ecosystem.config.js
# PM2_KILL_SIGNAL: PM2 stops the service with SIGTERM (its default SIGINT, sent twice by
# pm2-runtime during a long drain, makes uvicorn force-exit); see pm2/ecosystem.config.js.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    HOME=/home/app \
    PM2_HOME=/home/app/.pm2 \
    PM2_KILL_SIGNAL=SIGTERM \
    HOST=0.0.0.0 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
# ECS ignores this (the task definition has its own check); it serves `docker run` and compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3).status == 200 else 1)"]
# tini forwards SIGTERM to pm2-runtime, which stops the service gracefully (kill_timeout 100 s).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["pm2-runtime", "pm2/ecosystem.config.js"]
