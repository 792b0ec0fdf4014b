#!/usr/bin/env bash
# Installs the Debian packages aitrader needs to build, run and test.
# Idempotent: only missing packages are installed; prints what it does.
# Usage: scripts/deps.sh [--runtime-only]
#        scripts/deps.sh --npm-peers [DIR...]
# --npm-peers installs the pinned npm packages the tests and `make bench`
# compare against or drive (tests/ccxt: ccxt and ws; bench/ta-peer:
# technicalindicators; tests/browser: playwright-core, which drives Debian's
# chromium and downloads no browser)
# with `npm ci` from each DIR's package-lock.json, only where node_modules does
# not already hold exactly the locked versions.
set -euo pipefail

npm_peers() {
  local root d rel rc=0
  root=$(cd "$(dirname "$0")/.." && pwd)
  [ $# -gt 0 ] || set -- tests/ccxt bench/ta-peer tests/browser
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "deps: node and npm are needed for the npm peers ($*): run scripts/deps.sh to install them" >&2
    return 1
  fi
  for rel in "$@"; do
    d=$root/$rel
    # Present when every dependency of package.json is installed at the
    # version package-lock.json pins.
    if node -e '
const fs = require("fs"), path = require("path"), d = process.argv[1];
const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(d, "package.json"))).dependencies || {});
const lock = JSON.parse(fs.readFileSync(path.join(d, "package-lock.json"))).packages || {};
const same = (n) => {
  try {
    const got = JSON.parse(fs.readFileSync(path.join(d, "node_modules", n, "package.json"))).version;
    return got === (lock["node_modules/" + n] || {}).version;
  } catch (e) { return false; }
};
process.exit(deps.every(same) ? 0 : 1);' "$d"; then
      echo "deps: npm peers of $rel present"
      continue
    fi
    echo "deps: npm ci in $rel (versions pinned by its package-lock.json)"
    if ! npm ci --prefix "$d" --no-audit --no-fund --loglevel=error; then
      echo "deps: npm ci in $rel failed: is the npm registry reachable (offline, proxy:" \
        "npm config get registry)? Figures and tests compared against it are left out." >&2
      rc=1
    fi
  done
  return $rc
}

if [ "${1:-}" = "--npm-peers" ]; then
  shift
  npm_peers "$@"
  exit
fi

build_pkgs=(
  build-essential cmake pkg-config
  libevent-dev libcurl4-openssl-dev libssl-dev libwebsockets-dev
  libpq-dev libsqlite3-dev libjansson-dev libinih-dev libjsmn-dev libexpat1-dev
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
