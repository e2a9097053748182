#!/usr/bin/env bash
# Side-by-side benchmark: installs what is missing (scripts/bootstrap.sh), then runs scripts/bench/compare.ts.
# usage: scripts/bench/compare.sh [--count N] [--runs N] [--tests T1,T2,...] [--contenders LIST] [--quick] [--keep] [--no-build]
#        (all flags: scripts/bench/compare.sh --help)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
scripts/bootstrap.sh
exec node_modules/.bin/bun scripts/bench/compare.ts "$@"
