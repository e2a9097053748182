#!/usr/bin/env bash
# Wait until the local Kafka broker(s) of a mode answer a real Metadata request (kcat -L).
#
# usage: scripts/kafka/wait-ready.sh [--mode single|cluster|secure|chaos] [--timeout SECONDS] [--quiet]
#   cluster: also waits until all 3 brokers are listed (registered and unfenced).
#   secure : also checks a SASL PLAIN and an OAUTHBEARER login (kcat's unsigned JWT) on
#            SASL_SSL :29093 and an mTLS connection on SSL :29094 (certs from
#            .cache/kafka/run/secure/env.sh). A broker without OAUTHBEARER (started by an
#            older start.sh) is therefore not ready. SCRAM is not probed:
#            Debian's kcat links librdkafka 2.0.2, whose SCRAM is rejected by Kafka 4.x
#            (nonce bug fixed in librdkafka 2.6.1); Java clients and SCRAM work fine.
#   --timeout  default 60
#
# Exit 0 when ready; non-zero (with the last 40 log lines) on timeout or if a broker
# process started by start.sh has exited.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

kafka_parse_args "$@"
mode="$KAFKA_ARG_MODE"
timeout="${KAFKA_ARG_TIMEOUT:-60}"
quiet=0
for a in "${KAFKA_ARGS_REST[@]+"${KAFKA_ARGS_REST[@]}"}"; do
  case "$a" in
    --quiet | -q) quiet=1 ;;
    -h | --help) kafka_usage "${BASH_SOURCE[0]}"; exit 0 ;;
    *) kafka_die "unknown argument: $a" ;;
  esac
done
[[ "$timeout" =~ ^[0-9]+$ ]] || kafka_die "--timeout must be a whole number of seconds"
command -v kcat >/dev/null 2>&1 || kafka_die "kcat not found; run scripts/kafka/setup.sh"

say() { [[ $quiet -eq 1 ]] || kafka_log "$@"; }

t0="$(kafka_now_ms)"
deadline=$(($(date +%s) + timeout))
bootstrap="$(kafka_bootstrap "$mode")"
expected="$(kafka_expected_brokers "$mode")"
ports=()
for id in $(kafka_node_ids "$mode"); do ports+=("$(kafka_broker_port "$mode" "$id")"); done

secure_ok() {
  local envf
  envf="$(kafka_run_dir secure)/env.sh"
  [[ -f "$envf" ]] || return 1
  # shellcheck disable=SC1090
  source "$envf"
  kcat -b "$KAFKA_SECURE_SASL_SSL_BOOTSTRAP" -L -t __kafka_ready_probe -m 3 -X log_level=0 \
    -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN \
    -X sasl.username="$KAFKA_SECURE_USERNAME" -X sasl.password="$KAFKA_SECURE_PASSWORD" \
    -X ssl.ca.location="$KAFKA_SECURE_CA_PEM" >/dev/null 2>&1 || return 1
  kcat -b "$KAFKA_SECURE_SASL_SSL_BOOTSTRAP" -L -t __kafka_ready_probe -m 3 -X log_level=0 \
    -X security.protocol=SASL_SSL -X sasl.mechanisms=OAUTHBEARER \
    -X enable.sasl.oauthbearer.unsecure.jwt=true -X sasl.oauthbearer.config="principal=$KAFKA_SECURE_USERNAME" \
    -X ssl.ca.location="$KAFKA_SECURE_CA_PEM" >/dev/null 2>&1 || return 1
  kcat -b "$KAFKA_SECURE_SSL_BOOTSTRAP" -L -t __kafka_ready_probe -m 3 -X log_level=0 \
    -X security.protocol=SSL -X ssl.ca.location="$KAFKA_SECURE_CA_PEM" \
    -X ssl.certificate.location="$KAFKA_SECURE_CLIENT_CERT_PEM" \
    -X ssl.key.location="$KAFKA_SECURE_CLIENT_KEY_PEM" >/dev/null 2>&1 || return 1
}

last=""
while :; do
  # Fail fast if a broker we launched has died.
  for id in $(kafka_node_ids "$mode"); do
    pf="$(kafka_pid_file "$mode" "$id")"
    if [[ -f "$pf" ]] && ! kafka_node_pid "$mode" "$id" >/dev/null; then
      kafka_log "node $id (pid $(cat "$pf" 2>/dev/null || echo '?')) is not running"
      kafka_tail_logs "$mode" 40
      exit 1
    fi
  done

  all_open=1
  for p in "${ports[@]}"; do kafka_port_open "$p" || { all_open=0; break; }; done
  if [[ $all_open -eq 1 ]]; then
    n="$(kafka_metadata_brokers "$bootstrap" 2 || true)"
    if [[ -n "$n" && "$n" -ge "$expected" ]]; then
      if [[ "$mode" != secure ]] || secure_ok; then
        say "$mode broker ready at $bootstrap ($n broker(s) listed, waited $(kafka_elapsed "$t0"))"
        exit 0
      fi
      last="plaintext ok, SASL_SSL/SSL listeners not ready yet"
    else
      last="metadata lists ${n:-no} broker(s), want $expected"
    fi
  else
    last="port(s) not open yet"
  fi

  if [[ $(date +%s) -ge $deadline ]]; then
    kafka_log "timed out after ${timeout}s waiting for the $mode broker at $bootstrap ($last)"
    [[ $quiet -eq 1 ]] || kafka_tail_logs "$mode" 40
    exit 1
  fi
  sleep 0.2
done
