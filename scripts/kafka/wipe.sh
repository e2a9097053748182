#!/usr/bin/env bash
# Stop the local Kafka broker(s) of a mode and delete its data/run dir
# ($KAFKA_CACHE_DIR/run/<mode>: data, logs, certs, cluster id). The jar cache is kept.
#
# usage: scripts/kafka/wipe.sh [--mode single|cluster|secure|chaos] [--all]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

kafka_parse_args "$@"
kafka_only_common_args "${BASH_SOURCE[0]}"
kafka_selected_modes

for mode in "${KAFKA_MODES[@]}"; do
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
