#!/usr/bin/env bash
# Fetch a real Apache Kafka broker + CLI tools (jars from Maven Central via mvn) into
# $KAFKA_CACHE_DIR/libs (default <repo>/.cache/kafka/libs) and install kcat.
#
# usage: scripts/kafka/setup.sh [--force]
#   --force   re-resolve the jars even if the cache marker says they are there
# Then trains AppCDS class-data archives once (a throw-away broker on random ports, ~20s),
# which makes every later broker start ~1.5s and every CLI call ~0.7s faster.
# env: KAFKA_CACHE_DIR (cache root), KAFKA_MVN_ARGS (extra mvn args, e.g. -Dmaven.repo.local=...),
#      KAFKA_CDS=0 (no CDS at all), KAFKA_CDS_TRAIN=0|1 (default 1; 0 when CI=true)
#
# Idempotent: a marker file (<libs>/.kafka-libs-version = version + pom hash) skips the
# maven step; kcat is only installed (apt-get) when it is not on PATH.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

force=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    -h | --help) kafka_usage "${BASH_SOURCE[0]}"; exit 0 ;;
    *) kafka_die "unknown argument: $a" ;;
  esac
done

t0="$(kafka_now_ms)"
mkdir -p "$KAFKA_CACHE_DIR"

# Serialise concurrent setups (e.g. parallel test runners).
exec 8>"$KAFKA_CACHE_DIR/.setup.lock"
flock -w 600 8 || kafka_die "timed out waiting for another setup.sh (lock $KAFKA_CACHE_DIR/.setup.lock)"

did=()

# --- jars ---------------------------------------------------------------------------------
if [[ $force -eq 0 ]] && kafka_libs_ready; then
  kafka_log "jars: cached ($(ls "$KAFKA_LIBS"/*.jar | wc -l) jars, Kafka $KAFKA_VERSION) in $KAFKA_LIBS"
else
  command -v mvn >/dev/null 2>&1 || kafka_die "mvn not found (apt-get install -y maven)"
  kafka_log "jars: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION + kafka-tools with maven ..."
  t1="$(kafka_now_ms)"
  tmp="$KAFKA_CACHE_DIR/libs.tmp.$$"
  rm -rf "$tmp"
  mvn_log="$KAFKA_CACHE_DIR/mvn-setup.log"
  # shellcheck disable=SC2086 # KAFKA_MVN_ARGS is split on purpose
  if ! JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$KAFKA_JAVA")")")}" \
    mvn -B -q -f "$KAFKA_SCRIPTS_DIR/pom.xml" \
    dependency:copy-dependencies \
    -DincludeScope=runtime \
    -DoutputDirectory="$tmp" ${KAFKA_MVN_ARGS:-} >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$tmp"
    kafka_die "maven dependency resolution failed (full log: $mvn_log)"
  fi
  for must in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar"; do
    [[ -f "$tmp/$must" ]] || kafka_die "maven did not produce $must"
  done
  kafka_libs_stamp >"$tmp/.kafka-libs-version"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  did+=("jars")
  kafka_log "jars: $(ls "$KAFKA_LIBS"/*.jar | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) -> $KAFKA_LIBS in $(kafka_elapsed "$t1")"
fi

# --- kcat ---------------------------------------------------------------------------------
if command -v kcat >/dev/null 2>&1; then
  kafka_log "kcat: present ($(command -v kcat))"
else
  kafka_log "kcat: installing with apt-get ..."
  t1="$(kafka_now_ms)"
  apt_log="$KAFKA_CACHE_DIR/apt-kcat.log"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  if ! "${sudo_cmd[@]}" apt-get install -y -qq kcat >"$apt_log" 2>&1; then
    kafka_log "kcat: install failed, running apt-get update and retrying ..."
    "${sudo_cmd[@]}" apt-get update -qq >>"$apt_log" 2>&1 || true
    if ! "${sudo_cmd[@]}" apt-get install -y -qq kcat >>"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2
      kafka_die "could not install kcat (log: $apt_log)"
    fi
  fi
  command -v kcat >/dev/null 2>&1 || kafka_die "kcat still not on PATH after apt-get install"
  did+=("kcat")
  kafka_log "kcat: installed in $(kafka_elapsed "$t1")"
fi

# --- AppCDS training (one-off, ~15s; makes every later broker start / CLI call faster) -------
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((30000 + RANDOM % 20000))
    kafka_port_open "$p" || { echo "$p"; return 0; }
  done
  return 1
}

