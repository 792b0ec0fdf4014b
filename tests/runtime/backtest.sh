#!/usr/bin/env bash
# aitrader backtest on real OKX candles (tests/data): the rules trader,
# indicator_ta, risk.limits and the paper venue run over two days of BTC 1m
# bars on the simulated clock with no network; the report's every figure
# against python's own computation from the report's fills and equity
# curve; a fill checked by hand (fee, realized PnL); the same inputs give
# the same report byte for byte (JSON and HTML); a stop-loss inside a bar
# fills in that bar, at the price the bar's path reached; malformed,
# unsorted, nameless and out-of-range inputs, a live LLM and an instrument
# the instruments file lacks are refused with the reason (exit 2).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
DATA=$AT_SOURCE_DIR/tests/data/okx_BTC-USDT-SWAP_1m_20260109-20260111.csv
INSTS=$AT_SOURCE_DIR/tests/data/okx_instruments_swap_sample.json
cat >bt.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/not-used
[storage.sqlite]
path = $RT_TMP/not-used.db
[exchange.okx_data]
module = okx
instruments = BTC-USDT-SWAP
[exchange.paper]
market = exchange.okx_data
balance = 10000
[indicator.ta]
source = exchange.okx_data
[risk.limits]
[ai.rules]
[trader.rules]
ai = ai.rules
account = exchange.paper
symbols = BTC-USDT-SWAP
[ui.dashboard]
port = 0
EOF2
bt() { "$AITRADER" backtest -c bt.ini --instruments "$INSTS" "$@"; }
refused() { # WHAT WANT ARGS...: exit 2 and WANT in the output
  local what=$1 want=$2; shift 2
  local rc=0; "$AITRADER" backtest "$@" >ref.out 2>&1 || rc=$?
  check "$what" sh -c "[ $rc = 2 ] && grep -qF -- \"\$1\" ref.out" _ "$want"
}
RC=0; bt --data "$DATA" --report r1.json >sum1.txt 2>err1.txt || RC=$?
check "the backtest runs (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat err1.txt
check "the summary names the span and the bars" grep -q "^backtest 2026-01-09T17:20:00Z .. 2026-01-11T17:20:00Z, 2880 bars" sum1.txt
check "and the symbol's row" grep -qE "^  BTC-USDT-SWAP +[0-9]+ " sum1.txt
check "nothing of the user's storage or data dir is touched" [ ! -e not-used.db ] && [ ! -e not-used ]
keys() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(",".join(r.keys()))' "$1"; }
check "the report has every key of CONTRACTS 4b, and the decision efficiency" [ "$(keys r1.json)" = "bars,from,to,start_equity,end_equity,return_pct,max_drawdown_pct,sharpe,sortino,trades,win_rate,profit_factor,fees,funding,ai_calls,ai_calls_per_day,tokens,cost_usd,per_symbol,equity,fills,efficiency" ]
python3 - r1.json "$DATA" >verify.out 2>&1 <<'PY'
import csv, json, math, sys
from decimal import Decimal as D
r = json.load(open(sys.argv[1]))
bad = []
def near(name, got, want, tol=1e-6):
    if got is None or want is None:
        if got != want: bad.append(f"{name}: {got} != {want}")
    elif abs(got - want) > tol * max(1, abs(want)):
        bad.append(f"{name}: {got} != {want}")
fills = r["fills"]
assert fills, "no fills"
# fees paid and per-symbol PnL, from the fills
fees = -sum(D(f["fee"]) for f in fills)
near("fees", r["fees"], float(fees))
# trades: a book from flat back to flat (net mode: buy up, sell down); one
# still open at the end marked to the last close
last_close = D(list(csv.DictReader(open(sys.argv[2])))[-1]["close"])
pos = D(0); pnl = D(0); avg = D(0); trades = []
for f in fills:
    s = D(f["sz"]) * (1 if f["side"] == "buy" else -1); px = D(f["px"])
    pnl += D(f["pnl"]) + D(f["fee"])
    before, pos = pos, pos + s
    if before == 0 or (before > 0) == (s > 0):
        avg = (avg * abs(before) + px * abs(s)) / (abs(before) + abs(s))
    elif pos != 0 and (before > 0) != (pos > 0):
        avg = px
    if pos == 0 or (before != 0 and (before > 0) != (pos > 0)):
        trades.append(pnl); pnl = D(0)
