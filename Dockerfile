# Image for every Airflow service in docker-compose.yml (api-server, scheduler, dag-processor,
# celery worker, triggerer, init) and for the one-shot source-seed: Airflow 3.3 with the project.
#
#   docker compose build            # or: docker build -t eb-tertial-airflow .
#
# Dependencies come only from requirements.lock (the whole resolved tree, pinned, with hashes), then the
# project itself without dependencies. DAGs, plugins, configuration and expectations are baked
# in, so no service mounts source code; a new version of the code is a new image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    AIRFLOW_HOME=/opt/airflow \
    EB_HOME=/opt/eb

# Dependencies first, in their own layer: it is rebuilt only when the lock file changes.
# --require-hashes: every file must match a sha256 in the lock (a replaced upload is refused).
COPY requirements.lock /tmp/requirements.lock
RUN python -m pip install "pip==25.3" \
 && python -m pip install --require-hashes -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock

# The project. .dockerignore admits only the project's own files (pyproject.toml, etl/,
# reports/, demo/ (source-seed's generator), dags/, plugins/, config/, expectations/ when
# present), so this copies exactly those. The project is installed (so `etl`, `reports` and
# `demo` are packages with metadata) and its tree is kept at /opt/eb: PYTHONPATH puts /opt/eb
# first, so etl/settings finds config/ (and anything else next to the packages) exactly as in
# a checkout.
WORKDIR /opt/eb
COPY . ./
RUN python -m pip install --no-deps . \
 && rm -rf build ./*.egg-info

# The code version for archive manifests (there is no git in the image):
#   docker compose build --build-arg EB_CODE_VERSION="$(git rev-parse --short=12 HEAD)"
ARG EB_CODE_VERSION=
ENV PYTHONPATH=/opt/eb \
    EB_CODE_VERSION=${EB_CODE_VERSION} \
    EB_CONFIG_DIR=/opt/eb/config \
    EB_DATA_DIR=/opt/airflow/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/eb/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/eb/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=false

# Non-root: uid 50000, group 0 (as the official Airflow image). The code stays owned by root
# and read-only for the service; only AIRFLOW_HOME (logs) and EB_DATA_DIR (staging, archive)
# are writable. Named volumes mounted there start with this ownership.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow \
 && mkdir -p /opt/airflow/logs /opt/airflow/data \
 && chown -R 50000:0 /opt/airflow \
 && chmod -R g+rwX /opt/airflow
USER 50000
WORKDIR /opt/airflow

EXPOSE 8080
ENTRYPOINT ["airflow"]
CMD ["version"]
