# shellcheck shell=bash
# Sourceable environment + helpers for the local Apache Kafka test broker.
#
#   source scripts/kafka/env.sh            # defaults to KAFKA_MODE=single
#   KAFKA_MODE=cluster source scripts/kafka/env.sh
#   kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list
#
# Exports: KAFKA_VERSION KAFKA_REPO KAFKA_CACHE_DIR KAFKA_LIBS KAFKA_RUN_ROOT KAFKA_JAVA
#          KAFKA_MODE KAFKA_BOOTSTRAP (plaintext bootstrap of KAFKA_MODE)
# Functions: kafka_tool MAIN_CLASS [ARGS...]   run any Kafka CLI class on the cached jars
#            kafka_* helpers used by the other scripts in this folder.
#
# This file sets no shell options (safe to source from an interactive shell);
# the scripts that source it use `set -euo pipefail` themselves.

KAFKA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_REPO="$(cd "$KAFKA_SCRIPTS_DIR/../.." && pwd)"
export KAFKA_SCRIPTS_DIR KAFKA_REPO

export KAFKA_VERSION="4.4.0"
export KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$KAFKA_REPO/.cache/kafka}"
export KAFKA_LIBS="$KAFKA_CACHE_DIR/libs"
export KAFKA_RUN_ROOT="$KAFKA_CACHE_DIR/run"
export KAFKA_LIBS_MARKER="$KAFKA_LIBS/.kafka-libs-version"
export KAFKA_MODE="${KAFKA_MODE:-single}"

