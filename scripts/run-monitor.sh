#!/usr/bin/env bash
# `make run`: the whole monitor on this machine, end to end:
#   stack up -> migrate -> a live model -> worker + alerter -> replay news -> dashboard
# The dashboard runs in the foreground (http://127.0.0.1:8501 by default);
# Ctrl-C stops it and the background processes. `make down` stops Kafka and
# PostgreSQL. Logs of the background processes go to $FINSENT_STATE_DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
finsent=.venv/bin/finsent
state="${FINSENT_STATE_DIR:-.state}"
mkdir -p "$state/logs"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # no busy-waiting threads on a shared CPU

"$finsent" stack up
"$finsent" db upgrade
# A live model: nothing to do when one is promoted; otherwise trains the quick
# profile (< 10 min on 2 cores), or says exactly what to do when there is no data.
"$finsent" models ensure

pids=()
cleanup() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$finsent" worker >"$state/logs/worker.log" 2>&1 & pids+=($!)
"$finsent" alerter >"$state/logs/alerter.log" 2>&1 & pids+=($!)
# The reference corpus: 70k real headlines (2009-2020) in time order, as fast as
# the worker takes them; set FINSENT_REPLAY_SPEED=60x to pace them instead.
"$finsent" ingest replay --speed "${FINSENT_REPLAY_SPEED:-max}" >"$state/logs/replay.log" 2>&1 & pids+=($!)
echo "finsent: worker, alerter and replay running (logs in $state/logs); metrics on :${FINSENT_METRICS_PORT:-9464}/metrics"
"$finsent" dashboard
