#!/usr/bin/env bash
# Starts the action server and the Rasa server (web chat, hotline API, REST webhook)
# on 127.0.0.1, with the SQLite tracker store and case database in var/. Ctrl+C stops both.
# Secrets stay in the environment, never in a process's arguments; Rasa's HTTP API is on only
# when RASA_API_TOKEN is set. RASA_PORT and ACTION_SERVER_PORT move the ports (5005, 5055).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
export RASA_TELEMETRY_ENABLED=false PYTHONPATH="$PWD"
export ANTIFRAUD_ENV="${ANTIFRAUD_ENV:-development}"
RASA_PORT="${RASA_PORT:-5005}" ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_SERVER_PORT/webhook}"
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
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  # Only these two processes need it: made up for each run.
  ACTION_SERVER_TOKEN=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
fi
if [ -z "${SENDER_ID_KEY:-}" ]; then
  # Conversation ids are keyed with it: kept in var/ (owner-only) so the web chat's history survives a restart.
  if [ ! -s var/sender_id.key ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' > var/sender_id.key)
  fi
  SENDER_ID_KEY=$(cat var/sender_id.key)
fi
export HOTLINE_TOKEN INTEGRATION_TOKEN ACTION_SERVER_TOKEN SENDER_ID_KEY

# The case database (CASE_DB_URL, default var/cases.db) at the latest schema before anything writes to it.
"$BIN/python" -m bot.storage.migrate

"$BIN/python" -m bot.action_server --actions actions --interface 127.0.0.1 --port "$ACTION_SERVER_PORT" &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
echo "Web chat:        http://127.0.0.1:$RASA_PORT/webhooks/webchat/"
echo "Hotline console: http://127.0.0.1:$RASA_PORT/webhooks/hotline/"
"$BIN/python" -m bot.server --model models/assistant.tar.gz --interface 127.0.0.1 --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml
