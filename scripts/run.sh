#!/usr/bin/env bash
# Starts the action server and the Rasa server (web chat, hotline API, REST webhook)
# on 127.0.0.1, with the SQLite tracker store and case database in var/. Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
export RASA_TELEMETRY_ENABLED=false PYTHONPATH="$PWD"
export ANTIFRAUD_ENV="${ANTIFRAUD_ENV:-development}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:5055/webhook}"
export TRACKER_DB_DIALECT="${TRACKER_DB_DIALECT:-sqlite}" TRACKER_DB_HOST="${TRACKER_DB_HOST:-}"
export TRACKER_DB="${TRACKER_DB:-var/tracker.db}"
if [ -z "${HOTLINE_TOKEN:-}" ]; then
  HOTLINE_TOKEN=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
  echo "HOTLINE_TOKEN was not set; generated one for this run: $HOTLINE_TOKEN"
fi
if [ -z "${INTEGRATION_TOKEN:-}" ]; then
  INTEGRATION_TOKEN=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
  echo "INTEGRATION_TOKEN was not set; generated one for this run: $INTEGRATION_TOKEN"
fi
export HOTLINE_TOKEN INTEGRATION_TOKEN

# The case database (CASE_DB_URL, default var/cases.db) at the latest schema before anything writes to it.
"$BIN/python" -m bot.storage.migrate

"$BIN/rasa" run actions --actions actions --port 5055 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
echo "Web chat:        http://127.0.0.1:5005/webhooks/webchat/"
echo "Hotline console: http://127.0.0.1:5005/webhooks/hotline/"
"$BIN/rasa" run --model models/assistant.tar.gz --interface 127.0.0.1 --port 5005 \
  --credentials credentials.yml --endpoints endpoints.yml --enable-api --auth-token "${RASA_API_TOKEN:-$HOTLINE_TOKEN}"
