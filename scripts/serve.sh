#!/usr/bin/env bash
# Serve the portal with gunicorn, with the outbox sender running beside it.
# With no MAIL_SERVER set, the sender prints each email here, so invitation links can be followed.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"

.venv/bin/flask --app wsgi outbox send --watch --interval 3 &
sender=$!
trap 'kill "$sender" 2>/dev/null || true' EXIT INT TERM

echo "Vouch is at http://127.0.0.1:${PORT}  (demo logins in README.md; Ctrl-C stops it)"
.venv/bin/gunicorn --bind "127.0.0.1:${PORT}" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - wsgi:app
