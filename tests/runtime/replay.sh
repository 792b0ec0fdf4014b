#!/usr/bin/env bash
# aitrader replay: a session recorded against okx-sim (market data recorded by
# exchange_okx, a paper venue trading it, a stub AI answering, three triggers:
# the first at start and two manual runs from the dashboard) is replayed with
# okx-sim gone and the AI absent; it reproduces every trigger, AI answer,
# decision, intent, verdict and feedback line. A changed prompt template is
# reported as a divergence (which trigger, which line) instead of asking an
# AI; a changed risk rule as the first verdict that differs; bad recordings
# and configs that cannot be replayed are refused with the reason.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

# A market step of 20 ms: frames keep coming between an intent and the
# moment its order reaches the paper venue (after its row commits), which
# the replay must reproduce (it sends each order when the recorded one was).
echo '[{"apiKey": "dk", "secretKey": "demo-secret-1", "passphrase": "dp", "demo": true, "posMode": "net_mode", "balances": {"USDT": "10000"}}]' >accounts.json
sim_start sim.out --seed 9 --accounts accounts.json --tick 20
WS=${URL/http:/ws:}/ws/v5
cat >ans.txt <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "reason": "first"},
 {"symbol": "ETH-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2, "reason": "hedge"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "close_long", "size_pct": 1, "reason": "done"}]}
%%
{"decisions": [{"symbol": "ETH-USDT-SWAP", "action": "hold"}]}
EOF
mkdir -p prompts && cp "$AT_SOURCE_DIR"/prompts/system.txt "$AT_SOURCE_DIR"/prompts/user.txt prompts/
# A news source: its headline reaches the second prompt; the replay runs no
# source and publishes the recorded NEWS at its time instead.
mkdir -p feeds
printf '<?xml version="1.0"?><rss version="2.0"><channel><title>Coin Wire</title><item><title>Bitcoin ETF inflows hit a record</title><link>https://coins.example/etf</link><pubDate>%s</pubDate></item></channel></rss>\n' "$(date -u -R)" >feeds/a.xml
python3 "$AT_SOURCE_DIR/tests/fake_feeds/fake_feeds.py" --dir feeds >feeds.out 2>feeds.err &
RT_PIDS+=("$!")
wait_log feeds.out "http://127.0.0.1:" 10
FURL=$(head -1 feeds.out)
rules() { printf '[risk.universe]\nmodule = script\nreject_instruments = %s\n' "$1"; }
{
  ini_core "mode = paper" "record = $RT_TMP/sessions"
  cat <<EOF
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC-USDT-SWAP, ETH-USDT-SWAP
record = $RT_TMP/frames.rec
[exchange.paper]
market = exchange.okx_data
rest_url = $URL
instruments = BTC-USDT-SWAP, ETH-USDT-SWAP
balance = 10000
pos_mode = net_mode
EOF
  rules SOL-USDT-SWAP
  cat <<EOF
[ai.alpha]
module = stub
answers_file = $RT_TMP/ans.txt
[trader.alpha]
ai = ai.alpha
account = exchange.paper
symbols = BTC-USDT-SWAP, ETH-USDT-SWAP
long_period = 60m
cooldown = 0s
prompts = $RT_TMP/prompts
[ui.dashboard]
port = 0
[source.news]
module = rss
feeds = $FURL/a.xml
interval = 1h
EOF
} >engine.ini

engine_start
wait_log engine.out "core: running" 20
dash_up 1
ndec() { q "SELECT count(*) FROM decisions"; }
# show FILE...: a failed replay's own words, indented, in the test's log.
show() { local f; for f; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40; done; }
check "the first decision (at start)" wait_eq 30 1 ndec
check "its entries filled on paper" wait_eq 10 2 q "SELECT count(*) FROM orders WHERE state='filled'"
check "the headline is stored" wait_eq 10 1 q "SELECT count(*) FROM news"
check "a manual run is taken" wait_eq 10 200 run_now
check "the second decision" wait_eq 30 2 ndec
check "its prompt carries the headline" [ "$(q "SELECT prompt LIKE '%BTC: %Bitcoin ETF inflows hit a record%' FROM decisions ORDER BY created_ms LIMIT 1 OFFSET 1")" = 1 ]
check "its close filled" wait_eq 10 3 q "SELECT count(*) FROM orders WHERE state='filled'"
check "a third run" wait_eq 10 200 run_now
check "the third decision" wait_eq 30 3 ndec
# What a person does from the dashboard is part of the session: an order
# placed by hand, the trader paused and resumed.
api() { curl -s -o api.out -w '%{http_code}' -X POST -d "$2" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
check "a manual order from the dashboard" [ "$(api /api/orders '{"account":"exchange.paper","instId":"ETH-USDT-SWAP","side":"buy","posSide":"net","ordType":"market","sz":"1"}')" = 201 ]
check "it filled on paper" wait_eq 10 1 q "SELECT count(*) FROM orders WHERE origin='manual' AND state='filled'"
check "the trader paused from the dashboard" [ "$(api /api/traders/alpha/pause '{}')" = 200 ]
check "and resumed" [ "$(api /api/traders/alpha/resume '{}')" = 200 ]
sleep_until_quiet() { wait_eq 10 0 q "SELECT count(*) FROM orders WHERE state NOT IN ('filled','canceled','rejected','failed','shadow')"; }
check "nothing left in flight" sleep_until_quiet
engine_stop
SES=$(ls "$RT_TMP"/sessions/session-*.jsonl)
check "the headline is recorded as a news line" [ "$(grep -c '"k":"news".*Bitcoin ETF inflows' "$SES")" = 1 ]
check "the pause and the resume are recorded as control lines" \
  [ "$(grep -c '"k":"control"' "$SES")" = 2 ]
check "the session names the frames" grep -q "\"frames\":{\"exchange.okx_data\":\"$RT_TMP/frames.rec\"}" "$SES"
check "and the copy of the database it started from" grep -q '"k":"snapshot"' "$SES"
DBC=${SES%.jsonl}.db
check "the copy is beside it, private (0600)" [ "$(stat -c %a "$DBC")" = 600 ]
check "as the session started: no decision yet" [ "$(sqlite3 "$DBC" 'SELECT count(*) FROM decisions')" = 0 ]

# A second session on the same database: the trader now has a history (its
# prompt shows the three decisions before) and the paper account a position.
printf '%s\n%%%%\n' '{"decisions": [{"symbol": "ETH-USDT-SWAP", "action": "close_short", "size_pct": 1, "reason": "later"}]}' >ans.txt
# It starts with the kill switch on (a file of data_dir, not of the database).
"$AITRADER" kill-switch on -c engine.ini "replay test" >ks.out 2>&1
engine_start
wait_count engine.out "core: running" 2 20
dash_up 2
check "the schedule resumes (no trigger at start); a manual run" wait_eq 10 200 run_now
check "the second session's decision" wait_eq 30 4 ndec
check "with the past decisions in its prompt" wait_eq 5 1 q "SELECT count(*) FROM decisions WHERE prompt LIKE '%Your last decisions:%open_long BTC-USDT-SWAP%' AND id NOT IN (SELECT id FROM decisions ORDER BY created_ms LIMIT 3)"
check "nothing left in flight" sleep_until_quiet
engine_stop
SES2=$(ls -t "$RT_TMP"/sessions/session-*.jsonl | head -1)
check "a second session file" [ "$SES2" != "$SES" ]
check "it says the kill switch was on as it started" grep -qE '"k":"kill_switch","on":true,"present":true,"reason":"replay test"' "$SES2"
"$AITRADER" kill-switch off -c engine.ini >>ks.out 2>&1

# A third session stopped while its AI call is out: the replay keeps it out too.
printf '@delay 600000\n{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "hold"}]}\n' >ans.txt
engine_start
dash_up 3
check "a manual run whose answer never comes" wait_eq 10 200 run_now
check "its call is out" wait_count engine.out "ai stub request 1: trader alpha" 3 20
engine_stop
SES3=$(ls -t "$RT_TMP"/sessions/session-*.jsonl | head -1)
check "the session ends before the call's answer (no ai line)" lacks "$SES3" '"k":"ai"'
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null  # okx-sim: the replay must not need it
mkdir -p ks
RC=0; AITRADER_REPLAY_KEEP=1 TMPDIR=$RT_TMP/ks "$AITRADER" replay -c engine.ini --recording "$SES2" >rs2.out 2>rs2.err || RC=$?
check "the second session replays identically, from its database copy (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show rs2.out rs2.err
check "1 trigger, 1 decision" grep -qE '^replay: identical: 1 triggers, 1 decisions' rs2.out
check "with the kill switch on in its data directory, as the session had it" \
  sh -c "head -1 $RT_TMP/ks/aitrader-replay-*/data/kill-switch | grep -qx on"
RC=0; "$AITRADER" replay -c engine.ini --recording "$SES3" >rs3.out 2>rs3.err || RC=$?
check "a session stopped during an AI call replays identically (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show rs3.out rs3.err
check "its trigger, no decision" grep -qE '^replay: identical: 1 triggers, 0 decisions' rs3.out
cp "$SES2" nodb.jsonl  # its database copy is not beside it
RC=0; "$AITRADER" replay -c engine.ini --recording "$RT_TMP/nodb.jsonl" >nd.out 2>&1 || RC=$?
check "a missing database copy is refused (exit 2)" [ "$RC" = 2 ]
check "naming it" grep -q "replay: the session's database copy $RT_TMP/$(basename "${SES2%.jsonl}").db" nd.out

# --- replay: identical ----------------------------------------------------------
RC=0; AITRADER_REPLAY_KEEP=1 TMPDIR=$RT_TMP "$AITRADER" replay -c engine.ini --recording "$SES" >rp.out 2>rp.err || RC=$?
check "the replay reproduces the session (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show rp.out rp.err
check "and says what it compared" grep -qE '^replay: identical: 3 triggers, 3 decisions, [0-9]+ intents, [0-9]+ verdicts' rp.out
RDB=$(ls -d "$RT_TMP"/aitrader-replay-*/data/replay.db | head -1)
check "the manual order was placed again, and filled" [ "$(sqlite3 "$RDB" "SELECT count(*) FROM orders WHERE origin='manual' AND state='filled'")" = 1 ]
check "the pause and the resume were made again" sh -c "grep -q 'trader.alpha: paused by dashboard (ui.dashboard)' rp.err && grep -q 'trader.alpha: resumed by dashboard (ui.dashboard)' rp.err"
check "with okx-sim gone: nothing tried to reach it" lacks rp.err "no network"
check "the AI was never loaded" lacks rp.err "ai.alpha: started"
check "it touched neither the database" qeq "SELECT count(*) FROM decisions" 5
check "nor the session directory" [ "$(ls "$RT_TMP"/sessions/*.jsonl | wc -l)" = 3 ]

# --- a changed template: the first divergence, no AI asked ----------------------
printf 'Mind the funding rate.\n' >>prompts/user.txt
RC=0; "$AITRADER" replay -c engine.ini --recording "$SES" >rp2.out 2>rp2.err || RC=$?
check "a changed template diverges (exit 1)" [ "$RC" = 1 ]
K1=$(q "SELECT id FROM decisions ORDER BY created_ms LIMIT 1")
check "at the first trigger, naming the prompt line" grep -qE "^replay: DIVERGED: trigger $K1 \(attempt 1\): the user prompt differs at line [0-9]+:" rp2.out
check "showing what the replay has there" grep -q "replay:   Mind the funding rate." rp2.out
cp "$AT_SOURCE_DIR"/prompts/user.txt prompts/

# --- a changed rule: the first verdict that differs -----------------------------
sed -i 's/^reject_instruments = SOL-USDT-SWAP/reject_instruments = ETH-USDT-SWAP/' engine.ini
RC=0; "$AITRADER" replay -c engine.ini --recording "$SES" >rp3.out 2>rp3.err || RC=$?
check "a changed rule diverges (exit 1)" [ "$RC" = 1 ]
check "at the ETH entry's verdict" grep -qE "^replay: DIVERGED: line [0-9]+ of the recording \(verdict $K1/1\): (verdict|allowed|reason)" rp3.out
sed -i 's/^reject_instruments = ETH-USDT-SWAP/reject_instruments = SOL-USDT-SWAP/' engine.ini

# --- no network: a recording that lacks its instruments is not fetched ---------------
grep -v '^instruments: ' frames.rec >noinst.rec
sed "s|$RT_TMP/frames.rec|$RT_TMP/noinst.rec|" "$SES" >noinst.jsonl
cp "${SES%.jsonl}.db" noinst.db && sed -i 's|"db":"[^"]*"|"db":"noinst.db"|' noinst.jsonl
RC=0; "$AITRADER" replay -c engine.ini --recording "$RT_TMP/noinst.jsonl" >ni.out 2>ni.err || RC=$?
check "a recording without its instruments does not replay (exit 1)" [ "$RC" = 1 ]
check "the instruments are not fetched: the request is refused and named" \
  grep -q "exchange.okx_data: replay: no network: $URL/api/v5/public/instruments.* refused" ni.err

# --- refusals -------------------------------------------------------------------
RC=0; "$AITRADER" replay -c engine.ini >u.out 2>&1 || RC=$?
check "no --recording: usage error (exit 2)" [ "$RC" = 2 ]
check "saying so" contains u.out "replay needs --recording FILE"
echo '{"k":"trigger","t":1}' >bad.jsonl
RC=0; "$AITRADER" replay -c engine.ini --recording bad.jsonl >b.out 2>&1 || RC=$?
check "not a session file: exit 2" [ "$RC" = 2 ]
check "saying where" contains b.out "bad.jsonl:1: not a session file"
{ head -1 "$SES"; echo 'garbage'; } >garbage.jsonl
RC=0; "$AITRADER" replay -c engine.ini --recording garbage.jsonl >g.out 2>&1 || RC=$?
check "a garbled line: exit 2 at its line" sh -c "[ $RC = 2 ] && grep -q 'garbage.jsonl:2: ' g.out"
{ cat engine.ini; printf '[exchange.okx_live]\nmodule = okx\napi_key = env:DK\nsecret_key = env:DS\npassphrase = env:DP\n'; } >live.ini
export DK=dk DS=demo-secret-1 DP=dp
RC=0; "$AITRADER" replay -c live.ini --recording "$SES" >l.out 2>&1 || RC=$?
check "an OKX account without recorded private frames is refused (exit 2)" [ "$RC" = 2 ]
check "at its section, saying why" grep -qE '^live.ini:[0-9]+: \[exchange.okx_live\] replay: this instance trades an exchange account whose private frames' l.out
rt_finish
