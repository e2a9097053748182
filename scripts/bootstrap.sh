#!/usr/bin/env bash
# Install everything a fresh clone needs; a fast no-op when it is all there.
#
# usage: scripts/bootstrap.sh
#   1. npm packages (incl. Bun, from the npm package `bun`): `npm ci` when node_modules is missing,
#      package-lock.json is newer than node_modules/.package-lock.json, or the patches in scripts/patches
#      (applied by patch-package in npm's postinstall) are missing or changed
#   2. scripts/kafka/setup.sh: Kafka 4.4 jars from Maven Central (cached in .cache/kafka) + kcat (apt-get)
#   3. scripts/lib/go-toolchain.sh: the Go release the seed-rule differential test pins (Go module proxy)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

now_ms() { date +%s%3N; }
elapsed() { # START_MS -> "1.23s"
  local d=$(($(now_ms) - $1))
  printf '%d.%02ds' $((d / 1000)) $(((d % 1000) / 10))
}
say() { printf '[bootstrap] %s\n' "$*" >&2; }

case "${1:-}" in
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
  "") ;;
  *) say "unknown argument: $1"; exit 2 ;;
esac

t0="$(now_ms)"

# --- npm packages ---------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || { say "npm not found (Node.js 18+ with npm is required)"; exit 1; }
reason=""
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ]]; then
  reason="node_modules missing"
elif [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  reason="package-lock.json changed"
elif [[ ! -x node_modules/.bin/bun ]]; then
  reason="node_modules/.bin/bun missing"
elif ! grep -q "patch (processor)" node_modules/@platformatic/kafka/dist/clients/consumer/consumer.js 2>/dev/null; then
  reason="the @platformatic/kafka patch (scripts/patches) is not applied"
elif [[ -n "$(find scripts/patches -newer node_modules/.package-lock.json -name '*.patch' 2>/dev/null)" ]]; then
  reason="a patch in scripts/patches changed"
fi
if [[ -n "$reason" ]]; then
  say "npm: $reason, running npm ci ..."
  t1="$(now_ms)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  say "npm: npm ci done in $(elapsed "$t1")"
else
  say "npm: node_modules up to date"
fi
bun_version="$(node_modules/.bin/bun --version 2>/dev/null)" || { say "node_modules/.bin/bun does not run (try: rm -rf node_modules && scripts/bootstrap.sh)"; exit 1; }
say "bun: $bun_version"

# --- Kafka jars + kcat ----------------------------------------------------------------------
scripts/kafka/setup.sh

# --- Go (the seed-rule differential test's reference program) ----------------------------------
say "go: $(scripts/lib/go-toolchain.sh)"

say "done in $(elapsed "$t0")"
