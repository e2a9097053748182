#!/usr/bin/env bash
# kafka-producer-perf-test (org.apache.kafka.tools.ProducerPerformance) on the cached jars.
#
# usage: scripts/kafka/perf-producer.sh [--mode single|cluster|secure|chaos] ARGS...
#   --bootstrap-server defaults to the mode's plaintext listener.
#   e.g. scripts/kafka/perf-producer.sh --topic perf --num-records 100000 \
#          --record-size 100 --throughput -1 --command-property acks=all linger.ms=5
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
kafka_run_wrapper "$KAFKA_MAIN_PERF_PRODUCER" -- "$@"
