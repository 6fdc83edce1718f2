#!/usr/bin/env bash
# make standalone: the Airflow UI on the demo data. The scheduler catches up the six tertials
# the demo data covers (2018-T1 … 2019-T3, EB_SCHEDULE_END), one at a time, each with its
# task logs; open http://localhost:8080 and log in with the password standalone prints.
# Its own metadata database: `make demo`'s `airflow dags test` run has no task log files and
# a start date in 2018, which would skew the UI's durations.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/airflow-env.sh"
if [ ! -f "$EB_DEMO_DB" ] || [ ! -f "$EB_PSEUDONYM_KEY_FILE" ]; then
  bash "$REPO/scripts/demo.sh"   # the demo database and the pseudonymisation key
fi
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/standalone.db"
export EB_DEADLINE_ALERTS=on   # the real DAG: the scheduler handles deadline alerts (dags test cannot)
source "$REPO/scripts/airflow-env.sh"
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
"$REPO/scripts/airflow-pools.sh" >>"$AIRFLOW_HOME/db-migrate.log" 2>&1
airflow dags reserialize >>"$AIRFLOW_HOME/db-migrate.log" 2>&1   # the DAG exists before unpause
airflow dags unpause tertial_followup -y >/dev/null
echo "== DAG:en tertial_followup är igång: schemat kör ikapp tertialen till och med $EB_SCHEDULE_END"
exec airflow standalone
