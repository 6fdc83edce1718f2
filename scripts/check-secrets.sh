#!/usr/bin/env bash
# Lists every required secret that is missing or empty in .env at once (docker compose names
# only the first one per attempt). The required names are those under "Required secrets" in
# .env.example. Usage: scripts/check-secrets.sh [path/to/.env]   (exit 1 if any is missing)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ENV_FILE="${1:-$REPO/.env}"
EXAMPLE="$REPO/.env.example"
required=$(awk '/^# ---- Required secrets/{on=1; next} /^# ---- /{on=0} on && /^[A-Z_][A-Z0-9_]*=/{sub(/=.*/, ""); print}' "$EXAMPLE")
if [ ! -f "$ENV_FILE" ]; then
  echo "Filen $ENV_FILE saknas: cp .env.example .env && chmod 600 .env, fyll sedan i:" >&2
  printf '  %s\n' $required >&2
  exit 1
fi
missing=()
for name in $required; do
  value=$(grep -E "^${name}=" "$ENV_FILE" | tail -n 1 | cut -d= -f2- || true)
  value="${value%\"}"; value="${value#\"}"; value="${value%\'}"; value="${value#\'}"
  [ -n "$value" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Saknas eller tomma i $ENV_FILE (${#missing[@]} st; så genereras de: se .env.example):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "Alla $(echo "$required" | wc -w) obligatoriska hemligheter finns i $ENV_FILE."
