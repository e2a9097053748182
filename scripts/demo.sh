#!/usr/bin/env bash
# Run processor end to end against the local Kafka broker and show what it did.
#
# usage: scripts/demo.sh [--count N] [--keep]
#   --count N  input records to feed (default 20000)
#   --keep     keep the demo topics and consumer group (default: delete them at the end)
#
# Steps: install what is missing (scripts/bootstrap.sh), start the local broker
# (scripts/kafka/start.sh, reuses a running one), build dist/processor, create three topics
# demo-<time>-in (6 partitions), demo-<time>-out, demo-<time>-out.dlq, feed N seed-format records
# (mostly valid, some short data, ~5% broken), run dist/processor with 6 workers, 2 consumers and
# 2 producers until every record is in the output or dead-letter topic, stop it with SIGTERM,
# then print counts, throughput, sample records and the group's committed offsets, and end with
# `processor dlq stats` of the dead-letter topic (what failed, why, from where, when).
# processor's JSON log goes to .cache/demo/<name>.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

count=20000
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --count) count="${2:?--count needs a number}"; shift 2 ;;
    --count=*) count="${1#*=}"; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "demo: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "demo: --count must be a positive whole number" >&2; exit 2; }

brokers="127.0.0.1:9092"
now_ms() { date +%s%3N; }
secs() { # START_MS [END_MS] -> "1.23s"
  local d=$((${2:-$(now_ms)} - $1))
  printf '%d.%02ds' $((d / 1000)) $(((d % 1000) / 10))
}
step() { printf '\n== %s\n' "$*"; }
bun="node_modules/.bin/bun"
demo() { "$bun" scripts/demo/demo.ts "$@" --brokers "$brokers"; }

t0="$(now_ms)"

step "Installing what is missing (npm packages incl. Bun, Kafka jars, kcat)"
scripts/bootstrap.sh

step "Starting the local Kafka broker ($brokers)"
scripts/kafka/start.sh

step "Building dist/processor"
if ! build_out="$("$bun" run build 2>&1)"; then
  printf '%s\n' "$build_out" >&2
  echo "demo: bun run build failed" >&2
  exit 1
fi
printf '%s\n' "$build_out" | grep -v '^\$ ' | sed 's/^/  /'

name="demo-$(date +%Y%m%d-%H%M%S)"
in_topic="$name-in"
out_topic="$name-out"
dlq_topic="$name-out.dlq"
group="$name"
mkdir -p .cache/demo
log="$root/.cache/demo/$name.log"

pid=""
created=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    # First signal: graceful stop; a second one makes processor exit at once.
    echo "  stopping processor (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [[ $created -eq 1 ]]; then
    if [[ $keep -eq 1 ]]; then
      step "Kept topics $in_topic, $out_topic, $dlq_topic and group $group (--keep)"
    else
      step "Deleting the demo topics (--keep keeps them)"
      demo delete --topics "$in_topic,$out_topic,$dlq_topic" --groups "$group" || true
    fi
  fi
  if [[ $rc -eq 0 ]]; then
    step "Done in $(secs "$t0") (processor log: $log)"
  elif [[ $rc -eq 130 || $rc -eq 143 ]]; then
    step "Interrupted after $(secs "$t0"); processor log: $log"
  else
    step "Demo FAILED (exit $rc) after $(secs "$t0"); processor log: $log"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Creating topics"
created=1
demo create --in "$in_topic" --out "$out_topic" --dlq "$dlq_topic" --partitions 6

step "Producing $count seed-format records to $in_topic"
demo produce --topic "$in_topic" --count "$count"

metrics_port=$((20000 + RANDOM % 20000))
cmd=(dist/processor --brokers "$brokers" --input-topics "$in_topic" --output-topic "$out_topic"
  --group-id "$group" --workers 6 --consumers 2 --producers 2 --metrics-port "$metrics_port")
step "Running processor (JSON log: $log)"
echo "  ${cmd[*]}"
p0="$(now_ms)"
"${cmd[@]}" >"$log" 2>&1 &
pid=$!

echo "  waiting until $out_topic + $dlq_topic hold $count records (timeout 120s) ..."
if ! demo wait --topics "$out_topic,$dlq_topic" --target "$count" --timeout 120 --pid "$pid" --metrics "http://127.0.0.1:$metrics_port/metrics"; then
  echo "  last lines of $log:" >&2
  tail -n 15 "$log" >&2
  exit 1
fi
p1="$(now_ms)"
echo "  all $count records processed $(secs "$p0" "$p1") after starting processor (incl. start-up and group join)"

echo "  sending SIGTERM to processor (pid $pid) ..."
kill -TERM "$pid"
set +e
wait "$pid"
code=$?
set -e
pid=""
echo "  processor exited with code $code after $(secs "$p1") of graceful shutdown"
final="$(grep '"msg":"progress"' "$log" | tail -n 1 || true)"
[[ -n "$final" ]] && echo "  last progress line: $final"
[[ $code -eq 0 ]] || { echo "demo: processor exited with $code; last lines of $log:" >&2; tail -n 15 "$log" >&2; exit 1; }

step "Results"
demo report --in "$in_topic" --out "$out_topic" --dlq "$dlq_topic" --group "$group" --count "$count"

step "Three output records ($out_topic)"
kcat -b "$brokers" -C -t "$out_topic" -o beginning -e -c 3 -q \
  -f '  partition %p offset %o key %k\n    value:   %s\n    headers: %h\n'

step "Three dead-letter records ($dlq_topic)"
kcat -b "$brokers" -C -t "$dlq_topic" -o beginning -e -c 3 -q \
  -f '  partition %p offset %o key %k\n    value:   %s\n    headers: %h\n' |
  sed 's/,x-processor-/\n             x-processor-/g'

step "What failed and why: processor dlq stats"
echo "  dist/processor dlq stats --brokers $brokers --output-topic $out_topic"
dist/processor dlq stats --brokers "$brokers" --output-topic "$out_topic" | sed 's/^/  /'
