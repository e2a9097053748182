#!/usr/bin/env bash
# Run the test suite: installs what is missing (scripts/bootstrap.sh), then `bun test "$@"`.
# The test preload (test/preload.ts) starts the local Kafka broker unless only test/unit is run
# or PROCESSOR_TEST_BROKERS names an existing cluster.
#
# usage: scripts/test.sh [BUN_TEST_ARGS...]
#   scripts/test.sh                      # everything (unit + integration against a real broker)
#   scripts/test.sh test/unit            # unit tests only, no broker
#   scripts/test.sh test/integration/smoke.test.ts -t 'round trip'
#
# Prints bun's output live, then one last line "N passed, N failed" (from bun's summary).
# Exit code: bun's exit code; 1 if no test ran.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

case "${1:-}" in
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
esac

scripts/bootstrap.sh || { echo "0 passed, 0 failed"; exit 1; }

out="$(mktemp "${TMPDIR:-/tmp}/processor-test.XXXXXX")"
trap 'rm -f "$out"' EXIT

# Keep colours when a person is watching (bun turns them off when its output is a pipe).
if [[ -t 1 && -z "${NO_COLOR:-}" && -z "${FORCE_COLOR:-}" ]]; then export FORCE_COLOR=1; fi

t0="$(date +%s)"
# bun prints the test report (and its summary) on stderr: merge it so tee shows and captures all of it.
node_modules/.bin/bun test "$@" 2>&1 | tee "$out"
code="${PIPESTATUS[0]}"

# Summary lines look like " 10 pass" / " 2 fail" (ANSI colours stripped first).
count() { sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E "^ *[0-9]+ $1\$" | awk '{ n += $1 } END { print n + 0 }'; }
summaries="$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -cE '^ *[0-9]+ (pass|fail)$')"
passed="$(count pass)"
failed="$(count fail)"

echo "[test] bun test exited with $code after $(($(date +%s) - t0))s" >&2
if [[ "$summaries" -eq 0 ]]; then
  echo "0 passed, 0 failed"
  exit 1
fi
echo "$passed passed, $failed failed"
if [[ "$code" -eq 0 && $((passed + failed)) -eq 0 ]]; then exit 1; fi
exit "$code"
