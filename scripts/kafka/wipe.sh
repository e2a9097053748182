#!/usr/bin/env bash
# Stop the local Kafka broker(s) of a mode and delete its data/run dir
# ($KAFKA_CACHE_DIR/run/<mode>: data, logs, certs, cluster id). The jar cache is kept.
#
# usage: scripts/kafka/wipe.sh [--mode single|cluster|secure|chaos] [--all]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

kafka_parse_args "$@"
for a in "${KAFKA_ARGS_REST[@]+"${KAFKA_ARGS_REST[@]}"}"; do
  case "$a" in
    -h | --help) kafka_usage "${BASH_SOURCE[0]}"; exit 0 ;;
    *) kafka_die "unknown argument: $a" ;;
  esac
done
modes=("$KAFKA_ARG_MODE")
[[ $KAFKA_ARG_ALL -eq 1 ]] && modes=(single cluster secure chaos)

for mode in "${modes[@]}"; do
  "$KAFKA_SCRIPTS_DIR/stop.sh" --mode "$mode"
  dir="$(kafka_run_dir "$mode")"
  case "$dir" in
    "$KAFKA_RUN_ROOT"/*) ;;
    *) kafka_die "refusing to delete unexpected path $dir" ;;
  esac
  if [[ -d "$dir" ]]; then
    rm -rf "$dir"
    kafka_log "$mode: wiped $dir"
  else
    kafka_log "$mode: nothing to wipe"
  fi
  rm -f "$KAFKA_RUN_ROOT/$mode.lock"
done
