#!/usr/bin/env bash
# make review-demo: the case review end to end on the demo data (docs/review.md).
# Draws a round for 2018 (before the project) and one for 2019 (after), fills each in with a
# seeded simulated review, imports them and writes the comparison beside the registered-data
# gender analysis of the same years. Everything goes to var/review-demo/ (made afresh).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO/scripts/airflow-env.sh"
export EB_DATA_DIR="$REPO/var/review-demo/data"
rm -rf "$REPO/var/review-demo"
mkdir -p "$(dirname "$EB_DEMO_DB")" "$EB_DATA_DIR"
if [ ! -f "$EB_DEMO_DB" ]; then
  echo "== Skapar demodatabasen $EB_DEMO_DB (syntetiska data 2017–2019)"
  python -m demo --db "sqlite:///$EB_DEMO_DB" --scale unit --seed 2018
fi
python -c "from pathlib import Path; from etl.pseudonym import new_key_file; new_key_file(Path('$EB_PSEUDONYM_KEY_FILE'))"
SOURCE="sqlite:///$EB_DEMO_DB"
WORK="$REPO/var/review-demo"

for year in 2018 2019; do
  echo "== Registerdata: tertialuppföljningen $year-T3 (utan e-post)"
  python -m etl run --source "$SOURCE" --period "$year-T3" --out "$EB_DATA_DIR" --no-email >"$WORK/run-$year.log" 2>&1 \
    || { tail -n 30 "$WORK/run-$year.log"; exit 1; }
done

echo "== Urval före projektet (2018) och efter (2019), 25 kvinnor och 25 män var"
python -m etl review sample --source "$SOURCE" --year 2018 --per-sex 25 --seed 2018
python -m etl review sample --source "$SOURCE" --year 2019 --per-sex 25 --seed 2019

echo "== Simulerad granskning (seedad) och import"
ROUNDS="$EB_DATA_DIR/review/rounds"
python -m demo.review "$ROUNDS/2018-01/granskning-2018-01.xlsx" "$WORK/ifylld-2018-01.xlsx" --seed 1
python -m demo.review "$ROUNDS/2019-01/granskning-2019-01.xlsx" "$WORK/ifylld-2019-01.xlsx" --seed 2 --after
python -m etl review import "$WORK/ifylld-2018-01.xlsx"
python -m etl review import "$WORK/ifylld-2019-01.xlsx"

echo "== Jämförelse"
python -m etl review compare --before 2018-01 --after 2019-01
echo "== Klart. Den skyddade granskningsmappen (0700): $EB_DATA_DIR/review"
echo "   Granskarens arbetsböcker: $ROUNDS/*/granskning-*.xlsx"
echo "   Jämförelsen (även i arkivet): $EB_DATA_DIR/archive/review/comparisons/"
