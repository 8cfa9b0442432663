#!/usr/bin/env bash
# `make run`: the whole monitor on this machine, end to end:
#   stack up -> migrate -> a live model -> worker + alerter + webhook receiver
#   -> replay the history, then the live segment -> dashboard,
#   with the full-profile model training in the background meanwhile.
# The dashboard runs in the foreground (http://127.0.0.1:8501 by default);
# Ctrl-C stops it and the background processes (the trainer saves a checkpoint
# first; the next run resumes it). `make down` stops Kafka and PostgreSQL.
# Logs of the background processes go to $FINSENT_STATE_DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
finsent=.venv/bin/finsent
state="${FINSENT_STATE_DIR:-.state}"
mkdir -p "$state/logs"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # no busy-waiting threads on a shared CPU

"$finsent" stack up
"$finsent" db upgrade
# A live model: nothing to do when one is promoted; otherwise registers the
# release in release/ (checked against its manifest) when there is one, else trains
# the quick profile (< 10 min on 2 cores), or says exactly what to do when there is no data.
"$finsent" models ensure

pids=()
trainer=""
cleanup() {
  trap - EXIT INT TERM
  kill -TERM "${pids[@]}" ${trainer:+"$trainer"} 2>/dev/null || true
  if [ -n "$trainer" ] && kill -0 "$trainer" 2>/dev/null; then
    echo "finsent: waiting for the background trainer to save its checkpoint (up to 3 min)"
    for _ in $(seq 180); do kill -0 "$trainer" 2>/dev/null || break; sleep 1; done
    kill -KILL "$trainer" 2>/dev/null || true  # last.pt is written atomically: the previous one survives
  fi
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The alerter signs webhooks with FINSENT_WEBHOOK_SECRET when the rules name it
# (secret_env); the receiver then verifies with the same secret.
export FINSENT_WEBHOOK_SECRET="${FINSENT_WEBHOOK_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')}"
rules="${FINSENT_ALERT_RULES:-monitor/alerts/rules.example.yaml}"
verify=()
if grep -Eq '^[^#]*secret_env:[[:space:]]*FINSENT_WEBHOOK_SECRET' "$rules"; then verify=(--secret-env FINSENT_WEBHOOK_SECRET); fi

"$finsent" worker >"$state/logs/worker.log" 2>&1 & pids+=($!)
"$finsent" alerter >"$state/logs/alerter.log" 2>&1 & pids+=($!)
# The default rules' receiver (http://127.0.0.1:9095/alerts): one line per alert in receiver.log.
"$finsent" alerts receiver --port 9095 --log "$state/logs/receiver.log" "${verify[@]}" \
  >"$state/logs/receiver-stdout.log" 2>&1 & pids+=($!)
# The reference corpus: 70k real headlines (2009-2020) in time order, as fast as
# the worker takes them (FINSENT_REPLAY_SPEED=60x paces them); then, once the
# worker has caught up, the live segment (NVIDIA's guidance cut, Nov 2018, also
# in the history at its own dates) published from now on, 250x compressed, so
# the default rules fire within about ten minutes (FINSENT_LIVE_SEGMENT=0: off).
(
  child=""
  trap 'kill -TERM ${child:-} 2>/dev/null; exit 143' TERM INT
  "$finsent" ingest replay --speed "${FINSENT_REPLAY_SPEED:-max}" & child=$!; wait "$child"
  "$finsent" ingest live-segment & child=$!; wait "$child"
) >"$state/logs/replay.log" 2>&1 & pids+=($!)
# The full-profile model, resumed from runs/full/last.pt, at the lowest priority on
# FINSENT_BACKGROUND_THREADS threads; promoted through the retraining gate if better
# (FINSENT_BACKGROUND_TRAINING=0: off). Progress: the Model page.
OMP_NUM_THREADS="${FINSENT_BACKGROUND_THREADS:-1}" nice -n 19 "$finsent" background-train \
  >>"$state/logs/background-train.log" 2>&1 & trainer=$!  # appended: a resumed run keeps its story
echo "finsent: worker, alerter, receiver, replay and background training running (logs in $state/logs);" \
     "metrics on :${FINSENT_METRICS_PORT:-9464}/metrics"
"$finsent" dashboard
