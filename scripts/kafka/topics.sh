#!/usr/bin/env bash
# kafka-topics (org.apache.kafka.tools.TopicCommand) on the cached jars.
#
# usage: scripts/kafka/topics.sh [--mode single|cluster|secure|chaos] KAFKA_TOPICS_ARGS...
#   --bootstrap-server defaults to the mode's plaintext listener (single: 127.0.0.1:9092).
#   e.g. scripts/kafka/topics.sh --create --topic in --partitions 3
#        scripts/kafka/topics.sh --list
#        scripts/kafka/topics.sh --mode cluster --describe --topic in
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
kafka_run_wrapper "$KAFKA_MAIN_TOPICS" -XX:TieredStopAtLevel=1 -- "$@"
