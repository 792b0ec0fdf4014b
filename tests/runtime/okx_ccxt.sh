#!/usr/bin/env bash
# ccxt protocol test: ccxt's stock okx client (tests/ccxt, pinned ccxt
# version) drives okx-sim over REST and WebSocket. See tests/ccxt/README.md.
set -euo pipefail

src="${AT_SOURCE_DIR:?AT_SOURCE_DIR not set (run through ctest)}"
bld="${AT_BUILD_DIR:?AT_BUILD_DIR not set (run through ctest)}"
sim="$bld/okx-sim"
dir="$src/tests/ccxt"

if [[ ! -x "$sim" ]]; then
    echo "okx_ccxt: $sim not built" >&2
    exit 1
fi
if ! command -v node >/dev/null 2>&1; then
    echo "okx_ccxt: node not found (Node.js >= 20 is required)" >&2
    exit 1
fi
# A clean clone (or a stale node_modules): install exactly what
# package-lock.json pins.
bash "$src/scripts/deps.sh" --npm-peers tests/ccxt

OKX_SIM="$sim" node --test "$dir/okx_sim.test.mjs" "$dir/okx_sim_ws.test.mjs"
