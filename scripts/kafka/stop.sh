#!/usr/bin/env bash
# Stop the local Kafka broker(s) of a mode started by start.sh.
#
# usage: scripts/kafka/stop.sh [--mode single|cluster|secure|chaos] [--timeout SECONDS] [--all]
#   SIGTERM (graceful, controlled shutdown) to every node, SIGKILL whatever is still
#   alive after --timeout seconds (default 20). Data is kept (see wipe.sh).
#   --all  stop every mode.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

kafka_parse_args "$@"
timeout="${KAFKA_ARG_TIMEOUT:-20}"
kafka_only_common_args "${BASH_SOURCE[0]}"
kafka_selected_modes

for mode in "${KAFKA_MODES[@]}"; do
  t0="$(kafka_now_ms)"
  pids=()
  for id in $(kafka_node_ids "$mode"); do
    if pid="$(kafka_node_pid "$mode" "$id")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  if [[ ${#pids[@]} -eq 0 ]]; then
    kafka_log "$mode: not running"
    for id in $(kafka_node_ids "$mode"); do rm -f "$(kafka_pid_file "$mode" "$id")"; done
    continue
  fi
  kafka_log "$mode: sent SIGTERM to pid(s) ${pids[*]}"
  deadline=$(($(date +%s) + timeout))
  while :; do
    alive=()
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [[ ${#alive[@]} -eq 0 ]] && break
    if [[ $(date +%s) -ge $deadline ]]; then
      kafka_log "$mode: still alive after ${timeout}s, sending SIGKILL to ${alive[*]}"
      for p in "${alive[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  for id in $(kafka_node_ids "$mode"); do rm -f "$(kafka_pid_file "$mode" "$id")"; done
  kafka_log "$mode: stopped in $(kafka_elapsed "$t0")"
done