if pos != 0:
    trades.append(pnl + pos * (last_close - avg) * D("0.01"))
wins = [t for t in trades if t > 0]; losses = [t for t in trades if t < 0]
near("trades", r["trades"], len(trades))
near("win_rate", r["win_rate"], len(wins) / len(trades) if trades else None)
near("profit_factor", r["profit_factor"], float(sum(wins) / -sum(losses)) if losses else None)
ps = r["per_symbol"][0]
near("per_symbol.pnl", ps["pnl"], float(sum(D(f["pnl"]) + D(f["fee"]) for f in fills)))
near("per_symbol.trades", ps["trades"], len(trades))
# the curve: start, end, return, max drawdown
eq = [v for _, v in r["equity"]]
near("start_equity", r["start_equity"], eq[0]); near("end_equity", r["end_equity"], eq[-1])
near("return_pct", r["return_pct"], (eq[-1] / eq[0] - 1) * 100)
peak, mdd = -1e300, 0.0
for v in eq:
    peak = max(peak, v); mdd = max(mdd, (peak - v) / peak * 100)
near("max_drawdown_pct", r["max_drawdown_pct"], mdd)
ts = [t for t, _ in r["equity"]]
assert ts == sorted(ts), "the curve goes back in time"
# Sharpe of hourly returns (the hour's last value over the previous one), annualised
last_by_hour = {}
for t, v in r["equity"]:
    last_by_hour[t // 3600000] = v
hs = [last_by_hour[h] for h in sorted(last_by_hour)]
rets = [hs[i] / hs[i - 1] - 1 for i in range(1, len(hs))]
m = sum(rets) / len(rets); sd = math.sqrt(sum((x - m) ** 2 for x in rets) / (len(rets) - 1))
near("sharpe", r["sharpe"], m / sd * math.sqrt(24 * 365), 1e-4)
# the first fill by hand: taker fee 0.05 % of px x sz x ctVal (BTC: 0.01)
f0 = fills[0]
want_fee = -(D(f0["px"]) * D(f0["sz"]) * D("0.01") * D("0.0005"))
if D(f0["fee"]) != want_fee: bad.append(f"first fee {f0['fee']} != {want_fee}")
# the first close's realized PnL: (exit - entry) x sz x ctVal, long
f1 = fills[1]
if f0["side"] == "buy" and f1["side"] == "sell" and f0["sz"] == f1["sz"]:
    want = (D(f1["px"]) - D(f0["px"])) * D(f1["sz"]) * D("0.01")
    if D(f1["pnl"]) != want: bad.append(f"first close pnl {f1['pnl']} != {want}")
# prices on the tick (0.1)
for f in fills:
    if (D(f["px"]) / D("0.1")) % 1 != 0: bad.append(f"fill price {f['px']} off the tick")
near("ai_calls_per_day", r["ai_calls_per_day"], r["ai_calls"] / 2.0)
# the money adds up: end equity = start + realized + fees + the open position at the last close
pos = D(0); avg = D(0)
for f in fills:
    s = D(f["sz"]) * (1 if f["side"] == "buy" else -1); px = D(f["px"])
    if pos == 0 or (pos > 0) == (s > 0):
        avg = (avg * abs(pos) + px * abs(s)) / (abs(pos) + abs(s)); pos += s
    elif abs(s) <= abs(pos):
        pos += s
    else:
        pos += s; avg = px
unreal = pos * (last_close - avg) * D("0.01")
want_end = D(str(r["start_equity"])) + sum(D(f["pnl"]) + D(f["fee"]) for f in fills) + unreal
near("end_equity vs start + realized + fees + unrealized", r["end_equity"], float(want_end), 1e-8)
print("\n".join(bad) if bad else "ok")
PY
check "every figure of the report matches python's own computation from its fills and curve" [ "$(tail -1 verify.out)" = ok ]
[ "$(tail -1 verify.out)" = ok ] || cat verify.out
# a file with moves (|5m change| >= 1 %) for the efficiency figures: flat at 90000, +1.2 % at
# 00:40, back at 01:20, -1.5 % at 02:00 (the two days of real data above have none)
python3 -c '
t0 = 1767225600000
print("ts,open,high,low,close")
px = 90000.0
for k in range(240):
    if k in (40, 80, 120):
        px = {40: 91080.0, 80: 90000.0, 120: 88650.0}[k]
    print(f"{t0 + k * 60000},{px},{px},{px},{px}")' >moves.csv
RC=0; bt --data BTC-USDT-SWAP=moves.csv --report moves.json >moves.out 2>&1 || RC=$?
check "a run on the file with moves" [ "$RC" = 0 ]
python3 - moves.json moves.csv >eff.out 2>&1 <<'PY'
import csv, json, math, sys
r = json.load(open(sys.argv[1]))
e = r["efficiency"]
rows = list(csv.DictReader(open(sys.argv[2])))
bars = [(int(x["ts"]), float(x["close"])) for x in rows]
by_ts = dict(bars)
moves, last = [], None
for ts, c in bars:  # |close / close 5 minutes before - 1| >= 1 %, merged within 30 min
    p = by_ts.get(ts - 300000)
    if p is None or abs(c / p - 1) < 0.01:
        continue
    m = ts + 60000
    if last is None or m - last > 1800000:
        moves.append(m)
    last = m
bad = []
if e["moves"] != len(moves): bad.append(f"moves {e['moves']} != {len(moves)}")
fixed = [x for x in e["schedules"] if x["schedule"] == "fixed 15m"][0]
start, end = bars[0][0], bars[-1][0] + 60000
d = sorted(-(-m // 900000) * 900000 - m for m in moves if -(-m // 900000) * 900000 < end)
rank = lambda q: d[max(1, math.ceil(q * len(d))) - 1] / 1000
if d and (fixed["delay_median_s"] != rank(0.5) or fixed["delay_p90_s"] != rank(0.9)):
    bad.append(f"fixed delays {fixed} vs {rank(0.5)}, {rank(0.9)}")
if len(moves) != 3: bad.append(f"the file has {len(moves)} moves, not 3")
elif abs(fixed["within_60s"] - round(sum(1 for x in d if x <= 60000) / len(d), 6)) > 1e-9:
    bad.append("fixed within_60s")
calls15 = (end - 1) // 900000 - (-(-start // 900000)) + 1
if fixed["calls"] != calls15: bad.append(f"fixed calls {fixed['calls']} != {calls15}")
mine = [x for x in e["schedules"] if x["schedule"] == "trader.rules"][0]
if mine["calls"] != r["ai_calls"]: bad.append(f"trader calls {mine['calls']} != ai_calls {r['ai_calls']}")
print("\n".join(bad) if bad else "ok")
PY
check "the decision efficiency: the moves, the fixed 15-minute schedule's delays and calls (python's own), the trader's calls" [ "$(tail -1 eff.out)" = ok ]
[ "$(tail -1 eff.out)" = ok ] || cat eff.out
check "and in the summary" grep -q "decision efficiency: 3 significant moves" moves.out
check "the rules trader traded" [ "$(python3 -c 'import json; print(json.load(open("r1.json"))["trades"] > 0)')" = True ]

# --- determinism ------------------------------------------------------------
RC=0; bt --data "$DATA" --report r2.json >sum2.txt 2>&1 || RC=$?
check "a second run" [ "$RC" = 0 ]
check "the same report, byte for byte" cmp r1.json r2.json
check "the same summary" cmp sum1.txt sum2.txt
bt --data "$DATA" --report r1.html >/dev/null 2>&1
bt --data "$DATA" --report r2.html >/dev/null 2>&1
check "the HTML report, byte for byte too" cmp r1.html r2.html
check "it holds the charts and the report's JSON" sh -c 'grep -q "<svg" r1.html && grep -q "id=\"report\"" r1.html'
check "a marker per fill on the price chart" [ "$(grep -c '<polygon' r1.html)" = "$(python3 -c 'import json; print(len(json.load(open("r1.json"))["fills"]))')" ]
RC=0; bt --data "BTC-USDT-SWAP=$DATA" --from 2026-01-10 --to 2026-01-10T06:00:00Z --report r3.json >sum3.txt 2>&1 || RC=$?
check "--from/--to keep that span (INST=FILE)" grep -q "^backtest 2026-01-10T00:00:00Z .. 2026-01-10T06:00:00Z, 360 bars" sum3.txt

# --- a parameter sweep ------------------------------------------------------
RC=0; bt --data "$DATA" --set trader.rules.long_period=12m,30m --report sweep.json >sweep.out 2>&1 || RC=$?
check "a sweep of two values (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat sweep.out
check "a row per combination, in order" sh -c 'grep -E "^trader.rules.long_period=(12m|30m) " sweep.out | cut -d" " -f1 | tr "\n" " " | grep -qx "trader.rules.long_period=12m trader.rules.long_period=30m "'
RC=0; bt --data "$DATA" --set trader.rules.long_period=30m --report one30.json >one30.out 2>&1 || RC=$?
same30() {
  python3 - sweep.json one30.json <<'PY'
import json, sys
sw = json.load(open(sys.argv[1])); one = json.load(open(sys.argv[2]))
row = [r for r in sw if r["set"] == {"trader.rules.long_period": "30m"}][0]
keys = ["return_pct", "max_drawdown_pct", "sharpe", "trades", "win_rate", "fees", "ai_calls"]
print("ok" if all(row[k] == one[k] for k in keys) and row["ai_calls"] != sw[0]["ai_calls"] else [(k, row[k], one[k]) for k in keys])
PY
}
check "the sweep's 30m row is the run with --set long_period=30m alone, and differs from 12m's" [ "$(same30)" = ok ]
refused "a --set without a value" "expected SECTION.KEY=VALUE" -c bt.ini --instruments "$INSTS" --data "$DATA" --set trader.rules.long_period=
refused "a --set of a section the config lacks" "--set trader.beta.long_period: no [trader.beta] section" -c bt.ini --instruments "$INSTS" --data "$DATA" --set trader.beta.long_period=5m
refused "a bad value, at the key, as check-config says it" "[trader.rules] long_period: expected a duration" -c bt.ini --instruments "$INSTS" --data "$DATA" --set trader.rules.long_period=soon
refused "a --set of storage (the backtest decides it)" "--set cannot change [storage.sqlite]" -c bt.ini --instruments "$INSTS" --data "$DATA" --set storage.sqlite.enabled=true
check "nothing written to the user's database" [ ! -e not-used.db ]

# --- a stop-loss inside a bar -----------------------------------------------
python3 - >sl.csv <<'PY'
t0 = 1767225600000  # 2026-01-01
print("ts,open,high,low,close,volume")
for k in range(40):
    o = h = l = c = 90000.0
    if k == 20:  # up 10 first (nearer), then down through the stop at 89000, close 89900
        h, l, c = 90010.0, 88500.0, 89900.0
    print(f"{t0 + k * 60000},{o},{h},{l},{c},1")
PY
printf '%s\n' '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 2, "stop_loss": 89000, "take_profit": 99000, "reason": "test"}]}' >ans.txt
cp ans.txt ans-sl.txt
cat >sl.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
[exchange.okx_data]
module = okx
[exchange.paper]
market = exchange.okx_data
[ai.stub]
answers_file = $RT_TMP/ans.txt
[trader.t]
ai = ai.stub
account = exchange.paper
symbols = BTC-USDT-SWAP
long_period = 1m
short_period = 1m
cooldown = 0s
EOF2
RC=0; "$AITRADER" backtest -c sl.ini --instruments "$INSTS" --data BTC-USDT-SWAP=sl.csv --spread-bps 0 --report sl.json >sl.out 2>&1 || RC=$?
check "the stop-loss run (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat sl.out
sl_fill() {
  python3 - sl.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t20 = 1767225600000 + 20 * 60000
f = [x for x in r["fills"] if x["side"] == "sell"]
# the leg 90010 -> 88500 in 4 steps: 89632.5, 89255, 88877.5 (the first at or past the stop)
ok = len(f) == 1 and t20 <= f[0]["ts"] < t20 + 60000 and float(f[0]["px"]) == 88877.5
print("ok" if ok else r["fills"])
PY
}
check "the stop fills within its bar, where the path crossed it (88877.5, no spread)" [ "$(sl_fill)" = ok ]

# --- liquidation inside a bar ------------------------------------------------
python3 - >liq.csv <<'PY'
t0 = 1767225600000
print("ts,open,high,low,close,volume")
for k in range(40):
    o = h = l = c = 90000.0
    if k == 20:  # -3.3 % inside the bar: a 45x long cannot carry it
        l, c = 87000.0, 87500.0
    print(f"{t0 + k * 60000},{o},{h},{l},{c},1")
PY
printf '%s\n' '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.9, "leverage": 50, "reason": "all in"}]}' >ans.txt
sed 's/^cooldown = 0s$/cooldown = 0s\nmax_size_pct = 1\nmax_leverage = 50/' sl.ini >liq.ini
RC=0; "$AITRADER" backtest -c liq.ini --instruments "$INSTS" --data BTC-USDT-SWAP=liq.csv --spread-bps 0 --report liq.json >liq.out 2>&1 || RC=$?
check "the leveraged run (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat liq.out
liquidated() {
  python3 - liq.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t20 = 1767225600000 + 20 * 60000
buy = [f for f in r["fills"] if f["side"] == "buy"]
sell = [f for f in r["fills"] if f["side"] == "sell"]
# the venue's own order (no clOrdId), the whole position, inside the crash bar, at a price of its path
ok = (len(buy) == 1 and len(sell) == 1 and sell[0]["clOrdId"] == "" and sell[0]["sz"] == buy[0]["sz"]
      and t20 <= sell[0]["ts"] < t20 + 60000 and float(sell[0]["px"]) in (89250.0, 88500.0, 87750.0, 87000.0)
      and r["trades"] == 1 and r["win_rate"] == 0)
print("ok" if ok else r["fills"])
PY
}
check "the long is liquidated inside the crash bar: the venue's own sell of the whole position at a price of the path" [ "$(liquidated)" = ok ]

# --- a trade still open at the end: marked to the last close -----------------
python3 -c '
t0 = 1767225600000
print("ts,open,high,low,close")
for k in range(30):
    px = 90900.0 if k == 29 else 90000.0
    print(f"{t0 + k * 60000},90000,{max(px, 90000.0)},90000,{px}")' >open.csv
printf '%s\n' '{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 2, "reason": "hold it"}]}' >ans.txt
RC=0; "$AITRADER" backtest -c sl.ini --instruments "$INSTS" --data BTC-USDT-SWAP=open.csv --spread-bps 0 --report open.json >open.out 2>&1 || RC=$?
check "a run ending with the long open (exit 0)" [ "$RC" = 0 ]
marked() {
  python3 - open.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["fills"]
# one buy, no sell: its trade counts marked to 90900 (+1 %, more than its fee): a win
ok = len(f) == 1 and f[0]["side"] == "buy" and r["trades"] == 1 and r["win_rate"] == 1 and r["profit_factor"] is None
print("ok" if ok else (r["trades"], r["win_rate"], r["profit_factor"], f))
PY
}
check "its trade is marked to the last close: one trade, a win, no loser" [ "$(marked)" = ok ]

# --- funding from a funding file: settled on the open position --------------
printf 'fundingTime,iso_time,fundingRate\n%s,x,0.0001\n%s,x,0.0002\n' $((1767225600000 + 600000)) $((1767225600000 + 8 * 3600000 + 600000)) >fund.csv
cp ans-sl.txt ans.txt # the stop-loss run's answer again
RC=0; "$AITRADER" backtest -c sl.ini --instruments "$INSTS" --data BTC-USDT-SWAP=sl.csv --funding BTC-USDT-SWAP=fund.csv --spread-bps 0 --report fund.json >fund.out 2>&1 || RC=$?
check "the run with a funding file (exit 0)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat fund.out
funded() {
  python3 - fund.json <<'PY'
import json, sys
from decimal import Decimal as D
r = json.load(open(sys.argv[1]))
buy = [f for f in r["fills"] if f["side"] == "buy"][0]
# a long pays rate x its notional at the mark (90000 at 00:10): -sz x ctVal x mark x rate
want = -D(buy["sz"]) * D("0.01") * D("90000") * D("0.0001")
ok = abs(D(str(r["funding"])) - want) < D("1e-8") and abs(D(str(r["per_symbol"][0]["funding"])) - want) < D("1e-8")
print("ok" if ok else f"{r['funding']} != {want}")
PY
}
check "the 00:10 settlement is booked once, at the rate in force, on the long" [ "$(funded)" = ok ]
check "a funding file of an instrument without candles is refused" sh -c '"$1" backtest -c sl.ini --instruments "$2" --data BTC-USDT-SWAP=sl.csv --funding ETH-USDT-SWAP=fund.csv >fr.out 2>&1; [ $? = 2 ] && grep -q "no --data file of ETH-USDT-SWAP" fr.out' _ "$AITRADER" "$INSTS"
printf 'fundingTime,fundingRate\n2,0.1\n1,0.1\n' >fund-bad.csv
check "an unsorted funding file: FILE:LINE" sh -c '"$1" backtest -c sl.ini --instruments "$2" --data BTC-USDT-SWAP=sl.csv --funding BTC-USDT-SWAP=fund-bad.csv >fr.out 2>&1; [ $? = 2 ] && grep -q "fund-bad.csv:3: not after the row before" fr.out' _ "$AITRADER" "$INSTS"

# --- refusals ---------------------------------------------------------------
printf 'ts,open,high,low,close\n1767225600000,1,2,0.5,1.5\n1767225720000,1,2,0.5,1.5\n1767225660000,1,2,0.5,1.5\n' >unsorted.csv
refused "an unsorted file: FILE:LINE" "unsorted.csv:4:" -c bt.ini --instruments "$INSTS" --data BTC-USDT-SWAP=unsorted.csv
printf 'ts,open,high,low,close\n1767225600000,1,2,0.5,x\n' >bad.csv
refused "a malformed row: FILE:LINE" "bad.csv:2:" -c bt.ini --instruments "$INSTS" --data BTC-USDT-SWAP=bad.csv
refused "a file without an instrument" "which instrument?" -c bt.ini --instruments "$INSTS" --data bad.csv
refused "a span without candles" "no candle of BTC-USDT-SWAP between --from and --to" -c bt.ini --instruments "$INSTS" --data "$DATA" --from 2030-01-01
refused "an instrument the instruments file lacks" "PEPE-USDT-SWAP (sl.csv) is not among the paper venue's instruments" -c bt.ini --instruments "$INSTS" --data PEPE-USDT-SWAP=sl.csv
refused "no --instruments and no instruments_file" "needs the instruments' specs" -c bt.ini --data "$DATA"
sed 's/^\[ai.rules\]$/[ai.rules]\nmodule = openai\nbase_url = https:\/\/api.deepseek.com\nmodel = m/' bt.ini >llm.ini
refused "a live LLM, at the trader's line" "llm.ini:" -c llm.ini --instruments "$INSTS" --data "$DATA"
check "saying why" grep -q "would ask a live model for every decision" ref.out
python3 -c 'print("ts,open,high,low,close"); [print(f"{1767225600000 + k * 300000},1,2,0.5,1.5") for k in range(3)]' >bars5m.csv
refused "5-minute bars under indicator_ta's default 1m bars, at its section" "set bars to multiples of 5 minutes" -c bt.ini --instruments "$INSTS" --data BTC-USDT-SWAP=bars5m.csv
refused "a negative spread" "--spread-bps: expected a number of basis points" -c bt.ini --data "$DATA" --spread-bps -3
rt_finish
