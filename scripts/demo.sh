#!/usr/bin/env bash
# make demo: demo source database → embedded Airflow → the tertial DAG for 2018 T1
# (another tertial: make demo PERIOD=2018-T2; the demo data covers 2017–2019).
set -euo pipefail
PERIOD="${PERIOD:-2018-T1}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/airflow-env.sh"
mkdir -p "$(dirname "$EB_DEMO_DB")" "$AIRFLOW_HOME" "$EB_DATA_DIR"

if [ ! -f "$EB_DEMO_DB" ]; then
  echo "== Skapar demodatabasen $EB_DEMO_DB (syntetiska data 2017–2019)"
  python -m demo --db "sqlite:///$EB_DEMO_DB" --scale unit --seed 2018
fi
python -c "from pathlib import Path; from etl.pseudonym import new_key_file; new_key_file(Path('$EB_PSEUDONYM_KEY_FILE'))"
source "$REPO/scripts/airflow-env.sh"   # again: picks up the key file just created

echo "== Initierar Airflow i $AIRFLOW_HOME"
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
"$REPO/scripts/airflow-pools.sh" >>"$AIRFLOW_HOME/db-migrate.log" 2>&1

# The scheduled run's date: the 16th of the month after the tertial (2018-T1 → 2018-05-16).
RUN_DATE="$(python -c "import datetime as d; from etl.periods import Period; print(Period.parse('$PERIOD').end + d.timedelta(days=16))")"
echo "== Kör DAG:en tertial_followup för $PERIOD (airflow dags test $RUN_DATE)"
airflow dags test tertial_followup "$RUN_DATE" >"$AIRFLOW_HOME/demo-run.log" 2>&1 || {
  tail -n 60 "$AIRFLOW_HOME/demo-run.log"; echo "Körningen misslyckades; hela loggen: $AIRFLOW_HOME/demo-run.log"; exit 1; }

python - <<PY
from etl import archive
from etl.periods import Period
from pathlib import Path
package = archive.versions(Path("$EB_DATA_DIR") / "archive", Period.parse("$PERIOD"))[-1]
print("== Klart. Arkivpaket:", package)
for book in sorted((package / "workbooks").glob("*.xlsx")):
    print("   Arbetsbok:", book)
print("   Statistik (intern):", package / "statistics.csv")
print("   E-post (utkorg, .eml):", Path("$EB_DATA_DIR") / "outbox" / "$PERIOD")
print("   Valideringsrapport (Data Docs):", package / "validation" / "data_docs" / "index.html")
print("   Körlogg:", Path("$AIRFLOW_HOME") / "demo-run.log")
PY
