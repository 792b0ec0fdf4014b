#!/usr/bin/env bash
# The dashboard in a real browser (tests/browser/dashboard.mjs: playwright-core
# driving Debian's chromium, never a downloaded one) against the real engine:
# okx-sim's demo account in long/short mode, the paper venue priced by it,
# two stub-AI traders (beta opens on paper at start), risk.limits. Every page
# loads without console errors at 1280 and 390 px (the Arena: a row per
# trader, sortable, beta's curve); a market order from the Trade page shows
# in Positions and is filled at okx-sim; a limit order cancelled from the page is canceled at
# okx-sim; a risk rejection shows its rule; "Run now" brings a decision into
# the Traders page live; the News page lists the headlines of an RSS feed
# (tests/fake_feeds/fake_feeds.py) with their source, time, coin chips and
# scores, filters them by coin, and shows the Fear & Greed index (a fake
# index server: its latest value and label, its history); a story added to
# the feed is stored (and, where the engine pushes news on /ws, prepended
# live). Screenshots of every page at both widths stay in
# $AT_BUILD_DIR/tests/dashboard_browser/ (listed at the end).
#
# Skipped (exit 77, ctest's SKIP_RETURN_CODE) with the reason when node (20+),
# chromium, web/dist or playwright-core (npm ci from tests/browser's lockfile)
# is missing: skipped, never passed.
set -euo pipefail
: "${AT_SOURCE_DIR:?AT_SOURCE_DIR not set (run through ctest)}"
: "${AT_BUILD_DIR:?AT_BUILD_DIR not set (run through ctest)}"
CHROMIUM=${AT_CHROMIUM:-/usr/bin/chromium}
# The app served: the tree's web/dist (named, so an installed copy under the
# prefix is never what is tested), or AT_WEB_DIST (another build of web/).
WEB_DIST=${AT_WEB_DIST:-$AT_SOURCE_DIR/web/dist}
skip() {
  echo "dashboard_browser: SKIPPED: $*" >&2
  exit 77
}
command -v node >/dev/null 2>&1 ||
  skip "node not found (scripts/deps.sh installs Debian's nodejs and npm)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] ||
  skip "Node.js $(node --version) is too old for playwright-core (20 or newer)"
[ -x "$CHROMIUM" ] || skip "$CHROMIUM not found (scripts/deps.sh installs Debian's chromium)"
[ -f "$WEB_DIST/index.html" ] ||
  skip "$WEB_DIST is not built (make, or scripts/web.sh, builds web/dist; it needs node and npm)"
bash "$AT_SOURCE_DIR/scripts/deps.sh" --npm-peers tests/browser ||
  skip "playwright-core is not installed in tests/browser (npm ci failed: is the npm registry reachable?)"

source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

ART="$AT_BUILD_DIR/tests/dashboard_browser"
rm -rf "$ART"
mkdir -p "$ART"

sim_up 5 dk:demo-secret-1:dp:long_short_mode:10000
export DK=dk DS=demo-secret-1 DP=dp
SIMAUTH=(dk demo-secret-1 dp -H "x-simulated-trading: 1")
echo '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "hold"}]}' >answers.txt
# beta opens on the paper venue at start: the Arena page has a curve to draw
echo '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.05, "leverage": 2, "reason": "arena"}]}' >answers-beta.txt
MAX_LEVER=5

# news: an RSS feed and the Fear & Greed index, served by fake_feeds.py and
# asked every 2 s (the index: when its answer says the next value comes)
mkdir -p feeds
now_rfc() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S +0000'; }
NOW=$(date +%s)
DAY=$((NOW / 86400 * 86400))
NEWS_TITLE="Bitcoin surges to a record high"
cat >feeds/news.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Coin Wire</title><link>https://coins.example/</link>
<item><title>$NEWS_TITLE</title><link>https://coins.example/story/btc-record</link>
  <description>BTC rallied and soared.</description><pubDate>$(now_rfc $((NOW - 600)))</pubDate></item>
<item><title>Exchange hacked: ether stolen, users panic</title><link>https://coins.example/story/hack</link>
  <pubDate>$(now_rfc $((NOW - 300)))</pubDate></item>
</channel></rss>
EOF
cat >feeds/fng.json <<EOF
{"name": "Fear and Greed Index", "data": [
 {"value": "71", "value_classification": "Greed", "timestamp": "$DAY", "time_until_update": "3600"},
 {"value": "24", "value_classification": "Extreme Fear", "timestamp": "$((DAY - 86400))"},
 {"value": "50", "value_classification": "Neutral", "timestamp": "$((DAY - 2 * 86400))"}],
 "metadata": {"error": null}}
