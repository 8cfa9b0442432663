#!/usr/bin/env bash
# `make run`: the whole monitor on this machine, end to end.
#   stack up -> migrate -> get a model -> worker -> replay news -> dashboard
# Each step runs when its command exists; Ctrl-C stops the worker and replay.
set -euo pipefail
cd "$(dirname "$0")/.."
finsent=.venv/bin/finsent
has() { "$finsent" --help | grep -qE "^  $1 "; }

"$finsent" stack up
"$finsent" db upgrade

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

if has models; then
  "$finsent" models ensure            # trains the quick profile when no model is promoted yet
fi
if has worker; then
  "$finsent" worker & pids+=($!)
fi
if has ingest; then
  "$finsent" ingest replay --speed "${FINSENT_REPLAY_SPEED:-600x}" & pids+=($!)
fi
if has dashboard; then
  "$finsent" dashboard
else
  echo "finsent: Kafka and PostgreSQL are up and migrated ($("$finsent" stack status | tr '\n' ';'))."
  echo "finsent: the worker, replay and dashboard are not part of this version yet; press Ctrl-C to stop."
  while true; do sleep 3600; done
fi
