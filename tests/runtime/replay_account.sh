#!/usr/bin/env bash
# aitrader replay of a session that traded an OKX account (okx-sim's demo
# account, hedge mode): the instance records its market frames and, having
# API keys, its private pushes and REST answers too. With okx-sim gone and no
# keys, the replay plays the account from the recording: the orders it sends
# are answered as they were, the fills come as they came, and every trigger,
# decision, intent, verdict and feedback line is reproduced. An order the
# replay sends otherwise gets no answer from the recording but the reason.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

echo '[{"apiKey": "acct-key-7f3e", "secretKey": "acct-secret-1", "passphrase": "acct-pass-9d2c", "demo": true, "posMode": "long_short_mode", "balances": {"USDT": "10000"}}]' >accounts.json
sim_start sim.out --seed 5 --accounts accounts.json --tick 20
WS=${URL/http:/ws:}/ws/v5
export AK=acct-key-7f3e AS=acct-secret-1 AP=acct-pass-9d2c
cat >ans.txt <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "reason": "first"},
 {"symbol": "ETH-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2, "reason": "hedge"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "close_long", "size_pct": 1, "reason": "done"}]}
EOF
mkdir -p prompts && cp "$AT_SOURCE_DIR"/prompts/system.txt "$AT_SOURCE_DIR"/prompts/user.txt prompts/
rules() { printf '[risk.universe]\nmodule = script\nreject_instruments = %s\n' "$1"; }
{
  ini_core "mode = paper" "record = $RT_TMP/sessions"
  ini_okx okx_demo demo AK AS AP "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP" "candles =" \
    "record = $RT_TMP/frames.rec"
  rules SOL-USDT-SWAP
  cat <<EOF
[ai.alpha]
module = stub
answers_file = $RT_TMP/ans.txt
[trader.alpha]
ai = ai.alpha
account = exchange.okx_demo
symbols = BTC-USDT-SWAP, ETH-USDT-SWAP
long_period = 60m
cooldown = 0s
prompts = $RT_TMP/prompts
[ui.dashboard]
port = 0
EOF
} >engine.ini

engine_start
wait_log engine.out "core: running" 20
dash_up 1
ndec() { q "SELECT count(*) FROM decisions"; }
nfilled() { q "SELECT count(*) FROM orders WHERE state='filled'"; }
check "the first decision (at start)" wait_eq 30 1 ndec
check "its entries filled at okx-sim" wait_eq 15 2 nfilled
check "a manual run is taken" wait_eq 10 200 run_now
check "the second decision" wait_eq 30 2 ndec
check "its close filled at okx-sim" wait_eq 15 3 nfilled
check "the fills are journaled from the account's pushes" wait_eq 10 1 q "SELECT count(*) >= 3 FROM ledger WHERE kind='fill' AND origin='alpha'"
engine_stop
SES=$(ls "$RT_TMP"/sessions/session-*.jsonl)
check "the recording holds the account's private pushes" grep -q '^private [0-9.]*: {"arg":{"channel":"orders"' frames.rec
check "and its REST answers (the orders placed among them)" grep -q '^rest [0-9.]*: {"m":"POST","p":"/api/v5/trade/order"' frames.rec
check "and when its private feeds came up" grep -q '^private [0-9.]*: {"x-aitrader-feed":"algo","up":true,"reconnects":0}' frames.rec
check "no key, secret, passphrase or signature in the recording" \
  sh -c "[ -s frames.rec ] && ! grep -qE 'acct-key-7f3e|acct-secret-1|acct-pass-9d2c|OK-ACCESS|\"op\":\"login\"' frames.rec"
check "which is private (0600)" [ "$(stat -c %a frames.rec)" = 600 ]

# --- replay: okx-sim gone, no keys -----------------------------------------------
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null
unset AK AS AP
show() { local f; for f; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40; done; }
RC=0; AITRADER_REPLAY_KEEP=1 TMPDIR=$RT_TMP "$AITRADER" replay -c engine.ini --recording "$SES" >rp.out 2>rp.err || RC=$?
check "the session that traded the account replays identically (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show rp.out rp.err
check "2 triggers, 2 decisions, its intents and verdicts" grep -qE '^replay: identical: 2 triggers, 2 decisions, [1-9][0-9]* intents, [1-9][0-9]* verdicts' rp.out
check "the account is played from the recording" grep -qE 'exchange.okx_demo: replaying the account: [1-9][0-9]* recorded REST answers' rp.err
check "as the demo account it was" grep -q 'exchange.okx_demo (demo account): traded' rp.err
check "up once its recorded feeds came up" grep -q "exchange.okx_demo: state up: 2 instruments; replaying a recording, the account's too" rp.err
check "nothing was asked that the session did not ask" lacks rp.err "was not made live"
RDB=$(ls -d "$RT_TMP"/aitrader-replay-*/data/replay.db | head -1)
check "the replay's orders filled as they did live" [ "$(sqlite3 "$RDB" "SELECT count(*) FROM orders WHERE state='filled'")" = 3 ]
check "with the fills journaled to the trader" [ "$(sqlite3 "$RDB" "SELECT count(*) >= 3 FROM ledger WHERE kind='fill' AND origin='alpha'")" = 1 ]

# A recording made before the feed lines existed: both feeds taken as up
# from the start (as they were, a millisecond after the account answered).
grep -v '"x-aitrader-feed"' frames.rec >nofeed.rec
sed "s|$RT_TMP/frames.rec|$RT_TMP/nofeed.rec|" "$SES" >nofeed.jsonl
cp "${SES%.jsonl}.db" nofeed.db && sed -i 's|"db":"[^"]*"|"db":"nofeed.db"|' nofeed.jsonl
RC=0; "$AITRADER" replay -c engine.ini --recording "$RT_TMP/nofeed.jsonl" >nf.out 2>nf.err || RC=$?
check "a recording without feed lines replays identically too (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show nf.out nf.err
check "its account up as it was" grep -q "exchange.okx_demo: state up: 2 instruments; replaying a recording, the account's too" nf.err

# Orders the replay sends otherwise (isolated margin: another body, the
# same intents) are not answered from the recording: it says what differs,
# and the replay diverges where the session's feedback no longer matches.
sed 's/^\[exchange.okx_demo\]$/&\ntd_mode = isolated/' engine.ini >isolated.ini
RC=0; "$AITRADER" replay -c isolated.ini --recording "$SES" >is.out 2>is.err || RC=$?
check "a changed order diverges (exit 1)" [ "$RC" = 1 ]
[ "$RC" = 1 ] || show is.out is.err
check "its leverage call was not answered: sent with another body than live" \
  grep -q 'exchange.okx_demo: replay: POST /api/v5/account/set-leverage was sent with another body live: {"instId":"BTC-USDT-SWAP","lever":"3","mgnMode":"isolated"' is.err
check "so the entry was refused, not sent" grep -q 'place BTC-USDT-SWAP ai[0-9a-f]*: refused : not sent: set-leverage failed: replay:' is.err
check "the divergence is named: the entry's feedback" grep -qE '^replay: DIVERGED: line [0-9]+ of the recording \(feedback alpha:' is.out
rt_finish
