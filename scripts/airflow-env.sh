# Environment for the embedded Airflow of the demo (source it: `source scripts/airflow-env.sh`).
# Everything lives under var/ in the repository; nothing here is a secret worth keeping:
# the demo key is generated locally and never committed.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$REPO/.venv/bin:$PATH"
export EB_DATA_DIR="${EB_DATA_DIR:-$REPO/var/data}"
export EB_DEMO_DB="${EB_DEMO_DB:-$REPO/var/demo/source.db}"
export EB_PSEUDONYM_KEY_FILE="${EB_PSEUDONYM_KEY_FILE:-$REPO/var/demo/pseudonym.key}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/var/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Europe/Stockholm   # backfill dates read as local dates
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export GX_ANALYTICS_ENABLED=false
export AIRFLOW__API__DEFAULT_WRAP=True   # task logs wrapped: the action line of an error is visible
# `airflow dags test` (the demo) cannot run a DAG with a deadline alert in Airflow 3.3.2; the
# scheduler can. See dags/tertial_followup.py.
export EB_DEADLINE_ALERTS="${EB_DEADLINE_ALERTS:-off}"
export EB_MAIL_MODE="${EB_MAIL_MODE:-outbox}"   # the demo has no SMTP server: .eml files instead
export EB_SCHEDULE_END="${EB_SCHEDULE_END:-2019-12-31}"   # the demo data ends with 2019: no later tertials
if [ -z "${AIRFLOW_CONN_EB_SOURCE:-}" ]; then
  export AIRFLOW_CONN_EB_SOURCE="{\"conn_type\": \"sqlite\", \"host\": \"$EB_DEMO_DB\"}"
fi
if [ -f "$EB_PSEUDONYM_KEY_FILE" ]; then
  export AIRFLOW_CONN_EB_PSEUDONYM_KEY="{\"conn_type\": \"generic\", \"password\": \"$(cat "$EB_PSEUDONYM_KEY_FILE")\"}"
fi
