#!/usr/bin/env bash
# Refuses missing and weak secrets, naming every one at once (docker compose names only the
# first missing one per attempt, and accepts any value). The required names are those under
# "Required secrets" in .env.example; the rules are the ones documented there:
#   every secret: not one character repeated, not only blanks;
#   AIRFLOW_DB_PASSWORD, REDIS_PASSWORD, SOURCE_DB_PASSWORD, AIRFLOW_API_SECRET_KEY,
#   EB_PSEUDONYM_KEY: at least 32 bytes; AIRFLOW_JWT_SECRET: at least 64 bytes;
#   AIRFLOW_ADMIN_PASSWORD, MAILPIT_UI_PASSWORD: at least 16 bytes and not a well-known one;
#   AIRFLOW_ADMIN_USERNAME: not admin, airflow or root, and not the password;
#   AIRFLOW_FERNET_KEY: a valid Fernet key (URL-safe base64 of 32 bytes, 44 characters).
# Values are never printed.
#
# Usage: scripts/check-secrets.sh [path/to/.env]      the file (default: .env beside the repo)
#        scripts/check-secrets.sh --environment       the process environment (compose's
#                                                     check-secrets service runs this first)
# Exit 1 if any secret is missing or weak.
set -euo pipefail
export LC_ALL=C  # ${#v} counts bytes
REPO="$(cd "$(dirname "$0")/.." && pwd)"
EXAMPLE="$REPO/.env.example"
required=$(awk '/^# ---- Required secrets/{on=1; next} /^# ---- /{on=0} on && /^[A-Z_][A-Z0-9_]*=/{sub(/=.*/, ""); print}' "$EXAMPLE")

declare -A value
if [ "${1:-}" = "--environment" ]; then
  where="miljön"
  for name in $required; do value[$name]="${!name:-}"; done
else
  ENV_FILE="${1:-$REPO/.env}"
  where="$ENV_FILE"
  if [ ! -f "$ENV_FILE" ]; then
    echo "Filen $ENV_FILE saknas: cp .env.example .env && chmod 600 .env, fyll sedan i:" >&2
    printf '  %s\n' $required >&2
    exit 1
  fi
  for name in $required; do
    v=$(grep -E "^${name}=" "$ENV_FILE" | tail -n 1 | cut -d= -f2- || true)
    v="${v%\"}"; v="${v#\"}"; v="${v%\'}"; v="${v#\'}"
    value[$name]="$v"
  done
fi

min_bytes() {
  case "$1" in
    AIRFLOW_JWT_SECRET) echo 64 ;;
    AIRFLOW_DB_PASSWORD | REDIS_PASSWORD | SOURCE_DB_PASSWORD | AIRFLOW_API_SECRET_KEY | EB_PSEUDONYM_KEY) echo 32 ;;
    AIRFLOW_ADMIN_PASSWORD | MAILPIT_UI_PASSWORD) echo 16 ;;
    *) echo 1 ;;
  esac
}

problems=()
for name in $required; do
  v="${value[$name]}"
  if [ -z "$v" ]; then problems+=("$name: saknas eller är tom"); continue; fi
  if [ -z "${v//[[:space:]]/}" ]; then problems+=("$name: bara blanksteg"); continue; fi
  if [ -z "${v//"${v:0:1}"/}" ] && [ ${#v} -gt 1 ]; then
    problems+=("$name: ett och samma tecken upprepat"); continue
  fi
  lower="${v,,}"
  case "$name" in
    AIRFLOW_ADMIN_USERNAME)
      case "$lower" in admin | airflow | root | administrator)
        problems+=("$name: standardnamnet \"$lower\" är inte tillåtet; välj ett eget kontonamn"); continue ;;
      esac ;;
    AIRFLOW_ADMIN_PASSWORD | MAILPIT_UI_PASSWORD)
      case "$lower" in admin | airflow | password | changeme | mailpit | secret)
        problems+=("$name: ett känt standardlösenord"); continue ;;
      esac
      if [ "$name" = AIRFLOW_ADMIN_PASSWORD ] && [ "$v" = "${value[AIRFLOW_ADMIN_USERNAME]}" ]; then
        problems+=("$name: samma som användarnamnet"); continue
      fi ;;
    AIRFLOW_FERNET_KEY)
      decoded=$(printf '%s' "$v" | tr -- '-_' '+/' | base64 -d 2>/dev/null | wc -c || true)
      if ! [[ "$v" =~ ^[A-Za-z0-9_-]{43}=$ ]] || [ "$decoded" -ne 32 ]; then
        problems+=("$name: ingen giltig Fernet-nyckel (URL-säker base64 av 32 byte, 44 tecken)"); continue
      fi
      distinct=$(printf '%s' "$v" | tr -- '-_' '+/' | base64 -d | od -An -tx1 -v | tr -s ' \n' '\n' | grep . | sort -u | wc -l)
      if [ "$distinct" -le 1 ]; then
        problems+=("$name: ett och samma tecken upprepat (32 likadana byte)"); continue
      fi ;;
  esac
  need=$(min_bytes "$name")
  if [ ${#v} -lt "$need" ]; then problems+=("$name: för kort (${#v} byte, minst $need)"); fi
done

if [ ${#problems[@]} -gt 0 ]; then
  echo "Saknade eller svaga hemligheter i $where (${#problems[@]} st; så genereras de: se .env.example):" >&2
  printf '  %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "Alla $(echo "$required" | wc -w) obligatoriska hemligheter finns i $where och är tillräckligt starka."
