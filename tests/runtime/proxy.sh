#!/usr/bin/env bash
# [core] proxy and the per-instance proxy keys, in the real engine against
# okx-sim, through recording CONNECT proxies (tests/fake_llm/connect_proxy.py):
# the exchange's REST and its WebSockets (public and private) go in CONNECT
# tunnels through [core] proxy; an instance with its own proxy (one that
# wants a password) goes through that one, its password never logged; an
# instance with proxy = none connects directly. check-config refuses a
# malformed proxy at its line without echoing it.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

# proxy_start NAME ARGS...: start a recording proxy; sets NAME_URL, logs to NAME.log.
proxy_start() {
  local name=$1; shift
  python3 "$AT_SOURCE_DIR/tests/fake_llm/connect_proxy.py" --log "$RT_TMP/$name.log" "$@" \
    >"$name.out" 2>"$name.err" &
  RT_PIDS+=("$!")
  wait_log "$name.out" "http://127.0.0.1:" 10
  printf -v "${name}_URL" '%s' "$(head -1 "$name.out")"
}

cat >accounts.json <<'EOF'
[{"apiKey": "dk", "secretKey": "demo-secret-1", "passphrase": "dp", "demo": true,
  "posMode": "net_mode", "balances": {"USDT": "10000"}},
 {"apiKey": "lk", "secretKey": "live-secret-22", "passphrase": "lp", "demo": false,
  "posMode": "net_mode", "balances": {"USDT": "10000"}}]
EOF
sim_start sim.out --seed 7 --accounts accounts.json
SIMHOST=${URL#http://}
WS=${URL/http:/ws:}/ws/v5
proxy_start P1
proxy_start P2 --auth tester:pw-s3cret
P2_AUTH=${P2_URL/http:\/\//http://tester:pw-s3cret@}
export DK=dk DS=demo-secret-1 DP=dp LK=lk LS=live-secret-22 LP=lp

okx_section() { # okx_section NAME KEYPREFIX|- [extra lines]
  echo "[exchange.$1]"
  echo "module = okx"
  if [ "$2" != - ]; then
    printf 'api_key = env:%sK\nsecret_key = env:%sS\npassphrase = env:%sP\n' "$2" "$2" "$2"
  fi
  printf 'rest_url = %s\nws_public_url = %s/public\nws_private_url = %s/private\n' "$URL" "$WS" "$WS"
  printf 'ws_business_url = %s/business\ninstruments = BTC-USDT-SWAP\ncandles =\n' "$WS"
  shift 2
  for l in "$@"; do echo "$l"; done
}
{
  printf '[core]\nplugin_dir = %s\ndata_dir = %s/data\nmode = paper\nproxy = %s\n' \
    "$TEST_PLUGINS" "$RT_TMP" "$P1_URL"
  printf '[storage.sqlite]\npath = %s/data/engine.db\n' "$RT_TMP"
  okx_section okx_demo D "demo = true"
  okx_section okx_live L "proxy = $P2_AUTH"
  okx_section okx_data - "proxy = none"
} >engine.ini

"$AITRADER" run -c engine.ini >engine.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
for i in okx_demo okx_live okx_data; do
  check "exchange.$i is up" wait_log engine.out "exchange.$i: state up" 30
done
check "the engine says where its connections go" contains engine.out "outbound connections go through the proxy $P1_URL"

# [core] proxy: the demo account's REST and both WebSockets, tunnelled
check "[core] proxy tunnels REST" wait_log P1.log "TUNNEL $SIMHOST GET /api/v5/" 5
check "[core] proxy tunnels the public WebSocket" contains P1.log "TUNNEL $SIMHOST GET /ws/v5/public HTTP/1.1"
check "[core] proxy tunnels the private WebSocket" contains P1.log "TUNNEL $SIMHOST GET /ws/v5/private HTTP/1.1"
check "nothing went through it in clear (no FORWARD)" lacks P1.log "FORWARD"
# an instance's own proxy, with a password
check "the live instance's proxy tunnels REST" wait_log P2.log "TUNNEL $SIMHOST GET /api/v5/" 5
check "and its public WebSocket" contains P2.log "TUNNEL $SIMHOST GET /ws/v5/public HTTP/1.1"
check "and its private WebSocket" contains P2.log "TUNNEL $SIMHOST GET /ws/v5/private HTTP/1.1"
check "curl and lws both gave the proxy its password" lacks P2.log "AUTH-FAILED"
# proxy = none: three public feeds are up, two went through proxies
pub=$(( $(count_lines P1.log "/ws/v5/public") + $(count_lines P2.log "/ws/v5/public") ))
check "proxy = none connects directly (2 of 3 public feeds proxied, got $pub)" [ "$pub" = 2 ]
priv=$(( $(count_lines P1.log "/ws/v5/private") + $(count_lines P2.log "/ws/v5/private") ))
check "one private feed per account with keys (got $priv)" [ "$priv" = 2 ]

kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
check "the proxy password never reaches the log" lacks engine.out "pw-s3cret"

# check-config refuses a malformed proxy at its line, never echoing it
printf '[core]\nplugin_dir = %s\nproxy = socks5://127.0.0.1:1080\n' "$TEST_PLUGINS" >bad1.ini
rc=0; "$AITRADER" check-config -c bad1.ini >bad1.out 2>&1 || rc=$?
check "a socks proxy is refused" [ "$rc" != 0 ]
check "at its line" contains bad1.out "bad1.ini:3: [core] proxy: expected http://host:port"
{
  printf '[core]\nplugin_dir = %s\n' "$TEST_PLUGINS"
  okx_section okx_x - "proxy = http://u:topsecret@127.0.0.1"
} >bad2.ini
rc=0; "$AITRADER" check-config -c bad2.ini >bad2.out 2>&1 || rc=$?
check "an instance's proxy without a port is refused" [ "$rc" != 0 ]
check "naming the key" contains bad2.out "[exchange.okx_x] proxy: expected http://host:port"
check "without echoing its password" lacks bad2.out "topsecret"
rt_finish
