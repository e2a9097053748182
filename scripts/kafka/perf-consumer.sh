#!/usr/bin/env bash
# kafka-consumer-perf-test (org.apache.kafka.tools.ConsumerPerformance) on the cached jars.
#
# usage: scripts/kafka/perf-consumer.sh [--mode single|cluster|secure|chaos] ARGS...
#   --bootstrap-server defaults to the mode's plaintext listener.
#   e.g. scripts/kafka/perf-consumer.sh --topic perf --num-records 100000 --timeout 30000
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
kafka_run_wrapper "$KAFKA_MAIN_PERF_CONSUMER" -- "$@"
