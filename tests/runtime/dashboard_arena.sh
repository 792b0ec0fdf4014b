#!/usr/bin/env bash
# The arena (GET /api/arena) in the real engine: okx-sim replays real OKX
# candles at 60x as one market-data feed (exchange_okx without keys), and
# three traders trade it, each on its own paper venue priced by that feed:
# two rules providers with different parameters, and a stub LLM whose
# scripted answers (one of them invalid) open and close, so that there are
# closed decisions, a win rate, tokens and cost. Once each trader has fills,
# every figure of /api/arena is checked against an independent computation
# in python3 (sqlite3) from the tables — start equity, equity, PnL, return,
# max drawdown, Sharpe, fees, funding, AI calls, tokens, cost, long/short
# entries and their ratio, win rate, the direction bias per model, the
# curve's points — for the whole history and for a window (from/to);
# malformed query parameters are 400 JSON errors.
#
# With ARENA_PG=1 (dashboard_arena_pg.sh) the engine stores into PostgreSQL
# (a throwaway cluster): the arena's queries run there, and python checks
# them against a copy of the tables it reads (PostgreSQL's own values).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
if [ "${ARENA_PG:-0}" = 1 ]; then
  pg_up
  q() { pq "$1"; }
  ini_core() {
    printf '[core]\nplugin_dir = %s\ndata_dir = %s/data\n' "$TEST_PLUGINS" "$RT_TMP"
    printf '%s\n' "$@"
    printf '[storage.postgres]\nconninfo = env:AT_PG\n'
  }
fi
# outcome KEY: the SQL of a field of a decision's BTC outcome (SQLite or PostgreSQL)
outcome() {
  if [ "${ARENA_PG:-0}" = 1 ]; then
    echo "(outcome_json::json->'symbols'->'BTC-USDT-SWAP'->>'$1')"
  else
    echo "json_extract(outcome_json, '\$.symbols.\"BTC-USDT-SWAP\".$1')"
  fi
}

sim_start sim.out --seed 3 --data "$AT_SOURCE_DIR/tests/data/okx_BTC-USDT-SWAP_1m_20260109-20260111.csv" \
  --speed 60
WS=${URL/http:/ws:}/ws/v5