# Java 17+ is required by the Kafka 4.x broker.
if [[ -z "${KAFKA_JAVA:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    KAFKA_JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    KAFKA_JAVA="$(command -v java)"
  else
    KAFKA_JAVA="/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
  fi
fi
export KAFKA_JAVA

# JVM options for CLI tools (override with KAFKA_TOOL_JVM_OPTS). Serial GC and a small
# heap start fastest; topics.sh also adds -XX:TieredStopAtLevel=1 (C1 only), while the perf
# wrappers keep the full C2 JIT.
export KAFKA_TOOL_JVM_OPTS="${KAFKA_TOOL_JVM_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -Xshare:auto}"

# Main classes (Kafka 4.4.0; verified by listing the jars).
export KAFKA_MAIN_BROKER="kafka.Kafka"                                   # kafka_2.13
export KAFKA_MAIN_STORAGE="kafka.tools.StorageTool"                       # kafka_2.13 (kafka-storage.sh)
export KAFKA_MAIN_TOPICS="org.apache.kafka.tools.TopicCommand"            # kafka-tools (kafka-topics.sh)
export KAFKA_MAIN_PERF_PRODUCER="org.apache.kafka.tools.ProducerPerformance"
export KAFKA_MAIN_PERF_CONSUMER="org.apache.kafka.tools.ConsumerPerformance"
export KAFKA_MAIN_CONFIGS="org.apache.kafka.tools.ConfigCommand"
export KAFKA_MAIN_GROUPS="org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
export KAFKA_MAIN_API_VERSIONS="org.apache.kafka.tools.BrokerApiVersionsCommand"
export KAFKA_MAIN_METADATA_QUORUM="org.apache.kafka.tools.MetadataQuorumCommand"
export KAFKA_MAIN_FEATURES="org.apache.kafka.tools.FeatureCommand"
export KAFKA_MAIN_CONSOLE_PRODUCER="org.apache.kafka.tools.ConsoleProducer"
export KAFKA_MAIN_CONSOLE_CONSUMER="org.apache.kafka.tools.consumer.ConsoleConsumer"

# Print a script's leading comment block as its --help text.
kafka_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

kafka_log() { printf '[kafka] %s\n' "$*" >&2; }
kafka_die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

# Milliseconds since epoch (for timing output).
kafka_now_ms() { date +%s%3N; }
kafka_elapsed() { # START_MS -> "1.23s"
  local d=$(( $(kafka_now_ms) - $1 ))
  printf '%d.%02ds' $((d / 1000)) $(((d % 1000) / 10))
}

kafka_libs_ready() {
  [[ -f "$KAFKA_LIBS_MARKER" ]] && [[ "$(cat "$KAFKA_LIBS_MARKER")" == "$(kafka_libs_stamp)" ]]
}
# Stamp = Kafka version + hash of the pom (changing the pom re-resolves the jars).
kafka_libs_stamp() {
  printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$KAFKA_SCRIPTS_DIR/pom.xml" | cut -c1-16)"
}

# --- AppCDS (class-data sharing) -----------------------------------------------------------
# setup.sh trains dynamic CDS archives (broker / storage tool / other tools) once per jar
# cache + JDK; using them cuts broker start from ~4s to ~2.5s and CLI tools by ~40%.
# Disable with KAFKA_CDS=0. A stale/mismatched archive is silently ignored by the JVM.
kafka_cds_dir() {
  local j
  j="$(readlink -f "$KAFKA_JAVA" 2>/dev/null || echo "$KAFKA_JAVA")"
  echo "$KAFKA_LIBS/.cds/$(printf '%s %s' "$j" "$(stat -c '%Y %s' "$j" 2>/dev/null)" | sha256sum | cut -c1-12)"
}
kafka_cds_opts() { # NAME (broker|storage|tools) -> JVM flags, or nothing
  [[ "${KAFKA_CDS:-1}" != 0 ]] || return 0
  local f
  f="$(kafka_cds_dir)/$1.jsa"
  [[ -f "$f" ]] && printf '%s' "-XX:SharedArchiveFile=$f -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
  return 0
}

# Broker JVM command line -> array KAFKA_BROKER_CMD.   kafka_broker_cmd PROPS LOG_DIR [EXTRA_JVM_OPTS...]
# env: KAFKA_HEAP_OPTS (default "-Xms256m -Xmx512m"), KAFKA_JVM_OPTS (appended).
kafka_broker_cmd() {
  local props="$1" logdir="$2"
  shift 2
  # shellcheck disable=SC2206,SC2034 # option strings are split on purpose; used by callers
  KAFKA_BROKER_CMD=("$KAFKA_JAVA" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
    "$@" ${KAFKA_JVM_OPTS:-}
    -Djava.awt.headless=true
    -Dkafka.logs.dir="$logdir"
    -Dlog4j2.configurationFile="$KAFKA_SCRIPTS_DIR/log4j2-broker.xml"
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_BROKER" "$props")
}

# Run a Kafka CLI main class on the cached jars, e.g.
#   kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
kafka_tool() {
  if [[ $# -lt 1 ]]; then
    echo "usage: kafka_tool MAIN_CLASS [ARGS...]" >&2
    return 2
  fi
  if ! kafka_libs_ready; then
    echo "[kafka] jars not found in $KAFKA_LIBS; run scripts/kafka/setup.sh first" >&2
    return 1
  fi
  local main="$1" cds=tools
  shift
  [[ "$main" == "$KAFKA_MAIN_STORAGE" ]] && cds=storage
  # shellcheck disable=SC2086,SC2046 # option strings are split on purpose
  "$KAFKA_JAVA" $KAFKA_TOOL_JVM_OPTS $(kafka_cds_opts "$cds") \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SCRIPTS_DIR/log4j2-tools.xml" \
    -cp "$KAFKA_LIBS/*" "$main" "$@"
}

# Used by topics.sh / perf-*.sh:  kafka_run_wrapper MAIN_CLASS [EXTRA_JVM_OPTS...] -- ARGS...
# Strips "--mode M" from ARGS (selects the default bootstrap) and adds
# "--bootstrap-server <mode's plaintext bootstrap>" unless ARGS already name a bootstrap.
kafka_run_wrapper() {
  local main="$1" mode="$KAFKA_MODE" a has_bs=0 help=0
  shift
  local jvm=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do jvm+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  local args=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --mode) mode="${2:?--mode needs a value}"; shift 2; continue ;;
      --mode=*) mode="${1#*=}"; shift; continue ;;
    esac
    a="$1"
    case "$a" in
      --bootstrap-server | --bootstrap-server=* | --bootstrap-controller | --bootstrap-controller=* | bootstrap.servers=*) has_bs=1 ;;
      -h | --help | --version) help=1 ;;
    esac
    args+=("$a")
    shift
  done
  kafka_check_mode "$mode" || return 1
  if [[ $has_bs -eq 0 && $help -eq 0 ]]; then
    args=(--bootstrap-server "$(kafka_bootstrap "$mode")" "${args[@]+"${args[@]}"}")
  fi
  KAFKA_TOOL_JVM_OPTS="$KAFKA_TOOL_JVM_OPTS ${jvm[*]+"${jvm[*]}"}" kafka_tool "$main" "${args[@]+"${args[@]}"}"
}

# ---------------------------------------------------------------------------
# Modes and topology
#   single : node 1  broker 127.0.0.1:9092   controller 127.0.0.1:9093
#   cluster: nodes 1-3 brokers 127.0.0.1:19092-19094 controllers 127.0.0.1:19192-19194
#   secure : node 1  PLAINTEXT 127.0.0.1:29092 (admin), SASL_SSL 127.0.0.1:29093 (SCRAM, PLAIN, OAUTHBEARER),
#            SSL (mTLS) 127.0.0.1:29094, controller 127.0.0.1:29193
#   chaos  : node 1  broker 127.0.0.1:39092   controller 127.0.0.1:39093 (like single, but a
#            broker of its own that fault-injection runs may stop or SIGKILL without
#            disturbing whoever uses the single broker)
# ---------------------------------------------------------------------------
kafka_check_mode() {
  case "$1" in
    single | cluster | secure | chaos) ;;
    *)
      printf "[kafka] ERROR: unknown mode '%s' (expected single|cluster|secure|chaos)\n" "$1" >&2
      return 1
      ;;
  esac
}

kafka_node_ids() { # MODE
  case "$1" in
    cluster) echo "1 2 3" ;;
    *) echo "1" ;;
  esac
}
kafka_expected_brokers() { # MODE
  case "$1" in
    cluster) echo 3 ;;
    *) echo 1 ;;
  esac
}
kafka_broker_port() { # MODE NODE_ID  (plaintext client port)
  case "$1" in
    single) echo 9092 ;;
    cluster) echo $((19091 + $2)) ;;
    secure) echo 29092 ;;
    chaos) echo 39092 ;;
  esac
}
kafka_controller_port() { # MODE NODE_ID
  case "$1" in
    single) echo 9093 ;;
    cluster) echo $((19191 + $2)) ;;
    secure) echo 29193 ;;
    chaos) echo 39093 ;;
  esac
}
kafka_bootstrap() { # MODE -> comma separated plaintext bootstrap servers
  local mode="$1" id out=""
  for id in $(kafka_node_ids "$mode"); do
    out="${out:+$out,}127.0.0.1:$(kafka_broker_port "$mode" "$id")"
  done
  echo "$out"
}
kafka_run_dir() { echo "$KAFKA_RUN_ROOT/$1"; }           # MODE
kafka_node_dir() { echo "$KAFKA_RUN_ROOT/$1/node$2"; }   # MODE NODE_ID
kafka_pid_file() { echo "$KAFKA_RUN_ROOT/$1/node$2/kafka.pid"; }
kafka_log_file() { echo "$KAFKA_RUN_ROOT/$1/node$2/logs/kafka.log"; }
kafka_stdout_file() { echo "$KAFKA_RUN_ROOT/$1/node$2/logs/stdout.log"; }

# Prints the PID of the node's broker process if it is running, else nothing / rc 1.
# The PID is only trusted if /proc/PID/cmdline is a kafka.Kafka JVM on this node's config.
kafka_node_pid() { # MODE NODE_ID
  local pf pid
  pf="$(kafka_pid_file "$1" "$2")"
  [[ -f "$pf" ]] || return 1
  pid="$(cat "$pf" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
    grep -qF -- "$(kafka_node_dir "$1" "$2")/server.properties"; then
    echo "$pid"
    return 0
  fi
  return 1
}

# One real Metadata request with kcat. Prints the number of live brokers listed.
kafka_metadata_brokers() { # BOOTSTRAP [TIMEOUT_S]
  local out
  out="$(kcat -b "$1" -L -t __kafka_ready_probe -m "${2:-3}" \
    -X log_level=0 2>/dev/null)" || return 1
  # "Metadata for __kafka_ready_probe (from broker 1: 127.0.0.1:9092/1):\n 3 brokers:"
  printf '%s\n' "$out" | sed -n 's/^ *\([0-9][0-9]*\) brokers:.*/\1/p' | head -n1
}

# True if the mode's broker(s) answer a metadata request and all expected brokers are listed.
kafka_is_healthy() { # MODE [TIMEOUT_S]
  local n
  n="$(kafka_metadata_brokers "$(kafka_bootstrap "$1")" "${2:-3}")" || return 1
  [[ -n "$n" && "$n" -ge "$(kafka_expected_brokers "$1")" ]]
}

# Is something listening on 127.0.0.1:PORT?
kafka_port_open() { # PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

kafka_tail_logs() { # MODE [LINES]
  local mode="$1" lines="${2:-40}" id f
  for id in $(kafka_node_ids "$mode"); do
    for f in "$(kafka_log_file "$mode" "$id")" "$(kafka_stdout_file "$mode" "$id")"; do
      if [[ -s "$f" ]]; then
        printf '[kafka] ---- last %s lines of %s ----\n' "$lines" "$f" >&2
        tail -n "$lines" "$f" >&2
      fi
    done
  done
}

# Parse the common [--mode M] [--timeout S] options; sets KAFKA_ARG_MODE/KAFKA_ARG_TIMEOUT
# and leaves unknown args in KAFKA_ARGS_REST (array).
# shellcheck disable=SC2034 # the KAFKA_ARG_* variables are read by the calling scripts
kafka_parse_args() {
  KAFKA_ARG_MODE="${KAFKA_MODE:-single}"
  KAFKA_ARG_TIMEOUT=""
  KAFKA_ARG_ALL=0
  KAFKA_ARGS_REST=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --mode) KAFKA_ARG_MODE="${2:?--mode needs a value}"; shift 2 ;;
      --mode=*) KAFKA_ARG_MODE="${1#*=}"; shift ;;
      --timeout) KAFKA_ARG_TIMEOUT="${2:?--timeout needs a value}"; shift 2 ;;
      --timeout=*) KAFKA_ARG_TIMEOUT="${1#*=}"; shift ;;
      --all) KAFKA_ARG_ALL=1; shift ;;
      -h | --help) KAFKA_ARGS_REST+=("$1"); shift ;;
      *) KAFKA_ARGS_REST+=("$1"); shift ;;
    esac
  done
  kafka_check_mode "$KAFKA_ARG_MODE"
}

# For scripts that take only the common options: after kafka_parse_args, --help prints SCRIPT's
# usage and exits; any other argument left in KAFKA_ARGS_REST is an error.   kafka_only_common_args SCRIPT
kafka_only_common_args() {
  local a
  for a in "${KAFKA_ARGS_REST[@]+"${KAFKA_ARGS_REST[@]}"}"; do
    case "$a" in
      -h | --help) kafka_usage "$1"; exit 0 ;;
      *) kafka_die "unknown argument: $a" ;;
    esac
  done
}

# The modes a script acts on -> array KAFKA_MODES: --mode M, or every mode with --all.
# shellcheck disable=SC2034 # read by the calling scripts
kafka_selected_modes() {
  KAFKA_MODES=("$KAFKA_ARG_MODE")
  if [[ $KAFKA_ARG_ALL -eq 1 ]]; then KAFKA_MODES=(single cluster secure chaos); fi
}

kafka_check_mode "$KAFKA_MODE" || return 1
KAFKA_BOOTSTRAP="$(kafka_bootstrap "$KAFKA_MODE")"
export KAFKA_BOOTSTRAP
