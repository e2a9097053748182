#!/usr/bin/env bash
# Prints the path of the Go toolchain the seed-rule differential test pins (GO_VERSION below: the reference's
# encoding/json and time.Parse behaviour is that release's). Fetched once through the Go module proxy
# (golang.org/toolchain) into .cache/go; any Go already on the machine (or Debian's golang-go, installed with
# apt-get when there is none) does the download.
#
# usage: scripts/lib/go-toolchain.sh   # -> /path/to/go (logs on stderr)
set -euo pipefail

GO_VERSION="go1.26.8"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
say() { printf '[go] %s\n' "$*" >&2; }

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "unsupported machine $(uname -m)"; exit 1 ;;
esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
module="golang.org/toolchain@v0.0.1-${GO_VERSION}.${os}-${arch}"
cache="$root/.cache/go/mod"
pinned="$cache/$module/bin/go"

if [[ -x "$pinned" ]]; then echo "$pinned"; exit 0; fi

# The machine's own Go, if it is the pinned release already.
for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
  if [[ -n "$candidate" && -x "$candidate" ]] && [[ "$("$candidate" env GOVERSION 2>/dev/null || true)" == "$GO_VERSION" ]]; then
    echo "$candidate"
    exit 0
  fi
done

bootstrap_go=""
for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then bootstrap_go="$candidate"; break; fi
done
if [[ -z "$bootstrap_go" ]]; then
  say "no Go on this machine: installing Debian's golang-go to fetch $GO_VERSION ..."
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -qq golang-go >/dev/null 2>&1 || {
    "${sudo_cmd[@]}" apt-get update -qq >/dev/null 2>&1 || true
    "${sudo_cmd[@]}" apt-get install -y -qq golang-go >/dev/null
  }
  bootstrap_go="$(command -v go)"
fi

say "fetching $GO_VERSION through the Go module proxy with $("$bootstrap_go" version) ..."
mkdir -p "$cache"
(cd "$root" && GOFLAGS=-mod=mod GOMODCACHE="$cache" GOTOOLCHAIN=local GO111MODULE=on "$bootstrap_go" mod download "$module")
# the module cache keeps files read-only and not executable: make the toolchain's programs runnable
dir="$cache/$module"
[[ -f "$dir/bin/go" ]] || { say "download finished but $dir/bin/go is missing"; exit 1; }
find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod a+x {} +
"$pinned" version >&2
echo "$pinned"