# gamma's answers, one per call: at start, then one per "run now"
cat >ans-gamma.txt <<'EOF'
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3, "reason": "one"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "close_long", "size_pct": 1, "reason": "two"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_short", "size_pct": "lots", "leverage": 2, "reason": "invalid"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2, "reason": "four"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "close_short", "size_pct": 1, "reason": "five"}]}
%%
{"decisions": [{"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.05, "leverage": 2, "reason": "six"}]}
EOF

paper() { # paper NAME
  printf '[exchange.%s]\nmodule = paper\nmarket = exchange.okx_data\nrest_url = %s\n' "$1" "$URL"
  printf 'instruments = BTC-USDT-SWAP\nbalance = 10000\npos_mode = net_mode\n'
}
trader() { # trader NAME AI ACCOUNT [LINE...]
  printf '[trader.%s]\nai = %s\naccount = %s\nsymbols = BTC-USDT-SWAP\n' "$1" "$2" "$3"
  shift 3
  printf '%s\n' "$@"
}
{
  ini_core "mode = paper"
  cat <<EOF
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_private_url = $WS/private
ws_business_url = $WS/business
instruments = BTC-USDT-SWAP
candles = 1m
backfill = 60
[indicator.ta]
source = exchange.okx_data
bars = 1m
EOF
  paper paper_a
  paper paper_b
  paper paper_c
  # one 1m bar of the engine spans an hour of data: wide RSI bands open at
  # once, TP/SL a fraction of atr14 away close within seconds
  cat <<EOF
[ai.rules_fast]
module = rules
bar = 1m
account = exchange.paper_a
size_pct = 0.1
leverage = 3
rsi_overbought = 90
rsi_oversold = 10
rsi_exit_high = 95
rsi_exit_low = 5
tp_atr = 0.5
sl_atr = 0.5
[ai.rules_calm]
module = rules
bar = 1m
account = exchange.paper_b
size_pct = 0.05
leverage = 2
rsi_overbought = 90
rsi_oversold = 10
rsi_exit_high = 95
rsi_exit_low = 5
tp_atr = 0.3
sl_atr = 0.3
[ai.llm]
module = stub
model = stub-llm
answers_file = $RT_TMP/ans-gamma.txt
[ui.dashboard]
port = 0
EOF
  trader alpha ai.rules_fast exchange.paper_a "long_period = 1m" "short_period = 1m" "cooldown = 20s"
  trader beta ai.rules_calm exchange.paper_b "long_period = 1m" "short_period = 1m" "cooldown = 20s"
  trader gamma ai.llm exchange.paper_c "long_period = 60m" "retry = false"
} >engine.ini

engine_start
wait_log engine.out "ui.dashboard: state up" 30
line=$(grep '^dashboard: http' engine.out | tail -1)
API=http://127.0.0.1:$(sed -n 's|^dashboard: http://127.0.0.1:\([0-9]*\)/#token=.*|\1|p' <<<"$line")
TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
wait_log engine.out "core: running" 30

# api PATH: GET into arena.json, the status in $status
api() { status=$(curl -s -o arena.json -w '%{http_code}' "$API$1"); }
fills() { q "SELECT count(*) FROM ledger WHERE kind = 'fill' AND origin = '$1'"; }
ndec() { q "SELECT count(*) FROM decisions WHERE trader = 'gamma'"; }
at_least() { local n; n=$("${@:2}") && [ "$n" -ge "$1" ]; }
# gamma's decision N (1 = the first), and whether what it opened is closed
dec() { q "SELECT id FROM decisions WHERE trader = 'gamma' ORDER BY created_ms, id LIMIT 1 OFFSET $(($1 - 1))"; }
closed() {
  [ "$(q "SELECT CASE WHEN $(outcome open) = '0' AND $(outcome opened) != '0' THEN 1 ELSE 0 END
          FROM decisions WHERE id = '$(dec "$1")'")" = 1 ]
}
# run N: gamma's next call ("run now"), then its decision N stored
run() {
  local s
  s=$(curl -s -o run.json -w '%{http_code}' -X POST "$API/api/traders/gamma/run" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-raw '{}')
  [ "$s" = 200 ] || { echo "run: HTTP $s $(cat run.json)" >&2; return 1; }
  wait_eq 20 "$1" ndec
}

# --- every trader trades -----------------------------------------------------
check "alpha (rules, fast) has a fill" wait_until 90 "alpha's first fill" at_least 1 fills alpha
check "beta (rules, calm) has a fill" wait_until 90 "beta's first fill" at_least 1 fills beta
check "gamma (stub LLM) opened long at start" wait_until 30 "gamma's first fill" at_least 1 fills gamma
check "gamma closes it" run 2
check "its first decision is closed" wait_until 20 "decision 1 closed" closed 1
check "an invalid answer is stored invalid (an AI call all the same)" run 3
check "as invalid" wait_eq 5 0 q "SELECT CASE WHEN valid THEN 1 ELSE 0 END FROM decisions WHERE id = '$(dec 3)'"
check "gamma opens short" run 4
check "filled" wait_until 20 "gamma's short filled" at_least 3 fills gamma
check "and closes it" run 5
check "that short is closed" wait_until 20 "decision 4 closed" closed 4
check "gamma opens long again (left open)" run 6
check "filled" wait_until 20 "gamma's last entry filled" at_least 5 fills gamma

# --- /api/arena against the tables --------------------------------------------
# compare WINDOW: the answer in arena.json against python's own computation
# pg_copy FILE: the tables compare reads, copied from PostgreSQL into an
# SQLite file (NULLs kept, numbers as PostgreSQL prints them).
pg_copy() {
  local t cols
  rm -f "$1"
  for t in "pnl_snapshots:origin,account,ts_ms,net::text" "ledger:origin,account,ts_ms,kind,fee::text,funding::text" \
    "equity_snapshots:account,ts_ms,total_eq::text" \
    "decisions:id,trader,created_ms,provider,model,valid::int,tokens_in,tokens_out,cost,actions_json,outcome_json,net_pnl::text"; do
    cols=${t#*:}
    psql "$AT_PG" -Xqc "\\copy (SELECT $cols FROM ${t%%:*}) TO '$RT_TMP/${t%%:*}.csv' WITH (FORMAT csv, NULL '\\N')" || return 1
  done
  python3 - "$1" "$RT_TMP" <<'PY'
import csv, sqlite3, sys
db, d = sys.argv[1:]
con = sqlite3.connect(db)
tables = {
    "pnl_snapshots": "origin TEXT, account TEXT, ts_ms INTEGER, net TEXT",
    "ledger": "origin TEXT, account TEXT, ts_ms INTEGER, kind TEXT, fee TEXT, funding TEXT",
    "equity_snapshots": "account TEXT, ts_ms INTEGER, total_eq TEXT",
    "decisions": "id TEXT, trader TEXT, created_ms INTEGER, provider TEXT, model TEXT, valid INTEGER, "
                 "tokens_in INTEGER, tokens_out INTEGER, cost REAL, actions_json TEXT, outcome_json TEXT, net_pnl TEXT",
}
for name, cols in tables.items():
    con.execute(f"CREATE TABLE {name} ({cols})")
    n = cols.count(",") + 1
    with open(f"{d}/{name}.csv", newline="") as f:
        rows = [[None if v == "\\N" else v for v in r] for r in csv.reader(f)]
    con.executemany(f"INSERT INTO {name} VALUES ({','.join('?' * n)})", rows)
con.commit()
PY
}
compare() {
  local db=$DB
  if [ "${ARENA_PG:-0}" = 1 ]; then
    db=$RT_TMP/pgcopy.db
    pg_copy "$db" || return 1
  fi
  python3 - "$db" arena.json "$1" <<'PY'
import json, math, sqlite3, statistics, sys
from decimal import Decimal as D

db, path, what = sys.argv[1:]
a = json.load(open(path))
frm, to = a["from"], a["to"]
con = sqlite3.connect(db)
fails = []


def expect(cond, msg):
    if not cond:
        fails.append(msg)


def close(x, y):
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


starts = {}
expect(a["truncated"] is False, f"truncated {a['truncated']}")
names = [t["trader"] for t in a["traders"]]
expect(sorted(names) == ["alpha", "beta", "gamma"], f"traders {names}")
rets = [t["return_pct"] for t in a["traders"]]
expect(all(r is not None for r in rets) and rets == sorted(rets, reverse=True), f"not by return: {rets}")
bias = {}
for t in a["traders"]:
    n, acct = t["trader"], t["account"]
    where = f"{what}: {n}"
    expect(acct == "exchange.paper_" + {"alpha": "a", "beta": "b", "gamma": "c"}[n], f"{where}: account {acct}")
    expect(t["symbols"] == ["BTC-USDT-SWAP"], f"{where}: symbols {t['symbols']}")
    # the curve: start equity + the trader's net PnL
    rows = con.execute("SELECT ts_ms, net FROM pnl_snapshots WHERE origin=? AND account=? ORDER BY ts_ms",
                       (n, acct)).fetchall()
    t0 = rows[0][0]
    (f,) = con.execute("SELECT MIN(ts_ms) FROM ledger WHERE origin=? AND account=?", (n, acct)).fetchone()
    before = con.execute("SELECT total_eq FROM equity_snapshots WHERE account=? AND ts_ms < ? "
                         "ORDER BY ts_ms DESC LIMIT 1", (acct, f)).fetchone()
    if before:
        e0 = D(before[0])
    else:
        # the first row after the fill, less the trader's net at that moment
        after, ats = con.execute("SELECT total_eq, ts_ms FROM equity_snapshots WHERE account=? AND ts_ms >= ? "
                                 "ORDER BY ts_ms LIMIT 1", (acct, f)).fetchone()
        nets = [D(v) for ts, v in rows if v is not None and ts <= ats] or [next(D(v) for _, v in rows if v is not None)]
        e0 = D(after) - nets[-1]
        starts[n] = (D(after), ats, nets[-1])
    pts = [(t0 - 1, D(0))] + [(ts, D(v)) for ts, v in rows if v is not None]
    # the last point of each of 2000 equal buckets from max(from, t0) to `to`
    base = max(frm, t0)
    width = (to - base) // 2000 + 1
    last = {}
    for ts, v in pts:
        if base <= ts <= to:
            last[(ts - base) // width] = (ts, v)
    pts = [p for p in pts if p[0] < base] + sorted(last.values())
    win = [p for p in pts if frm <= p[0] <= to]
    prior = [p for p in pts if p[0] < frm]
    if prior and not (win and win[0][0] == frm):
        win = [(frm, prior[-1][1])] + win
    eq = [(ts, e0 + v) for ts, v in win]
    # the whole history has the start and a fill; a window may hold only the value carried into it
    expect(len(eq) >= (2 if frm == 0 else 1), f"{where}: a curve of {len(eq)} points")
    expect(D(t["start_equity"]) == eq[0][1], f"{where}: start_equity {t['start_equity']} != {eq[0][1]}")
    expect(D(t["equity"]) == eq[-1][1], f"{where}: equity {t['equity']} != {eq[-1][1]}")
    expect(D(t["pnl"]) == eq[-1][1] - eq[0][1], f"{where}: pnl {t['pnl']}")
    v = [float(x) for _, x in eq]
    expect(close(t["return_pct"], (v[-1] / v[0] - 1) * 100), f"{where}: return_pct {t['return_pct']}")
    peak, dd = 0.0, 0.0
    for x in v:
        peak = max(peak, x)
        dd = max(dd, (peak - x) / peak) if peak > 0 else dd
    expect(close(t["max_drawdown_pct"], dd * 100), f"{where}: max_drawdown_pct {t['max_drawdown_pct']} != {dd * 100}")
    hours, last = {}, None
    for ts, x in zip([p[0] for p in eq], v):
        hours[ts // 3600000] = x
    h0, h1 = min(hours), max(hours)
    sampled = []
    for h in range(h0, h1 + 1):
        last = hours.get(h, last)
        sampled.append(last)
    r = [sampled[i] / sampled[i - 1] - 1 for i in range(1, len(sampled))]
    sharpe = None
    expect(t["sharpe_returns"] == len(r), f"{where}: sharpe_returns {t['sharpe_returns']} != {len(r)}")
    if len(r) >= 24 and statistics.stdev(r) > 0:
        sharpe = statistics.mean(r) / statistics.stdev(r) * math.sqrt(8760)
    expect(close(t["sharpe"], sharpe), f"{where}: sharpe {t['sharpe']} != {sharpe}")
    curve = [(p[0], D(p[1])) for p in t["equity_curve"]]
    expect(1 <= len(curve) <= 500, f"{where}: {len(curve)} curve points")
    expect(curve == eq if len(eq) <= 500 else set(curve) <= set(eq), f"{where}: the curve's points")
    # fees and funding booked in the window
    fees = funding = D(0)
    for kind, fee, fund in con.execute("SELECT kind, fee, funding FROM ledger WHERE origin=? AND account=? "
                                       "AND ts_ms BETWEEN ? AND ?", (n, acct, frm, to)):
        fees += D(fee) if kind == "fill" else 0
        funding += D(fund) if kind == "funding" else 0
    expect(D(t["fees"]) == fees, f"{where}: fees {t['fees']} != {fees}")
    expect(D(t["funding"]) == funding, f"{where}: funding {t['funding']} != {funding}")
    # the decisions in the window
    decs = con.execute("SELECT provider, model, valid, tokens_in, tokens_out, cost, actions_json, "
                       "outcome_json, net_pnl FROM decisions WHERE trader=? AND created_ms BETWEEN ? AND ? "
                       "ORDER BY created_ms, id", (n, frm, to)).fetchall()
    longs = shorts = closed = wins = 0
    for prov, model, valid, tin, tout, cost, actions, outcome, net in decs:
        acts = [x["action"] for x in json.loads(actions)["decisions"]] if valid and actions else []
        longs += acts.count("open_long")
        shorts += acts.count("open_short")
        b = bias.setdefault(model, [0, 0])
        b[0] += acts.count("open_long")
        b[1] += acts.count("open_short")
        syms = json.loads(outcome)["symbols"].values() if outcome else []
        if syms and any(D(s["opened"]) > 0 for s in syms) and all(D(s["open"]) == 0 for s in syms):
            closed += 1
            wins += D(net) > 0
    expect(t["ai_calls"] == len(decs), f"{where}: ai_calls {t['ai_calls']} != {len(decs)}")
    expect(t["tokens_in"] == sum(d[3] or 0 for d in decs), f"{where}: tokens_in {t['tokens_in']}")
    expect(t["tokens_out"] == sum(d[4] or 0 for d in decs), f"{where}: tokens_out {t['tokens_out']}")
    expect(close(t["cost_usd"], sum(d[5] or 0 for d in decs)), f"{where}: cost_usd {t['cost_usd']}")
    expect((t["long_entries"], t["short_entries"]) == (longs, shorts),
           f"{where}: entries {t['long_entries']}/{t['short_entries']} != {longs}/{shorts}")
    expect(close(t["long_short_ratio"], longs / shorts if shorts else None), f"{where}: long_short_ratio")
    expect((t["round_trips"], t["wins"]) == (closed, wins), f"{where}: round trips {t['round_trips']}/{t['wins']} != {closed}/{wins}")
    expect(close(t["win_rate"], wins / closed if closed else None), f"{where}: win_rate {t['win_rate']}")
    if decs:
        expect((t["provider"], t["model"]) == decs[-1][:2], f"{where}: provider/model {t['provider']} {t['model']}")
want_bias = [{"model": m, "long": l, "short": s, "ratio": (l / s if s else None)}
             for m, (l, s) in sorted(bias.items()) if l or s]
expect(len(a["bias"]) == len(want_bias) and all(
    x["model"] == y["model"] and x["long"] == y["long"] and x["short"] == y["short"] and close(x["ratio"], y["ratio"])
    for x, y in zip(a["bias"], want_bias)), f"{what}: bias {a['bias']} != {want_bias}")
json.dump({k: [str(x) for x in v] for k, v in starts.items()}, open(path + ".starts", "w"))
for m in fails:
    print("#", m, file=sys.stderr)
sys.exit(1 if fails else 0)
PY
}
# field TRADER KEY: a trader's figure in arena.json
field() { j arena.json "[t['$2'] for t in d['traders'] if t['trader'] == '$1'][0]"; }

# The answer and python read up to TO: once the clock is 2 s past it, every
# row stamped before it (fills, snapshots, decisions) is written.
TO=$(date +%s%3N)
past() { [ "$(date +%s%3N)" -ge $((TO + 2000)) ]; }
wait_until 5 "2 s past $TO" past
api "/api/arena?to=$TO"
check "GET /api/arena answers 200" [ "$status" = 200 ]
check "with the window asked: from 0, to $TO" [ "$(j arena.json '(d["from"], d["to"])')" = "(0, $TO)" ]
check "every figure equals python's own computation from the tables" compare "all history"
check "gamma: 6 AI calls, the invalid one included" [ "$(field gamma ai_calls)" = 6 ]
check "gamma: its tokens and cost (100 + 10 tokens, 0.25 USD a call)" \
  [ "$(field gamma tokens_in) $(field gamma tokens_out) $(field gamma cost_usd)" = "600 60 1.5" ]
check "gamma: 2 long and 1 short entries (the invalid short is no entry)" \
  [ "$(field gamma long_entries) $(field gamma short_entries) $(field gamma long_short_ratio)" = "2 1 2.0" ]
check "gamma: 2 round trips, its win rate their share of wins" \
  [ "$(j arena.json '[(t["round_trips"], t["win_rate"] in (0, 0.5, 1)) for t in d["traders"] if t["trader"] == "gamma"][0]')" = "(2, True)" ]
check "gamma: model stub-llm from provider ai.llm" [ "$(field gamma provider) $(field gamma model)" = "ai.llm stub-llm" ]
check "the rules traders: model rules-v1, no tokens, no cost" \
  [ "$(j arena.json '[(t["model"], t["tokens_in"], t["cost_usd"]) for t in d["traders"] if t["trader"] != "gamma"]')" = "[('rules-v1', 0, 0.0), ('rules-v1', 0, 0.0)]" ]
# the account's first equity row (with the first fill) less the trader's net
# at its last PnL point before it (python checked the rule above): the paper
# balance, up to the mark's move between the two rows (ms apart, more under a
# loaded ASan run: 5 USDT is a 0.05 % move of the whole balance)
check "each sub-account starts at its paper balance (within 5 USDT of 10000)" \
  [ "$(j arena.json '[abs(float(t["start_equity"]) - 10000) <= 5 for t in d["traders"]]')" = "[True, True, True]" ]
[ "$(j arena.json '[abs(float(t["start_equity"]) - 10000) <= 5 for t in d["traders"]]')" = "[True, True, True]" ] ||
  echo "# start equities: $(j arena.json '[t["start_equity"] for t in d["traders"]]')"
check "fees paid by each trader (negative)" \
  [ "$(j arena.json 'all(t["fees"].startswith("-") for t in d["traders"])')" = True ]
check "the bias lists both models" [ "$(j arena.json '[b["model"] for b in d["bias"]]')" = "['rules-v1', 'stub-llm']" ]
cp arena.json arena-all.json

# a window: from gamma's fourth decision on (the curves enter it at their value then)
FROM=$(q "SELECT created_ms FROM decisions WHERE id = '$(dec 4)'")
api "/api/arena?from=$FROM&to=$TO"
check "a window (from=$FROM): 200" [ "$status" = 200 ]
check "its figures equal python's for that window" compare "window"
check "gamma: 3 calls, 1 long and 1 short entry in it" \
  [ "$(field gamma ai_calls) $(field gamma long_entries) $(field gamma short_entries)" = "3 1 1" ]
check "every curve starts at from" [ "$(j arena.json 'all(t["equity_curve"][0][0] == '"$FROM"' for t in d["traders"])')" = True ]

# window=: resolved on the engine's clock, 7 days before its now
NOW=$(date +%s%3N)
api "/api/arena?window=7d"
check "window=7d: 200, from is 7 days before to, to the engine's now" \
  [ "$status" = 200 ] && [ "$(j arena.json "(d['to'] - d['from'], d['to'] >= $NOW - 5000)")" = "(604800000, True)" ]
# (the order and the later figures move on: the traders trade on)
check "window=7d covers every fill: the same traders and start equities" \
  [ "$(j arena.json 'sorted((t["trader"], t["start_equity"]) for t in d["traders"])')" = \
    "$(j arena-all.json 'sorted((t["trader"], t["start_equity"]) for t in d["traders"])')" ]
api "/api/arena?window=all&to=$TO"
check "window=all&to: from 0" [ "$(j arena.json '(d["from"], d["to"])')" = "(0, $TO)" ]

# --- malformed query parameters ------------------------------------------------
err() { # err QUERY FIELD: 400 bad_query naming FIELD
  api "/api/arena?$1"
  [ "$status" = 400 ] && [ "$(j arena.json '(d["error"]["code"], d["error"]["field"])')" = "('bad_query', '$2')" ]
}
check "from=abc: 400 bad_query (from)" err "from=abc" from
check "to=-5: 400 bad_query (to)" err "to=-5" to
check "from=1.5: 400 bad_query (from)" err "from=1.5" from
check "from after to: 400 bad_query (from)" err "from=10&to=5" from
check "a 40-digit to: 400 bad_query (to)" err "to=$(printf '9%.0s' {1..40})" to
check "a 20-digit to (past INT64_MAX): 400 bad_query (to)" err "to=99999999999999999999" to
check "an unknown window: 400 bad_query (window)" err "window=1y" window
check "window and from: 400 bad_query (from)" err "window=7d&from=5" from
post() {
  status=$(curl -s -o arena.json -w '%{http_code}' -X POST "$API/api/arena" \
    -H "Authorization: Bearer $TOKEN" --data-raw '{}')
  [ "$status" = 405 ] && [ "$(j arena.json 'd["error"]["code"]')" = method_not_allowed ]
}
check "POST /api/arena: 405 method_not_allowed" post

engine_stop
[ "$RT_FAILS" = 0 ] || { cp arena-all.json "$AT_BUILD_DIR/dashboard_arena.json" 2>/dev/null || true; tail -n 40 engine.out; }
rt_finish
