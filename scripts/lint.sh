#!/usr/bin/env bash
# Style and types: Biome (formatter + linter, pinned in package.json, config in biome.json) and tsc --noEmit.
#
# usage: scripts/lint.sh          # check (what CI runs)
#        scripts/lint.sh --fix    # format and apply safe fixes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
if [[ "${1:-}" == "--fix" ]]; then
  node_modules/.bin/biome check --write .
else
  node_modules/.bin/biome ci .
fi
node_modules/.bin/tsc --noEmit -p .
echo "[lint] biome and tsc clean" >&2
