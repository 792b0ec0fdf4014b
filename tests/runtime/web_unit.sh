#!/usr/bin/env bash
# The web app's own tests (web/test, vitest): exact decimals and the
# contract conversion, formatting, the token fragment, every API route of
# the client and the /ws stream's reconnect against web/dev/mock-server.mjs
# (loopback, port 0), and the engine's JSON shapes decoded. Needs Node.js
# (scripts/deps.sh installs it) and web/node_modules (npm ci from the
# committed lockfile, done here when missing).
set -euo pipefail
src="${AT_SOURCE_DIR:?AT_SOURCE_DIR not set (run through ctest)}"
if ! command -v node >/dev/null 2>&1; then
  echo "web_unit: node not found (scripts/deps.sh installs Debian's nodejs and npm)" >&2
  exit 1
fi
bash "$src/scripts/web.sh" deps
cd "$src/web"
# typecheck first: the tests run through vitest's transform, which does not check types
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install vitest run --reporter=default
