#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, then the npm workspaces.
# aws-lambda-ric builds libcurl and aws-lambda-cpp from source: it needs the autotools.
# Each step prints the seconds since the start (CI logs show where the time goes). The slow steps overlap:
# apt beside the npm download, then the native builds (npm runs one package's script phase after another's,
# so each package is rebuilt by its own npm) beside the console build.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { echo "setup [$((SECONDS - started))s] $*"; }
logs=$(mktemp -d)
# A failed step leaves no build running behind it.
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$logs"' EXIT
# make inside the native builds (curl, aws-lambda-cpp, node-gyp): every core.
export MAKEFLAGS="${MAKEFLAGS:--j$(nproc)}"

# Runs "$@" in the background, its output kept in $logs/<name>.log; `finish` waits for the next one to end (its log
# printed if it failed).
declare -A names=()
start() {
  local name=$1
  shift
  step "$name: started"
  ("$@") >"$logs/$name.log" 2>&1 &
  names[$!]=$name
}
finish() {
  local pid status=0
  wait -n -p pid || status=$?
  local name=${names[$pid]}
  unset "names[$pid]"
  if [ "$status" -ne 0 ]; then
    cat "$logs/$name.log"
    step "$name: FAILED (exit $status)"
    exit 1
  fi
  step "$name: done"
}

need=()
command -v autoreconf >/dev/null 2>&1 || need+=(autoconf automake libtool)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# The layer's xz standalone build ships a static busybox to unpack node on Lambda (launcher test, bench).
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
[ -x /usr/bin/aws ] || need+=(awscli)
# Reports: PDF and the screenshot test use headless Chromium; pdftoppm checks the PDF.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ "${#need[@]}" -gt 0 ]; then
  start apt bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq ${need[*]}"
else
  step "apt: nothing to install"
fi

# Packages only: the install scripts (native builds) run below, once the autotools are there.
step "npm ci: started"
npm ci --no-audit --no-fund --prefer-offline --ignore-scripts
step "npm ci: done"
if [ "${#names[@]}" -gt 0 ]; then finish; fi
# The quick ones first (esbuild checks its binary, classic-level finds its prebuilt one): the console build uses esbuild.
npm rebuild classic-level esbuild >/dev/null
step "classic-level, esbuild: done"

start aws-lambda-ric npm rebuild aws-lambda-ric
start better-sqlite3 npm rebuild better-sqlite3
# The web console's static files (served by the api package at /console/; about a second).
start console npm run build -w @faultline/console --silent
while [ "${#names[@]}" -gt 0 ]; do finish; done
step "all done"
