# The reconciler's CLI in a small image. Build it from the repository's root:
#   docker build -t rediscloud-reconciler .
#   docker run --rm -v "$PWD:/work" -e REDISCLOUD_ACCESS_KEY -e REDISCLOUD_SECRET_KEY rediscloud-reconciler plan -f manifests/
# Stage 1 builds the wheel and installs it, with its dependencies, into a virtual environment; stage 2 copies
# only that environment onto the same slim Python, so no build backend, pip cache or source tree ships. The
# sandbox's data plane (the `sandbox` extra: Redis servers, S3/GCS/FTP stand-ins) is left out; `--sandbox`'s
# in-process emulator is in. It runs as an unprivileged user in /work.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/reconciler \
    && /opt/reconciler/bin/pip install --no-cache-dir . \
    && /opt/reconciler/bin/pip uninstall --yes pip setuptools

FROM python:${PYTHON_VERSION}-slim
COPY --from=build /opt/reconciler /opt/reconciler
RUN useradd --uid 10001 --no-log-init --create-home --shell /usr/sbin/nologin reconciler \
    && mkdir /work \
    && chown reconciler:reconciler /work
ENV PATH=/opt/reconciler/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["reconciler"]
CMD ["--help"]