EOF
python3 "$AT_SOURCE_DIR/tests/fake_feeds/fake_feeds.py" --dir feeds >feeds.out 2>feeds.err &
RT_PIDS+=("$!")
wait_log feeds.out "http://127.0.0.1:" 10
FURL=$(head -1 feeds.out)

{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP "instruments = BTC-USDT-SWAP"
  cat <<EOF
[exchange.paper]
module = paper
market = exchange.okx_demo
rest_url = $URL
instruments = BTC-USDT-SWAP
pos_mode = long_short_mode
balance = 5000
[risk.limits]
max_leverage = $MAX_LEVER
default_leverage = 3
disable = margin_per_trade
max_opens_per_hour = 50
[risk.breaker]
[ai.alpha]
module = stub
answers_file = $RT_TMP/answers.txt
[trader.alpha]
ai = ai.alpha
account = exchange.paper
symbols = BTC-USDT-SWAP
long_period = 60m
[ai.beta]
module = stub
model = stub-beta
answers_file = $RT_TMP/answers-beta.txt
[trader.beta]
ai = ai.beta
account = exchange.paper
symbols = BTC-USDT-SWAP
long_period = 60m
[source.news]
module = rss
feeds = $FURL/news.xml
interval = 2s
[source.fng]
module = feargreed
url = $FURL/fng.json
history = 7
interval = 2s
[ui.dashboard]
port = 0
static_dir = $WEB_DIST
EOF
} >engine.ini

engine_start
wait_log engine.out "ui.dashboard: state up" 30
line=$(grep '^dashboard: http' engine.out | tail -1)
PORT=$(sed -n 's|^dashboard: http://127.0.0.1:\([0-9]*\)/#token=.*|\1|p' <<<"$line")
TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
check "the dashboard printed its URL with the token" test -n "$PORT" -a -n "$TOKEN"
wait_log engine.out "exchange.okx_demo: state up" 30
wait_log engine.out "exchange.paper: state up" 30
wait_log engine.out "core: running" 30

# --- the browser ----------------------------------------------------------------
RC=0
BT_URL="http://127.0.0.1:$PORT" BT_TOKEN="$TOKEN" BT_CHROMIUM="$CHROMIUM" BT_ARTIFACTS="$ART" \
  BT_RESULTS="$RT_TMP/results.json" BT_ACCOUNT=exchange.okx_demo BT_PAPER=exchange.paper \
  BT_INST=BTC-USDT-SWAP BT_TRADER=alpha BT_MAX_LEVER=$MAX_LEVER \
  BT_NEWS_TITLE="$NEWS_TITLE" BT_NEWS_SYMBOL=BTC BT_NEWS_FEED="$RT_TMP/feeds/news.xml" \
  BT_FNG_VALUE=71 BT_FNG_LABEL=Greed \
  node "$AT_SOURCE_DIR/tests/browser/dashboard.mjs" >browser.out 2>&1 || RC=$?
cat browser.out
check "every browser check passed" [ "$RC" = 0 ]

# --- what the page did, at okx-sim ------------------------------------------------
res() { j results.json "d.get('$1', {}).get('$2', '')" 2>/dev/null || true; }
MCL=$(res market clOrdId)
LCL=$(res limit clOrdId)
check "the market order from the page is filled at okx-sim" sim_order_is BTC-USDT-SWAP "$MCL" filled "${SIMAUTH[@]}"
check "as a manual order of the engine" qeq "SELECT origin FROM orders WHERE cl_ord_id='$MCL'" manual
sim_long() {
  call GET "/api/v5/account/positions?instId=BTC-USDT-SWAP" "" "${SIMAUTH[@]}" &&
    [ "$(j out.json '[p["pos"] for p in d["data"] if p["posSide"] == "long"]')" = "['1']" ]
}
check "okx-sim holds the long of 1 contract" sim_long
check "the limit order cancelled on the page is canceled at okx-sim" \
  sim_order_is BTC-USDT-SWAP "$LCL" canceled "${SIMAUTH[@]}"
sim_orders() {
  call GET "/api/v5/trade/orders-history?instType=SWAP" "" "${SIMAUTH[@]}" >/dev/null
  j out.json 'sorted(o["clOrdId"] for o in d["data"])'
}
check "the refused order never reached okx-sim (only those two there)" \
  [ "$(sim_orders)" = "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$MCL" "$LCL")" ]
check "the engine stored it refused" \
  qeq "SELECT count(*) FROM orders WHERE origin='manual' AND op='place' AND code='risk_rejected'" 1

engine_stop
[ "$RT_FAILS" = 0 ] || cp engine.out sim.out browser.out feeds.err "$ART/" 2>/dev/null || true
echo "# artifacts (screenshots) in $ART:"
ls -1 "$ART" | sed 's/^/#   /'
rt_finish
