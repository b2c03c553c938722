# syntax=docker/dockerfile:1
# Image conversion service: Python + libvips (bundled by the pyvips-binary wheel) under pm2-runtime.
# x86_64 only (the Spot fleet and FARGATE_SPOT are x86_64): build with `docker build --platform linux/amd64`.
# apt pins are Debian bookworm's versions; when a security update replaces one, bump the pin.

# ---- build: install the project and its dependencies into a virtual environment
FROM python:3.12.8-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY service ./service
COPY bench/__init__.py ./bench/__init__.py
RUN pip install --no-compile . \
 && python -c "import pyvips; print('libvips', pyvips.version(0), pyvips.version(1), pyvips.version(2))"

# ---- runtime: slim Debian, jemalloc, Node only for pm2-runtime, non-root
FROM python:3.12.8-slim-bookworm
# jemalloc: glibc malloc fragments badly under libvips' many short-lived large buffers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 nodejs=18.19.0+dfsg-6~deb12u2 npm=9.2.0~ds1-1 \
 && npm install --global --omit=dev pm2@6.0.8 \
 && npm cache clean --force \
 && apt-get purge -y npm && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 app && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /data/batches /home/app/.pm2 && chown -R 10001:10001 /data /home/app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY pm2/ecosystem.config.js ./pm2/ecosystem.config.js
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    HOME=/home/app \
    PM2_HOME=/home/app/.pm2 \
    HOST=0.0.0.0 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
# ECS ignores this (the task definition has its own check); it serves `docker run` and compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3).status == 200 else 1)"]
# pm2-runtime is PID 1: it forwards SIGTERM to the service (as SIGINT) and waits kill_timeout.
CMD ["pm2-runtime", "pm2/ecosystem.config.js"]
