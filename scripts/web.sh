#!/usr/bin/env bash
# Builds the dashboard (web/) into web/dist: `npm ci` when web/node_modules
# does not match web/package-lock.json, then `npm run build` (tsc + vite).
# Called by `make` (the Makefile's `web` target, only when web/ changed).
# `scripts/web.sh deps` only installs web/node_modules, and fails (exit 1)
# when it cannot: the web app's tests (tests/runtime/web_unit.sh) need them.
#
# Without Node.js/npm (scripts/deps.sh installs them) or when the npm
# registry cannot be reached, it says so and exits 0 without building: the
# engine still runs, ui_dashboard answers the API and shows a "not built"
# page, and `make test`'s C suites are not held up by the web app. A build
# that fails (a type error, a broken import) fails: exit 1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
web=$root/web
stamp=$web/dist/.built

mode=${1:-build}
case $mode in build | deps) ;; *)
  echo "usage: scripts/web.sh [build|deps]" >&2
  exit 2
  ;;
esac

skip() {
  if [ "$mode" = deps ]; then
    echo "web: $*" >&2
    exit 1
  fi
  echo "web: $* — web/dist not built (the dashboard page says so; the API works)." >&2
  exit 0
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
  skip "node and npm not found (scripts/deps.sh installs Debian's nodejs and npm)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] || skip "Node.js $(node --version) is too old (18 or newer needed)"

lock_sum=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
have_sum=$(cat "$web/node_modules/.aitrader-lock-sha256" 2>/dev/null || true)
if [ "$lock_sum" != "$have_sum" ]; then
  echo "web: npm ci (versions pinned by web/package-lock.json)"
  if ! (cd "$web" && npm ci --no-audit --no-fund --loglevel=error); then
    skip "npm ci failed (is the npm registry reachable? npm config get registry)"
  fi
  echo "$lock_sum" >"$web/node_modules/.aitrader-lock-sha256"
fi
[ "$mode" = deps ] && exit 0

echo "web: npm run build (web/dist)"
rm -f "$stamp"
(cd "$web" && npm run --silent build -- --logLevel warn)
date -u +%FT%TZ >"$stamp"
echo "web: built web/dist"