cds_train() {
  local cds tmp bport cport cid pid ok=0 n
  cds="$(kafka_cds_dir)"
  tmp="$KAFKA_CACHE_DIR/cds-train.$$"
  [[ -n "$cds" && "$tmp" == "$KAFKA_CACHE_DIR"/* ]] || return 1
  rm -rf "$tmp" "$cds"
  mkdir -p "$tmp/data" "$tmp/logs" "$cds"
  bport="$(free_port)" && cport="$(free_port)" || return 1
  [[ "$bport" != "$cport" ]] || return 1
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | sed 's/^-/A/')"
  cat >"$tmp/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$tmp/data
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  KAFKA_CDS=0 KAFKA_TOOL_JVM_OPTS="$KAFKA_TOOL_JVM_OPTS -XX:ArchiveClassesAtExit=$cds/storage.jsa.tmp" \
    kafka_tool "$KAFKA_MAIN_STORAGE" format -c "$tmp/server.properties" -t "$cid" \
    --feature share.version=0 >"$tmp/logs/tools.log" 2>&1 || return 1
  kafka_broker_cmd "$tmp/server.properties" "$tmp/logs" "-XX:ArchiveClassesAtExit=$cds/broker.jsa.tmp"
  (
    exec 8>&-
    exec "${KAFKA_BROKER_CMD[@]}"
  ) >"$tmp/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    if kafka_port_open "$bport" && [[ "$(kafka_metadata_brokers "127.0.0.1:$bport" 2 || true)" == 1 ]]; then
      ok=1
      break
    fi
    sleep 0.2
  done
  if [[ $ok -eq 1 ]]; then
    # exercise admin, produce, fetch and group paths so their classes land in the archives
    KAFKA_CDS=0 KAFKA_TOOL_JVM_OPTS="$KAFKA_TOOL_JVM_OPTS -XX:ArchiveClassesAtExit=$cds/tools.jsa.tmp" \
      kafka_tool "$KAFKA_MAIN_TOPICS" --bootstrap-server "127.0.0.1:$bport" --create \
      --topic cds-train --partitions 2 >>"$tmp/logs/tools.log" 2>&1 || ok=0
    printf 'a\nb\nc\n' | kcat -P -b "127.0.0.1:$bport" -t cds-train -X log_level=0 >/dev/null 2>&1 || true
    timeout 20 kcat -b "127.0.0.1:$bport" -G cds-train-group cds-train -c 3 -e -q \
      -X log_level=0 >/dev/null 2>&1 || true
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ $ok -ne 1 ]]; then
    tail -n 20 "$tmp/logs/kafka.log" "$tmp/logs/tools.log" >&2 2>/dev/null || true
    rm -rf "$tmp"
    return 1
  fi
  for n in storage broker tools; do
    [[ -s "$cds/$n.jsa.tmp" ]] || { rm -rf "$tmp"; return 1; }
    mv "$cds/$n.jsa.tmp" "$cds/$n.jsa"
  done
  rm -rf "$tmp"
}

cds_train_default=1
[[ "${CI:-}" == true ]] && cds_train_default=0 # CI clones are fresh: training would not pay back
if [[ "${KAFKA_CDS:-1}" == 0 ]]; then
  kafka_log "cds: disabled (KAFKA_CDS=0)"
elif [[ "${KAFKA_CDS_TRAIN:-$cds_train_default}" == 0 ]]; then
  kafka_log "cds: training skipped (KAFKA_CDS_TRAIN=0 or CI=true); set KAFKA_CDS_TRAIN=1 to train"
elif [[ -f "$(kafka_cds_dir)/broker.jsa" && -f "$(kafka_cds_dir)/tools.jsa" && -f "$(kafka_cds_dir)/storage.jsa" ]]; then
  kafka_log "cds: class-data archives present"
else
  kafka_log "cds: training class-data archives (one-off, speeds up later starts) ..."
  t1="$(kafka_now_ms)"
  if cds_train; then
    did+=("cds")
    kafka_log "cds: archives written to $(kafka_cds_dir) in $(kafka_elapsed "$t1")"
  else
    rm -rf "$(kafka_cds_dir)"
    kafka_log "cds: training failed (not fatal; brokers just start ~1.5s slower)"
  fi
fi

if [[ ${#did[@]} -eq 0 ]]; then
  kafka_log "setup: nothing to do ($(kafka_elapsed "$t0"))"
else
  kafka_log "setup: done (${did[*]}) in $(kafka_elapsed "$t0")"
fi
