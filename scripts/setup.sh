#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, then the npm workspaces.
# aws-lambda-ric builds libcurl and aws-lambda-cpp from source: it needs the autotools.
set -euo pipefail
cd "$(dirname "$0")/.."
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
  echo "setup: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# The web console's static files (served by the api package at /console/; about a second).
npm run build -w @faultline/console --silent
