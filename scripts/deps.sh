#!/usr/bin/env bash
# Installs the Debian packages aitrader needs to build, run and test.
# Idempotent: only missing packages are installed; prints what it does.
# Usage: scripts/deps.sh [--runtime-only]
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libevent-dev libcurl4-openssl-dev libssl-dev libwebsockets-dev
  libpq-dev libsqlite3-dev libjansson-dev libinih-dev libjsmn-dev
)
test_pkgs=(
  libcmocka-dev valgrind postgresql sqlite3 curl clang-format python3
  chromium
)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--runtime-only" ] || want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js may come from another repository (the image ships nodesource's, which
# bundles npm); only ask Debian for it when there is no node at all.
if [ "${1:-}" != "--runtime-only" ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#want[@]} Debian packages present"
  exit 0
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
