#!/usr/bin/env bash
# Creates the Airflow pools the DAG uses, from config/pipeline.yml (idempotent).
set -euo pipefail
read -r name slots < <(python -c "from etl.settings import settings; o = settings().pipeline.orchestration; print(o.source_pool, o.source_pool_slots)")
airflow pools set "$name" "$slots" "Samtidiga frågor mot källdatabasen"
